"""Audit-log fixtures: an event factory, and tampering behind the trigger's back."""

from __future__ import annotations

import pytest
from django.db import connection

from audit.models import ActorType, AuditEvent
from audit.services import record_event
from tests.conftest import NOW

ROW_TRIGGER = "audit_auditevent_append_only"


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
