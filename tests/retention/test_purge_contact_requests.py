"""Contact requests: 3 years after the last exchange, then deleted."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.models import ContactRequest
from retention.sweeps import purge_contact_requests
from tests.conftest import NOW
from tests.retention.conftest import months_ago


def _at(day):
    return NOW.replace(year=day.year, month=day.month, day=day.day)


def _request(person, last_exchange_at, created_at=None):
    return ContactRequest.objects.create(
        person=person,
        subject="Question",
        message="Bonjour",
        created_at=created_at or last_exchange_at,
        last_exchange_at=last_exchange_at,
    )


def test_it_deletes_a_request_a_day_after_3_years_from_the_last_exchange(alice):
    kept = _request(alice, _at(months_ago(NOW.date(), 36)))  # exactly 3 years: stays
    day_before = _request(alice, _at(months_ago(NOW.date(), 36, +1)))
    gone = _request(alice, _at(months_ago(NOW.date(), 36, -1)))
    # An old request answered recently is dated by its last exchange, not its creation.
    answered = _request(alice, NOW, created_at=_at(months_ago(NOW.date(), 60)))

    result = purge_contact_requests(now=NOW)

    assert set(ContactRequest.objects.values_list("pk", flat=True)) == {
        kept.pk,
        day_before.pk,
        answered.pk,
    }
    assert not ContactRequest.objects.filter(pk=gone.pk).exists()
    assert result.details == {"deleted": 1}


def test_it_changes_nothing_in_a_dry_run(alice):
    _request(alice, _at(months_ago(NOW.date(), 36, -1)))

    result = purge_contact_requests(now=NOW, dry_run=True)

    assert (result.examined, result.affected, result.held) == (1, 1, 0)
    assert ContactRequest.objects.count() == 1


def test_it_keeps_the_requests_of_a_held_person(alice, make_person, make_hold):
    make_hold(alice)
    held = _request(alice, _at(months_ago(NOW.date(), 48)))
    _request(make_person(email="bob@example.fr"), _at(months_ago(NOW.date(), 48)))

    assert purge_contact_requests(now=NOW, dry_run=True).held == 1
    result = purge_contact_requests(now=NOW)

    assert (result.examined, result.affected, result.held) == (2, 1, 1)
    assert list(ContactRequest.objects.values_list("pk", flat=True)) == [held.pk]


def test_it_makes_no_query_per_row(make_person):
    old = _at(months_ago(NOW.date(), 48))
    counts = []
    for size, prefix in [(10, "small"), (200, "large")]:
        people = [make_person(email=f"{prefix}{i}@example.fr") for i in range(size)]
        ContactRequest.objects.bulk_create(
            [
                ContactRequest(
                    person=p, subject="Q", message="M", created_at=old, last_exchange_at=old
                )
                for p in people
            ]
        )
        with CaptureQueriesContext(connection) as queries:
            assert purge_contact_requests(now=NOW, batch_size=500).affected == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
