from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from consent.urls import api_urlpatterns as consent_api_urlpatterns
from people.views import stripe_webhook
from retention.views import healthz
from rights.urls import api_urlpatterns as rights_api_urlpatterns

urlpatterns = [
    # /i18n/setlang/: the language switch in every page footer
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # /api/v1/: the JSON APIs
    path("api/v1/", include((rights_api_urlpatterns, "rights_api"))),
    path("api/v1/", include((consent_api_urlpatterns, "consent_api"))),
    # /api/schema/ and /api/docs/: the OpenAPI schema and its docs (Swagger UI from
    # drf-spectacular-sidecar, its init script a separate file for the CSP)
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api_schema", template_name="api/swagger_ui.html"
        ),
        name="api_docs",
    ),
    # /stripe/webhook/: Stripe's events (signed; README "Stripe")
    path("stripe/webhook/", stripe_webhook, name="stripe_webhook"),
    # /healthz: database, Redis and the sweeps, for the load balancer and monitoring
    path("healthz", healthz, name="healthz"),
]

# Public pages: French at /, English at /en/
urlpatterns += i18n_patterns(
    path("", include("rights.urls")),
    path("", include("people.urls")),
    path("", include("consent.urls")),
    path("", include("retention.urls")),
    prefix_default_language=False,
)

# An unreachable database answers 503 with a page (JSON under /api/), never a raw 500.
handler500 = "okasio_privacy.views.server_error"
