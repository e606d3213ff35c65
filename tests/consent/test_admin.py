"""Consent proof in the admin: read-only, with consent rates per purpose (B12, C4)."""

from __future__ import annotations

from consent import services
from consent.models import ConsentSource
from tests.conftest import NOW


def test_it_shows_records_read_only_with_rates(staff_client, bob, db):
    services.grant_marketing(email="a@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    services.withdraw_marketing(email="b@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    client = staff_client(bob)  # the DPO group may view, nothing more
    page = client.get("/admin/consent/consentrecord/").content.decode()
    assert 'id="consent-rates"' in page
    assert "50 %" in page
    assert "/admin/consent/consentrecord/add/" not in page
    assert client.get("/admin/consent/consentrecord/add/").status_code == 403


def test_it_finds_a_persons_records_by_email(staff_client, bob, db):
    services.grant_marketing(email="a@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    services.grant_marketing(email="b@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    client = staff_client(bob)
    response = client.get("/admin/consent/consentrecord/", {"q": "A@example.fr"})
    assert response.context["cl"].result_count == 1
