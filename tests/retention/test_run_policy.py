"""Running a policy: the SweepRun ledger, the audit event, the lock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection

from audit.models import AuditEvent
from people.models import TechnicalTrace
from retention import services, sweeps
from retention.models import SweepRun
from tests.conftest import NOW

LONG_AGO = NOW - timedelta(days=5 * 366)


@time_machine.travel(NOW, tick=False)
def test_it_writes_a_sweep_run_and_an_audit_event(make_trace):
    make_trace(seen_at=LONG_AGO)
    make_trace(seen_at=NOW)

    run = services.run_policy("technical_traces", now=NOW)

    run.refresh_from_db()
    assert (run.policy, run.dry_run, run.skipped, run.error) == (
        "technical_traces",
        False,
        False,
        "",
    )
    assert (run.rows_examined, run.rows_affected, run.rows_held) == (1, 1, 0)
    assert run.started_at == run.finished_at == run.as_of == NOW
    event = AuditEvent.objects.get(action="retention.sweep_run")
    assert event.object_ref == str(run.code)
    assert event.details["policy"] == "technical_traces"
    assert event.details["rows_affected"] == 1
    assert event.details["dry_run"] is False


def test_it_records_a_dry_run_too(make_trace):
    make_trace(seen_at=LONG_AGO)

    run = services.run_policy("technical_traces", now=NOW, dry_run=True)

    assert run.dry_run and run.rows_affected == 1
    assert AuditEvent.objects.get().details["dry_run"] is True


def test_it_records_the_error_and_what_was_done_before_it(make_trace, monkeypatch):
    for _ in range(3):
        make_trace(seen_at=LONG_AGO)
    original = sweeps.batch_committed

    def fail_after_first(batch):
        original(batch)
        raise RuntimeError("worker lost")

    monkeypatch.setattr(sweeps, "batch_committed", fail_after_first)

    with pytest.raises(RuntimeError):
        services.run_policy("technical_traces", now=NOW, batch_size=2)

    run = SweepRun.objects.get()
    assert run.error == "RuntimeError: worker lost"
    assert run.rows_affected == 2
    assert AuditEvent.objects.get().details["error"] == "RuntimeError"


def _kill_in_the_second_batch(monkeypatch) -> None:
    """The second batch's deletion raises KeyboardInterrupt, as a kill would stop it."""
    original = sweeps._delete_rows
    calls = []

    def killed_in_the_second_batch(model, keys):
        calls.append(keys)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(model, keys)

    monkeypatch.setattr(sweeps, "_delete_rows", killed_in_the_second_batch)


def test_it_records_what_was_committed_when_killed_mid_run(make_trace, monkeypatch):
    """A kill (SIGKILL, a hard time limit) never reaches the end of the run: the batches
    that committed have already written their totals with their rows (A11)."""
    for _ in range(3):
        make_trace(seen_at=LONG_AGO)
    _kill_in_the_second_batch(monkeypatch)

    with pytest.raises(KeyboardInterrupt):
        services.run_policy("technical_traces", now=NOW, batch_size=2)

    run = SweepRun.objects.get()
    assert run.finished_at is None
    assert (run.rows_examined, run.rows_affected, run.details) == (2, 2, {"deleted": 2})
    assert TechnicalTrace.objects.count() == 1


def test_a_killed_run_keeps_its_held_count(make_trace, make_person, make_hold, monkeypatch):
    """The rows a hold kept are proof too (A11): counted before the first batch, they
    stay on a run that never reaches its end."""
    held = make_person(email="held@example.fr")
    make_hold(held)
    make_trace(person=held, seen_at=LONG_AGO)
    for _ in range(3):
        make_trace(seen_at=LONG_AGO)
    _kill_in_the_second_batch(monkeypatch)

    with pytest.raises(KeyboardInterrupt):
        services.run_policy("technical_traces", now=NOW, batch_size=2)

    run = SweepRun.objects.get()
    # The first batch of two keys met the held row and one other; the second was killed.
    assert (run.rows_examined, run.rows_affected, run.rows_held) == (2, 1, 1)


def test_it_does_not_count_a_batch_that_rolled_back_after_counting_itself(make_trace, monkeypatch):
    """The second batch fails after it recorded its totals (as a deferred check fails at
    the commit): the run shows only the first."""
    for _ in range(3):
        make_trace(seen_at=LONG_AGO)
    original = sweeps.record_batch
    calls = []

    def fails_at_the_second_commit(batch):
        original(batch)
        calls.append(batch)
        if len(calls) == 2:
            raise RuntimeError("deferred check")

    monkeypatch.setattr(sweeps, "record_batch", fails_at_the_second_commit)

    with pytest.raises(RuntimeError):
        services.run_policy("technical_traces", now=NOW, batch_size=2)

    run = SweepRun.objects.get()
    assert (run.rows_affected, run.details) == (2, {"deleted": 2})
    assert TechnicalTrace.objects.count() == 1


def test_it_covers_every_policy_in_the_nightly_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["retention-sweeps"]
    assert entry["task"] == "retention.tasks.run_all_sweeps"
    assert set(sweeps.POLICIES) == {
        "prospects",
        "client_prospecting",
        "card_evidence",
        "accounting",
        "technical_traces",
        "contact_requests",
        "account_content",
        "saved_cards",
        "saved_cards_without_consent",
        "opposition_list",
        "unconfirmed_requests",
        "closed_requests",
        "sent_emails",
        "sign_in_links",
        "exports",
        "erasure_final_notices",
        "stripe_events",
        "consent_proof",
    }


def test_it_runs_every_policy_from_the_nightly_task(db):
    from retention.tasks import run_all_sweeps

    assert run_all_sweeps.delay().get() == len(sweeps.POLICIES)
    assert set(SweepRun.objects.values_list("policy", flat=True)) == set(sweeps.POLICIES)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the advisory lock is PostgreSQL's")
def test_it_runs_only_one_of_two_sweeps_started_together_on_postgresql(
    transactional_db, make_trace, monkeypatch
):
    """Two workers start the same policy: the second finds the advisory lock taken."""
    for _ in range(2):
        make_trace(seen_at=LONG_AGO)
    inside, release = threading.Event(), threading.Event()
    original = sweeps.batch_committed

    def pause(batch):
        original(batch)
        inside.set()
        assert release.wait(timeout=30)

    monkeypatch.setattr(sweeps, "batch_committed", pause)
    first: list[SweepRun] = []

    def run_first() -> None:
        try:
            first.append(services.run_policy("technical_traces", now=NOW, batch_size=1))
        finally:
            connection.close()

    worker = threading.Thread(target=run_first)
    worker.start()
    try:
        assert inside.wait(timeout=30)
        second = services.run_policy("technical_traces", now=NOW)
    finally:
        release.set()
        worker.join(timeout=30)

    assert second.skipped and second.rows_affected == 0
    assert first[0].rows_affected == 2 and not first[0].skipped
    assert SweepRun.objects.filter(skipped=True).count() == 1
    # The lock was released: the next run runs (and finds nothing left).
    assert not services.run_policy("technical_traces", now=NOW).skipped


def test_it_refuses_the_file_lock_while_another_holder_has_it(db):
    # The fallback used on SQLite, tested directly so it runs on PostgreSQL too.
    with services.file_lock("technical_traces") as first:
        assert first
        with services.file_lock("technical_traces") as second:
            assert not second
    with services.file_lock("technical_traces") as again:
        assert again
