"""The DPO group's daily digest of requests due soon and overdue (rights.services)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from rights import services, tasks
from rights.models import OutgoingEmail
from tests.conftest import NOW

MORNING = datetime(2026, 2, 12, 6, tzinfo=UTC)  # Thu 12 Feb 2026


def test_it_emails_each_dpo_member_references_and_kinds_only(
    make_dsr, bob, charlie, django_user_model
):
    from django.contrib.auth.models import Group

    dora = django_user_model.objects.create_user("dora", "dora@okasio.fr", "pw", is_staff=True)
    dora.groups.add(Group.objects.get(name="DPO"))
    soon = make_dsr(confirm=True, email="soon@example.fr", name="Sonia Secret")  # due 16 Feb
    late = make_dsr(
        confirm=True, email="late@example.fr", now=NOW - timedelta(days=40)
    )  # due 8 Jan
    make_dsr(confirm=True, email="far@example.fr", now=MORNING)  # due in a month

    assert services.send_deadline_digest(now=MORNING) == 2

    emails = OutgoingEmail.objects.filter(template="dpo_digest")
    assert sorted(e.to for e in emails) == ["bob@okasio.fr", "dora@okasio.fr"]
    body = emails[0].body_text
    assert soon.reference in body and late.reference in body
    assert "art. 15" in body.lower()  # the kind, in the DPO's language (French by default)
    assert "example.fr" not in body and "Sonia" not in body
    assert "/admin/rights/datasubjectrequest/" in body
    assert "1 en retard, 1 à échéance proche" in emails[0].subject  # the DPO reads French


def test_it_sends_nothing_when_nothing_is_due(make_dsr, bob):
    make_dsr(confirm=True, now=MORNING)

    assert services.send_deadline_digest(now=MORNING) == 0
    assert not OutgoingEmail.objects.filter(template="dpo_digest").exists()


def test_it_leaves_paused_requests_out(make_dsr, bob):
    dsr = make_dsr(confirm=True)
    services.ask_person(
        dsr=dsr, reason="clarification", message="?", pause_clock=True, by=bob, now=NOW
    )

    assert services.send_deadline_digest(now=MORNING) == 0


def test_it_runs_as_a_daily_task(make_dsr, bob, settings):
    make_dsr(confirm=True)
    schedule = settings.CELERY_BEAT_SCHEDULE["rights-send-deadline-digest"]
    assert schedule["task"] == "rights.tasks.send_deadline_digest"

    with time_machine.travel(MORNING, tick=False):
        assert tasks.send_deadline_digest() == 1
