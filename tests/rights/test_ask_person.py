"""Asking the person for a clarification or proof of identity (A5), the pause of the clock
(A6), and the person's answer from the tracker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from audit.models import AuditEvent
from rights import fulfilment, services
from rights.models import (
    ActionRefused,
    ErasureLedger,
    IdentityMethod,
    OutgoingEmail,
    PauseReason,
    RequestStatus,
    StepKind,
)
from tests.conftest import NOW

DAY = timedelta(days=1)

# Messages read outside a request, in English (the admin pages render in French).
pytestmark = pytest.mark.usefixtures("in_english")


def ask(dsr, by, *, now=NOW + 2 * DAY, **kwargs):
    kwargs.setdefault("reason", PauseReason.CLARIFICATION)
    kwargs.setdefault("message", "Which of your two accounts do you mean?")
    kwargs.setdefault("pause_clock", True)
    return services.ask_person(dsr=dsr, by=by, now=now, **kwargs)


def test_it_pauses_7_days_and_moves_the_deadline_by_them(client, make_dsr, bob):
    dsr = make_dsr(confirm=True)  # received Thu 15 Jan 2026, due Mon 16 Feb
    pause = ask(
        dsr,
        bob,
        reason=PauseReason.IDENTITY,
        doubt_reason="The address differs from the one on the account",
        identity_method=IdentityMethod.KNOWN_CHANNEL,
    )  # day 2
    assert pause is not None and pause.paused_from == date(2026, 1, 17)
    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.AWAITING_PERSON and dsr.paused_since == date(2026, 1, 17)

    services.answer_request(dsr=dsr, message="The code is 482913", now=NOW + 9 * DAY)  # day 9

    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.IN_PROGRESS and dsr.paused_since is None
    assert dsr.paused_days == 7
    assert dsr.due_on == date(2026, 2, 16)
    assert dsr.current_due_on == date(2026, 2, 23)
    html = client.get(f"/en/suivi/{dsr.tracker_token}/").content.decode()
    assert "suspended 7 d (EDPB § 159)" in html
    assert 'data-field="due_on" data-date="2026-02-16"' in html  # side by side (A6)
    assert 'data-field="current_due_on" data-date="2026-02-23"' in html
    assert "The code is 482913" in html
    steps = list(dsr.steps.values_list("kind", flat=True))
    assert steps[-4:] == [StepKind.QUESTION, StepKind.PAUSED, StepKind.ANSWER, StepKind.RESUMED]
    event = AuditEvent.objects.get(action="request.information_requested")
    assert event.details == {
        "kind": "access",
        "reason": "identity",
        "method": "known_channel",
        "paused": True,
    }
    assert AuditEvent.objects.get(action="request.answered").details["paused_days"] == 7


def test_it_refuses_a_pause_asked_too_late(make_dsr, bob):
    dsr = make_dsr(confirm=True)

    with pytest.raises(ActionRefused, match="within 3 working days of receipt"):
        ask(dsr, bob, now=NOW + 20 * DAY)  # day 20

    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.OPEN and dsr.paused_since is None
    assert not dsr.pauses.exists()
    assert not OutgoingEmail.objects.filter(template="request_question").exists()


def test_it_follows_the_working_days_setting(make_dsr, bob, settings):
    settings.RIGHTS_PAUSE_ASK_WITHIN_WORKING_DAYS = 10
    dsr = make_dsr(confirm=True)

    assert ask(dsr, bob, now=NOW + 13 * DAY) is not None  # 28 Jan: 9 working days after


def test_it_asks_late_without_pausing_the_clock(make_dsr, bob):
    dsr = make_dsr(confirm=True)

    assert ask(dsr, bob, now=NOW + 20 * DAY, pause_clock=False) is None

    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.AWAITING_PERSON and dsr.paused_since is None
    services.answer_request(dsr=dsr, message="The second one", now=NOW + 21 * DAY)
    dsr.refresh_from_db()
    assert dsr.current_due_on == dsr.due_on  # no pause, no shift
    email = OutgoingEmail.objects.get(template="request_question")
    assert "suspended" not in email.body_text


def test_it_refuses_an_identity_request_without_a_reason(make_dsr, bob):
    dsr = make_dsr(confirm=True)

    with pytest.raises(ActionRefused, match="reasonable doubt"):
        ask(
            dsr,
            bob,
            reason=PauseReason.IDENTITY,
            doubt_reason=" ",
            identity_method=IdentityMethod.REDACTED_ID,
        )

    assert not dsr.pauses.exists()


def test_it_refuses_an_identity_request_without_a_method(make_dsr, bob):
    dsr = make_dsr(confirm=True)

    with pytest.raises(ActionRefused, match="least intrusive"):
        ask(dsr, bob, reason=PauseReason.IDENTITY, doubt_reason="Different name")


def test_it_tells_the_person_they_may_redact_an_id_and_that_no_copy_is_kept(make_dsr, bob):
    dsr = make_dsr(confirm=True)
    ask(
        dsr,
        bob,
        reason=PauseReason.IDENTITY,
        doubt_reason="Known channel and question failed",
        identity_method=IdentityMethod.REDACTED_ID,
        message="Please show us an identity document in a short video call.",
    )

    email = OutgoingEmail.objects.get(template="request_question")
    assert "hide everything we do not need" in email.body_text
    assert "We keep no copy" in email.body_text
    assert "The time limit for our answer is suspended" in email.body_text
    assert "/en/suivi/" in email.body_text


def test_it_records_only_the_method_of_the_identity_check(make_dsr, bob):
    dsr = make_dsr(confirm=True)

    services.record_identity_check(
        dsr=dsr, method=IdentityMethod.SECURITY_QUESTION, by=bob, now=NOW
    )

    dsr.refresh_from_db()
    assert dsr.identity_check_method == IdentityMethod.SECURITY_QUESTION
    assert dsr.identity_checked_at == NOW
    event = AuditEvent.objects.get(action="request.identity_checked")
    assert event.details["method"] == "security_question"


def test_it_asks_one_question_at_a_time(make_dsr, bob):
    dsr = make_dsr(confirm=True)
    ask(dsr, bob)

    with pytest.raises(ActionRefused, match="already waiting"):
        ask(dsr, bob)


def test_it_answers_from_the_tracker_by_post(client, make_dsr, bob):
    dsr = make_dsr(confirm=True)
    ask(dsr, bob)
    url = f"/en/suivi/{dsr.tracker_token}/"
    assert "Send my answer" in client.get(url).content.decode()

    assert client.post(url + "repondre/", {"answer": ""}).status_code == 400
    response = client.post(url + "repondre/", {"answer": "The one with my work address"})

    assert response.status_code == 302
    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.IN_PROGRESS
    assert "Send my answer" not in client.get(url).content.decode()
    # Answering again does nothing more.
    assert client.post(url + "repondre/", {"answer": "Again"}).status_code == 302
    assert dsr.steps.filter(kind=StepKind.ANSWER).count() == 1


def test_it_ends_an_open_pause_when_the_request_is_closed(make_dsr, bob):
    dsr = make_dsr(confirm=True)
    ask(dsr, bob)

    services.refuse_request(
        dsr=dsr,
        ground="identity_not_confirmed",
        reasons="You did not answer our question.",
        by=bob,
        now=NOW + 40 * DAY,
    )

    pause = dsr.pauses.get()
    assert pause.paused_until == (NOW + 40 * DAY).date()


def _export(dsr, by):
    fulfilment.prepare_export(dsr=dsr, by=by, now=NOW)
    return AuditEvent.objects.filter(action="export.requested").exists()


def _erase(dsr, by):
    fulfilment.erase(dsr=dsr, by=by, now=NOW)
    return ErasureLedger.objects.filter(request_code=dsr.code).exists()


@pytest.mark.parametrize(
    ("kind", "details", "act"),
    [("access", {}, _export), ("erasure", {"scope": "everything"}, _erase)],
    ids=["export", "erasure"],
)
def test_a_doubted_identity_blocks_the_data_until_it_is_checked(
    make_dsr, make_person, bob, kind, details, act
):
    """A5, GDPR 12(6): nothing is handed over or erased for a person we doubted, even after
    they answered, until the DPO records how the identity was checked."""
    make_person(email="alice@example.fr")
    dsr = make_dsr(confirm=True, kind=kind, details=details)
    ask(
        dsr,
        bob,
        reason=PauseReason.IDENTITY,
        doubt_reason="The address differs from the one on the account",
        identity_method=IdentityMethod.KNOWN_CHANNEL,
    )
    with pytest.raises(ActionRefused, match="doubted the person's identity"):
        act(dsr, bob)
    services.answer_request(dsr=dsr, message="whatever", now=NOW + 3 * DAY)
    with pytest.raises(ActionRefused, match="doubted the person's identity"):
        act(dsr, bob)

    services.record_identity_check(dsr=dsr, method=IdentityMethod.KNOWN_CHANNEL, by=bob, now=NOW)
    # A new doubt after the check (the answer came from another address) blocks again.
    ask(
        dsr,
        bob,
        now=NOW + 4 * DAY,
        pause_clock=False,
        reason=PauseReason.IDENTITY,
        doubt_reason="The answer came from another address",
        identity_method=IdentityMethod.KNOWN_CHANNEL,
    )
    services.answer_request(dsr=dsr, message="It is me", now=NOW + 5 * DAY)
    with pytest.raises(ActionRefused, match="doubted the person's identity"):
        act(dsr, bob)

    services.record_identity_check(dsr=dsr, method=IdentityMethod.KNOWN_CHANNEL, by=bob, now=NOW)
    assert act(dsr, bob)


def test_the_suspended_days_lengthen_the_month_before_its_end_is_rolled(make_dsr, bob):
    """A6 with Reg. 1182/71 art. 3(4): received Wed 28 Jan 2026, the month ends Sat 28 Feb
    (due Mon 2 Mar); suspended 2 days, it ends 28 Feb + 2 = Mon 2 Mar, not 2 Mar + 2."""
    received = datetime(2026, 1, 28, 10, 0, tzinfo=UTC)
    dsr = make_dsr(confirm=True, now=received)
    assert dsr.due_on == date(2026, 3, 2)
    ask(dsr, bob, now=received + DAY)
    services.answer_request(dsr=dsr, message="The one with my work address", now=received + 3 * DAY)
    dsr.refresh_from_db()
    assert dsr.paused_days == 2
    assert dsr.current_due_on == date(2026, 3, 2)
