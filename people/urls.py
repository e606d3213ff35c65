from __future__ import annotations

from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    # /donnees/: what we hold, from the inventory (B16)
    path("donnees/", views.data_we_hold, name="data"),
    # /registre.csv: the Art. 30 register, staff only (B15)
    path("registre.csv", views.register_csv, name="register_csv"),
]
