"""Extending a request: once, two months, with reasons, on or before the first deadline (A4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from audit.models import AuditEvent
from rights import services
from rights.models import ActionRefused, ExtensionReason, OutgoingEmail, StepKind
from tests.conftest import NOW

# Messages read outside a request, in English (the admin pages render in French).
pytestmark = pytest.mark.usefixtures("in_english")


def test_it_extends_once_by_two_months_and_tells_the_person_why(make_dsr, bob):
    dsr = make_dsr(confirm=True)  # received Thu 15 Jan 2026, due Mon 16 Feb

    services.extend_request(
        dsr=dsr,
        reason=ExtensionReason.COMPLEXITY,
        justification="Twelve years of bookings across three systems",
        by=bob,
        now=NOW + timedelta(days=10),
    )

    dsr.refresh_from_db()
    assert dsr.due_on == date(2026, 2, 16)  # the first deadline stays (A4)
    assert dsr.extended_due_on == date(2026, 4, 15)
    assert dsr.current_due_on == date(2026, 4, 15)
    assert dsr.steps.filter(kind=StepKind.EXTENDED).exists()
    email = OutgoingEmail.objects.get(template="request_extended")
    assert "15 April 2026" in email.body_text and "16 February 2026" in email.body_text
    assert "Twelve years of bookings across three systems" in email.body_text
    assert "Complexity of the request" in email.body_text
    event = AuditEvent.objects.get(action="request.extended")
    assert event.details["notified_on"] == "2026-01-25"  # the audit log keeps the notice date
    assert event.details["reason"] == "complexity" and event.actor_user == bob


def test_it_uses_the_a4_example_and_allows_extending_on_the_due_date(make_dsr, bob):
    received = datetime(2026, 1, 31, 9, tzinfo=UTC)
    dsr = make_dsr(confirm=True, now=received)
    assert dsr.due_on == date(2026, 3, 2)

    services.extend_request(
        dsr=dsr,
        reason=ExtensionReason.NUMBER_OF_REQUESTS,
        justification="An exceptional influx after the newsletter",
        by=bob,
        now=datetime(2026, 3, 2, 22, 30, tzinfo=UTC),  # 23:30 in Paris: still 2 March
    )

    dsr.refresh_from_db()
    assert dsr.extended_due_on == date(2026, 4, 28)  # REQUIREMENTS A4, section E


def test_it_refuses_an_extension_after_the_due_date(make_dsr, bob):
    dsr = make_dsr(confirm=True, now=datetime(2026, 1, 31, 9, tzinfo=UTC))

    with pytest.raises(ActionRefused, match="Too late to extend"):
        services.extend_request(
            dsr=dsr,
            reason=ExtensionReason.COMPLEXITY,
            justification="Too late",
            by=bob,
            now=datetime(2026, 3, 3, 9, tzinfo=UTC),
        )

    dsr.refresh_from_db()
    assert dsr.extended_at is None
    assert not OutgoingEmail.objects.filter(template="request_extended").exists()


def test_it_refuses_a_second_extension(make_dsr, bob):
    dsr = make_dsr(confirm=True)
    services.extend_request(
        dsr=dsr, reason=ExtensionReason.COMPLEXITY, justification="First", by=bob, now=NOW
    )

    with pytest.raises(ActionRefused, match="already extended"):
        services.extend_request(
            dsr=dsr, reason=ExtensionReason.COMPLEXITY, justification="Again", by=bob, now=NOW
        )

    assert AuditEvent.objects.filter(action="request.extended").count() == 1


@pytest.mark.parametrize("justification", ["", "   "])
def test_it_refuses_an_extension_without_justification(make_dsr, bob, justification):
    dsr = make_dsr(confirm=True)

    with pytest.raises(ActionRefused, match="written justification"):
        services.extend_request(
            dsr=dsr,
            reason=ExtensionReason.COMPLEXITY,
            justification=justification,
            by=bob,
            now=NOW,
        )


def test_it_refuses_an_extension_without_a_legal_reason(make_dsr, bob):
    dsr = make_dsr(confirm=True)

    with pytest.raises(ActionRefused, match="two reasons"):
        services.extend_request(
            dsr=dsr, reason="workload", justification="We are busy", by=bob, now=NOW
        )


def test_it_refuses_to_extend_an_unconfirmed_request(make_dsr, bob):
    dsr = make_dsr()

    with pytest.raises(ActionRefused, match="only a confirmed, open request"):
        services.extend_request(
            dsr=dsr, reason=ExtensionReason.COMPLEXITY, justification="x", by=bob, now=NOW
        )
