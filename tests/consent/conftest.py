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
    """A client signed in to the privacy space as alice@example.fr (the rights app's key)."""

    def sign_in(email: str = "alice@example.fr"):
        session = client.session
        session["privacy_email"] = email
        session.save()
        return client

    return sign_in
