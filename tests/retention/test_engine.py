"""What every sweep shares: legal holds, dry runs, batches, no query per row, resuming."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from people.models import Person, Purchase, TechnicalTrace
from retention import sweeps
from retention.models import Repermission
from retention.sweeps import purge_card_evidence, purge_prospects, purge_technical_traces
from rights.models import Restriction
from tests.conftest import NOW

LONG_AGO = NOW - timedelta(days=5 * 366)


@pytest.fixture
def expired_prospects(make_prospects):
    """Prospects past their three years whose re-permission went unanswered: deletable."""

    def make(count: int, prefix: str = "p") -> list[int]:
        keys = make_prospects(count, collected_at=LONG_AGO, prefix=prefix)
        Repermission.objects.bulk_create(
            [
                Repermission(
                    person_id=key,
                    asked_at=NOW - timedelta(days=60),
                    sent_at=NOW - timedelta(days=60),
                )
                for key in keys
            ]
        )
        return keys

    return make


def test_it_keeps_everything_of_a_person_under_legal_hold(
    make_person, make_purchase, make_trace, make_hold
):
    held = make_person(email="held@example.fr", is_prospect=True, collected_at=LONG_AGO)
    make_hold(held)
    Repermission.objects.create(person=held, asked_at=LONG_AGO, sent_at=LONG_AGO)
    purchase = make_purchase(person=held, debited_on=LONG_AGO.date())
    trace = make_trace(person=held, seen_at=LONG_AGO)

    prospects = purge_prospects(now=NOW)
    cards = purge_card_evidence(now=NOW)
    traces = purge_technical_traces(now=NOW)

    assert Person.objects.filter(pk=held.pk).exists()
    purchase.refresh_from_db()
    assert purchase.card_last4 == "4242"
    assert TechnicalTrace.objects.filter(pk=trace.pk).exists()
    assert (prospects.held, prospects.affected) == (1, 0)
    assert (cards.examined, cards.held, cards.affected) == (1, 1, 0)
    assert (traces.examined, traces.held, traces.affected) == (1, 1, 0)


def test_it_keeps_everything_of_a_person_with_an_active_restriction(
    make_person, make_purchase, make_trace, make_restriction
):
    """GDPR 18(2): restricted data are only stored; deleting them is processing (B5)."""
    restricted = make_person(email="restricted@example.fr", is_prospect=True, collected_at=LONG_AGO)
    restriction = make_restriction(restricted)
    Repermission.objects.create(person=restricted, asked_at=LONG_AGO, sent_at=LONG_AGO)
    purchase = make_purchase(person=restricted, debited_on=LONG_AGO.date())
    trace = make_trace(person=restricted, seen_at=LONG_AGO)

    prospects = purge_prospects(now=NOW)
    cards = purge_card_evidence(now=NOW)
    traces = purge_technical_traces(now=NOW)

    assert Restriction.objects.active().filter(pk=restriction.pk).exists()
    purchase.refresh_from_db()
    assert purchase.card_last4 == "4242"
    assert TechnicalTrace.objects.filter(pk=trace.pk).exists()
    assert (prospects.held, prospects.affected) == (1, 0)
    assert (cards.examined, cards.held, cards.affected) == (1, 1, 0)
    assert (traces.examined, traces.held, traces.affected) == (1, 1, 0)


def test_a_lifted_restriction_holds_no_one(make_person, make_trace, make_restriction):
    person = make_person()
    make_restriction(person, lift_notice_at=LONG_AGO, lifted_at=LONG_AGO)
    make_trace(person=person, seen_at=LONG_AGO)

    assert purge_technical_traces(now=NOW).affected == 1


def test_it_lets_a_hold_that_has_ended_go(make_person, make_trace, make_hold):
    person = make_person()
    make_hold(person, since=LONG_AGO, until=NOW - timedelta(days=1))
    make_trace(person=person, seen_at=LONG_AGO)

    assert purge_technical_traces(now=NOW).affected == 1


def test_a_hold_that_has_ended_does_not_stop_a_prospect_from_going(expired_prospects, make_hold):
    """The ended hold's row still points at the person (PROTECT): it goes with them."""
    from retention.models import LegalHold

    (key,) = expired_prospects(1)
    make_hold(Person.objects.get(pk=key), since=LONG_AGO, until=NOW - timedelta(days=1))

    assert purge_prospects(now=NOW).details["deleted"] == 1
    assert not Person.objects.filter(pk=key).exists() and not LegalHold.objects.exists()


def test_a_hold_dated_to_start_later_keeps_its_person_and_not_the_batch(
    expired_prospects, make_hold
):
    """A hold placed to start next month already keeps its person (deleting the data it is
    about to cover would defeat it); the other prospects of the batch still go."""
    keys = expired_prospects(3)
    make_hold(Person.objects.get(pk=keys[1]), since=NOW + timedelta(days=30))

    result = purge_prospects(now=NOW)

    assert (result.held, result.details["deleted"]) == (1, 2)
    assert list(Person.objects.values_list("pk", flat=True)) == [keys[1]]


def test_it_shows_holds_in_a_dry_run(make_person, make_trace, make_hold):
    held = make_person(email="held@example.fr")
    make_hold(held)
    make_trace(person=held, seen_at=LONG_AGO)
    make_trace(seen_at=LONG_AGO)

    result = purge_technical_traces(now=NOW, dry_run=True)

    assert (result.examined, result.affected, result.held) == (2, 1, 1)


