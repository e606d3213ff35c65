"""The date rule every sweep shares, built on rights.deadlines.add_months."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from retention.sweeps import expired_before, last_expired_day
from rights.deadlines import add_months

PARIS = ZoneInfo("Europe/Paris")


def test_it_counts_months_backwards_with_add_months():
    assert add_months(date(2026, 1, 15), -13) == date(2024, 12, 15)
    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2024, 3, 29), -1) == date(2024, 2, 29)
    assert add_months(date(2026, 1, 31), -120) == date(2016, 1, 31)


def test_it_expires_a_day_once_its_period_has_ended_before_today():
    # Debited 2024-12-15: 13 months later is 2026-01-15, so it goes on 2026-01-16.
    assert last_expired_day(date(2026, 1, 15), 13) == date(2024, 12, 14)
    assert last_expired_day(date(2026, 1, 16), 13) == date(2024, 12, 15)


def test_it_handles_month_ends():
    # 2025-01-31 + 1 month is clamped to 2025-02-28: it has expired on 2025-03-01.
    assert last_expired_day(date(2025, 3, 1), 1) == date(2025, 1, 31)
    assert last_expired_day(date(2025, 2, 28), 1) == date(2025, 1, 27)


def test_it_turns_the_last_expired_day_into_an_instant():
    now = datetime(2026, 1, 15, 12, tzinfo=UTC)
    assert expired_before(now, 36) == datetime(2023, 1, 15, tzinfo=PARIS)


def test_it_reads_the_day_and_cuts_it_in_paris():
    """At 00:30 in Paris on 16 January (23:30 UTC on the 15th) it is the 16th that counts,
    and the cut is Paris midnight: a timestamp of 15 January 2023 at 23:30 in Paris (22:30
    UTC) has expired, one of 16 January at 00:30 in Paris has not."""
    now = datetime(2026, 1, 16, 0, 30, tzinfo=PARIS)
    assert now == datetime(2026, 1, 15, 23, 30, tzinfo=UTC)

    before = expired_before(now, 36)

    assert before == datetime(2023, 1, 16, tzinfo=PARIS) == datetime(2023, 1, 15, 23, tzinfo=UTC)
    assert datetime(2023, 1, 15, 22, 30, tzinfo=UTC) < before
    assert not datetime(2023, 1, 15, 23, 30, tzinfo=UTC) < before
