"""The legal clock: pure date rules, no models (REQUIREMENTS A1, A2, A4, section E).

Periods follow Regulation 1182/71 as the EDPB reads it (Guidelines 01/2022 §§ 160–161):
the day of receipt is not counted, a period in months ends on the same date of the last
month (or that month's last day), and a deadline falling on a Saturday, Sunday or French
public holiday (Code du travail L3133-1) moves to the next working day.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings

EXTENSION_MONTHS = 2  # GDPR 12(3): "two further months", once; never operator-entered (A4)


def easter_sunday(year: int) -> date:
    """Return Easter Sunday of `year` (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the algorithm's own name)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


@cache
def french_public_holidays(year: int) -> frozenset[date]:
    """The 11 fêtes légales of Code du travail L3133-1 (Alsace-Moselle extras excluded)."""
    easter = easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),
            easter + timedelta(days=1),  # Easter Monday
            date(year, 5, 1),
            date(year, 5, 8),
            easter + timedelta(days=39),  # Ascension
            easter + timedelta(days=50),  # Whit Monday
            date(year, 7, 14),
            date(year, 8, 15),
            date(year, 11, 1),
            date(year, 11, 11),
            date(year, 12, 25),
        }
    )


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in french_public_holidays(day.year)


def next_working_day(day: date) -> date:
    """Return `day` if it is a French working day, else the next one (Reg. 1182/71 art. 3(4))."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_months(day: date, months: int) -> date:
    """Same date `months` later, clamped to that month's last day (Reg. 1182/71 art. 3(2)(c))."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_over(last_day: date, *, today: date) -> bool:
    """Whether a retention period whose last day is `last_day` is over on `today`: a row
    is kept through its last day and may go the day after. The sweeps
    (retention.sweeps.last_expired_day) and the erasure plan both ask this."""
    return last_day < today


def legal_date(at: datetime) -> date:
    """The calendar date of `at` in the legal time zone (A1; a policy choice: Paris). Every
    legal date is one: receipt, debit, the end of a retention period."""
    if at.tzinfo is None:
        raise ValueError("a legal date needs a timezone-aware instant")
    return at.astimezone(ZoneInfo(settings.LEGAL_TIME_ZONE)).date()


def legal_midnight(day: date) -> datetime:
    """The instant `day` starts in the legal time zone (midnight exists and is unambiguous
    in Paris: the clocks change at 02:00 and 03:00)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(settings.LEGAL_TIME_ZONE))


def received_on(received_at: datetime) -> date:
    """The calendar date of receipt in the legal time zone (A1)."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    return legal_date(received_at)


def raw_due_on(received: date) -> date:
    """One calendar month after receipt, before the weekend/holiday roll (A2 deadline_raw)."""
    return add_months(received, 1)


def due_on(received: date) -> date:
    """The legal deadline: one month after receipt, rolled to a working day (A2)."""
    return next_working_day(raw_due_on(received))


def raw_extended_due_on(received: date) -> date:
    """The extended deadline before the weekend/holiday roll (A4, section E).

    The sources give no EDPB example, so this is the conservative policy choice of A4:
    the earlier of receipt + 3 months and the initial raw deadline + 2 months.
    """
    return min(add_months(received, 1 + EXTENSION_MONTHS), add_months(raw_due_on(received), 2))


def extended_due_on(received: date) -> date:
    """The deadline after the one extension of two further months, rolled (A4)."""
    return next_working_day(raw_extended_due_on(received))


def working_days_after(start: date, end: date) -> int:
    """How many French working days fall after `start`, up to and including `end`.

    The day of receipt is not counted (Reg. 1182/71 art. 3(1)); used to tell whether a
    request for information went out "without undue delay" (A6).
    """
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        count += is_working_day(day)
        day += timedelta(days=1)
    return count


def suspended_due_on(raw_due: date, paused_days: int) -> date:
    """A deadline moved by the days the clock was suspended (A6, EDPB 01/2022 § 159).

    The suspended days lengthen the period itself, so they are added to its raw end
    (before the weekend/holiday roll), and the roll applies to the end they give, as to any
    period (Reg. 1182/71 art. 3(4)); it is also the earlier, conservative reading. Received
    Wed 28 Jan 2026: the month ends Sat 28 Feb, rolled to Mon 2 Mar; suspended 2 days, it
    ends Mon 2 Mar (28 Feb + 2), not Wed 4 Mar (2 Mar + 2).
    """
    return next_working_day(raw_due + timedelta(days=paused_days))
