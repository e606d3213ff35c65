from __future__ import annotations

from django.urls import path

from . import views

app_name = "retention"

urlpatterns = [
    # /garder-contact/<token>/: a prospect's explicit "yes" to more news (C8)
    path("garder-contact/<str:token>/", views.keep_in_touch, name="keep_in_touch"),
]
