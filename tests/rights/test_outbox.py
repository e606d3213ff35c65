"""The outbox: emails committed with the request, relayed exactly once (rights.services)."""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection

from audit.models import AuditEvent
from rights import services
from rights.models import EmailStatus, LinkPurpose, OutgoingEmail, SecretLink
from tests.conftest import NOW

from .conftest import link_in

FORM = {"email": "alice@example.fr", "name": "Alice", "language": "fr"}


def test_it_queues_the_email_in_the_requests_transaction(
    make_dsr, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        dsr = make_dsr()
    outgoing = OutgoingEmail.objects.get()
    assert outgoing.request == dsr and outgoing.status == EmailStatus.PENDING
    assert len(callbacks) == 1
    assert callbacks[0].func is services.enqueue_email
    assert callbacks[0].args == (outgoing.id,)  # an id, never an address


def test_it_sends_on_commit(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/demande/access/", FORM)
    assert len(mail.outbox) == 1
    assert OutgoingEmail.objects.get().status == EmailStatus.SENT


def test_it_sends_each_email_exactly_once(make_dsr):
    make_dsr()
    assert services.relay_pending_emails(now=NOW) == 1
    assert services.relay_pending_emails(now=NOW) == 0
    assert services.send_outgoing_email(email_id=OutgoingEmail.objects.get().id, now=NOW) is False
    assert len(mail.outbox) == 1
    assert AuditEvent.objects.filter(action="email.sent").count() == 1


def test_it_keeps_a_failed_email_pending_and_logs_no_personal_data(make_dsr, settings, caplog):
    make_dsr()
    settings.EMAIL_BACKEND = "tests.rights.test_outbox.BrokenBackend"
    assert services.relay_pending_emails(now=NOW) == 0
    outgoing = OutgoingEmail.objects.get()
    assert outgoing.status == EmailStatus.PENDING and outgoing.attempts == 1
    assert "alice" not in caplog.text.lower()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.relay_pending_emails(now=NOW) == 1
    outgoing.refresh_from_db()
    assert outgoing.attempts == 2 and outgoing.sent_at == NOW


@time_machine.travel(NOW, tick=False)
def test_it_issues_the_confirmation_link_when_the_email_is_sent(make_dsr, settings, client):
    """The intake writes no link and renders nothing: the sender does both, once."""
    dsr = make_dsr()
    outgoing = OutgoingEmail.objects.get()
    assert outgoing.link == LinkPurpose.CONFIRM and outgoing.body_text == ""
    assert not SecretLink.objects.exists()
    settings.EMAIL_BACKEND = "tests.rights.test_outbox.BrokenBackend"
    assert services.relay_pending_emails(now=NOW) == 0
    outgoing.refresh_from_db()
    # The failed attempt kept the email it rendered, and its link: the next one sends it.
    assert outgoing.attempts == 1 and "/en/confirmer/" in outgoing.body_text
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.relay_pending_emails(now=NOW + timedelta(minutes=1)) == 1
    [message] = mail.outbox
    assert message.body == outgoing.body_text
    [link] = SecretLink.objects.all()
    assert link.purpose == LinkPurpose.CONFIRM and link.request == dsr
    assert link.expires_at == dsr.confirmation_expires_at()
    assert client.post(link_in(message.body, "/confirmer/")).status_code == 302


def test_it_gives_up_an_email_whose_request_is_gone(make_dsr):
    make_dsr(email="gone@example.fr").delete()
    make_dsr(email="bob@example.fr")
    assert services.relay_pending_emails(now=NOW) == 1
    assert [m.to for m in mail.outbox] == [["bob@example.fr"]]
    assert OutgoingEmail.objects.filter(status=EmailStatus.FAILED, request=None).count() == 1
    assert not SecretLink.objects.filter(request=None).exists()


def test_it_purges_sent_emails_after_the_configured_days(make_dsr, settings):
    settings.RIGHTS_SENT_EMAIL_RETENTION_DAYS = 30
    make_dsr()
    services.relay_pending_emails(now=NOW)
    # Retention's sent_emails policy purges them; its run is the audit event.
    from retention.services import run_policy

    assert run_policy("sent_emails", now=NOW + timedelta(days=29)).rows_affected == 0
    assert run_policy("sent_emails", now=NOW + timedelta(days=30)).rows_affected == 1
    assert not OutgoingEmail.objects.exists()
    assert AuditEvent.objects.filter(
        action="retention.sweep_run", details__policy="sent_emails"
    ).exists()


def test_it_survives_a_broker_failure(make_dsr, django_capture_on_commit_callbacks, caplog):
    from unittest import mock

    down = mock.patch("rights.tasks.send_email.delay", side_effect=ConnectionError("down"))
    with down, django_capture_on_commit_callbacks(execute=True):
        make_dsr()
    assert OutgoingEmail.objects.get().status == EmailStatus.PENDING
    assert "relay will send it" in caplog.text
    assert services.relay_pending_emails(now=NOW) == 1


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("SMTP is down")


# --- On the real PostgreSQL and Redis of `make test` -----------------------------------------
# Redis down during intake: tests/faults/test_redis_down.py.

needs_services = pytest.mark.skipif(
    not os.environ.get("OKASIO_REDIS_PORT"), reason="needs the private Redis of `make test`"
)


@needs_services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_sends_exactly_once_under_concurrent_relays(make_dsr):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    from unittest import mock

    with mock.patch("rights.services.enqueue_email"):  # leave them all pending
        for i in range(20):
            make_dsr(email=f"p{i}@example.fr")
    assert OutgoingEmail.objects.pending().count() == 20
    barrier = threading.Barrier(4)
    sent: list[int] = []

    def relay():
        barrier.wait()
        try:
            sent.append(services.relay_pending_emails(now=NOW))
        finally:
            connection.close()

    threads = [threading.Thread(target=relay) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(sent) == 20
    assert len(mail.outbox) == 20
    assert OutgoingEmail.objects.filter(status=EmailStatus.SENT, attempts=1).count() == 20


# --- Under load: one relay task per window and process (#8) ---------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_throttle_gives_the_first_email_its_task_and_the_rest_one_relay():
    clock = FakeClock()
    throttle = services.RelayThrottle(1.0, clock=clock)
    assert throttle.claim() == ("send", 0.0)
    clock.now += 0.25
    assert throttle.claim() == ("relay", 0.75)  # runs when the window ends
    clock.now += 0.5
    assert throttle.claim() is None  # that relay will send this one too
    clock.now += 0.25  # the window is over: the next email goes at once again
    assert throttle.claim() == ("send", 0.0)
    assert throttle.claim() == ("relay", 1.0)


@pytest.fixture
def broker(monkeypatch):
    """Publishing as with Redis (not in-process), recorded; the throttle on a fake clock."""
    from unittest import mock

    from okasio_privacy.celery import app
    from rights import tasks

    clock = FakeClock()
    monkeypatch.setattr(services, "RELAY", services.RelayThrottle(1.0, clock=clock))
    monkeypatch.setattr(app.conf, "task_always_eager", False)
    with (
        mock.patch.object(tasks.send_email, "delay") as send,
        mock.patch.object(tasks.relay_pending_emails, "apply_async") as relay,
    ):
        yield clock, send, relay


def test_under_load_emails_share_one_relay_per_window(
    broker, make_dsr, django_capture_on_commit_callbacks
):
    clock, send, relay = broker
    with django_capture_on_commit_callbacks(execute=True):
        first = make_dsr(email="p0@example.fr")
    for i in range(1, 5):
        clock.now += 0.1
        with django_capture_on_commit_callbacks(execute=True):
            make_dsr(email=f"p{i}@example.fr")
    send.assert_called_once_with(OutgoingEmail.objects.get(request=first).id)
    relay.assert_called_once()
    assert relay.call_args.kwargs["countdown"] == pytest.approx(0.9)
    # Each is still sent once, by whichever task comes first (the relay sends them all here).
    assert services.relay_pending_emails(now=NOW) == 5
    assert services.send_outgoing_email(email_id=send.call_args.args[0], now=NOW) is False


def test_a_failed_publish_leaves_the_email_to_the_periodic_relay(
    broker, make_dsr, django_capture_on_commit_callbacks, caplog
):
    clock, send, relay = broker
    send.side_effect = relay.side_effect = ConnectionError("down")
    for i in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            make_dsr(email=f"p{i}@example.fr")  # kept whatever the broker says
        clock.now += 0.1
    assert caplog.text.count("relay will send it") == 2  # its own task, then the window's
    assert OutgoingEmail.objects.pending().count() == 3
    assert services.relay_pending_emails(now=NOW) == 3


@pytest.mark.worker
@needs_services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_sends_every_email_of_a_burst_once(
    celery_worker, client, monkeypatch, settings
):
    """Twenty intakes inside one window: two messages reach Redis, twenty emails leave."""
    from unittest import mock

    from rights import tasks

    settings.RIGHTS_RATE_LIMIT_PER_IP = "1000/h"
    # The throttle's clock stands still, so all twenty are in one window; the relay still
    # runs after its countdown in real time, which must outlast the twenty intakes (well
    # under a second here) or it would leave the last ones to the periodic relay.
    clock = FakeClock()
    monkeypatch.setattr(services, "RELAY", services.RelayThrottle(2.0, clock=clock))
    send = mock.patch.object(tasks.send_email, "delay", wraps=tasks.send_email.delay)
    relay = mock.patch.object(
        tasks.relay_pending_emails, "apply_async", wraps=tasks.relay_pending_emails.apply_async
    )
    started = time.monotonic()
    with send as send, relay as relay:
        for i in range(20):
            page = client.post(
                "/en/demande/access/", {"email": f"p{i}@example.fr", "language": "en"}
            )
            assert page.status_code == 302
    assert time.monotonic() - started < 2.0, "the intakes outlasted the relay's countdown"
    assert (send.call_count, relay.call_count) == (1, 1)
    deadline = time.monotonic() + 60
    while OutgoingEmail.objects.pending().exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert OutgoingEmail.objects.filter(status=EmailStatus.SENT, attempts=1).count() == 20
    assert AuditEvent.objects.filter(action="email.sent").count() == 20
