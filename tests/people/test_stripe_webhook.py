"""The Stripe webhook (people.views.stripe_webhook, people.services; STYLE 13, C10).

Events are the JSON files of tests/fixtures/stripe/, signed here with Stripe's real scheme:
`Stripe-Signature: t=<ts>,v1=<HMAC-SHA256(secret, "<ts>.<body>")>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from audit.models import AuditEvent
from consent import services as consent_services
from consent.models import Action, ConsentRecord, ConsentSource, Purpose
from people import services
from people.models import Person, Purchase, PurchaseKind, SavedCard, StripeEvent
from tests.conftest import NOW

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stripe"
SECRET = "whsec_test_okasio"
URL = "/stripe/webhook/"
CUSTOMER = "cus_alice_webhook"  # the customer the fixtures name


def load(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def sign(payload: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    mac = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@pytest.fixture
def post(db, client, settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET

    def post(event: dict | bytes, *, signature: str | None = None, **sign_options):
        payload = event if isinstance(event, bytes) else json.dumps(event).encode()
        headers = {"Stripe-Signature": sign(payload, **sign_options)}
        if signature is not None:
            headers = {"Stripe-Signature": signature} if signature else {}
        return client.post(URL, payload, content_type="application/json", headers=headers)

    return post


@pytest.fixture
def customer_alice(alice):
    alice.stripe_customer_id = CUSTOMER
    alice.save()
    return alice


# --- Signatures ------------------------------------------------------------------------------


def test_it_refuses_a_bad_signature(post, customer_alice):
    response = post(load("charge.succeeded"), secret="whsec_someone_else")
    assert response.status_code == 400
    assert not Purchase.objects.exists() and not StripeEvent.objects.exists()


def test_it_refuses_a_missing_or_stale_signature(post, customer_alice):
    assert post(load("charge.succeeded"), signature="").status_code == 400
    ten_minutes_ago = int(time.time()) - 600  # Stripe's tolerance is 5 minutes
    assert post(load("charge.succeeded"), timestamp=ten_minutes_ago).status_code == 400
    assert not Purchase.objects.exists()


def test_it_refuses_a_body_changed_after_signing(client, settings, customer_alice):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    payload = json.dumps(load("charge.succeeded")).encode()
    tampered = payload.replace(b"4500", b"0001")
    response = client.post(
        URL, tampered, content_type="application/json", headers={"Stripe-Signature": sign(payload)}
    )
    assert response.status_code == 400


def test_it_refuses_a_malformed_payload_even_signed(post):
    assert post(b"{not json").status_code == 400
    assert post(b'{"id": "evt_1", "type": "charge.succeeded"}').status_code == 400
    assert post(b'["evt_1"]').status_code == 400


def test_it_refuses_everything_while_the_secret_is_empty(post, settings, customer_alice):
    settings.STRIPE_WEBHOOK_SECRET = ""  # an empty key would let anyone sign
    assert post(load("charge.succeeded"), secret="").status_code == 400
    assert not Purchase.objects.exists()


def test_it_takes_only_posts_and_needs_no_csrf_token(client, post):
    assert client.get(URL).status_code == 405
    # The test client enforces CSRF checks only when asked: ask.
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    payload = json.dumps(load("balance.available")).encode()
    response = strict.post(
        URL, payload, content_type="application/json", headers={"Stripe-Signature": sign(payload)}
    )
    assert response.status_code == 200


# --- Once per event ----------------------------------------------------------------------------


def test_it_answers_a_replay_with_200_and_changes_nothing(post, customer_alice):
    event = load("charge.succeeded")
    assert post(event).status_code == 200
    assert post(event).status_code == 200
    assert Purchase.objects.count() == 1
    recorded = StripeEvent.objects.get()
    assert (recorded.stripe_event_id, recorded.type) == (event["id"], "charge.succeeded")


def test_it_records_a_charge_once_even_under_two_event_ids(post, customer_alice):
    event = load("charge.succeeded")
    assert post(event).status_code == 200
    event["id"] = "evt_charge_succeeded_0002"
    assert post(event).status_code == 200
    assert Purchase.objects.count() == 1


def test_it_keeps_nothing_when_handling_fails_so_stripe_sends_it_again(
    client, post, customer_alice, monkeypatch
):
    def crash(charge, *, event, now):
        Purchase.objects.create(
            person=customer_alice,
            stripe_charge_id=charge["id"],
            kind=PurchaseKind.ONE_OFF,
            description="half-written",
            amount_cents=1,
            debited_on=NOW.date(),
            invoice_number="F-HALF",
            invoiced_on=NOW.date(),
            billing_name="",
        )
        raise RuntimeError("the worker died half-way")

    monkeypatch.setitem(services.WEBHOOK_HANDLERS, "charge.succeeded", crash)
    client.raise_request_exception = False
    assert post(load("charge.succeeded")).status_code == 500
    assert not StripeEvent.objects.exists() and not Purchase.objects.exists()

    monkeypatch.setitem(services.WEBHOOK_HANDLERS, "charge.succeeded", services.record_charge)
    assert post(load("charge.succeeded")).status_code == 200
    assert Purchase.objects.get().invoice_number == "F-2026-000123"


def test_it_answers_200_to_a_type_it_does_not_handle(post):
    assert post(load("balance.available")).status_code == 200
    assert not StripeEvent.objects.exists()


# --- charge.succeeded ----------------------------------------------------------------------------


def test_it_records_the_purchase_with_its_debit_date_in_paris_and_the_card(post, customer_alice):
    assert post(load("charge.succeeded")).status_code == 200

    purchase = Purchase.objects.get()
    assert purchase.person == customer_alice
    assert purchase.stripe_charge_id == "ch_3Okasio0001"
    assert (purchase.amount_cents, purchase.currency) == (4500, "EUR")
    assert purchase.kind == PurchaseKind.ONE_OFF
    assert purchase.description == "Escape game, 4 players"
    # Charged 14 January 2026 at 23:30 UTC: 00:30 on the 15th in Paris.
    assert purchase.debited_on == date(2026, 1, 15) == purchase.invoiced_on
    assert purchase.invoice_number == "F-2026-000123"
    assert purchase.billing_name == "Alice Martin"
    assert purchase.billing_address == "12 rue Esquermoise\n59000 Lille\nFR"
    card = (purchase.card_brand, purchase.card_last4, purchase.card_exp_month)
    assert card + (purchase.card_exp_year,) == ("visa", "4242", 4, 2028)
    assert purchase.is_deferred_debit  # funding "credit": see services.is_deferred_debit

    customer_alice.refresh_from_db()
    assert customer_alice.is_client
    assert customer_alice.last_contact_initiated_at == datetime(2026, 1, 14, 23, 30, tzinfo=UTC)


def test_a_debit_card_is_immediate_debit_and_a_charge_without_card_has_no_evidence(
    post, customer_alice
):
    event = load("charge.succeeded")
    event["data"]["object"]["payment_method_details"]["card"]["funding"] = "debit"
    post(event)
    assert not Purchase.objects.get().is_deferred_debit

    event = load("charge.succeeded")
    event["id"], charge = "evt_charge_2", event["data"]["object"]
    charge.update(id="ch_2", metadata={}, invoice="in_1", receipt_number=None)
    charge["payment_method_details"] = {"type": "sepa_debit", "sepa_debit": {"last4": "3000"}}
    post(event)
    purchase = Purchase.objects.get(stripe_charge_id="ch_2")
    assert (purchase.card_last4, purchase.card_exp_month, purchase.is_deferred_debit) == (
        "",
        None,
        False,
    )
    assert purchase.kind == PurchaseKind.SUBSCRIPTION
    assert purchase.invoice_number == "ch_2"  # no invoice number sent: the charge id


def test_it_skips_a_customer_it_does_not_know_without_logging_who(post, alice, caplog):
    caplog.set_level("INFO", logger="people.services")
    assert post(load("charge.succeeded")).status_code == 200
    assert not Purchase.objects.exists()
    assert "evt_charge_succeeded_0001" in caplog.text
    assert "alice" not in caplog.text.lower() and "Martin" not in caplog.text


# --- Payment methods (C10) -------------------------------------------------------------------


@pytest.fixture
def attached_card(stripe_api, alice):
    """A card attached to Alice's customer at localstripe, and the event Stripe sends."""
    customer = stripe_api.v1.customers.create(params={"email": alice.email})
    alice.stripe_customer_id = customer.id
    alice.save()
    method = stripe_api.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 4, "exp_year": 2030, "cvc": "123"},
        }
    )
    stripe_api.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    event = load("payment_method.attached")
    event["data"]["object"].update(id=method.id, customer=customer.id)
    return event


