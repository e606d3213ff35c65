from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from consent.urls import api_urlpatterns as consent_api_urlpatterns

urlpatterns = [
    # /i18n/setlang/: the language switch in every page footer
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # /api/v1/: the JSON APIs
    path("api/v1/", include((consent_api_urlpatterns, "consent_api"))),
]

# Public pages: French at /, English at /en/
urlpatterns += i18n_patterns(
    path("", include("rights.urls")),
    path("", include("people.urls")),
    path("", include("consent.urls")),
    prefix_default_language=False,
)
