"""Retention benchmark: delete expired prospects with their rows, three ways, on PostgreSQL.

    python bench/retention.py [--people 2000000] [--batch-size 5000]

`scripts/bench.sh` (`make bench`) starts a private PostgreSQL and runs this. It builds two
populations with bulk INSERT ... SELECT generate_series (the small one a tenth of the
large one); half of each are prospects past their three years whose re-permission went
unanswered, interleaved by key with people who stay. Every person has a technical trace and
an activity participation, half a review, half a contact request. Each contender then runs
in a fresh copy of the population (CREATE DATABASE ... TEMPLATE) in its own process:

- sweep: retention.services.run_policy("prospects"): the nightly job, batches by key;
- queryset_delete: Django's plain Person.objects.filter(...).delete() on the same people;
- raw_sql: one SQL statement (data-modifying CTEs) deleting the same people and rows.

All three run on the small population; on the large one only the sweep runs, unless
`--full-baselines` (which keeps `make bench` well under 10 minutes on two cores).

It prints rows per second, peak memory (the process's VmHWM) and the ratios, and checks
that all three left the same rows. It measures and prints; it asserts nothing on timings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 1, 15, 3, 30, tzinfo=UTC)
# Expired people were collected long before NOW - 3 years; the others recently.
EXPIRED_COLLECTED, KEPT_COLLECTED, ASKED = "2020-01-01", "2025-06-01", "2025-11-01"
CUTOFF = "2021-01-01"
TABLES = [
    "people_person",
    "people_technicaltrace",
    "people_activityparticipation",
    "people_review",
    "people_contactrequest",
    "retention_repermission",
]

BUILD = """
INSERT INTO people_activity (id, title, description, is_private, starts_at, created_at)
SELECT a, 'Activité ' || a, '', false, '2025-07-01', '2025-06-01'
FROM generate_series(1, 1000) a;

INSERT INTO people_person (id, code, email, first_name, last_name, company, phone, street,
    postal_code, city, country, photo, is_user, is_client, is_prospect, collected_at,
    last_contact_initiated_at, client_relationship_ended_at, stripe_customer_id)
SELECT i, md5(i::text)::uuid, 'p' || i || '@example.fr', 'Camille', 'Nom' || i, '', '',
    i || ' rue de Béthune', '59000', 'Lille', 'FR', '', false, false, true,
    CASE WHEN i %% 2 = 0 THEN %(expired)s::timestamptz ELSE %(kept)s::timestamptz END,
    NULL, NULL, ''
FROM generate_series(1, %(people)s) i;

INSERT INTO people_technicaltrace (ip_address, user_agent, browser, operating_system,
    seen_at, person_id)
SELECT ('203.0.113.' || (i %% 250))::inet, 'Mozilla/5.0 (X11; Linux) Firefox/140.0',
    'Firefox',
    'Linux', '2025-12-01', i
FROM generate_series(1, %(people)s) i;

INSERT INTO people_activityparticipation (joined_at, activity_id, person_id)
SELECT '2025-06-15', i %% 1000 + 1, i FROM generate_series(1, %(people)s) i;

INSERT INTO people_review (rating, text, created_at, activity_id, person_id)
SELECT 5, 'Très bien', '2025-07-02', i %% 1000 + 1, i
FROM generate_series(1, %(people)s) i WHERE i %% 4 < 2;

INSERT INTO people_contactrequest (subject, message, created_at, last_exchange_at, person_id)
SELECT 'Question', 'Bonjour, une question.', '2025-06-02', '2025-06-03', i
FROM generate_series(1, %(people)s) i WHERE i %% 4 IN (0, 3);

INSERT INTO retention_repermission (code, asked_at, sent_at, answered_yes_at, person_id)
SELECT md5('r' || i)::uuid, %(asked)s, %(asked)s, NULL, i
FROM generate_series(2, %(people)s, 2) i;

SELECT setval(pg_get_serial_sequence('people_person', 'id'), %(people)s);
SELECT setval(pg_get_serial_sequence('people_activity', 'id'), 1000);
"""

RAW_DELETE = f"""
WITH doomed AS (SELECT id FROM people_person WHERE collected_at < '{CUTOFF}'),
trace AS (DELETE FROM people_technicaltrace t USING doomed d WHERE t.person_id = d.id),
part AS (DELETE FROM people_activityparticipation x USING doomed d WHERE x.person_id = d.id),
review AS (DELETE FROM people_review r USING doomed d WHERE r.person_id = d.id),
contact AS (DELETE FROM people_contactrequest c USING doomed d WHERE c.person_id = d.id),
asked AS (DELETE FROM retention_repermission r USING doomed d WHERE r.person_id = d.id),
invoice AS (UPDATE people_purchase p SET person_id = NULL FROM doomed d WHERE p.person_id = d.id),
organised AS (UPDATE people_activity a SET organiser_id = NULL FROM doomed d
    WHERE a.organiser_id = d.id)
