"""The outbox: emails committed with the request, relayed exactly once (rights.services)."""

from __future__ import annotations

import os
import threading
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
