"""Confirming a request, the tracker behind its secret link, and withdrawing (rights.views)."""

from __future__ import annotations

from datetime import date, timedelta

from django.core import mail

from audit.models import AuditEvent
from rights import services
from rights.models import DataSubjectRequest, ExtensionReason, RequestStatus, StepKind
from tests.conftest import NOW

from .conftest import issue_confirm_token, link_in


def test_it_shows_received_date_due_date_and_steps(client, make_dsr):
    dsr = make_dsr(confirm=True)
    response = client.get(f"/en/suivi/{dsr.tracker_token}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-date="{dsr.received_on:%Y-%m-%d}"' in html
    assert 'data-date="2026-02-16"' in html  # 15 Jan 2026 + 1 month, a Sunday: Monday 16
    assert dsr.due_on == date(2026, 2, 16)
    assert 'data-step="received"' in html and 'data-step="confirmed"' in html
    assert "Withdraw my request" in html


def test_it_shows_an_extension_with_its_reason(client, make_dsr):
    dsr = make_dsr(confirm=True)
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(
        extended_at=NOW,
        extension_reason=ExtensionReason.COMPLEXITY,
        extension_justification="Twelve years of bookings to gather",
        extended_due_on=date(2026, 4, 15),
    )
    html = client.get(f"/en/suivi/{dsr.tracker_token}/").content.decode()
    assert 'data-date="2026-04-15"' in html
    assert "Twelve years of bookings to gather" in html


def test_it_sends_no_store(client, make_dsr):
    dsr = make_dsr(confirm=True)
    response = client.get(f"/suivi/{dsr.tracker_token}/")
    assert "no-store" in response["Cache-Control"]


def test_it_404s_an_unknown_tracker(client, db):
    assert client.get("/suivi/not-a-real-token/").status_code == 404


def test_it_never_puts_a_database_id_in_the_tracker_url(make_dsr):
    dsr = make_dsr(confirm=True)
    assert len(dsr.tracker_token) >= 40
    assert str(dsr.pk) != dsr.tracker_token


def test_it_withdraws_by_post_only(client, make_dsr):
    dsr = make_dsr(confirm=True)
    url = f"/en/suivi/{dsr.tracker_token}/retirer/"
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.WITHDRAWN
    assert dsr.steps.last().kind == StepKind.WITHDRAWN
    assert AuditEvent.objects.filter(action="request.withdrawn", object_ref=str(dsr.code)).exists()
    html = client.get(response["Location"]).content.decode()
    assert "Withdraw my request" not in html
    # A second POST does nothing more.
    assert client.post(url).status_code == 302
    assert dsr.steps.filter(kind=StepKind.WITHDRAWN).count() == 1


def test_it_checks_csrf_on_withdraw(make_dsr):
    from django.test import Client

    dsr = make_dsr(confirm=True)
    response = Client(enforce_csrf_checks=True).post(f"/suivi/{dsr.tracker_token}/retirer/")
    assert response.status_code == 403


def test_it_says_clearly_when_a_confirmation_link_expired(client, make_dsr):
    dsr = make_dsr()
    token = issue_confirm_token(dsr)
    import time_machine

    with time_machine.travel(NOW + timedelta(days=8), tick=False):
        response = client.get(f"/en/confirmer/{token}/")
        assert response.status_code == 410
        assert response.context["state"] == "expired"
        assert client.post(f"/en/confirmer/{token}/").status_code == 410
    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.SUBMITTED


def test_it_says_clearly_when_a_link_is_invalid(client, db):
    response = client.get("/en/confirmer/nope/")
    assert response.status_code == 404
    assert response.context["state"] == "invalid"


def test_it_confirms_once_even_with_two_links(make_dsr):
    dsr = make_dsr()
    first, second = issue_confirm_token(dsr), issue_confirm_token(dsr)
    state, _, tracker = services.confirm_request(token=first, now=NOW)
    assert state == services.LinkState.OK and tracker
    state, _, tracker = services.confirm_request(token=second, now=NOW)
    assert state == services.LinkState.USED and not tracker
    assert AuditEvent.objects.filter(action="request.confirmed").count() == 1


def test_it_stores_tokens_only_as_hashes(make_dsr):
    from rights.models import SecretLink

    dsr = make_dsr(confirm=True)
    assert not SecretLink.objects.filter(token_hash=dsr.tracker_token).exists()
    assert SecretLink.objects.find("tracker", dsr.tracker_token).request == dsr


def test_it_acknowledges_with_the_received_and_due_dates_in_english_and_french(make_dsr):
    make_dsr(confirm=True, language="en")
    make_dsr(confirm=True, language="fr", email="b@example.fr")
    services.relay_pending_emails(now=NOW)
    en = next(m for m in mail.outbox if m.to == ["alice@example.fr"] and "/suivi/" in m.body)
    assert "15 January 2026" in en.body and "16 February 2026" in en.body  # A10
    assert "/en/suivi/" in en.body
    fr = next(m for m in mail.outbox if m.to == ["b@example.fr"] and "/suivi/" in m.body)
    assert "15 janvier 2026" in fr.body and "16 février 2026" in fr.body
    assert "/en/" not in link_in(fr.body, "/suivi/")
