"""Stripe answering 500 or timing out during an erasure (rights.fulfilment, people.stripe).

Two calls can fail. Detaching the saved cards comes first, inside the erasure: the client
retries it twice, then the erasure fails whole (nothing half-applied) and is run again once
Stripe answers. Deleting the customer comes after commit, in a Celery task that retries with
backoff (`rights.tasks.STRIPE_RETRY`): the erasure stands, the Stripe notification stays
pending with its last error for the DPO and on the person's tracker, and the retry that
reaches Stripe completes it.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from audit.models import AuditEvent
from audit.services import verify_chain
from consent.models import OppositionEntry
from okasio_privacy.celery import app
from people import stripe as people_stripe
from people.models import Person, SavedCard, TechnicalTrace
from rights import fulfilment, services, tasks
from rights.models import (
    ErasureLedger,
    LinkPurpose,
    NotificationStatus,
    OutgoingEmail,
    RecipientNotification,
    SecretLink,
)
from tests.conftest import NOW

TIMEOUT_SECONDS = 1


class FailingStripe(ThreadingHTTPServer):
    """Answers every call with a 500, or sleeps past the client's timeout; counts the calls."""

    daemon_threads = True

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.calls = 0
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # detaching a card, and every other call
                server.calls += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if server.mode == "timeout":
                    server.release.wait(TIMEOUT_SECONDS * 3)
                    return
                body = b'{"error": {"type": "api_error", "message": "Internal error"}}'
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_DELETE = do_GET = do_POST  # deleting the customer

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def failing_stripe(request):
    server = FailingStripe(request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def card_holder(stripe_api, make_person):
    """A client with a card saved at (local) Stripe, a trace, and a confirmed erasure request."""
    person = make_person()
    customer = stripe_api.v1.customers.create(params={"email": person.email})
    person.stripe_customer_id = customer.id
    person.save(update_fields=["stripe_customer_id"])
    method = stripe_api.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 4, "exp_year": 2030, "cvc": "123"},
        }
    )
    stripe_api.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    SavedCard.objects.create(
        person=person,
        stripe_payment_method_id=method.id,
        brand="visa",
        last4="4242",
        exp_month=4,
        exp_year=2030,
        consent_given_at=NOW,
        consent_text_version="v1",
    )
    TechnicalTrace.objects.create(person=person, ip_address="192.0.2.10", user_agent="Firefox")
    dsr = services.submit_request(
        kind="erasure",
        email=person.email,
        name="",
        language="en",
        details={"scope": "everything"},
        now=NOW,
    )
    _, token = SecretLink.issue(
        purpose=LinkPurpose.CONFIRM, request=dsr, expires_at=dsr.confirmation_expires_at(), now=NOW
    )
    _, dsr, tracker = services.confirm_request(token=token, now=NOW)
    return person, dsr, tracker, method.id, customer.id


@pytest.fixture
def short_timeout(monkeypatch):
    monkeypatch.setattr(people_stripe, "TIMEOUT_SECONDS", TIMEOUT_SECONDS)


@pytest.mark.parametrize("failing_stripe", ["500", "timeout"], indirect=True)
def test_it_fails_the_erasure_whole_when_a_card_cannot_be_detached_then_completes(
    failing_stripe,
    short_timeout,
    card_holder,
    stripe_api,
    stripe_server,
    settings,
    bob,
    django_capture_on_commit_callbacks,
):
    person, dsr, _, method_id, customer_id = card_holder
    settings.STRIPE_API_BASE = failing_stripe.url
    emails_before = OutgoingEmail.objects.count()

    started = time.monotonic()
    with pytest.raises(people_stripe.StripeUnavailable):
        fulfilment.execute_erasure(dsr=dsr, person=person, by=bob, now=NOW)
    assert failing_stripe.calls == 3  # the first call and the client's two retries
    assert time.monotonic() - started < 20  # bounded by the timeout, not Stripe's 80 s

    # Not half-applied: the whole erasure rolled back, the card still attached at Stripe.
    assert Person.objects.filter(pk=person.pk).exists()
    assert SavedCard.objects.filter(person=person).exists()
    assert TechnicalTrace.objects.filter(person=person).exists()
    assert not ErasureLedger.objects.exists()
    assert not OppositionEntry.objects.exists()
    assert not RecipientNotification.objects.filter(request=dsr).exists()
    assert not AuditEvent.objects.filter(action="erasure.executed").exists()
    assert OutgoingEmail.objects.count() == emails_before
    assert stripe_api.v1.payment_methods.retrieve(method_id).customer == customer_id
    assert verify_chain().ok

    # Stripe answers again: the same erasure, run again, completes.
    settings.STRIPE_API_BASE = stripe_server
    with django_capture_on_commit_callbacks(execute=True):
        result = fulfilment.execute_erasure(dsr=dsr, person=person, by=bob, now=NOW)
    assert not result.already_erased
    assert not Person.objects.filter(pk=person.pk).exists()
    assert stripe_api.v1.payment_methods.retrieve(method_id).customer is None
    assert ErasureLedger.objects.filter(request_code=dsr.code).count() == 1
    assert OutgoingEmail.objects.filter(template="erasure_done").count() == 1
    notice = fulfilment.stripe_notification(dsr.recipient_notifications.all())
    assert notice.status == NotificationStatus.SENT
    assert verify_chain().ok


@pytest.mark.parametrize("failing_stripe", ["500", "timeout"], indirect=True)
def test_it_keeps_the_stripe_notice_pending_while_stripe_fails_then_the_retry_completes_it(
    failing_stripe,
    short_timeout,
    card_holder,
    stripe_api,
    stripe_server,
    settings,
    bob,
    client,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    person, dsr, tracker, _, customer_id = card_holder
    settings.STRIPE_API_BASE = stripe_server  # the cards detach
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        fulfilment.execute_erasure(dsr=dsr, person=person, by=bob, now=NOW)

    # Stripe fails when the customer's deletion runs: the task's autoretry tries again (two
    # retries here, run at once in-process; 24 with backoff over a day in production). Not
    # propagated: as in a worker, the task fails, the erasure's commit stands.
    settings.STRIPE_API_BASE = failing_stripe.url
    monkeypatch.setattr(people_stripe, "NETWORK_RETRIES", 0)
    monkeypatch.setattr(tasks.delete_stripe_customer, "max_retries", 2)
    app.conf.task_eager_propagates = False
    try:
        for callback in after_commit:
            callback()
    finally:
        app.conf.task_eager_propagates = True
    assert failing_stripe.calls == 3

    # Consistent: the erasure stands; the Stripe notice is pending with its last error.
    assert not Person.objects.filter(pk=person.pk).exists()
    assert ErasureLedger.objects.filter(request_code=dsr.code).count() == 1
    notice = fulfilment.stripe_notification(dsr.recipient_notifications.all())
    assert notice.status == NotificationStatus.PENDING
    assert notice.attempts == 3 and notice.last_error.startswith(("APIError", "APIConnectionError"))
    page = client.get(f"/en/suivi/{tracker}/").content.decode()
    assert 'data-status="pending"' in page and str(notice.recipient) in page
    assert verify_chain().ok

    # Stripe answers: the next retry deletes the customer and marks the notice sent.
    settings.STRIPE_API_BASE = stripe_server
    tasks.delete_stripe_customer.delay(customer_id, notice.pk)
    notice.refresh_from_db()
    assert notice.status == NotificationStatus.SENT and notice.attempts == 4
    assert people_stripe.customer_data(customer_id) is None  # deleted at Stripe
    assert verify_chain().ok
