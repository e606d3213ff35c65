"""Audit-log fixtures: an event factory, and tampering behind the trigger's back."""

from __future__ import annotations

import pytest
from django.db import connection

from audit.models import ActorType, AuditEvent
from audit.services import record_event
from tests.conftest import NOW

ROW_TRIGGER = "audit_auditevent_append_only"
TRUNCATE_TRIGGER = "audit_auditevent_no_truncate"


@pytest.fixture
def make_event(db):
    def make(**kwargs) -> AuditEvent:
        kwargs.setdefault("action", "request.submitted")
        kwargs.setdefault("actor_type", ActorType.SYSTEM)
        kwargs.setdefault("now", NOW)
        return record_event(**kwargs)

    return make


@pytest.fixture
def tamper(db):
    """Run raw SQL on the log as an attacker with table-owner rights would: trigger off."""

    def run(sql: str, params: list | None = None) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # ALTER TABLE refuses to run with deferred FK checks still queued.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(f"ALTER TABLE audit_auditevent DISABLE TRIGGER {ROW_TRIGGER}")
            cursor.execute(sql, params)
            if connection.vendor == "postgresql":
                cursor.execute(f"ALTER TABLE audit_auditevent ENABLE TRIGGER {ROW_TRIGGER}")

    return run


@pytest.fixture
def truncatable_audit_log(django_db_setup, django_db_blocker):
    """Let the flush that ends a transactional test TRUNCATE the audit log (PostgreSQL).

    Request it before `transactional_db`, so it is set up before and torn down after the
    flush. Restores the trigger to the state it found.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = %s", [TRUNCATE_TRIGGER])
        (state,) = cursor.fetchone()
        cursor.execute(f"ALTER TABLE audit_auditevent DISABLE TRIGGER {TRUNCATE_TRIGGER}")
    yield
    if state != "D":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE audit_auditevent ENABLE TRIGGER {TRUNCATE_TRIGGER}")
