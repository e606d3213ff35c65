from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
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
