"""The append-only trigger (PostgreSQL only: the quick start's SQLite has none)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


def test_it_refuses_an_update(make_event):
    event = make_event()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="request.forged")

    event.refresh_from_db()
    assert event.action == "request.submitted"


def test_it_refuses_a_save_of_an_existing_row(make_event):
    event = make_event()
    event.details = {"edited": True}

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.save()


def test_it_refuses_a_delete(make_event):
    event = make_event()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        event.delete()

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_it_refuses_a_truncate(make_event):
    make_event()

    # The test setup may have disabled this one trigger, so flushes can run.
    enable = "ALTER TABLE audit_auditevent ENABLE TRIGGER audit_auditevent_no_truncate"
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(enable)
        cursor.execute("TRUNCATE audit_auditevent")

    assert AuditEvent.objects.count() == 1
