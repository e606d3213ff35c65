"""/healthz: the database, Redis, and the age of each policy's last successful sweep."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from retention import sweeps
from retention.models import SweepRun
from tests.conftest import NOW


def _succeeded(policy: str, at) -> SweepRun:
    return SweepRun.objects.create(policy=policy, as_of=at, started_at=at, finished_at=at)


@time_machine.travel(NOW, tick=False)
def test_it_is_healthy_when_every_policy_ran_within_26_hours(client, db):
    for name in sweeps.POLICIES:
        _succeeded(name, NOW - timedelta(hours=25))

    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["redis"] in ("ok", "not configured")
    assert body["sweeps"]["prospects"]["age_hours"] == 25.0
    assert body["max_sweep_age_hours"] == 26


@time_machine.travel(NOW, tick=False)
def test_it_is_unhealthy_when_a_policy_last_succeeded_over_26_hours_ago(client, db):
    for name in sweeps.POLICIES:
        _succeeded(name, NOW - timedelta(hours=1))
    SweepRun.objects.filter(policy="card_evidence").update(finished_at=NOW - timedelta(hours=27))
    # A failed run, a dry run and a skipped run since then do not count as successes.
    SweepRun.objects.create(
        policy="card_evidence", as_of=NOW, finished_at=NOW, error="RuntimeError: boom"
    )
    SweepRun.objects.create(policy="card_evidence", as_of=NOW, finished_at=NOW, dry_run=True)
    SweepRun.objects.create(policy="card_evidence", as_of=NOW, finished_at=NOW, skipped=True)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["sweeps"]["card_evidence"]["ok"] is False
    assert body["sweeps"]["prospects"]["ok"] is True


@time_machine.travel(NOW, tick=False)
def test_it_is_unhealthy_when_a_policy_never_ran(client, db):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["sweeps"]["accounting"] == {
        "last_success": None,
        "age_hours": None,
        "ok": False,
    }


@time_machine.travel(NOW, tick=False)
def test_it_reads_the_age_limit_from_settings(client, db, settings):
    settings.HEALTHZ_MAX_SWEEP_AGE_HOURS = 2
    for name in sweeps.POLICIES:
        _succeeded(name, NOW - timedelta(hours=3))

    assert client.get("/healthz").status_code == 503


def test_it_reports_redis_down(client, db, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    body = client.get("/healthz").json()

    assert body["redis"] == "error" and body["status"] == "unhealthy"
