"""Non-client prospects: 3 years, one re-permission email, then deletion without a yes (C8)."""

from __future__ import annotations

from datetime import timedelta
from smtplib import SMTPException, SMTPRecipientsRefused

import pytest
import time_machine
from django.core import mail
from django.core.mail import get_connection
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent import services as consent_services
from consent.models import ConsentSource, OppositionChannel, Purpose
from people.models import (
    Activity,
    ActivityParticipation,
    ContactRequest,
    Person,
    Review,
    TechnicalTrace,
)
from retention import services
from retention.models import Repermission
from retention.sweeps import purge_prospects
from tests.conftest import NOW
from tests.retention.conftest import months_ago

GRACE = timedelta(days=30)
ONE_DAY = timedelta(days=1)


def _days_from_3_years(days: int):
    day = months_ago(NOW.date(), 36, days)
    return NOW.replace(year=day.year, month=day.month, day=day.day)


def _sweep(capture, now=NOW):
    with capture(execute=True):
        return purge_prospects(now=now)


@pytest.fixture
def expired_prospect(make_person):
    return make_person(is_prospect=True, collected_at=_days_from_3_years(-1))


@pytest.mark.parametrize(("offset", "asked"), [(+1, False), (0, False), (-1, True)])
def test_it_asks_a_day_after_3_years_from_collection(
    make_person, django_capture_on_commit_callbacks, offset, asked
):
    make_person(is_prospect=True, collected_at=_days_from_3_years(offset))

    result = _sweep(django_capture_on_commit_callbacks)

    assert len(mail.outbox) == int(asked)
    assert Repermission.objects.count() == int(asked)
    assert result.details["asked"] == int(asked)


@pytest.mark.parametrize(("offset", "asked"), [(+1, False), (-1, True)])
def test_it_counts_3_years_from_the_last_contact_they_initiated(
    make_person, django_capture_on_commit_callbacks, offset, asked
):
    make_person(
        is_prospect=True,
        collected_at=NOW - timedelta(days=3000),
        last_contact_initiated_at=_days_from_3_years(offset),
    )

    _sweep(django_capture_on_commit_callbacks)

    assert len(mail.outbox) == int(asked)


def test_it_does_not_reset_the_clock_when_an_email_is_opened(
    expired_prospect, make_trace, django_capture_on_commit_callbacks
):
    # Opening an email loads images from our servers: a trace, not a contact they
    # initiated. Only last_contact_initiated_at moves the clock.
    make_trace(person=expired_prospect, seen_at=NOW - timedelta(hours=1))

    _sweep(django_capture_on_commit_callbacks)

    assert len(mail.outbox) == 1
    # And our own email carries no tracking pixel.
    html = mail.outbox[0].alternatives[0][0]
    assert "<img" not in html


def test_it_sends_one_email_with_the_yes_link(expired_prospect, django_capture_on_commit_callbacks):
    # The email leaves an hour after the sweep's `now` (a busy queue): the grace period
    # counts from when it left (C8).
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        _sweep(django_capture_on_commit_callbacks)
        repermission = Repermission.objects.get()
        token = services.repermission_token(repermission)

    (email,) = mail.outbox
    assert email.to == ["alice@example.fr"]
    assert token in email.body
    assert "/garder-contact/" in email.body
    assert repermission.sent_at == NOW + timedelta(hours=1)


def test_a_refused_address_stops_neither_the_others_nor_the_retry(make_person, monkeypatch):
    """The server refuses the second of three: the other two leave, the task is told to
    retry (without the address in the error), and the retry sends the second only (C8)."""
    people = [
        make_person(email=f"p{n}@example.fr", is_prospect=True, collected_at=NOW) for n in range(3)
    ]
    asked = [Repermission.objects.create(person=p, asked_at=NOW) for p in people]
    real = get_connection()

    class RefusesTheSecond:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def send_messages(self, messages):
            if messages[0].to == ["p1@example.fr"]:
                raise SMTPRecipientsRefused({"p1@example.fr": (550, b"No such user")})
            return real.send_messages(messages)

    monkeypatch.setattr(services, "get_connection", RefusesTheSecond)
    ids = [r.pk for r in asked]
    with time_machine.travel(NOW, tick=False), pytest.raises(SMTPException) as refused:
        services.send_repermission_emails(repermission_ids=ids)
    assert "@" not in str(refused.value) and refused.value.__context__ is None
    assert [m.to for m in mail.outbox] == [["p0@example.fr"], ["p2@example.fr"]]
    assert set(Repermission.objects.filter(sent_at=NOW).values_list("pk", flat=True)) == {
        asked[0].pk,
        asked[2].pk,
    }

    monkeypatch.setattr(services, "get_connection", lambda: real)
    assert services.send_repermission_emails(repermission_ids=ids) == 1
    assert sorted(m.to[0] for m in mail.outbox) == [f"p{n}@example.fr" for n in range(3)]