def _customer_of(stripe_api, method_id: str) -> str | None:
    return stripe_api.v1.payment_methods.retrieve(method_id).customer


def test_it_detaches_at_once_a_card_attached_without_consent(post, stripe_api, attached_card):
    method_id = attached_card["data"]["object"]["id"]
    assert post(attached_card).status_code == 200
    assert _customer_of(stripe_api, method_id) is None
    assert not SavedCard.objects.exists()
    event = AuditEvent.objects.get(action="people.card_detached_without_consent")
    assert event.details == {"stripe_event": attached_card["id"]}


def test_it_saves_a_card_the_person_agreed_to_keep(post, stripe_api, attached_card, alice):
    method = attached_card["data"]["object"]
    method["metadata"] = {"okasio_keep_card": "true", "okasio_consent_language": "en"}
    assert post(attached_card).status_code == 200

    card = SavedCard.objects.get()
    assert (card.person, card.stripe_payment_method_id) == (alice, method["id"])
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 4, 2030)
    assert card.consent_given_at == datetime.fromtimestamp(attached_card["created"], tz=UTC)
    record = ConsentRecord.objects.get(purpose=Purpose.SAVED_CARD)
    assert (record.action, record.source) == (Action.GRANTED, ConsentSource.CHECKOUT)
    assert record.text.snapshot["text"].startswith("Keep my card")  # shown in English
    assert _customer_of(stripe_api, method["id"]) == alice.stripe_customer_id


