"""Accountability (REQUIREMENTS A11): the DPO's figures and the register of requests.

Every figure is an aggregate in the database, so the dashboard costs a handful of queries
whatever the number of requests. The median uses PostgreSQL's `percentile_cont`; SQLite (the
quick start) has none, so there the days taken are read and the median computed in Python.

Requests never confirmed (submitted, expired) are not requests the DPO could act on: they are
left out of the figures and the register.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, QuerySet
from django.db.models.functions import TruncMonth

from rights.deadlines import add_months
from rights.models import (
    ACTIVE_STATUSES,
    ANSWERED_STATUSES,
    DataSubjectRequest,
    RequestKind,
)

MONTHS_SHOWN = 12


class Median(Aggregate):
    """PostgreSQL's continuous median: percentile_cont(0.5) WITHIN GROUP (ORDER BY x)."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass
class Figures:
    """One row of the dashboard: all requests, one kind, or one month of receipt."""

    label: str = ""
    received: int = 0
    answered: int = 0
    within_one_month: int = 0
    within_three_months: int = 0
    median_days: float | None = None

    @property
    def share_one_month(self) -> float | None:
        return _share(self.within_one_month, self.answered)

    @property
    def share_three_months(self) -> float | None:
        return _share(self.within_three_months, self.answered)


@dataclass
class Dashboard:
    today: date
    due_soon_days: int
    open: int = 0
    due_soon: int = 0
    overdue: int = 0
    total: Figures = field(default_factory=Figures)
    by_kind: list[Figures] = field(default_factory=list)
    by_month: list[Figures] = field(default_factory=list)

    @property
    def total_rows(self) -> list[Figures]:
        return [self.total]


def confirmed_requests() -> QuerySet[DataSubjectRequest]:
    return DataSubjectRequest.objects.confirmed()


def dashboard(*, today: date) -> Dashboard:
    """Open, due soon, overdue; answered within one and three months; the median days taken;
    in total, by kind and by month of receipt (the last MONTHS_SHOWN months)."""
    days = settings.RIGHTS_DUE_SOON_DAYS
    running = Q(status__in=ACTIVE_STATUSES, paused_since__isnull=True)
    qs = confirmed_requests()
    result = Dashboard(today=today, due_soon_days=days)

    counts = qs.aggregate(
        open=Count("pk", filter=Q(status__in=ACTIVE_STATUSES)),
        due_soon=Count(
            "pk",
            filter=running
            & Q(current_due_on__gte=today, current_due_on__lte=today + timedelta(days=days)),
        ),
        overdue=Count("pk", filter=running & Q(current_due_on__lt=today)),
        **_figure_aggregates(),
    )
    result.open, result.due_soon, result.overdue = (
        counts.pop("open"),
        counts.pop("due_soon"),
        counts.pop("overdue"),
    )
    result.total = Figures(label="", **counts)

    by_kind = {
        row.pop("kind"): row
        for row in qs.values("kind").annotate(**_figure_aggregates()).order_by("kind")
    }
    result.by_kind = [
        Figures(label=str(kind.label), **by_kind[kind.value])
        for kind in RequestKind
        if kind.value in by_kind
    ]

    since = add_months(today.replace(day=1), -(MONTHS_SHOWN - 1))
    by_month = (
        qs.filter(received_on__gte=since)
        .annotate(month=TruncMonth("received_on"))
        .values("month")
        .annotate(**_figure_aggregates())
        .order_by("month")
    )
    result.by_month = [Figures(label=f"{row.pop('month'):%Y-%m}", **row) for row in by_month]

    if not _has_percentile():
        _fill_medians_in_python(result, qs, since)
    return result


def _figure_aggregates() -> dict[str, Aggregate]:
    answered = Q(status__in=ANSWERED_STATUSES)
    aggregates: dict[str, Aggregate] = {
        "received": Count("pk"),
        "answered": Count("pk", filter=answered),
        # "closed on or before due_on": the one-month legal deadline (A2)...
        "within_one_month": Count("pk", filter=answered & Q(closed_on__lte=F("due_on"))),
        # ...and the latest deadline the one extension allows, receipt + 3 months (A4).
        "within_three_months": Count("pk", filter=answered & Q(closed_on__lte=F("latest_due_on"))),
    }
    if _has_percentile():
        aggregates["median_days"] = Median("days_taken", filter=answered)
    return aggregates


def _has_percentile() -> bool:
    return connection.vendor == "postgresql"


def _fill_medians_in_python(result: Dashboard, qs: QuerySet, since: date) -> None:
    """SQLite: one query reading the days taken of answered requests; medians in Python."""
    rows = qs.filter(status__in=ANSWERED_STATUSES).values_list("kind", "received_on", "days_taken")
    everything: list[int] = []
    per_kind: dict[str, list[int]] = defaultdict(list)
    per_month: dict[str, list[int]] = defaultdict(list)
    for kind, received_on, days_taken in rows.iterator(chunk_size=5000):
        if days_taken is None:
            continue
        everything.append(days_taken)
        per_kind[str(RequestKind(kind).label)].append(days_taken)
        if received_on >= since:
            per_month[f"{received_on:%Y-%m}"].append(days_taken)
    result.total.median_days = _median(everything)
    for figures in result.by_kind:
        figures.median_days = _median(per_kind.get(figures.label, []))
    for figures in result.by_month:
        figures.median_days = _median(per_month.get(figures.label, []))


def _median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --- The register of requests (CSV, for audits) -------------------------------------------

REGISTER_COLUMNS = [
    "reference",
    "kind",
    "channel",
    "received",
    "due",
    "extended",
    "closed",
    "outcome",
    "days_taken",
]


def register_rows() -> Iterator[list[Any]]:
    """One row per confirmed request, oldest first, streamed in chunks. The full code, not
    the short tracker reference (8 characters may repeat over 100,000 requests); no personal
    data: the register proves the procedure, not its content."""
    fields = [
        "code",
        "kind",
        "channel",
        "received_on",
        "due_on",
        "extended_due_on",
        "closed_on",
        "status",
        "days_taken",
    ]
    rows = confirmed_requests().order_by("received_at", "id").values_list(*fields)
    for code, kind, channel, received, due, extended, closed, status, days in rows.iterator(
        chunk_size=2000
    ):
        yield [
            str(code),
            kind,
            channel,
            received.isoformat(),
            due.isoformat(),
            extended.isoformat() if extended else "",
            closed.isoformat() if closed else "",
            status,
            "" if days is None else days,
        ]
