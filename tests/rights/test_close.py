"""Completing, partially completing and refusing a request (A7, A8, B13)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from rights import services
from rights.models import (
    ActionRefused,
    DataSubjectRequest,
    OutcomeGround,
    OutgoingEmail,
    RequestStatus,
)
from tests.conftest import NOW

# Closing by hand is for what no right-specific action covers (services._require_work_done):
# here a rectification the person described in words, made by the DPO in the record.
IN_WORDS = {"what_is_wrong": "My city is wrong", "correction": "I live in Lille"}


def test_it_completes_once_the_work_is_checked_and_tells_the_person(make_dsr, bob, monkeypatch):
    dsr = make_dsr(confirm=True)
    calls = []
    monkeypatch.setattr(services, "_require_work_done", calls.append)

    services.complete_request(dsr=dsr, by=bob, now=NOW + timedelta(days=3))

    dsr.refresh_from_db()
    assert [checked.pk for checked in calls] == [dsr.pk]
    assert dsr.status == RequestStatus.COMPLETED
    assert dsr.closed_on == date(2026, 1, 18) and dsr.days_taken == 3
    assert OutgoingEmail.objects.filter(template="request_completed").exists()
    event = AuditEvent.objects.get(action="request.completed")
    assert event.details["late"] is False and event.details["days_taken"] == 3


def test_it_refuses_with_reasons_cnil_and_a_judicial_remedy(make_dsr, bob):
    dsr = make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})

    services.refuse_request(
        dsr=dsr,
        ground=OutcomeGround.LEGAL_EXCEPTION,
        reasons="Invoices are kept 10 years (Code de commerce L123-22).",
        by=bob,
        now=NOW,
    )

    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.REFUSED
    email = OutgoingEmail.objects.get(template="request_refused")
    for text in (email.body_text, email.body_html):
        assert "Invoices are kept 10 years" in text
        assert "CNIL" in text
        assert "where you live, where you work" in text  # not only the CNIL (B13)
        assert "judicial remedy" in text


def test_it_partially_completes_with_reasons_and_remedies(make_dsr, bob):
    dsr = make_dsr(confirm=True, kind="rectification", details=IN_WORDS)

    services.partially_complete_request(
        dsr=dsr,
        ground=OutcomeGround.RIGHTS_OF_OTHERS,
        reasons="Our records of your city come from your own invoices.",
        by=bob,
        now=NOW,
    )

    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.PARTIALLY_COMPLETED
    email = OutgoingEmail.objects.get(template="request_partially_completed")
    assert "come from your own invoices" in email.body_text
    assert "CNIL" in email.body_text and "judicial remedy" in email.body_text


@pytest.mark.parametrize("close", [services.refuse_request, services.partially_complete_request])
def test_it_refuses_a_refusal_without_reasons(make_dsr, bob, close):
    dsr = make_dsr(confirm=True, kind="rectification", details=IN_WORDS)

    with pytest.raises(ActionRefused, match="doit être motivé"):
        close(dsr=dsr, ground=OutcomeGround.LEGAL_EXCEPTION, reasons="  ", by=bob, now=NOW)

    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.OPEN
    assert not OutgoingEmail.objects.filter(template__startswith="request_refused").exists()


def test_it_refuses_a_refusal_without_a_ground(make_dsr, bob):
    dsr = make_dsr(confirm=True)

    with pytest.raises(ActionRefused, match="motif de la décision"):
        services.refuse_request(dsr=dsr, ground="", reasons="Because", by=bob, now=NOW)


def _earlier_request(make_dsr, *, days_before: int) -> None:
    """The same person's earlier access request, withdrawn, `days_before` days before NOW."""
    at = NOW - timedelta(days=days_before)
    services.withdraw_request(dsr=make_dsr(confirm=True, now=at), now=at)


@pytest.mark.parametrize("ground", [OutcomeGround.MANIFESTLY_UNFOUNDED, OutcomeGround.EXCESSIVE])
def test_it_needs_documented_facts_for_unfounded_or_excessive(make_dsr, bob, ground):
    _earlier_request(make_dsr, days_before=3)
    dsr = make_dsr(confirm=True)

    with pytest.raises(ActionRefused, match="faits documentés"):
        services.refuse_request(dsr=dsr, ground=ground, reasons="Repetitive", by=bob, now=NOW)

    services.refuse_request(
        dsr=dsr,
        ground=ground,
        reasons="You asked for the same copy four times this week.",
        facts="Identical access requests on 12, 13, 14 and 15 January; copy sent on the 12th.",
        by=bob,
        now=NOW,
    )
    dsr.refresh_from_db()
    assert dsr.outcome_facts.startswith("Identical access requests")
    # The facts document the decision; the email gives the reasons.
    email = OutgoingEmail.objects.get(template="request_refused")
    assert "four times" in email.body_text


def _never_confirmed_40_days_before(make_dsr) -> None:
    earlier = NOW - timedelta(days=40)
    make_dsr(now=earlier).expire(now=earlier + timedelta(days=7))


@pytest.mark.parametrize(
    "before",
    [
        # A8, EDPB § 185: a one-year interval is in any case too large to be "repetitive".
        lambda make_dsr: _earlier_request(make_dsr, days_before=396),
        lambda make_dsr: None,
        # Anyone can file a request for an address; only the person's own (confirmed)
        # earlier request can make a new one repetitive.
        _never_confirmed_40_days_before,
    ],
    ids=["13 months after the last", "first request", "after one never confirmed"],
)
def test_it_refuses_the_excessive_ground_without_a_recent_repeat(make_dsr, bob, before):
    before(make_dsr)
    dsr = make_dsr(confirm=True)

    with pytest.raises(ActionRefused, match="§.185"):
        services.refuse_request(
            dsr=dsr,
            ground=OutcomeGround.EXCESSIVE,
            reasons="You asked before.",
            facts="An earlier access request.",
            by=bob,
            now=NOW,
        )
    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.OPEN


def test_it_enforces_reasons_in_the_database_too(make_dsr):
    dsr = make_dsr(confirm=True)

    with pytest.raises(IntegrityError), transaction.atomic():
        DataSubjectRequest.objects.filter(pk=dsr.pk).update(status=RequestStatus.REFUSED)


def test_it_flags_a_late_refusal(make_dsr, bob):
    dsr = make_dsr(confirm=True)  # due 16 Feb 2026

    services.refuse_request(
        dsr=dsr,
        ground=OutcomeGround.NOT_APPLICABLE,
        reasons="Not processed by Okasio.",
        by=bob,
        now=NOW + timedelta(days=40),
    )

    assert AuditEvent.objects.get(action="request.refused").details["late"] is True


def test_it_refuses_to_close_twice(make_dsr, bob):
    dsr = make_dsr(confirm=True, kind="rectification", details=IN_WORDS)
    services.complete_request(dsr=dsr, by=bob, now=NOW)

    with pytest.raises(ActionRefused):
        services.complete_request(dsr=dsr, by=bob, now=NOW)
