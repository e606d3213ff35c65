from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def controller(request: HttpRequest) -> dict:
    """The controller's identity and contact, shown in every page footer (GDPR 13(1)(a))."""
    return {"controller": settings.CONTROLLER}
