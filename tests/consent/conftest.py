from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _consent_settings(settings):
    settings.OPPOSITION_API_TOKENS = ["opposition-token-1", "opposition-token-2"]
    settings.PLATFORM_API_TOKENS = ["platform-token"]
    settings.CONSENT_EMBED_ORIGINS = ["https://www.okasio.co"]
    settings.SITE_URL = "https://vie-privee.okasio.fr"


@pytest.fixture
def privacy_client(client):
    """A client signed in to the privacy space (rights app) as alice@example.fr."""
    from datetime import timedelta

    from django.utils import timezone

    from rights.views import SPACE_SESSION_KEY

    def sign_in(email: str = "alice@example.fr"):
        session = client.session
        until = timezone.now() + timedelta(minutes=30)
        session[SPACE_SESSION_KEY] = {"email": email, "until": until.isoformat()}
        session.save()
        return client

    return sign_in
