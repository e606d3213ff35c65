from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite


class OkasioAdminSite(OTPAdminSite):
    """The DPO's back office. Every login needs a password and a TOTP code (django-otp)."""

    site_header = _("Okasio Privacy: back office")
    site_title = _("Okasio Privacy")
    index_title = _("Requests, personal data and proof")
