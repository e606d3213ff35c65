"""Stripe's webhook events, recorded here: purchases, saved cards, deleted customers.

`handle_stripe_event` records the event id and handles it in one transaction, through
`WEBHOOK_HANDLERS` (event type -> handler; STYLE 13). Each handler is also idempotent on
its own Stripe-ID column (Purchase.stripe_charge_id, SavedCard.stripe_payment_method_id),
so even an event Stripe sends twice under two ids changes nothing the second time.

People are found by `Person.stripe_customer_id`. An event about a customer we don't know
is skipped with a log line naming the event, never a person: without a person, a purchase
or a card could be found by no access or erasure request.

What the checkout tells us, in the payment method's metadata (README, "Stripe"):
- `okasio_keep_card` = "true": the person ticked the (unticked) "keep my card" box (C10);
  `okasio_consent_language` ("fr" or "en") is the language the box was shown in;
- `okasio_subscription` = a subscription id: the card pays a subscription (C10: kept until
  the last instalment, on the contract, without a consent);
and in the charge's metadata: `okasio_invoice_number`, the invoice the charge pays.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import translation

from audit.models import ActorType
from audit.services import record_event
from consent import services as consent_services
from consent.models import ConsentSource

from . import stripe as people_stripe
from .models import Person, Purchase, PurchaseKind, SavedCard, StripeEvent

logger = logging.getLogger(__name__)

KEEP_CARD_KEY = "okasio_keep_card"
CONSENT_LANGUAGE_KEY = "okasio_consent_language"
SUBSCRIPTION_KEY = "okasio_subscription"
INVOICE_NUMBER_KEY = "okasio_invoice_number"

Handler = Callable[..., None]


def is_deferred_debit(card: dict[str, Any]) -> bool:
    """Whether a card is treated as a deferred-debit card ("carte à débit différé"), whose
    payment evidence may be kept 15 months after the debit instead of 13 (CMF L133-24, C10).

    Stripe does not say so directly: it reports `funding` as "credit", "debit", "prepaid"
    or "unknown". French deferred-debit cards are reported by the networks as "credit"
    (true revolving credit cards are rare in France and reported the same), so "credit"
    counts as deferred debit. An assumption to confirm with Okasio's acquirer: the cost of
    being wrong is keeping a credit card's evidence two months longer.
    """
    return card.get("funding") == "credit"


# --- The dispatch ----------------------------------------------------------------------------


@transaction.atomic
def handle_stripe_event(*, event: dict[str, Any], now: datetime) -> bool:
    """Handle a verified webhook event once; return False when it was ignored (a type we
    don't handle) or already handled. The event id is recorded in the same transaction as
    the handler's changes: if the handler fails, neither stays and Stripe sends it again.
    """
    handler = WEBHOOK_HANDLERS.get(event["type"])
    if handler is None:
        return False
    _record, created = StripeEvent.objects.get_or_create(
        stripe_event_id=event["id"], defaults={"type": event["type"], "received_at": now}
    )
    if not created:
        return False
    handler(event["data"]["object"], event=event, now=now)
    return True


def _person_for(customer_id: Any, *, event: dict[str, Any]) -> Person | None:
    person = None
    if isinstance(customer_id, str) and customer_id:
        person = Person.objects.select_for_update().filter(stripe_customer_id=customer_id).first()
    if person is None:
        logger.info(
            "Stripe event %s (%s): no person for its customer, skipped", event["id"], event["type"]
        )
    return person


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


# --- Charges: purchases ----------------------------------------------------------------------


def record_charge(charge: dict[str, Any], *, event: dict[str, Any], now: datetime) -> None:
    """charge.succeeded: record the purchase, the card used (dispute evidence, C10) and
    that the person is a client who just initiated a contact (C8).

    The debit date is the charge's date in Paris (the legal calendar, C10); for a
    deferred-debit card the bank debits later, which the 15-month period covers.
    """
    if Purchase.objects.filter(stripe_charge_id=charge["id"]).exists():
        return
    person = _person_for(charge.get("customer"), event=event)
    if person is None:
        return
    charged_at = _at(charge["created"])
    debited_on = charged_at.astimezone(ZoneInfo(settings.LEGAL_TIME_ZONE)).date()
    billing = charge.get("billing_details") or {}
    metadata = charge.get("metadata") or {}
    Purchase.objects.create(
        person=person,
        stripe_charge_id=charge["id"],
        kind=PurchaseKind.SUBSCRIPTION if charge.get("invoice") else PurchaseKind.ONE_OFF,
        description=(charge.get("description") or "")[:255],
        amount_cents=charge["amount"],
        currency=(charge.get("currency") or "eur").upper(),
        debited_on=debited_on,
        # Okasio's invoice number when the checkout sent it; otherwise Stripe's receipt
        # number, then the charge id: unique, and what the accountant can look up.
        invoice_number=(
            metadata.get(INVOICE_NUMBER_KEY) or charge.get("receipt_number") or charge["id"]
        )[:40],
        invoiced_on=debited_on,
        billing_name=(billing.get("name") or f"{person.first_name} {person.last_name}").strip(),
        billing_address=_address_lines(billing.get("address") or {}),
        **_card_evidence(charge),
    )
    if person.last_contact_initiated_at is None or person.last_contact_initiated_at < charged_at:
        person.last_contact_initiated_at = charged_at
    person.is_client = True
    person.save(update_fields=["is_client", "last_contact_initiated_at"])


def _card_evidence(charge: dict[str, Any]) -> dict[str, Any]:
    """The card fields of a Purchase: all of them, or none (their check constraint)."""
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    if not (card.get("last4") and card.get("exp_month") and card.get("exp_year")):
        return {}
    return {
        "card_brand": (card.get("brand") or "")[:20],
        "card_last4": card["last4"],
        "card_exp_month": card["exp_month"],
        "card_exp_year": card["exp_year"],
        "is_deferred_debit": is_deferred_debit(card),
    }


def _address_lines(address: dict[str, Any]) -> str:
    city = " ".join(p for p in (address.get("postal_code"), address.get("city")) if p)
    parts = [address.get("line1"), address.get("line2"), city, address.get("country")]
    return "\n".join(p for p in parts if p)


# --- Payment methods: saved cards ------------------------------------------------------------


def record_payment_method(method: dict[str, Any], *, event: dict[str, Any], now: datetime) -> None:
    """payment_method.attached: keep the card only with the person's consent (C10, B12).

    With the checkout's consent flag, the consent is recorded (as of the event, in the
    language the box was shown in) and the card saved. A card paying a subscription stays
    attached (the contract), without a SavedCard. Any other card is detached at once: no
    consent, no saved card.
    """
    if method.get("type") != "card":
        return
    if SavedCard.objects.filter(stripe_payment_method_id=method["id"]).exists():
        return  # recorded already, by `consent.services.keep_card`
    person = _person_for(method.get("customer"), event=event)
    if person is None:
        return
    metadata = method.get("metadata") or {}
    card = method.get("card") or {}
    if metadata.get(KEEP_CARD_KEY) == "true":
        language = metadata.get(CONSENT_LANGUAGE_KEY)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        with translation.override(language), suppress(consent_services.CardAlreadyKept):
            # Kept meanwhile through the platform's consent API: as the check above.
            consent_services.keep_card(
                person=person,
                card=consent_services.CardDetails(
                    method["id"],
                    (card.get("brand") or "")[:20],
                    card.get("last4") or "",
                    card.get("exp_month"),
                    card.get("exp_year"),
                ),
                source=ConsentSource.CHECKOUT,
                now=_at(event["created"]),
            )
        return
    if metadata.get(SUBSCRIPTION_KEY):
        return
    people_stripe.detach_payment_method(method["id"])
    record_event(
        action="people.card_detached_without_consent",
        actor_type=ActorType.SYSTEM,
        details={"stripe_event": event["id"]},
        subject_email=person.email,
        now=now,
    )


def forget_payment_method(method: dict[str, Any], *, event: dict[str, Any], now: datetime) -> None:
    """payment_method.detached: the card can no longer be charged; it is no longer saved."""
    SavedCard.objects.filter(stripe_payment_method_id=method["id"]).delete()


# --- Customers -------------------------------------------------------------------------------


def forget_customer(customer: dict[str, Any], *, event: dict[str, Any], now: datetime) -> None:
    """customer.deleted: the customer is gone at Stripe, with its saved cards."""
    person = Person.objects.filter(stripe_customer_id=customer["id"]).first()
    if person is None:
        return  # an erasure deleted them first, or a customer we never knew
    person.saved_cards.all().delete()
    person.stripe_customer_id = ""
    person.save(update_fields=["stripe_customer_id"])


WEBHOOK_HANDLERS: dict[str, Handler] = {
    "charge.succeeded": record_charge,
    "payment_method.attached": record_payment_method,
    "payment_method.detached": forget_payment_method,
    "customer.deleted": forget_customer,
}