def test_it_changes_nothing_in_a_dry_run(
    expired_prospects, make_person, make_purchase, make_trace, django_capture_on_commit_callbacks
):
    expired_prospects(3)
    make_person(email="new@example.fr", is_prospect=True, collected_at=LONG_AGO)
    make_purchase(debited_on=LONG_AGO.date())
    make_trace(seen_at=LONG_AGO)
    before = (Person.objects.count(), TechnicalTrace.objects.count(), Repermission.objects.count())

    with django_capture_on_commit_callbacks() as callbacks:
        results = {
            name: policy.sweep(now=NOW, dry_run=True) for name, policy in sweeps.POLICIES.items()
        }

    assert not callbacks
    assert before == (
        Person.objects.count(),
        TechnicalTrace.objects.count(),
        Repermission.objects.count(),
    )
    assert Purchase.objects.get().card_last4 == "4242"
    assert results["prospects"].details == {"deleted": 3, "asked": 1, "resent": 0}
    assert results["card_evidence"].affected == 1
    assert results["accounting"].affected == 0


def test_it_makes_no_query_per_row(expired_prospects, django_assert_max_num_queries):
    """Deleting 10 or 200 people with their rows takes the same number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size, prefix in [(10, "small"), (200, "large")]:
        expired_prospects(size, prefix=prefix)
        with CaptureQueriesContext(connection) as queries:
            result = purge_prospects(now=NOW, batch_size=500)
        assert result.details["deleted"] == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    expired_prospects(200, prefix="again")
    with django_assert_max_num_queries(counts[0]):
        purge_prospects(now=NOW, batch_size=500)


def test_it_works_in_batches_by_key(expired_prospects):
    expired_prospects(7)
    seen = []

    def record(batch):
        seen.append(batch.affected)

    token = sweeps.batch_listener.set(record)
    try:
        result = purge_prospects(now=NOW, batch_size=3)
    finally:
        sweeps.batch_listener.reset(token)

    assert seen == [3, 3, 1]
    assert result.details["deleted"] == 7


def test_it_finishes_the_job_when_run_again_after_a_kill(expired_prospects, monkeypatch):
    keys = expired_prospects(5)
    child_rows = TechnicalTrace.objects.filter(person_id__in=keys)
    assert child_rows.count() == 5

    class Killed(Exception):
        pass

    def kill(batch):
        raise Killed

    monkeypatch.setattr(sweeps, "batch_committed", kill)
    with pytest.raises(Killed):
        purge_prospects(now=NOW, batch_size=2)
    # The first batch is done, wholly: two people and all their rows; the rest untouched.
    assert Person.objects.filter(pk__in=keys).count() == 3
    assert child_rows.count() == 3
    assert not Person.objects.filter(pk__in=keys[:2]).exists()

    monkeypatch.undo()
    result = purge_prospects(now=NOW, batch_size=2)

    assert result.details["deleted"] == 3
    assert not Person.objects.filter(pk__in=keys).exists()
    assert child_rows.count() == 0


# --- delete_people on PostgreSQL: the reference checks it may skip --------------------------


def test_delete_people_skips_only_redundant_checks(db):
    """Every foreign key PostgreSQL holds on Person is one Django knows, so delete_people
    deletes, detaches or checks it before the people go with the triggers off."""
    from django.db import connection

    from people.models import Person

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, a.attname FROM pg_constraint c "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey) "
            "WHERE c.contype = 'f' AND c.confrelid = %s::regclass",
            [Person._meta.db_table],
        )
        in_database = set(cursor.fetchall())
    known = {
        (relation.related_model._meta.db_table, relation.field.column)
        for relation in Person._meta.related_objects
    }

    assert in_database == known
    assert sweeps._may_skip_reference_checks(connection)  # the test role is a superuser


def test_delete_people_turns_the_checks_off_for_one_statement(expired_prospects):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    keys = expired_prospects(3)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        assert sweeps.delete_people(keys, now=NOW) == 3

    statements = [query["sql"] for query in queries]
    off = statements.index("SET LOCAL session_replication_role = replica")
    assert statements[off + 1].startswith('DELETE FROM "people_person"')
    assert statements[off + 2] == "SET LOCAL session_replication_role = DEFAULT"
    assert not TechnicalTrace.objects.filter(person_id__in=keys).exists()


@pytest.mark.parametrize("checks_off", [True, False], ids=["checks off", "database checks"])
def test_delete_people_refuses_a_batch_someone_in_it_is_still_held_by(
    expired_prospects, make_hold, monkeypatch, checks_off
):
    """A row of a PROTECT relation (a hold placed after the batch was chosen) refuses the
    whole batch, whether our check or PostgreSQL's catches it."""
    from django.db import IntegrityError, connection

    keys = expired_prospects(3)
    make_hold(Person.objects.get(pk=keys[1]))
    monkeypatch.setattr(sweeps, "_may_skip_reference_checks", lambda connection: checks_off)

    with pytest.raises(IntegrityError), transaction.atomic():
        sweeps.delete_people(keys, now=NOW)
        with connection.cursor() as cursor:  # PostgreSQL's deferred checks, now
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    assert Person.objects.filter(pk__in=keys).count() == 3
    assert TechnicalTrace.objects.filter(person_id__in=keys).count() == 3


def test_any_is_one_array_on_postgresql_and_in_elsewhere(db):
    from django.db import connection
    from django.db.backends.sqlite3.base import DatabaseWrapper

    query = Person.objects.filter(pk__any=[3, 5]).values("pk").query
    sql, params = query.get_compiler(connection=connection).as_sql()
    assert sql.endswith('WHERE "people_person"."id" = ANY(%s::bigint[])')
    assert params == ("{3,5}",)

    sqlite = DatabaseWrapper({**connection.settings_dict, "NAME": ":memory:"}, alias="sqlite")
    sql, params = query.get_compiler(connection=sqlite).as_sql()
    assert sql.endswith('WHERE "people_person"."id" IN (%s, %s)')
    assert params == (3, 5)
    assert list(Person.objects.filter(pk__any=[]).values("pk")) == []
