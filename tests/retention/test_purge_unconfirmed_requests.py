"""Requests never confirmed: expired when the link expires, deleted a month later."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from retention.sweeps import purge_unconfirmed_requests
from rights.deadlines import add_months
from rights.models import (
    DataSubjectRequest,
    OutgoingEmail,
    RequestStatus,
    RequestStep,
    SecretLink,
    StepKind,
)
from tests.conftest import NOW

EXPIRED_AT = NOW + timedelta(days=7)
ONE_MONTH_LATER = add_months(EXPIRED_AT.date(), 1)


def _at(day, hour=12):
    return EXPIRED_AT.replace(year=day.year, month=day.month, day=day.day, hour=hour)


def _expired(make_dsr, count=1, prefix="x"):
    requests = [make_dsr(email=f"{prefix}{i}@example.fr") for i in range(count)]
    for dsr in requests:
        dsr.expire(now=EXPIRED_AT)
    return requests


def test_it_expires_a_request_once_its_link_has_expired(make_dsr):
    dsr = make_dsr()

    assert purge_unconfirmed_requests(now=EXPIRED_AT - timedelta(days=1)).affected == 0
    result = purge_unconfirmed_requests(now=EXPIRED_AT + timedelta(days=1))

    dsr.refresh_from_db()
    assert result.details == {"expired": 1, "deleted": 0}
    assert dsr.status == RequestStatus.EXPIRED
    assert dsr.steps.last().kind == StepKind.EXPIRED
    assert AuditEvent.objects.filter(action="request.expired", object_ref=str(dsr.code)).exists()


def test_it_deletes_an_expired_request_a_day_after_its_month(make_dsr):
    (dsr,) = _expired(make_dsr)
    assert OutgoingEmail.objects.filter(request=dsr).exists()

    day_before = purge_unconfirmed_requests(now=_at(ONE_MONTH_LATER - timedelta(days=1)))
    assert day_before.affected == 0 and DataSubjectRequest.objects.filter(pk=dsr.pk).exists()
    # A month to the day: it stays until the end of that day in Paris (22:00 UTC is 23:00
    # there in winter).
    assert purge_unconfirmed_requests(now=_at(ONE_MONTH_LATER, hour=22)).affected == 0

    result = purge_unconfirmed_requests(now=_at(ONE_MONTH_LATER + timedelta(days=1)))

    assert result.details == {"expired": 0, "deleted": 1}
    assert not DataSubjectRequest.objects.exists()
    assert not RequestStep.objects.exists() and not SecretLink.objects.exists()
    assert not OutgoingEmail.objects.exists()  # they held the address


def test_it_leaves_a_confirmed_request_alone(make_dsr):
    confirmed = make_dsr(confirm=True)
    purge_unconfirmed_requests(now=NOW + timedelta(days=400))
    confirmed.refresh_from_db()
    assert confirmed.status == RequestStatus.OPEN


def test_it_keeps_the_request_of_a_held_address(make_dsr, make_person, make_hold):
    (dsr,) = _expired(make_dsr)
    make_hold(make_person(email=dsr.email.upper()))

    result = purge_unconfirmed_requests(now=_at(ONE_MONTH_LATER + timedelta(days=1)))

    assert (result.held, result.affected) == (1, 0)
    assert DataSubjectRequest.objects.filter(pk=dsr.pk).exists()


def test_it_changes_nothing_in_a_dry_run(make_dsr):
    make_dsr(email="new@example.fr")
    _expired(make_dsr)

    result = purge_unconfirmed_requests(now=_at(ONE_MONTH_LATER + timedelta(days=1)), dry_run=True)

    assert result.details == {"expired": 1, "deleted": 1}
    assert DataSubjectRequest.objects.filter(status=RequestStatus.SUBMITTED).count() == 1
    assert DataSubjectRequest.objects.count() == 2


def test_it_deletes_with_no_query_per_request(make_dsr):
    counts = []
    for size, prefix in [(3, "small"), (9, "large")]:
        _expired(make_dsr, size, prefix)
        with CaptureQueriesContext(connection) as queries:
            result = purge_unconfirmed_requests(
                now=_at(ONE_MONTH_LATER + timedelta(days=1)), batch_size=50
            )
        assert result.details["deleted"] == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_it_expires_in_bounded_batches(make_dsr):
    for i in range(5):
        make_dsr(email=f"b{i}@example.fr")
    seen = []
    from retention import sweeps

    token = sweeps.batch_listener.set(lambda batch: seen.append(batch.affected))
    try:
        result = purge_unconfirmed_requests(now=EXPIRED_AT, batch_size=2)
    finally:
        sweeps.batch_listener.reset(token)
    assert seen == [2, 2, 1]
    assert result.details["expired"] == 5
