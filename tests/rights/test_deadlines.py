"""The legal clock against every example of REQUIREMENTS A2, A4 and E."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rights import deadlines

# REQUIREMENTS A2, the table: received, raw + 1 month, legal deadline.
A2_TABLE = [
    (date(2025, 1, 31), date(2025, 2, 28), date(2025, 2, 28)),
    (date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 2)),
    (date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 1)),
    (date(2028, 1, 31), date(2028, 2, 29), date(2028, 2, 29)),
    (date(2026, 3, 5), date(2026, 4, 5), date(2026, 4, 7)),
    (date(2026, 8, 31), date(2026, 9, 30), date(2026, 9, 30)),
    (date(2026, 4, 1), date(2026, 5, 1), date(2026, 5, 4)),
    (date(2026, 4, 14), date(2026, 5, 14), date(2026, 5, 15)),
    (date(2026, 10, 11), date(2026, 11, 11), date(2026, 11, 12)),
    (date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 2)),
]


@pytest.mark.parametrize(("received", "raw", "legal"), A2_TABLE)
def test_it_computes_the_a2_table(received, raw, legal):
    assert deadlines.raw_due_on(received) == raw
    assert deadlines.due_on(received) == legal


def test_it_follows_the_edpb_examples():
    # EDPB 01/2022 Example 32 and 33 (A2): 5 March -> 5 April; 31 August -> 30 September.
    assert deadlines.raw_due_on(date(2026, 3, 5)) == date(2026, 4, 5)
    assert deadlines.due_on(date(2026, 8, 31)) == date(2026, 9, 30)


def test_it_never_uses_thirty_days():
    # A2: +30 days would give 2 March 2025 for a 31 January 2025 receipt: too late.
    assert deadlines.due_on(date(2025, 1, 31)) == date(2025, 2, 28)


@pytest.mark.parametrize(
    ("received", "extended"),
    [
        (date(2026, 1, 31), date(2026, 4, 28)),  # A4 and E: min(30 Apr, 28 Apr)
        (date(2028, 1, 31), date(2028, 5, 2)),  # E: 29 Apr 2028 Saturday, 1 May holiday
    ],
)
def test_it_computes_the_extended_deadline(received, extended):
    assert deadlines.extended_due_on(received) == extended


@pytest.mark.parametrize(
    ("received", "paused", "suspended"),
    [
        # A6's example: received Thu 15 Jan 2026, 7 days: 15 Feb (Sun) + 7 = Sun 22 Feb -> 23.
        (date(2026, 1, 15), 7, date(2026, 2, 23)),
        # The month ends Sat 28 Feb (rolled to Mon 2 Mar); 2 days lengthen the period, not
        # the rolled date: 28 Feb + 2 = Mon 2 Mar, not Wed 4 Mar.
        (date(2026, 1, 28), 2, date(2026, 3, 2)),
        (date(2026, 1, 28), 0, date(2026, 3, 2)),
        # 1 May 2026 (Fri, holiday) + weekend: received 1 April, 1 day -> Sat 2 May -> Mon 4.
        (date(2026, 4, 1), 1, date(2026, 5, 4)),
    ],
)
def test_a_suspension_lengthens_the_period_then_the_end_is_rolled(received, paused, suspended):
    """A6 (EDPB 01/2022 § 159) with Reg. 1182/71 art. 3(4)."""
    assert deadlines.suspended_due_on(deadlines.raw_due_on(received), paused) == suspended


def test_it_knows_the_eleven_french_holidays_of_2026():
    holidays = deadlines.french_public_holidays(2026)
    assert len(holidays) == 11
    assert date(2026, 4, 6) in holidays  # Easter Monday
    assert date(2026, 5, 14) in holidays  # Ascension
    assert date(2026, 5, 25) in holidays  # Whit Monday
    assert date(2026, 12, 26) not in holidays  # Alsace-Moselle only


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2026, date(2026, 4, 5))],
)
def test_it_finds_easter(year, easter):
    assert deadlines.easter_sunday(year) == easter


def test_it_takes_the_receipt_date_in_paris():
    # A1: Saturday 23:50 in Paris (22:50 UTC in winter) is received that Saturday.
    assert deadlines.received_on(datetime(2026, 1, 31, 22, 50, tzinfo=UTC)) == date(2026, 1, 31)
    # ...and 23:10 UTC is already Sunday in Paris.
    assert deadlines.received_on(datetime(2026, 1, 31, 23, 10, tzinfo=UTC)) == date(2026, 2, 1)


def test_it_refuses_a_naive_timestamp():
    with pytest.raises(ValueError):
        deadlines.received_on(datetime(2026, 1, 31, 12))  # noqa: DTZ001
