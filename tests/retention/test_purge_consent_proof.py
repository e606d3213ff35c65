"""Consent proofs: a record goes 5 years after a later choice replaced it; the current
choice's proof stays as long as it is current (B12, GDPR 7(1))."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.hashing import subject_hash
from consent.models import Action, ConsentRecord, ConsentText, TextKind
from retention.sweeps import purge_consent_proof
from rights.deadlines import add_months
from tests.conftest import NOW

WITHDRAWN_AT = NOW - timedelta(days=400)
FIVE_YEARS_AFTER = add_months(WITHDRAWN_AT.date(), 60)


def _at(day):
    return WITHDRAWN_AT.replace(year=day.year, month=day.month, day=day.day)


@pytest.fixture
def record(db):
    text = ConsentText.objects.create(hash="a" * 64, kind=TextKind.MARKETING, snapshot={})

    def make(action, at, *, email="alice@example.fr", browser=None, purpose="marketing_email"):
        who = {"browser_id": browser} if browser else {"subject_hash": subject_hash(email)}
        return ConsentRecord.objects.create(
            purpose=purpose, action=action, text=text, source="signup", at=at, **who
        )

    return make


def test_it_deletes_a_replaced_record_a_day_after_five_years(record):
    granted = record(Action.GRANTED, WITHDRAWN_AT - timedelta(days=900))
    withdrawn = record(Action.WITHDRAWN, WITHDRAWN_AT)

    assert purge_consent_proof(now=_at(FIVE_YEARS_AFTER - timedelta(days=1))).affected == 0
    result = purge_consent_proof(now=_at(FIVE_YEARS_AFTER + timedelta(days=1)))

    assert result.details == {"deleted": 1}
    assert not ConsentRecord.objects.filter(pk=granted.pk).exists()
    # The latest choice is the current state: it stays.
    assert ConsentRecord.objects.filter(pk=withdrawn.pk).exists()


def test_it_keeps_the_proof_of_a_current_consent_however_old(record):
    current = record(Action.GRANTED, NOW - timedelta(days=20 * 365))
    assert purge_consent_proof(now=NOW).affected == 0
    assert ConsentRecord.objects.filter(pk=current.pk).exists()


def test_a_cookie_choice_goes_five_years_after_it_lapsed_even_if_never_replaced(record, settings):
    """C5: a banner choice lives CONSENT_CHOICE_MONTHS; the banner then asks again under a
    new browser id, so nothing ever replaces the old one: its proof goes 5 years later."""
    browser = uuid.uuid4()
    choice = record(Action.GRANTED, WITHDRAWN_AT, browser=browser, purpose="audience")
    lapsed = add_months(WITHDRAWN_AT.date(), settings.CONSENT_CHOICE_MONTHS)
    five_years_after = add_months(lapsed, 60)

    assert purge_consent_proof(now=_at(five_years_after - timedelta(days=1))).affected == 0
    assert purge_consent_proof(now=_at(five_years_after + timedelta(days=1))).affected == 1
    assert not ConsentRecord.objects.filter(pk=choice.pk).exists()


def test_it_compares_records_of_the_same_person_and_purpose_only(record):
    old = record(Action.GRANTED, WITHDRAWN_AT - timedelta(days=900))
    record(Action.WITHDRAWN, WITHDRAWN_AT, email="bob@example.fr")
    record(Action.WITHDRAWN, WITHDRAWN_AT, purpose="saved_card")

    assert purge_consent_proof(now=_at(FIVE_YEARS_AFTER + timedelta(days=1))).affected == 0
    assert ConsentRecord.objects.filter(pk=old.pk).exists()


def test_it_applies_the_same_rule_to_cookie_choices_by_browser(record):
    browser, earlier = uuid.uuid4(), WITHDRAWN_AT - timedelta(days=30)
    first = record(Action.GRANTED, earlier, browser=browser, purpose="audience")
    record(Action.REFUSED, WITHDRAWN_AT, browser=browser, purpose="audience")
    record(Action.GRANTED, earlier, browser=uuid.uuid4(), purpose="audience")  # still current

    result = purge_consent_proof(now=_at(FIVE_YEARS_AFTER + timedelta(days=1)))

    assert result.affected == 1
    assert not ConsentRecord.objects.filter(pk=first.pk).exists()


def test_it_keeps_the_records_of_a_held_person(record, make_person, make_hold):
    record(Action.GRANTED, WITHDRAWN_AT - timedelta(days=900))
    record(Action.WITHDRAWN, WITHDRAWN_AT)
    make_hold(make_person(email="alice@example.fr"))

    result = purge_consent_proof(now=_at(FIVE_YEARS_AFTER + timedelta(days=1)))

    assert (result.held, result.affected) == (1, 0)


def test_it_keeps_the_records_of_a_restricted_person(record, make_person, make_restriction):
    record(Action.GRANTED, WITHDRAWN_AT - timedelta(days=900))
    record(Action.WITHDRAWN, WITHDRAWN_AT)
    make_restriction(make_person(email="alice@example.fr"))

    result = purge_consent_proof(now=_at(FIVE_YEARS_AFTER + timedelta(days=1)))

    assert (result.held, result.affected) == (1, 0)


def test_it_changes_nothing_in_a_dry_run(record):
    record(Action.GRANTED, WITHDRAWN_AT - timedelta(days=900))
    record(Action.WITHDRAWN, WITHDRAWN_AT)
    result = purge_consent_proof(now=_at(FIVE_YEARS_AFTER + timedelta(days=1)), dry_run=True)
    assert result.affected == 1 and ConsentRecord.objects.count() == 2


def test_it_makes_no_query_per_record(record):
    counts = []
    for size, prefix in [(2, "small"), (8, "large")]:
        for i in range(size):
            record(Action.GRANTED, WITHDRAWN_AT - timedelta(days=900), email=f"{prefix}{i}@x.fr")
            record(Action.WITHDRAWN, WITHDRAWN_AT, email=f"{prefix}{i}@x.fr")
        with CaptureQueriesContext(connection) as queries:
            result = purge_consent_proof(now=_at(FIVE_YEARS_AFTER + timedelta(days=1)))
        assert result.affected == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
