from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from audit.hashing import subject_hash
from audit.models import GENESIS_HASH, ActorType, AuditEvent
from audit.services import record_event, verify_chain
from tests.conftest import NOW

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"
)


def test_it_chains_each_event_to_the_one_before(make_event):
    first = make_event(action="request.submitted")
    second = make_event(action="request.confirmed")
    third = make_event(action="request.completed")

    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert all(e.hash == e.compute_hash() for e in AuditEvent.objects.all())
    assert verify_chain() == (True, None, 3)


def test_it_records_who_what_and_when(make_event, charlie):
    event = make_event(
        action="request.extended",
        actor_type=ActorType.STAFF,
        actor_user=charlie,
        object_type="rights.DataSubjectRequest",
        object_ref="2f1c3a52-8d3e-4c1b-9a57-0c7f6f0e9b11",
        details={"reason_code": "complexity", "months": 2},
        now=NOW,
    )

    event.refresh_from_db()
    assert event.at == NOW
    assert event.actor_user == charlie
    assert event.details == {"reason_code": "complexity", "months": 2}
    assert event.hash == event.compute_hash()


def test_it_names_the_person_by_the_keyed_hash_only(make_event, settings):
    event = make_event(subject_email=" Alice.Martin@Example.FR ")

    key = settings.SUBJECT_HASH_KEY.encode()
    expected = hmac.new(key, b"alice.martin@example.fr", hashlib.sha256).hexdigest()
    assert event.subject_hash == expected == subject_hash("alice.martin@example.fr")
    assert event.subject_hash != hashlib.sha256(b"alice.martin@example.fr").hexdigest()
    row = AuditEvent.objects.filter(pk=event.pk).values_list().get()
    assert "alice" not in str(row).lower()
    assert list(AuditEvent.objects.for_subject("alice.martin@example.fr")) == [event]


def test_it_joins_the_callers_transaction(make_event):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_event()
        raise RuntimeError("the workflow failed")

    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    "details",
    [
        {"email": "x"},
        {"customer_email": "x"},
        {"first_name": "Alice"},
        {"lastName": "Martin"},
        {"phone": "x"},
        {"address": "x"},
        {"ip": "192.0.2.1"},
        {"ipAddress": "192.0.2.1"},
        {"changes": {"name": "Alice"}},
        {"changes": [{"email": "x"}]},
        {"note": "sent to alice@example.fr"},
        {"ratio": 0.5},
    ],
)
def test_it_refuses_personal_data_in_details(make_event, details):
    with pytest.raises(ValueError):
        make_event(details=details)

    assert not AuditEvent.objects.exists()


def test_it_accepts_facts_about_the_procedure(make_event):
    details = {
        "fields": ["first_name", "email"],  # which fields changed, not their values
        "recipient": "stripe",
        "filename": "export.zip",
        "reason_code": "legal_hold",
        "rows": 3,
        "notified": True,
        "until": None,
    }

    assert make_event(details=details).details == details


@pytest.mark.parametrize(
    "kwargs",
    [
        {"action": ""},
        {"action": "submitted"},
        {"action": "Request.Submitted"},
        {"actor_type": "robot"},
        {"actor_type": ActorType.STAFF},
        {"object_ref": "2f1c3a52"},
        {"object_type": "rights.DataSubjectRequest", "object_ref": "alice@example.fr"},
        {"now": datetime(2026, 1, 15, 12)},  # noqa: DTZ001 (naive on purpose)
    ],
)
def test_it_refuses_an_invalid_event(make_event, kwargs):
    with pytest.raises(ValueError):
        make_event(**kwargs)


def test_it_refuses_a_user_for_system_events(make_event, charlie):
    with pytest.raises(ValueError):
        make_event(actor_type=ActorType.SYSTEM, actor_user=charlie)


def test_it_never_lets_two_rows_follow_the_same_row(make_event):
    first = make_event()
    make_event()
    fork = AuditEvent(action="request.forged", actor_type=ActorType.SYSTEM, at=NOW)
    fork.prev_hash = first.hash
    fork.hash = fork.compute_hash()

    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save(force_insert=True)


def test_it_protects_staff_who_acted_from_deletion(make_event, charlie):
    from django.db.models import ProtectedError

    make_event(actor_type=ActorType.STAFF, actor_user=charlie)

    with pytest.raises(ProtectedError):
        charlie.delete()


@on_postgresql
def test_it_keeps_one_chain_under_concurrent_writers(transactional_db):
    writers, per_writer = 4, 10
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_writer):
                # Hold each transaction open a little, as a real workflow would.
                with transaction.atomic():
                    record_event(
                        action="test.concurrent",
                        actor_type=ActorType.SYSTEM,
                        details={"writer": n, "i": i},
                        now=NOW,
                    )
                    connection.cursor().execute("SELECT pg_sleep(0.002)")
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert verify_chain() == (True, None, writers * per_writer)
