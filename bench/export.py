"""Export benchmark: stream one person's data into an access ZIP, against reading the rows alone.

    python bench/export.py [--purchases 200000] [--chunk-size 2000]

With DATABASE_URL set (PostgreSQL, e.g. after `services_start` from scripts/lib.sh), it
uses that database and 200,000 purchases by default; without it, a throw-away SQLite file
and 20,000. It creates one person with that many purchases (plus one row in each other
model), then runs each contender in its own process, so each peak is its own:

- iterate: the same queries as the export, `.values_list(...).iterator(chunk_size)`, rows
  counted and dropped: the floor any streaming export sits on;
- export: rights.exports.write_package + the Art. 15 summary into a ZIP on disk, the real
  thing;
- materialise: the same rows loaded into lists first (what streaming avoids), for contrast.

Each contender runs twice: once timed, once under tracemalloc (which slows allocations down)
for the peak of Python allocations. It prints the time, that peak and the peak RSS
(getrusage, of the timed run), and the ratios of export to iterate; then deletes what it
created. It asserts nothing on timings.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)
EMAIL = "bench-export@example.fr"
CONTENDERS = ["iterate", "export", "materialise"]


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "okasio_privacy.settings")
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-not-for-production")
    os.environ.setdefault("SUBJECT_HASH_KEY", "bench-subject-hash-key")
    os.environ.setdefault("HTTPS", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def create_data(purchases: int) -> int:
    from people.models import (
        Activity,
        ActivityParticipation,
        ContactRequest,
        Person,
        Purchase,
        PurchaseKind,
        Review,
        TechnicalTrace,
    )

    Person.objects.filter(email=EMAIL).delete()
    Purchase.objects.filter(stripe_charge_id__startswith="ch_bench_").delete()
    person = Person.objects.create(
        email=EMAIL, first_name="Camille", last_name="Bench", collected_at=NOW, is_client=True
    )
    activity = Activity.objects.create(title="Bench activity", starts_at=NOW, organiser=person)
    ActivityParticipation.objects.create(person=person, activity=activity)
    Review.objects.create(person=person, activity=activity, rating=4, text="Bien")
    ContactRequest.objects.create(person=person, subject="Question", message="Bonjour")
    TechnicalTrace.objects.create(person=person, ip_address="192.0.2.1", user_agent="Firefox")
    first = date(2016, 1, 1)
    batch = []
    for i in range(purchases):
        day = first + timedelta(days=i % 3650)
        batch.append(
            Purchase(
                person=person,
                stripe_charge_id=f"ch_bench_{i:09d}",
                kind=PurchaseKind.ONE_OFF,
                description=f"Activité n° {i}",
                amount_cents=1000 + i % 9000,
                debited_on=day,
                invoice_number=f"F-BENCH-{i:09d}",
                invoiced_on=day,
                billing_name="Camille Bench",
                billing_address="1 rue de Béthune, 59000 Lille",
                card_brand="visa",
                card_last4="4242",
                card_exp_month=1 + i % 12,
                card_exp_year=2030,
            )
        )
        if len(batch) == 5000:
            Purchase.objects.bulk_create(batch)
            batch = []
    Purchase.objects.bulk_create(batch)
    return person.pk


def delete_data() -> None:
    from people.models import Activity, Person, Purchase

    Purchase.objects.filter(stripe_charge_id__startswith="ch_bench_").delete()
    Activity.objects.filter(title="Bench activity").delete()
    Person.objects.filter(email=EMAIL).delete()


def run_contender(name: str, person_id: int, chunk_size: int, out: str, trace: bool) -> dict:
    from people.models import Person
    from rights import exports
    from rights.models import ExportKind

    person = Person.objects.get(pk=person_id)
    layout = exports.package_layout(ExportKind.ACCESS)
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    rows = 0
    if name == "iterate":
        for category_file in layout:
            for table in category_file.tables:
                for _ in exports._rows(table, person=person, email=EMAIL, chunk_size=chunk_size):
                    rows += 1
    elif name == "materialise":
        loaded = [
            list(exports._rows(table, person=person, email=EMAIL, chunk_size=chunk_size))
            for category_file in layout
            for table in category_file.tables
        ]
        rows = sum(len(table) for table in loaded)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("all.json", json.dumps(loaded, default=str))
    else:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            files = exports.write_package(
                zf, kind=ExportKind.ACCESS, person=person, email=EMAIL, chunk_size=chunk_size
            )
            rows = sum(f.rows for f in files)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory() if trace else (0, 0)
    return {
        "contender": name,
        "rows": rows,
        "seconds": seconds,
        "peak_traced_mb": peak / 2**20,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "zip_mb": os.path.getsize(out) / 2**20 if os.path.exists(out) else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=None)
    parser.add_argument("--chunk-size", type=int, default=2000)
    parser.add_argument("--contender", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--person-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.contender:  # a child process: measure one contender, print JSON
        setup_django()
        result = run_contender(
            args.contender, args.person_id, args.chunk_size, args.out, args.trace
        )
        print(json.dumps(result))
        return

    scratch = tempfile.mkdtemp(prefix="okasio-bench-export-")
    if not os.environ.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/bench.sqlite3"
    os.environ["MEDIA_ROOT"] = scratch
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    purchases = args.purchases or (200_000 if connection.vendor == "postgresql" else 20_000)
    call_command("migrate", verbosity=0)
    print(f"{connection.vendor}: one person with {purchases:,} purchases", flush=True)
    started = time.perf_counter()
    person_id = create_data(purchases)
    print(f"data created in {time.perf_counter() - started:.1f} s", flush=True)
    results = {}
    try:
        for name in CONTENDERS:
            out = os.path.join(scratch, f"{name}.zip")
            runs = []
            for trace in ([], ["--trace"]):
                child = subprocess.run(
                    [sys.executable, __file__, "--contender", name, "--person-id", str(person_id)]
                    + ["--chunk-size", str(args.chunk_size), "--out", out, *trace],
                    env=os.environ,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
            results[name] = {**runs[0], "peak_traced_mb": runs[1]["peak_traced_mb"]}
    finally:
        delete_data()

    print(
        f"\n{'contender':<12} {'rows':>9} {'time s':>8} {'peak py MB':>11} "
        f"{'peak RSS MB':>12} {'zip MB':>7}"
    )
    for r in results.values():
        print(
            f"{r['contender']:<12} {r['rows']:>9,} {r['seconds']:>8.2f} "
            f"{r['peak_traced_mb']:>11.1f} {r['peak_rss_mb']:>12.1f} {r['zip_mb']:>7.1f}"
        )
    base, export = results["iterate"], results["export"]
    print(
        f"\nexport / iterate: time x{export['seconds'] / base['seconds']:.2f}, "
        f"peak Python memory x{export['peak_traced_mb'] / base['peak_traced_mb']:.2f}, "
        f"peak RSS x{export['peak_rss_mb'] / base['peak_rss_mb']:.2f}"
    )


if __name__ == "__main__":
    main()