def test_it_leaves_a_subscription_card_attached_without_saving_it(
    post, stripe_api, attached_card, alice
):
    method = attached_card["data"]["object"]
    method["metadata"] = {"okasio_subscription": "sub_1Okasio"}
    assert post(attached_card).status_code == 200
    assert not SavedCard.objects.exists()
    assert _customer_of(stripe_api, method["id"]) == alice.stripe_customer_id


def test_it_keeps_a_card_saved_through_the_consent_service(post, stripe_api, attached_card, alice):
    method = attached_card["data"]["object"]
    consent_services.keep_card(
        person=alice,
        card=consent_services.CardDetails(method["id"], "visa", "4242", 4, 2030),
        source=ConsentSource.CHECKOUT,
        now=NOW,
    )
    assert post(attached_card).status_code == 200
    assert SavedCard.objects.count() == 1 and ConsentRecord.objects.count() == 1
    assert _customer_of(stripe_api, method["id"]) == alice.stripe_customer_id


def test_a_delayed_webhook_does_not_keep_a_card_withdrawn_since(
    post, stripe_api, attached_card, alice, django_capture_on_commit_callbacks
):
    # B12, C10: the box was ticked at checkout (the event's time); the person withdrew
    # afterwards, before the (delayed or retried) webhook came.
    method = attached_card["data"]["object"]
    method["metadata"] = {"okasio_keep_card": "true"}
    checkout = datetime.fromtimestamp(attached_card["created"], tz=UTC)
    consent_services.withdraw_cards(
        email=alice.email, source=ConsentSource.API, now=checkout.replace(year=checkout.year + 1)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert post(attached_card).status_code == 200

    assert not SavedCard.objects.exists()
    assert _customer_of(stripe_api, method["id"]) is None


def test_it_answers_200_when_the_platform_api_kept_the_card_meanwhile(
    post, stripe_api, attached_card, alice, monkeypatch
):
    # The race: the platform's consent API keeps the card between the webhook's check and
    # its own keep_card. It ends as if the API had come first, not in a 500.
    method = attached_card["data"]["object"]
    method["metadata"] = {"okasio_keep_card": "true"}
    keep_card = consent_services.keep_card

    def api_first(**kwargs):
        keep_card(**{**kwargs, "source": ConsentSource.API})
        return keep_card(**kwargs)

    monkeypatch.setattr(consent_services, "keep_card", api_first)

    assert post(attached_card).status_code == 200

    assert SavedCard.objects.count() == 1
    record = ConsentRecord.objects.get(purpose=Purpose.SAVED_CARD)
    assert record.source == ConsentSource.API
    assert _customer_of(stripe_api, method["id"]) == alice.stripe_customer_id


def test_it_forgets_a_card_detached_at_stripe(post, customer_alice):
    SavedCard.objects.create(
        person=customer_alice,
        stripe_payment_method_id="pm_1Okasio0002",
        brand="visa",
        last4="4242",
        exp_month=4,
        exp_year=2030,
        consent_given_at=NOW,
        consent_text_version="v1",
    )
    assert post(load("payment_method.detached")).status_code == 200
    assert not SavedCard.objects.exists()


def test_it_forgets_a_customer_deleted_at_stripe(post, customer_alice, make_person):
    SavedCard.objects.create(
        person=customer_alice,
        stripe_payment_method_id="pm_1",
        brand="visa",
        last4="4242",
        exp_month=4,
        exp_year=2030,
        consent_given_at=NOW,
        consent_text_version="v1",
    )
    bob = make_person(email="bob@example.fr", stripe_customer_id="cus_bob")
    assert post(load("customer.deleted")).status_code == 200
    customer_alice.refresh_from_db()
    assert customer_alice.stripe_customer_id == "" and not SavedCard.objects.exists()
    assert Person.objects.get(pk=bob.pk).stripe_customer_id == "cus_bob"
