"""Closed requests: the person goes after 5 years, the facts stay (A11)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from retention.sweeps import anonymise_closed_requests
from rights.deadlines import add_months
from rights.models import DataSubjectRequest, OutgoingEmail, RequestStatus, SecretLink
from tests.conftest import NOW

FIVE_YEARS_LATER = add_months(NOW.date(), 60)


def _at(day):
    return NOW.replace(year=day.year, month=day.month, day=day.day)


def _closed(make_dsr, email="alice@example.fr"):
    dsr = make_dsr(
        confirm=True, email=email, kind="erasure", details={"scope": "part", "part": "Mes avis"}
    )
    dsr.add_message(message="Bonjour Alice, pouvez-vous préciser ?", by=None, now=NOW)
    dsr.mark_completed(by=None, now=NOW)
    return dsr


def test_it_anonymises_a_closed_request_a_day_after_five_years(make_dsr):
    dsr = _closed(make_dsr)
    facts = (dsr.kind, dsr.status, dsr.received_on, dsr.due_on, dsr.closed_on, dsr.days_taken)
    events = AuditEvent.objects.count()

    before = anonymise_closed_requests(now=_at(FIVE_YEARS_LATER - timedelta(days=1)))
    assert before.affected == 0
    assert DataSubjectRequest.objects.get().email == "alice@example.fr"

    result = anonymise_closed_requests(now=_at(FIVE_YEARS_LATER + timedelta(days=1)))

    assert result.details == {"anonymised": 1}
    dsr.refresh_from_db()
    assert (dsr.email, dsr.name, dsr.details) == ("", "", {})
    assert dsr.anonymised_at == _at(FIVE_YEARS_LATER + timedelta(days=1))
    assert not dsr.steps.exclude(message="").exists()
    assert not OutgoingEmail.objects.filter(request=dsr).exists()
    assert not SecretLink.objects.filter(request=dsr).exists()
    # The facts of the procedure stay, and so does the audit log (append-only, hashes).
    assert facts == (
        dsr.kind,
        dsr.status,
        dsr.received_on,
        dsr.due_on,
        dsr.closed_on,
        dsr.days_taken,
    )
    assert dsr.steps.count() >= 3
    assert AuditEvent.objects.count() == events
    # Once only.
    assert anonymise_closed_requests(now=_at(FIVE_YEARS_LATER + timedelta(days=2))).affected == 0


def test_it_also_anonymises_a_withdrawn_request_but_not_an_open_one(make_dsr):
    withdrawn = make_dsr(confirm=True, email="w@example.fr")
    withdrawn.withdraw(now=NOW)
    still_open = make_dsr(confirm=True, email="o@example.fr")

    anonymise_closed_requests(now=_at(FIVE_YEARS_LATER + timedelta(days=1)))

    withdrawn.refresh_from_db()
    still_open.refresh_from_db()
    assert withdrawn.email == "" and withdrawn.status == RequestStatus.WITHDRAWN
    assert still_open.email == "o@example.fr"


def test_it_reads_the_period_from_settings(make_dsr, settings):
    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, "closed_requests": 12}
    _closed(make_dsr)
    assert anonymise_closed_requests(now=NOW + timedelta(days=367)).affected == 1


def test_it_keeps_the_request_of_a_held_address(make_dsr, make_person, make_hold):
    dsr = _closed(make_dsr)
    make_hold(make_person(email="alice@example.fr"))

    result = anonymise_closed_requests(now=_at(FIVE_YEARS_LATER + timedelta(days=1)))

    assert (result.held, result.affected) == (1, 0)
    dsr.refresh_from_db()
    assert dsr.email == "alice@example.fr"


def test_it_keeps_the_request_of_a_restricted_address(make_dsr, make_person, make_restriction):
    dsr = _closed(make_dsr)
    make_restriction(make_person(email="Alice@example.fr"))

    result = anonymise_closed_requests(now=_at(FIVE_YEARS_LATER + timedelta(days=1)))

    assert (result.held, result.affected) == (1, 0)
    dsr.refresh_from_db()
    assert dsr.email == "alice@example.fr"


def test_it_changes_nothing_in_a_dry_run(make_dsr):
    _closed(make_dsr)
    result = anonymise_closed_requests(now=_at(FIVE_YEARS_LATER + timedelta(days=1)), dry_run=True)
    assert result.affected == 1
    assert DataSubjectRequest.objects.get().email == "alice@example.fr"


def test_it_makes_no_query_per_request(make_dsr):
    counts = []
    for size, prefix in [(2, "small"), (6, "large")]:
        for i in range(size):
            _closed(make_dsr, email=f"{prefix}{i}@example.fr")
        with CaptureQueriesContext(connection) as queries:
            result = anonymise_closed_requests(
                now=_at(FIVE_YEARS_LATER + timedelta(days=1)), batch_size=50
            )
        assert result.affected == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_closed_request_sweeps_read_an_index_that_leaves_open_requests_out(make_dsr):
    """rights_dsr_closed_not_anon serves both sweeps' queries and holds no open request, so
    an intake does not write it (#8)."""
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    _closed(make_dsr)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for queryset in (
            DataSubjectRequest.objects.closed_before(NOW),
            DataSubjectRequest.objects.expired_before(NOW),
        ):
            assert "rights_dsr_closed_not_anon" in queryset.explain()
        cursor.execute("SELECT pg_get_indexdef('rights_dsr_closed_not_anon'::regclass)")
        [definition] = cursor.fetchone()
    assert "closed_at IS NOT NULL" in definition
