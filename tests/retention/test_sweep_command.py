"""`manage.py sweep [--policy NAME] [--dry-run] [--now ISO-DATE]`."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from people.models import TechnicalTrace
from retention.models import SweepRun
from retention.sweeps import POLICIES


def _sweep(*args: str) -> str:
    out = StringIO()
    call_command("sweep", *args, stdout=out)
    return out.getvalue()


def test_it_prints_what_each_policy_would_do_without_doing_it(make_person, make_trace, make_hold):
    make_trace(seen_at=datetime(2028, 1, 1, tzinfo=UTC))
    held = make_person(email="held@example.fr")
    make_hold(held)
    make_trace(person=held, seen_at=datetime(2028, 1, 1, tzinfo=UTC))

    output = _sweep("--dry-run", "--now", "2030-01-01")

    assert "as of 2030-01-01T00:00:00+00:00 (dry run: nothing changes)" in output
    assert (
        "technical_traces: would affect 1 of 2 rows examined (deleted 1); "
        "1 kept by a legal hold or a restriction" in output
    )
    others = set(POLICIES) - {"technical_traces"}
    for name in others:
        assert f"{name}: would affect 0" in output
    assert TechnicalTrace.objects.count() == 2
    assert SweepRun.objects.filter(dry_run=True).count() == len(POLICIES)


def test_it_runs_one_policy(make_trace):
    make_trace(seen_at=datetime(2028, 1, 1, tzinfo=UTC))

    output = _sweep("--policy", "technical_traces", "--now", "2030-01-01T03:30:00Z")

    assert "technical_traces: affected 1 of 1 rows examined" in output
    assert TechnicalTrace.objects.count() == 0
    assert list(SweepRun.objects.values_list("policy", flat=True)) == ["technical_traces"]


def test_it_refuses_a_bad_date(db):
    with pytest.raises(CommandError):
        _sweep("--now", "next tuesday")
