"""Accountability dashboard benchmark: the DPO's figures on 1,000 and on 100,000 requests.

    python bench/dashboard.py [--requests 100000]

Needs DATABASE_URL (PostgreSQL, e.g. after `services_start` from scripts/lib.sh), on a
migrated database. It creates the requests in bulk (confirmed, a mix of kinds, statuses and
months), then times `rights.accountability.dashboard` (aggregates in the database) against
the baseline of computing the same figures in Python from the rows' columns, at the small
and the large size, in the same run. It prints times and ratios; it asserts nothing on them,
and deletes what it created.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TODAY = date(2026, 11, 26)
DOMAIN = "bench-dashboard.example"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okasio_privacy.settings")
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
    os.environ.setdefault("SUBJECT_HASH_KEY", "bench-subject-hash-key")
    os.environ.setdefault("HTTPS", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def create_requests(count: int, *, start: int = 0) -> None:
    from rights import deadlines
    from rights.models import DataSubjectRequest, RequestKind, RequestStatus

    rng = random.Random(count)
    kinds = list(RequestKind.values)
    batch = []
    for i in range(start, start + count):
        received = TODAY - timedelta(days=rng.randrange(0, 400))
        due = deadlines.due_on(received)
        closed = rng.random() < 0.8 and received < TODAY - timedelta(days=3)
        taken = rng.randrange(1, 80) if closed else None
        closed_on = min(received + timedelta(days=taken), TODAY) if closed else None
        batch.append(
            DataSubjectRequest(
                kind=kinds[i % len(kinds)],
                status=RequestStatus.COMPLETED if closed else RequestStatus.OPEN,
                email=f"p{i}@{DOMAIN}",
                received_at=datetime.combine(received, datetime.min.time(), tzinfo=UTC),
                received_on=received,
                raw_due_on=deadlines.raw_due_on(received),
                due_on=due,
                latest_due_on=deadlines.extended_due_on(received),
                current_due_on=due,
                confirmed_at=datetime.combine(received, datetime.min.time(), tzinfo=UTC),
                closed_at=(
                    datetime.combine(closed_on, datetime.min.time(), tzinfo=UTC) if closed else None
                ),
                closed_on=closed_on,
                days_taken=(closed_on - received).days if closed else None,
            )
        )
        if len(batch) == 5000:
            DataSubjectRequest.objects.bulk_create(batch)
            batch = []
    DataSubjectRequest.objects.bulk_create(batch)


def delete_requests() -> None:
    from rights.models import DataSubjectRequest

    DataSubjectRequest.objects.filter(email__endswith=f"@{DOMAIN}").delete()


def in_database() -> None:
    from rights.accountability import dashboard

    dashboard(today=TODAY)


def in_python() -> None:
    """The baseline: the same figures computed in Python from the rows' columns."""
    from rights.accountability import ACTIVE_STATUSES, ANSWERED_STATUSES, confirmed_requests

    soon = TODAY + timedelta(days=7)
    groups: dict[str, dict] = {}
    counts = {"open": 0, "due_soon": 0, "overdue": 0}
    for kind, status, received, closed, due, latest, current, paused, taken in (
        confirmed_requests()
        .values_list(
            "kind",
            "status",
            "received_on",
            "closed_on",
            "due_on",
            "latest_due_on",
            "current_due_on",
            "paused_since",
            "days_taken",
        )
        .iterator(chunk_size=5000)
    ):
        if status in ACTIVE_STATUSES:
            counts["open"] += 1
            if paused is None and TODAY <= current <= soon:
                counts["due_soon"] += 1
            if paused is None and current < TODAY:
                counts["overdue"] += 1
        for key in ("all", kind, f"{received:%Y-%m}"):
            group = groups.setdefault(key, {"answered": 0, "one": 0, "three": 0, "days": []})
            if status in ANSWERED_STATUSES and closed is not None:
                group["answered"] += 1
                group["one"] += closed <= due
                group["three"] += closed <= latest
                group["days"].append(taken)
    for group in groups.values():
        if group["days"]:
            statistics.median(group["days"])


def best_of(function, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench/dashboard.py needs DATABASE_URL pointing at PostgreSQL")
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    delete_requests()
    small = 1_000
    results = {}
    try:
        create_requests(small)
        results[small] = (best_of(in_database), best_of(in_python))
        create_requests(args.requests - small, start=small)
        results[args.requests] = (best_of(in_database), best_of(in_python))
    finally:
        delete_requests()
    print(f"{'requests':>10} {'dashboard (s)':>14} {'rows to Python (s)':>19} {'ratio':>7}")
    for size, (db, py) in results.items():
        print(f"{size:>10,} {db:>14.3f} {py:>19.3f} {db / py:>6.2f}x")
    (db_small, _), (db_large, _) = results[small], results[args.requests]
    print(
        f"dashboard at {args.requests:,} vs {small:,} requests: {db_large / db_small:.1f}x the time"
    )


if __name__ == "__main__":
    main()