DELETE FROM people_person p USING doomed d WHERE p.id = d.id
"""


# --- The contenders, each in its own process --------------------------------------------


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def contender(mode: str, batch_size: int) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okasio_privacy.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection, transaction

    from people.models import Person
    from retention import services

    connection.ensure_connection()
    start = time.perf_counter()
    if mode == "sweep":
        run = services.run_policy("prospects", now=NOW, batch_size=batch_size)
        people = run.details["deleted"]
    elif mode == "queryset_delete":
        _, per_model = Person.objects.filter(collected_at__lt=CUTOFF + "T00:00:00Z").delete()
        people = per_model.get("people.Person", 0)
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(RAW_DELETE)
            people = cursor.rowcount
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "people": people, "peak_mb": peak_rss_mb()}))


# --- The driver -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=2_000_000)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--contender", choices=["sweep", "queryset_delete", "raw_sql"])
    parser.add_argument(
        "--full-baselines",
        action="store_true",
        help="also run QuerySet.delete() and the raw DELETE on the large population "
        "(about 6 more minutes and 2 GB for QuerySet.delete() at 2,000,000 people)",
    )
    args = parser.parse_args()
    if args.contender:
        contender(args.contender, args.batch_size)
        return

    import psycopg2

    server = urlsplit(os.environ["DATABASE_URL"])
    admin = psycopg2.connect(urlunsplit(server._replace(path="/postgres")))
    admin.autocommit = True

    def url(name: str) -> str:
        return urlunsplit(server._replace(path=f"/{name}"))

    def sql(name: str, statement: str, params: dict | None = None) -> list:
        with psycopg2.connect(url(name)) as conn, conn.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def counts(name: str) -> dict[str, int]:
        return {t: sql(name, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}

    def build(people: int) -> tuple[str, dict[str, int]]:
        name = f"bench_base_{people}"
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"CREATE DATABASE {name}")
        env = {**os.environ, "DATABASE_URL": url(name)}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        started = time.perf_counter()
        params = {"people": people, "expired": EXPIRED_COLLECTED, "kept": KEPT_COLLECTED}
        sql(name, BUILD, {**params, "asked": ASKED})
        conn = psycopg2.connect(url(name))
        conn.autocommit = True
        conn.cursor().execute("VACUUM ANALYZE")
        conn.close()
        before = counts(name)
        rows = sum(before.values())
        print(f"built {people:,} people ({rows:,} rows) in {time.perf_counter() - started:.1f} s")
        return name, before

    def run(base: str, before: dict[str, int], mode: str) -> dict:
        name = f"bench_run_{mode}"
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            cursor.execute(f"CREATE DATABASE {name} TEMPLATE {base}")
        env = {**os.environ, "DATABASE_URL": url(name)}
        out = subprocess.run(
            [sys.executable, __file__, "--contender", mode, "--batch-size", str(args.batch_size)],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        after = counts(name)
        result["rows"] = sum(before.values()) - sum(after.values())
        result["after"] = after
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE {name}")
        print(
            f"  {mode:16} {result['seconds']:8.2f} s  {result['people']:>9,} people  "
            f"{result['rows']:>10,} rows  {result['rows'] / result['seconds']:>10,.0f} rows/s  "
            f"peak {result['peak_mb']:.0f} MB"
        )
        return result

    everyone = ["sweep", "raw_sql", "queryset_delete"]
    total = time.perf_counter()
    small_base, small_before = build(args.people // 10)
    print(f"{args.people // 20:,} expired prospects among {args.people // 10:,} people:")
    small = {mode: run(small_base, small_before, mode) for mode in everyone}
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE {small_base}")

    base, before = build(args.people)
    print(f"{args.people // 2:,} expired prospects among {args.people:,} people:")
    large = {
        mode: run(base, before, mode) for mode in everyone if args.full_baselines or mode == "sweep"
    }
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE {base}")

    sweep = large["sweep"]
    print()
    print(
        f"sweep at {sweep['people']:,} people: {sweep['people'] / sweep['seconds']:,.0f} "
        f"people/s, {sweep['rows'] / sweep['seconds']:,.0f} rows/s (people and their rows; "
        "target 50,000)"
    )
    same = True
    for results in (small, large):
        if len(results) < len(everyone):
            continue
        at = f"at {results['sweep']['people']:,} people"
        seconds = results["sweep"]["seconds"]
        vs_orm = results["queryset_delete"]["seconds"] / seconds
        print(f"sweep vs QuerySet.delete() {at}: {vs_orm:.1f}x faster (target 5x)")
        vs_raw = seconds / results["raw_sql"]["seconds"]
        print(f"sweep vs one raw SQL DELETE {at}: {vs_raw:.2f}x the raw statement's time")
        print(f"QuerySet.delete() peak memory {at}: {results['queryset_delete']['peak_mb']:.0f} MB")
        same = same and len({json.dumps(r["after"], sort_keys=True) for r in results.values()}) == 1
    growth = (sweep["peak_mb"] / small["sweep"]["peak_mb"] - 1) * 100
    print(
        f"sweep peak memory: {small['sweep']['peak_mb']:.0f} MB at {small['sweep']['people']:,} "
        f"people, {sweep['peak_mb']:.0f} MB at {sweep['people']:,} ({growth:+.1f}%; "
        "targets < 100 MB and <= +10%)"
    )
    print(f"same rows left by every contender: {'yes' if same else 'NO'}")
    print(f"total bench time: {time.perf_counter() - total:.0f} s")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
