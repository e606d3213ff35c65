"""Assigning a request, starting work, and messages from the DPO to the person."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from rights import services
from rights.models import ActionRefused, OutgoingEmail, RequestStatus, StepKind
from tests.conftest import NOW

# Messages read outside a request, in English (the admin pages render in French).
pytestmark = pytest.mark.usefixtures("in_english")


def test_it_assigns_to_a_member_of_the_dpo_group(make_dsr, bob):
    dsr = make_dsr(confirm=True)

    services.assign_request(dsr=dsr, assignee=bob, by=bob, now=NOW)

    dsr.refresh_from_db()
    assert dsr.assignee == bob
    assert AuditEvent.objects.get(action="request.assigned").details["assignee_id"] == bob.pk
    assert not OutgoingEmail.objects.filter(template__contains="assign").exists()


def test_it_refuses_to_assign_outside_the_dpo_group(make_dsr, bob, charlie):
    dsr = make_dsr(confirm=True)

    with pytest.raises(ActionRefused, match="DPO group"):
        services.assign_request(dsr=dsr, assignee=charlie, by=bob, now=NOW)


def test_it_starts_work_and_takes_the_request(make_dsr, bob):
    dsr = make_dsr(confirm=True)

    services.start_request(dsr=dsr, by=bob, now=NOW)

    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.IN_PROGRESS and dsr.assignee == bob
    assert dsr.steps.filter(kind=StepKind.STARTED).exists()
    email = OutgoingEmail.objects.get(template="request_started")
    assert "16 February 2026" in email.body_text


def test_it_starts_only_an_open_request(make_dsr, bob):
    dsr = make_dsr(confirm=True)
    services.start_request(dsr=dsr, by=bob, now=NOW)

    with pytest.raises(ActionRefused):
        services.start_request(dsr=dsr, by=bob, now=NOW)


def test_it_sends_a_message_shown_on_the_tracker(client, make_dsr, bob):
    dsr = make_dsr(confirm=True)

    services.send_message(dsr=dsr, message="We found two accounts.", by=bob, now=NOW)

    html = client.get(f"/en/suivi/{dsr.tracker_token}/").content.decode()
    assert "We found two accounts." in html
    email = OutgoingEmail.objects.get(template="request_message")
    assert "We found two accounts." in email.body_text
    assert AuditEvent.objects.filter(action="request.message_sent").exists()


def test_it_refuses_an_empty_message(make_dsr, bob):
    dsr = make_dsr(confirm=True)

    with pytest.raises(ActionRefused):
        services.send_message(dsr=dsr, message=" ", by=bob, now=NOW)


def test_it_writes_the_emails_in_french_for_a_french_request(make_dsr, bob):
    dsr = make_dsr(confirm=True, language="fr")

    services.start_request(dsr=dsr, by=bob, now=NOW)

    email = OutgoingEmail.objects.get(template="request_started")
    assert email.language == "fr" and "16 février 2026" in email.body_text
    assert "/suivi/" in email.body_text and "/en/suivi/" not in email.body_text
