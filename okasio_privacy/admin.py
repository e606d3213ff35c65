from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.models import Device


class OkasioAuthenticationForm(OTPAdminAuthenticationForm):
    """django-otp's admin login, with one step for staff who have a single device.

    django-otp asks to pick a device before it checks a code, so that a wrong code never
    counts against every device a user has. With one confirmed device there is nothing to
    pick: the code is checked against that device only.
    """

    def _chosen_device(self, user: AbstractBaseUser) -> Device | None:
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, confirmed=True))
            if len(devices) == 1:
                device = devices[0]
        return device


class OkasioAdminSite(OTPAdminSite):
    """The DPO's back office. Every login needs a password and a TOTP code (django-otp)."""

    login_form = OkasioAuthenticationForm
    site_header = _("Okasio Privacy: back office")
    site_title = _("Okasio Privacy")
    index_title = _("Requests, personal data and proof")

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Callable[..., Any]:
        """Every back-office page in the legal time zone: the times the DPO reads and types
        (a letter's receipt, A1) are Paris times, as the clock's dates are (A2). The page is
        rendered inside, since the admin answers with responses rendered later."""
        inner = super().admin_view(view, cacheable)

        @functools.wraps(inner)
        def in_legal_time(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            with timezone.override(ZoneInfo(settings.LEGAL_TIME_ZONE)):
                response = inner(request, *args, **kwargs)
                if hasattr(response, "render") and not response.is_rendered:
                    response.render()
            return response

        return in_legal_time