def test_it_asks_once_not_twice(expired_prospect, django_capture_on_commit_callbacks):
    _sweep(django_capture_on_commit_callbacks)
    second = _sweep(django_capture_on_commit_callbacks, now=NOW + timedelta(days=1))

    assert len(mail.outbox) == 1
    assert Repermission.objects.count() == 1
    assert second.affected == 0


def test_it_restarts_the_3_years_on_a_yes(expired_prospect, django_capture_on_commit_callbacks):
    _sweep(django_capture_on_commit_callbacks)
    services.keep_in_touch(repermission=Repermission.objects.get(), now=NOW + timedelta(days=2))

    after_grace = _sweep(django_capture_on_commit_callbacks, now=NOW + GRACE + timedelta(days=1))

    assert Person.objects.filter(pk=expired_prospect.pk).exists()
    assert after_grace.affected == 0
    expired_prospect.refresh_from_db()
    assert expired_prospect.last_contact_initiated_at == NOW + timedelta(days=2)
    # Three years after the yes, the question comes again, once.
    later = NOW + timedelta(days=2) + timedelta(days=3 * 366)
    _sweep(django_capture_on_commit_callbacks, now=later)
    assert Repermission.objects.count() == 2
    assert len(mail.outbox) == 2


def test_it_deletes_them_and_their_rows_without_a_yes_after_the_grace_period(
    expired_prospect, make_prospects, make_purchase, django_capture_on_commit_callbacks
):
    (other,) = make_prospects(1, collected_at=NOW, prefix="recent")
    # Child rows of the expired prospect.
    activity = Activity.objects.create(title="Yoga", starts_at=NOW, organiser=expired_prospect)
    ActivityParticipation.objects.create(person=expired_prospect, activity=activity)
    invoice = make_purchase(person=expired_prospect)
    Review.objects.create(person=expired_prospect, rating=4)
    ContactRequest.objects.create(person=expired_prospect, subject="Hello", message="Bonjour")
    TechnicalTrace.objects.create(person=expired_prospect, ip_address="203.0.113.1")
    with time_machine.travel(NOW, tick=False):  # the email leaves at NOW
        _sweep(django_capture_on_commit_callbacks)

    day_before = _sweep(django_capture_on_commit_callbacks, now=NOW + GRACE - timedelta(days=1))
    assert day_before.details["deleted"] == 0
    assert Person.objects.filter(pk=expired_prospect.pk).exists()

    day_after = _sweep(django_capture_on_commit_callbacks, now=NOW + GRACE + timedelta(days=1))

    assert day_after.details["deleted"] == 1
    assert not Person.objects.filter(pk=expired_prospect.pk).exists()
    for model in (Review, ContactRequest, TechnicalTrace, Repermission, ActivityParticipation):
        assert not model.objects.filter(person_id=expired_prospect.pk).exists()
    # The invoice stays (10 years, C9), no longer linked to anyone.
    invoice.refresh_from_db()
    assert invoice.person_id is None
    activity.refresh_from_db()
    assert activity.organiser_id is None
    # The other prospect and their rows are untouched.
    assert Review.objects.filter(person_id=other).exists()
    assert len(mail.outbox) == 1


def test_it_resends_an_email_that_did_not_leave_and_keeps_them_meanwhile(
    expired_prospect, django_capture_on_commit_callbacks
):
    Repermission.objects.create(person=expired_prospect, asked_at=NOW, sent_at=None)

    later = NOW + GRACE - timedelta(days=1)
    with time_machine.travel(later, tick=False):
        result = _sweep(django_capture_on_commit_callbacks, now=later)

    assert Person.objects.filter(pk=expired_prospect.pk).exists()
    assert result.details == {"deleted": 0, "asked": 0, "resent": 1}
    assert len(mail.outbox) == 1
    assert Repermission.objects.get().sent_at == later


def test_an_address_refused_for_a_whole_grace_period_does_not_keep_its_person(
    expired_prospect, django_capture_on_commit_callbacks
):
    """Asked, and every resend refused since: a grace period after the question they go as
    if the email had gone unanswered, rather than being kept for ever (C8)."""
    Repermission.objects.create(person=expired_prospect, asked_at=NOW, sent_at=None)

    result = _sweep(django_capture_on_commit_callbacks, now=NOW + GRACE + timedelta(days=1))

    assert result.details == {"deleted": 1, "asked": 0, "resent": 0}
    assert not Person.objects.filter(pk=expired_prospect.pk).exists()
    assert mail.outbox == []


def test_a_dry_run_counts_what_the_run_does_and_each_person_once(
    expired_prospect, make_hold, django_capture_on_commit_callbacks
):
    """An email that never left, past the grace period: the person goes, and is not also
    counted as one to resend, in a dry run or, held, in the held count."""
    Repermission.objects.create(person=expired_prospect, asked_at=NOW, sent_at=None)
    later = NOW + GRACE + timedelta(days=1)
    hold = make_hold(expired_prospect)
    held = purge_prospects(now=later, dry_run=True)
    assert (held.examined, held.affected, held.held) == (1, 0, 1)
    hold.delete()

    dry = purge_prospects(now=later, dry_run=True)
    real = _sweep(django_capture_on_commit_callbacks, now=later)
    assert dry.details == real.details == {"deleted": 1, "asked": 0, "resent": 0}
    assert dry.examined == real.examined == 1


