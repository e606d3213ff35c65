from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from okasio_privacy.urls import urlpatterns as portal_urlpatterns


def minimal(request: HttpRequest) -> HttpResponse:
    """The cheapest Django response: what the full middleware stack costs, nothing more."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/minimal/", minimal), *portal_urlpatterns]
