from __future__ import annotations

from django.urls import path, register_converter

from . import api, views

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
    path("suivi/<str:token>/lien/", views.send_download_link, name="send_download_link"),
    # /telecharger/<secret>/: a single-use download link, emailed
    path("telecharger/<str:token>/", views.download, name="download"),
    # /espace/...: the privacy space, signed in by an emailed link
    path("espace/", views.space, name="space"),
    path("espace/connexion/", views.space_sign_in, name="space_sign_in"),
    path("espace/connexion/envoyee/", views.space_link_sent, name="space_link_sent"),
    path("espace/connexion/<str:token>/", views.space_enter, name="space_enter"),
    path("espace/deconnexion/", views.space_sign_out, name="space_sign_out"),
    path("espace/demandes/<uuid:code>/retirer/", views.space_withdraw, name="space_withdraw"),
    path("espace/directives/", views.space_directive, name="space_directive"),
    path("espace/directives/retirer/", views.space_directive_revoke, name="space_directive_revoke"),
]


class AnyText:
    """Any non-empty text, "/" and newlines included (`path` stops at a newline)."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(AnyText, "anytext")

# /api/v1/requests/...: the public API (rights.api), mounted by okasio_privacy/urls.py
# outside the language prefixes, in the "rights_api" namespace
api_urlpatterns = [
    path("requests/", api.SubmitRequestApi.as_view(), name="requests_submit"),
    # Whatever a client puts in place of the secret gets the API's JSON 404, not the HTML one.
    path("requests/<anytext:token>/", api.TrackRequestApi.as_view(), name="requests_track"),
]