def test_an_email_already_queued_does_not_go_to_someone_who_objected_since(expired_prospect):
    """B9: the objection can come between the question being queued and the email leaving
    (a retry, a broker backlog): the task checks again."""
    asked = Repermission.objects.create(person=expired_prospect, asked_at=NOW, sent_at=None)
    consent_services.withdraw_marketing(
        email=expired_prospect.email, source=ConsentSource.UNSUBSCRIBE, now=NOW
    )

    assert services.send_repermission_emails(repermission_ids=[asked.pk]) == 0
    assert mail.outbox == []


@pytest.mark.parametrize("flag", ["is_client", "is_user"])
def test_it_leaves_clients_and_account_holders_to_their_own_rules(
    make_person, django_capture_on_commit_callbacks, flag
):
    make_person(is_prospect=True, collected_at=_days_from_3_years(-10), **{flag: True})

    result = _sweep(django_capture_on_commit_callbacks)

    assert result.examined == 0 and not mail.outbox


def _object_by_opposition_list(person):
    consent_services.add_to_opposition_list(
        email=person.email, channel=OppositionChannel.EMAIL, now=NOW - timedelta(days=400)
    )


def _object_by_refusal(person):
    # A box left unticked at collection: a refusal is not an objection, but asking them
    # again is marketing they refused (B9, B10).
    consent_services.refuse_consent(
        email=person.email,
        purpose=Purpose.MARKETING_EMAIL,
        source=ConsentSource.SIGNUP,
        text=consent_services.current_texts(now=NOW)[0],
        now=NOW - timedelta(days=400),
    )


def _object_by_restriction(person):
    from rights.fulfilment import restrict_processing
    from rights.models import RestrictionCase

    restrict_processing(
        person=person, case=RestrictionCase.ACCURACY, by=None, now=NOW - timedelta(days=1)
    )


@pytest.mark.parametrize("objection", [_object_by_opposition_list, _object_by_refusal])
def test_it_never_asks_someone_who_objected_and_deletes_them_at_3_years(
    expired_prospect, make_person, django_capture_on_commit_callbacks, objection
):
    # B9 (GDPR 21(3)): asking whether they want our emails is itself prospecting. No
    # answer can come, so no grace period either.
    make_person(email="bruno@example.fr", is_prospect=True, collected_at=_days_from_3_years(-1))
    objection(expired_prospect)

    dry = purge_prospects(now=NOW, dry_run=True)
    result = _sweep(django_capture_on_commit_callbacks)

    assert dry.details == result.details == {"deleted": 1, "asked": 1, "resent": 0}
    assert [m.to for m in mail.outbox] == [["bruno@example.fr"]]
    assert not Person.objects.filter(pk=expired_prospect.pk).exists()


def test_it_neither_asks_nor_deletes_a_restricted_prospect(
    expired_prospect, django_capture_on_commit_callbacks
):
    """A restriction (GDPR 18(2)) holds the person, as a legal hold does: not asked (that
    would be prospecting, B9), and not deleted either (that would be processing, B5)."""
    _object_by_restriction(expired_prospect)

    result = _sweep(django_capture_on_commit_callbacks)

    assert result.details == {"deleted": 0, "asked": 0, "resent": 0}
    assert result.held == 1
    assert mail.outbox == []
    assert Person.objects.filter(pk=expired_prospect.pk).exists()


def test_it_does_not_resend_to_someone_who_withdrew_after_being_asked(
    expired_prospect, django_capture_on_commit_callbacks
):
    Repermission.objects.create(person=expired_prospect, asked_at=NOW - timedelta(days=3))
    consent_services.withdraw_marketing(
        email=expired_prospect.email, source=ConsentSource.PRIVACY_SPACE, now=NOW - ONE_DAY
    )

    result = _sweep(django_capture_on_commit_callbacks)

    assert result.details == {"deleted": 1, "asked": 0, "resent": 0}
    assert not mail.outbox
    assert not Person.objects.filter(pk=expired_prospect.pk).exists()


def test_it_checks_objections_per_batch_not_per_person(
    make_prospects, django_capture_on_commit_callbacks
):
    def sweep_queries(count: int, prefix: str) -> int:
        people = make_prospects(count, collected_at=_days_from_3_years(-1), prefix=prefix)
        for pk in people[: count // 2]:
            _object_by_opposition_list(Person.objects.get(pk=pk))
        with CaptureQueriesContext(connection) as queries:
            result = _sweep(django_capture_on_commit_callbacks)
        assert result.details["deleted"] == result.details["asked"] == count // 2
        return len(queries)

    assert sweep_queries(2, "few") == sweep_queries(20, "many")
