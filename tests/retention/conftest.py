"""Factories for the retention tests: saved cards, traces, holds, restrictions, a population
of prospects.

`make_purchase` is the shared one in tests/conftest.py; `make_dsr` and `holdings` are the
rights app's (tests/rights/conftest.py), for the policies on what requests leave behind.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from tests.conftest import NOW
from tests.rights.conftest import holdings, make_dsr  # noqa: F401 (fixtures, shared)

_serial = itertools.count(1)


@pytest.fixture
def make_saved_card(db):
    from people.models import SavedCard

    def make(**kwargs) -> SavedCard:
        n = next(_serial)
        kwargs.setdefault("stripe_payment_method_id", f"pm_{n}")
        kwargs.setdefault("brand", "visa")
        kwargs.setdefault("last4", "4242")
        kwargs.setdefault("exp_month", 12)
        kwargs.setdefault("exp_year", 2030)
        kwargs.setdefault("consent_given_at", NOW)
        kwargs.setdefault("consent_text_version", "2026-01")
        return SavedCard.objects.create(**kwargs)

    return make


@pytest.fixture
def make_trace(db):
    from people.models import TechnicalTrace

    def make(**kwargs) -> TechnicalTrace:
        kwargs.setdefault("ip_address", "203.0.113.7")
        kwargs.setdefault("user_agent", "Mozilla/5.0")
        kwargs.setdefault("seen_at", NOW)
        return TechnicalTrace.objects.create(**kwargs)

    return make


@pytest.fixture
def make_hold(db):
    from retention.models import HoldReason, LegalHold

    def make(person, **kwargs) -> LegalHold:
        kwargs.setdefault("reason", HoldReason.DISPUTE)
        kwargs.setdefault("since", NOW - timedelta(days=400 * 10))
        return LegalHold.objects.create(person=person, **kwargs)

    return make


@pytest.fixture
def make_restriction(db):
    from rights.models import Restriction, RestrictionCase

    def make(person, **kwargs) -> Restriction:
        kwargs.setdefault("case", RestrictionCase.LEGAL_CLAIMS)
        kwargs.setdefault("started_at", NOW - timedelta(days=400 * 10))
        return Restriction.objects.create(person=person, **kwargs)

    return make


@pytest.fixture
def make_prospects(db):
    """`count` non-client prospects collected `collected_at`, with a review, a contact
    request, a trace and an activity participation each: the child rows a deletion takes."""
    from people.models import (
        Activity,
        ActivityParticipation,
        ContactRequest,
        Person,
        Review,
        TechnicalTrace,
    )

    def make(count: int, *, collected_at, prefix: str = "p") -> list[int]:
        people = Person.objects.bulk_create(
            [
                Person(email=f"{prefix}{i}@example.fr", is_prospect=True, collected_at=collected_at)
                for i in range(count)
            ]
        )
        activity = Activity.objects.create(title="Randonnée", starts_at=collected_at)
        ActivityParticipation.objects.bulk_create(
            [ActivityParticipation(person=p, activity=activity) for p in people]
        )
        Review.objects.bulk_create([Review(person=p, rating=5, activity=activity) for p in people])
        ContactRequest.objects.bulk_create(
            [ContactRequest(person=p, subject="Question", message="Bonjour") for p in people]
        )
        TechnicalTrace.objects.bulk_create(
            [
                TechnicalTrace(person=p, ip_address="203.0.113.9", seen_at=collected_at)
                for p in people
            ]
        )
        return [p.pk for p in people]

    return make


def months_ago(day: date, months: int, days: int = 0) -> date:
    from rights.deadlines import add_months

    return add_months(day, -months) + timedelta(days=days)
