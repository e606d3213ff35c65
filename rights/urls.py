from __future__ import annotations

from django.urls import path

from . import views

app_name = "rights"

urlpatterns = [
    path("", views.home, name="home"),
    # /demande/...: filing a request (one form per right) and confirming it
    path("demande/envoyee/", views.submitted, name="submitted"),
    path("demande/<slug:kind>/", views.submit, name="submit"),
    path("confirmer/<str:token>/", views.confirm, name="confirm"),
    # /suivi/<secret>/: the tracker of one request
    path("suivi/<str:token>/", views.tracker, name="tracker"),
    path("suivi/<str:token>/retirer/", views.withdraw, name="withdraw"),
    path("suivi/<str:token>/repondre/", views.answer, name="answer"),
    # /espace/...: the privacy space, signed in by an emailed link
    path("espace/", views.space, name="space"),
    path("espace/connexion/", views.space_sign_in, name="space_sign_in"),
    path("espace/connexion/envoyee/", views.space_link_sent, name="space_link_sent"),
    path("espace/connexion/<str:token>/", views.space_enter, name="space_enter"),
    path("espace/deconnexion/", views.space_sign_out, name="space_sign_out"),
    path("espace/demandes/<uuid:code>/retirer/", views.space_withdraw, name="space_withdraw"),
]
