"""Reminders, expiry and staff-logged requests (rights.services)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from rights import services, tasks
from rights.models import DataSubjectRequest, RequestStatus, StepKind
from tests.conftest import NOW

from .conftest import link_in


def test_it_reminds_once_after_two_days(make_dsr):
    dsr = make_dsr()
    assert services.send_confirmation_reminders(now=NOW + timedelta(days=1)) == 0
    assert services.send_confirmation_reminders(now=NOW + timedelta(days=2)) == 1
    assert services.send_confirmation_reminders(now=NOW + timedelta(days=3)) == 0
    dsr.refresh_from_db()
    assert dsr.reminded_at == NOW + timedelta(days=2)
    assert AuditEvent.objects.filter(action="request.confirmation_reminded").count() == 1
    services.relay_pending_emails(now=NOW)
    reminder = mail.outbox[-1]
    # Its link works, and so does the first one until the same expiry.
    state, *_ = services.confirm_request(
        token=link_in(reminder.body, "/confirmer/").rstrip("/").rsplit("/", 1)[1],
        now=NOW + timedelta(days=3),
    )
    assert state == services.LinkState.OK


def test_it_reads_the_reminder_delay_from_settings(make_dsr, settings):
    settings.RIGHTS_CONFIRMATION_REMINDER_DAYS = 4
    make_dsr()
    assert services.send_confirmation_reminders(now=NOW + timedelta(days=3)) == 0
    assert services.send_confirmation_reminders(now=NOW + timedelta(days=4)) == 1


def test_it_expires_unconfirmed_requests_and_records_it(make_dsr):
    dsr = make_dsr()
    confirmed = make_dsr(kind="erasure", details={"scope": "everything"}, confirm=True)
    # Retention's unconfirmed_requests policy runs it (hourly, and with the nightly sweeps).
    from retention.sweeps import purge_unconfirmed_requests

    assert purge_unconfirmed_requests(now=NOW + timedelta(days=6)).affected == 0
    assert purge_unconfirmed_requests(now=NOW + timedelta(days=7)).affected == 1
    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.EXPIRED
    assert dsr.closed_at == NOW + timedelta(days=7)
    assert dsr.steps.last().kind == StepKind.EXPIRED
    assert AuditEvent.objects.filter(action="request.expired", object_ref=str(dsr.code)).exists()
    confirmed.refresh_from_db()
    assert confirmed.status == RequestStatus.OPEN


def test_it_runs_the_periodic_tasks(make_dsr, settings):
    make_dsr()
    reminder_due = NOW + timedelta(days=settings.RIGHTS_CONFIRMATION_REMINDER_DAYS, hours=1)
    with time_machine.travel(reminder_due, tick=False):
        assert tasks.relay_pending_emails.delay().get() == 1  # the confirmation email
        assert tasks.send_confirmation_reminders.delay().get() == 1
        assert tasks.send_confirmation_reminders.delay().get() == 0  # one reminder, not two


def test_it_lists_the_periodic_tasks_in_the_beat_schedule(settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "rights.tasks.relay_pending_emails",
        "rights.tasks.send_confirmation_reminders",
    } <= scheduled
    # What requests leave behind is retention's: one place for each rule.
    assert not {task for task in scheduled if "purge" in task or "expire" in task}
    hourly = settings.CELERY_BEAT_SCHEDULE["retention-unconfirmed-requests"]
    assert (hourly["task"], hourly["args"]) == (
        "retention.tasks.run_sweep",
        ("unconfirmed_requests",),
    )


def test_it_logs_an_emailed_request_from_its_receipt_date(bob):
    """A1: received 3 days before it is logged, the clock runs from the email's date."""
    received = datetime(2026, 1, 28, 9, tzinfo=UTC)
    dsr = services.log_received_request(
        kind="access",
        email="Carla@Example.fr",
        name="Carla",
        language="fr",
        channel="email",
        received_at=received,
        by=bob,
        now=received + timedelta(days=3),
    )
    assert dsr.status == RequestStatus.OPEN
    assert dsr.received_on == date(2026, 1, 28)
    assert dsr.due_on == date(2026, 3, 2)  # 28 Feb 2026 is a Saturday
    assert dsr.steps.get().at == received
    event = AuditEvent.objects.get(action="request.logged")
    assert event.actor_user == bob
    services.relay_pending_emails(now=NOW)
    assert "/suivi/" in mail.outbox[0].body


