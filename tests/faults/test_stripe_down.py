"""Stripe answering 500 or timing out during an erasure: the client retries, the erasure is
not half-applied, and once Stripe answers again it completes (rights.fulfilment).

Stripe is reached in erasure by `stripe_detach_payment_method` (saved cards, before any of
our rows change); `stripe_delete_customer` is still a seam that only logs (its notification
to Stripe stays pending for the DPO), so the fault is injected on the detach call.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from audit.models import AuditEvent
from audit.services import verify_chain
from consent.models import OppositionEntry
from people.models import Person, SavedCard, TechnicalTrace
from rights import fulfilment, services
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
            def do_POST(self) -> None:  # the detach call
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
    person = make_person(stripe_customer_id="cus_pending")
    customer = stripe_api.v1.customers.create(params={"email": person.email})
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
    return person, dsr, tracker, method.id


@pytest.mark.parametrize("failing_stripe", ["500", "timeout"], indirect=True)
def test_it_retries_leaves_nothing_half_done_then_completes_when_stripe_answers(
    failing_stripe, card_holder, stripe_api, stripe_server, settings, bob, client
):
    person, dsr, tracker, method_id = card_holder
    settings.STRIPE_TIMEOUT_SECONDS = TIMEOUT_SECONDS
    settings.STRIPE_API_BASE = failing_stripe.url
    emails_before = OutgoingEmail.objects.count()

    started = time.monotonic()
    with pytest.raises(stripe.StripeError):
        fulfilment.execute_erasure(dsr=dsr, person=person, by=bob, now=NOW)
    assert failing_stripe.calls == 3  # the first call and the client's two retries
    assert time.monotonic() - started < 20  # bounded: the timeout, not Stripe's 80 s

    # Not half-applied: the whole erasure rolled back, the card still attached at Stripe.
    assert Person.objects.filter(pk=person.pk).exists()
    assert SavedCard.objects.filter(person=person).exists()
    assert TechnicalTrace.objects.filter(person=person).exists()
    assert not ErasureLedger.objects.exists()
    assert not OppositionEntry.objects.exists()
    assert not RecipientNotification.objects.filter(request=dsr).exists()
    assert not AuditEvent.objects.filter(action="erasure.executed").exists()
    assert OutgoingEmail.objects.count() == emails_before
    assert stripe_api.v1.payment_methods.retrieve(method_id).customer is not None
    assert verify_chain().ok

    # Stripe answers again: the same erasure, run again, completes.
    settings.STRIPE_API_BASE = stripe_server
    result = fulfilment.execute_erasure(dsr=dsr, person=person, by=bob, now=NOW)
    assert not result.already_erased
    assert not Person.objects.filter(pk=person.pk).exists()
    assert stripe_api.v1.payment_methods.retrieve(method_id).customer is None
    assert ErasureLedger.objects.filter(request_code=dsr.code).count() == 1
    assert OutgoingEmail.objects.filter(template="erasure_done").count() == 1
    assert verify_chain().ok

    # The customer's deletion at Stripe is not wired yet: its notification stays pending,
    # and the person sees it on their tracker.
    to_stripe = RecipientNotification.objects.get(request=dsr, recipient__icontains="stripe")
    assert to_stripe.status == NotificationStatus.PENDING
    page = client.get(f"/en/suivi/{tracker}/")
    assert page.status_code == 200
    assert 'data-status="pending"' in page.content.decode()
    assert "Stripe" in page.content.decode()
