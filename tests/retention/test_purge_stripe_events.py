"""The ledger of handled Stripe webhook events: 30 days (STRIPE_EVENT_RETENTION_DAYS)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.models import StripeEvent
from retention.sweeps import purge_stripe_events
from tests.conftest import NOW


def _events(count: int, *, at, prefix: str = "evt") -> None:
    StripeEvent.objects.bulk_create(
        StripeEvent(stripe_event_id=f"{prefix}_{i}", type="charge.succeeded", received_at=at)
        for i in range(count)
    )


def test_it_deletes_events_a_day_after_their_30_days(db):
    _events(1, at=NOW - timedelta(days=29), prefix="recent")
    _events(1, at=NOW - timedelta(days=31), prefix="old")

    result = purge_stripe_events(now=NOW)

    assert result.details == {"deleted": 1}
    assert list(StripeEvent.objects.values_list("stripe_event_id", flat=True)) == ["recent_0"]


def test_it_reads_the_period_from_settings(db, settings):
    settings.STRIPE_EVENT_RETENTION_DAYS = 5
    _events(1, at=NOW - timedelta(days=6))
    assert purge_stripe_events(now=NOW).affected == 1


def test_it_changes_nothing_in_a_dry_run(db):
    _events(2, at=NOW - timedelta(days=31))
    assert purge_stripe_events(now=NOW, dry_run=True).affected == 2
    assert StripeEvent.objects.count() == 2


def test_it_makes_no_query_per_event(db):
    counts = []
    for size, prefix in [(3, "small"), (30, "large")]:
        _events(size, at=NOW - timedelta(days=31), prefix=prefix)
        with CaptureQueriesContext(connection) as queries:
            assert purge_stripe_events(now=NOW).affected == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
