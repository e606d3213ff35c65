from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from rights.urls import api_urlpatterns as rights_api

urlpatterns = [
    # /i18n/setlang/: the language switch in every page footer
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # /api/: the public API, its OpenAPI schema, and its docs (Swagger UI from
    # drf-spectacular-sidecar, its init script a separate file for the CSP)
    path("api/v1/", include((rights_api, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api_schema", template_name="api/swagger_ui.html"
        ),
        name="api_docs",
    ),
]

# Public pages: French at /, English at /en/
urlpatterns += i18n_patterns(
    path("", include("rights.urls")),
    path("", include("people.urls")),
    prefix_default_language=False,
)
