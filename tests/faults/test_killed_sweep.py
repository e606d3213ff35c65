"""A sweep killed (SIGKILL) between batches, then run again: it finishes the rest, each row
once, and the counts add up (retention.sweeps: committed batches are done, the lock goes
with the dead process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.services import verify_chain
from people.models import TechnicalTrace
from retention.models import SweepRun
from tests.faults.conftest import database_url, manage, needs_services, wait_for

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]

EXPIRED, KEPT, BATCH = 3000, 50, 100


def _advisory_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        return cursor.fetchone()[0]


def test_it_finishes_a_killed_sweep_without_processing_a_row_twice(make_person):
    person = make_person()
    now = timezone.now()
    old, recent = now - timedelta(days=2 * 365), now - timedelta(days=30)
    trace = {"person": person, "ip_address": "192.0.2.1"}
    TechnicalTrace.objects.bulk_create(
        [TechnicalTrace(**trace, seen_at=old) for _ in range(EXPIRED)]
        + [TechnicalTrace(**trace, seen_at=recent) for _ in range(KEPT)]
    )
    expired = TechnicalTrace.objects.filter(seen_at=old)

    sweep = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.slow_sweep", "--policy", "technical_traces"]
        + ["--batch-size", str(BATCH)],
        env={**os.environ, "DATABASE_URL": database_url()},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        batches = 0
        while batches < 3:  # three batches committed, then killed in its pause
            line = sweep.stdout.readline()
            assert line, "the sweep ended before it could be killed"
            batches += line.startswith("batch")
        sweep.send_signal(signal.SIGKILL)
    finally:
        sweep.kill()
        sweep.wait(timeout=30)

    left = expired.count()
    assert 0 < left <= EXPIRED - 3 * BATCH  # killed mid-run, committed batches done
    killed = SweepRun.objects.get()
    assert killed.finished_at is None  # the ledger shows a run that never finished
    assert killed.rows_affected == EXPIRED - left  # and what it committed (A11)
    wait_for(lambda: _advisory_locks() == 0, timeout=10, what="the dead sweep's lock to go")

    again = manage("sweep", "--policy", "technical_traces", "--batch-size", str(BATCH))
    assert again.returncode == 0, again.stderr
    assert f"technical_traces: affected {left} of {left} rows examined" in again.stdout

    assert not expired.exists()
    assert TechnicalTrace.objects.count() == KEPT
    rerun = SweepRun.objects.exclude(pk=killed.pk).get()
    assert rerun.rows_affected == left  # only what the killed run left: nothing twice
    assert rerun.finished_at is not None and not rerun.skipped and not rerun.error
    assert verify_chain().ok
