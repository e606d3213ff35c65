from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class OkasioAdminConfig(AdminConfig):
    """The Django admin, served by our two-factor admin site."""

    default_site = "okasio_privacy.admin.OkasioAdminSite"