def test_it_refuses_a_receipt_date_in_the_future(bob):
    with pytest.raises(ValidationError):
        services.log_received_request(
            kind="access",
            email="c@example.fr",
            name="",
            language="fr",
            channel="post",
            received_at=NOW + timedelta(hours=1),
            by=bob,
            now=NOW,
        )


def test_it_logs_through_the_admin_add_form(staff_client, bob):
    client = staff_client(bob)
    response = client.post(
        "/admin/rights/datasubjectrequest/add/",
        {
            "kind": "erasure",
            "channel": "post",
            "email": "dora@example.fr",
            "name": "Dora",
            "language": "fr",
            "received_at_0": "2026-01-10",
            "received_at_1": "10:00:00",
            "details": "{}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    dsr = DataSubjectRequest.objects.get()
    assert dsr.channel == "post" and dsr.logged_by == bob
    assert dsr.received_on == date(2026, 1, 10)
    # Read-mostly: no delete, no bulk actions.
    changelist = client.get("/admin/rights/datasubjectrequest/?q=dora@example.fr")
    assert changelist.status_code == 200
    assert str(dsr.code) in changelist.content.decode()
    assert "delete_selected" not in changelist.content.decode()
    assert client.post(f"/admin/rights/datasubjectrequest/{dsr.pk}/delete/").status_code == 403


def test_the_admin_reads_a_receipt_time_as_paris_time(staff_client, bob):
    """A1, A2 (EDPB example 33): a letter logged as received at 23:30 on 31 August, Paris
    time, was received on the 31st, due on 30 September (read as UTC, it was 1 September)."""
    response = staff_client(bob).post(
        "/admin/rights/datasubjectrequest/add/",
        {
            "kind": "access",
            "channel": "post",
            "email": "dora@example.fr",
            "language": "fr",
            "received_at_0": "2025-08-31",
            "received_at_1": "23:30:00",
            "details": "{}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    dsr = DataSubjectRequest.objects.get()
    assert dsr.received_at.isoformat() == "2025-08-31T21:30:00+00:00"
    assert (dsr.received_on, dsr.due_on) == (date(2025, 8, 31), date(2025, 9, 30))
    page = staff_client(bob).get(f"/admin/rights/datasubjectrequest/{dsr.pk}/change/")
    assert "23:30" in page.content.decode()


def test_an_unconfirmed_portal_request_gives_way_to_the_letter_the_dpo_logs(
    staff_client, bob, make_dsr
):
    """A1, A10: anyone can file an unconfirmed request for an address; it must not keep the
    DPO from logging the person's letter (and its acknowledgement) for up to a week. A
    confirmed one still does: one open request per right."""
    waiting = make_dsr(email="dora@example.fr")
    form = {
        "kind": "access",
        "channel": "post",
        "email": "dora@example.fr",
        "language": "fr",
        "received_at_0": "2026-01-10",
        "received_at_1": "10:00:00",
        "details": "{}",
    }
    client = staff_client(bob)
    response = client.post("/admin/rights/datasubjectrequest/add/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    waiting.refresh_from_db()
    assert waiting.status == RequestStatus.EXPIRED
    logged = DataSubjectRequest.objects.get(channel="post")
    assert logged.status == RequestStatus.OPEN

    again = client.post("/admin/rights/datasubjectrequest/add/", form)
    assert again.status_code == 200
    assert DataSubjectRequest.objects.filter(channel="post").count() == 1


def test_it_refuses_a_future_date_in_the_admin(staff_client, bob):
    client = staff_client(bob)
    response = client.post(
        "/admin/rights/datasubjectrequest/add/",
        {
            "kind": "access",
            "channel": "email",
            "email": "e@example.fr",
            "language": "fr",
            "received_at_0": "2999-01-10",
            "received_at_1": "10:00:00",
            "details": "{}",
        },
    )
    assert response.status_code == 200
    assert "received_at" in response.context["adminform"].form.errors
    assert not DataSubjectRequest.objects.exists()
