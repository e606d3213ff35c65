"""Reviews, participations and activities organised: 3 years after the account's last use.

The last use is the latest of collection, the last contact the person initiated and the
end of the client relationship; a current client is never inactive.
"""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.models import Activity, ActivityParticipation, Person, Review
from retention.sweeps import purge_account_content
from tests.conftest import NOW
from tests.retention.conftest import months_ago

LONG_AGO = NOW.replace(year=NOW.year - 6)


def _at(day):
    return NOW.replace(year=day.year, month=day.month, day=day.day)


def _content(person, *, title="Randonnée"):
    """An activity organised by `person`, joined and reviewed by them and by a friend."""
    friend = Person.objects.create(
        email=f"friend-{person.pk}@example.fr", last_contact_initiated_at=NOW
    )
    activity = Activity.objects.create(
        title=title,
        description="Au bord du lac",
        organiser=person,
        starts_at=LONG_AGO,
        created_at=LONG_AGO,
    )
    for who in (person, friend):
        ActivityParticipation.objects.create(person=who, activity=activity, joined_at=LONG_AGO)
        Review.objects.create(person=who, activity=activity, rating=4, created_at=LONG_AGO)
    return activity


def _state(person):
    activity_organised = Activity.objects.filter(organiser=person).exists()
    return (
        Review.objects.filter(person=person).count(),
        ActivityParticipation.objects.filter(person=person).count(),
        activity_organised,
    )


def test_it_acts_a_day_after_3_years_without_using_the_account(make_person):
    day_before = make_person(
        email="before@example.fr",
        collected_at=LONG_AGO,
        last_contact_initiated_at=_at(months_ago(NOW.date(), 36, +1)),
    )
    exactly = make_person(
        email="exactly@example.fr",
        collected_at=LONG_AGO,
        last_contact_initiated_at=_at(months_ago(NOW.date(), 36)),
    )
    day_after = make_person(
        email="after@example.fr",
        collected_at=LONG_AGO,
        last_contact_initiated_at=_at(months_ago(NOW.date(), 36, -1)),
    )
    activities = {p.pk: _content(p) for p in (day_before, exactly, day_after)}

    result = purge_account_content(now=NOW)

    assert _state(day_before) == (1, 1, True)
    assert _state(exactly) == (1, 1, True)
    assert _state(day_after) == (0, 0, False)
    # The activity stays for its participants, without its organiser, title and text kept.
    activity = Activity.objects.get(pk=activities[day_after.pk].pk)
    assert (activity.organiser_id, activity.title, activity.description) == (
        None,
        "Randonnée",
        "Au bord du lac",
    )
    assert activity.participations.count() == 1
    assert activity.reviews.count() == 1
    assert result.details == {
        "reviews_deleted": 1,
        "participations_deleted": 1,
        "activities_anonymised": 1,
    }


def test_it_falls_back_to_collection_and_the_end_of_the_relationship(make_person):
    never_came_back = make_person(
        email="never@example.fr", collected_at=_at(months_ago(NOW.date(), 36, -1))
    )
    collected_recently = make_person(
        email="recent@example.fr", collected_at=_at(months_ago(NOW.date(), 36, +1))
    )
    former_client = make_person(
        email="former@example.fr",
        collected_at=LONG_AGO,
        is_client=True,
        client_relationship_ended_at=_at(months_ago(NOW.date(), 36, +1)),
    )
    current_client = make_person(email="client@example.fr", collected_at=LONG_AGO, is_client=True)
    for person in (never_came_back, collected_recently, former_client, current_client):
        _content(person)

    purge_account_content(now=NOW)

    assert _state(never_came_back) == (0, 0, False)
    assert _state(collected_recently) == (1, 1, True)
    assert _state(former_client) == (1, 1, True)
    assert _state(current_client) == (1, 1, True)


def test_it_changes_nothing_in_a_dry_run(make_person):
    person = make_person(collected_at=LONG_AGO)
    _content(person)

    result = purge_account_content(now=NOW, dry_run=True)

    assert result.details == {
        "reviews_deleted": 1,
        "participations_deleted": 1,
        "activities_anonymised": 1,
    }
    assert (result.examined, result.affected, result.held) == (3, 3, 0)
    assert _state(person) == (1, 1, True)


def test_it_keeps_the_content_of_a_held_person(make_person, make_hold):
    held = make_person(email="held@example.fr", collected_at=LONG_AGO)
    make_hold(held)
    _content(held)
    other = make_person(email="other@example.fr", collected_at=LONG_AGO)
    _content(other)

    result = purge_account_content(now=NOW)

    assert _state(held) == (1, 1, True)
    assert _state(other) == (0, 0, False)
    assert (result.examined, result.affected, result.held) == (6, 3, 3)


def test_it_makes_no_query_per_row(make_person):
    counts = []
    for size, prefix in [(10, "small"), (200, "large")]:
        people = Person.objects.bulk_create(
            [Person(email=f"{prefix}{i}@example.fr", collected_at=LONG_AGO) for i in range(size)]
        )
        activities = Activity.objects.bulk_create(
            [
                Activity(title="A", organiser=p, starts_at=LONG_AGO, created_at=LONG_AGO)
                for p in people
            ]
        )
        ActivityParticipation.objects.bulk_create(
            [
                ActivityParticipation(person=p, activity=a, joined_at=LONG_AGO)
                for p, a in zip(people, activities, strict=True)
            ]
        )
        Review.objects.bulk_create(
            [Review(person=p, rating=5, created_at=LONG_AGO) for p in people]
        )
        with CaptureQueriesContext(connection) as queries:
            assert purge_account_content(now=NOW, batch_size=500).affected == 3 * size
        counts.append(len(queries))
    assert counts[0] == counts[1]
