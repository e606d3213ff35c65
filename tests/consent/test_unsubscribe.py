"""One-click unsubscribe: signed token, no login, no reason, effective at once (B9, RFC 8058)."""

from __future__ import annotations

from consent import services
from consent.models import Action, ConsentRecord, ConsentSource, OppositionEntry
from tests.conftest import NOW


def _path(email: str = "p@example.fr") -> str:
    return services.unsubscribe_url(email=email).removeprefix("https://vie-privee.okasio.fr")


def test_it_shows_one_button_and_changes_nothing_on_get(client, db):
    # Link scanners fetch GETs: only a POST unsubscribes (RFC 8058 § 3.2).
    response = client.get(_path())
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="List-Unsubscribe"' in page
    assert 'name="reason"' not in page and "<textarea" not in page
    assert not OppositionEntry.objects.exists()


def test_it_unsubscribes_in_one_post_from_the_mail_client(client, db):
    services.grant_marketing(email="p@example.fr", source=ConsentSource.SIGNUP, now=NOW)
    response = client.post(_path(), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not services.may_send_marketing(email="p@example.fr", now=NOW)
    record = ConsentRecord.objects.latest_first().first()
    assert (record.action, record.source) == (Action.WITHDRAWN, ConsentSource.UNSUBSCRIBE)
    assert OppositionEntry.objects.count() == 1


def test_it_needs_no_csrf_token(db):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(_path(), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200


def test_it_is_idempotent(client, db):
    client.post(_path())
    client.post(_path())
    assert OppositionEntry.objects.count() == 1


def test_it_refuses_a_forged_token(client, db):
    assert client.post("/desinscription/not-a-token/").status_code == 404
    token = services.unsubscribe_token(email="p@example.fr")
    assert client.post(f"/desinscription/{token[:-2]}xx/").status_code == 404


def test_it_does_not_put_the_address_in_the_link(db):
    assert "example" not in services.unsubscribe_url(email="p@example.fr")
