"""Stripe, reached from here only (STYLE 13): the one module that imports `stripe`.

`client()` is configured from settings: STRIPE_SECRET_KEY, and STRIPE_API_BASE when set
(tests point it at a local Stripe-compatible server on 127.0.0.1, never the network).

Every function here returns plain Python values (dicts, strings) and raises this module's
errors, never stripe's: `StripeUnavailable` when trying again later may work (no answer, a
timeout, 429, 5xx; Celery tasks retry on it), `StripeError` otherwise (a bad key, a bad
request). `verify_webhook` raises `BadWebhook`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

import stripe
from django.conf import settings

# stripe-python retries a failed call itself (connection errors, 409, 429, 5xx), with a
# short backoff; our Celery tasks retry over hours on top of that.
NETWORK_RETRIES = 2
# Seconds before a call gives up (stripe-python's default is 80, too long for a worker).
TIMEOUT_SECONDS = 20
# An access request reads at most this many charges and payment methods per customer, in
# pages of PAGE_SIZE (Stripe's maximum); the export says when it stopped (`truncated`).
MAX_LISTED = 1000
PAGE_SIZE = 100


class StripeError(Exception):
    """Stripe refused the call (a bad key, an unknown object...): retrying will not help."""


class StripeUnavailable(StripeError):
    """Stripe did not answer, timed out, or answered 429 or 5xx: try again later."""


class BadWebhook(Exception):
    """A webhook whose signature, timestamp or body is not Stripe's."""


def client() -> stripe.StripeClient:
    """Return a Stripe client for the configured key and API base."""
    if not settings.STRIPE_SECRET_KEY:
        raise StripeError("Stripe is not configured (STRIPE_SECRET_KEY is empty)")
    options = {}
    if settings.STRIPE_API_BASE:
        options["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        max_network_retries=NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        **options,
    )


def describe(error: BaseException) -> str:
    """A short description of a failure for the DPO's screens: its kind and Stripe's
    message (object ids at most, never a card number: Stripe never sends one back)."""
    return " ".join(f"{type(error).__name__}: {error}".split())[:250]


@contextmanager
def _calling_stripe() -> Iterator[None]:
    """Translate stripe's errors into ours: transient ones become StripeUnavailable."""
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        raise StripeUnavailable(describe(error)) from error
    except stripe.StripeError as error:
        if error.http_status is None or error.http_status >= 500:
            raise StripeUnavailable(describe(error)) from error
        raise StripeError(describe(error)) from error


def _is_not_found(error: stripe.StripeError) -> bool:
    return isinstance(error, stripe.InvalidRequestError) and error.http_status == 404


# --- Webhooks ------------------------------------------------------------------------------


def verify_webhook(payload: bytes, signature: str) -> dict[str, Any]:
    """Check the `Stripe-Signature` header against the raw body with STRIPE_WEBHOOK_SECRET
    (and its timestamp against replays older than 5 minutes); return the event as a dict.

    Raise BadWebhook for a bad or missing signature, a body that is not a Stripe event, or
    an empty secret (an empty key would let anyone sign).
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        raise BadWebhook("STRIPE_WEBHOOK_SECRET is empty")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except stripe.SignatureVerificationError as error:
        raise BadWebhook("bad signature") from error
    except (ValueError, TypeError, AttributeError) as error:
        # Signed but not a JSON object: ValueError for bad JSON, the others from
        # stripe-python building an event out of a list or a string.
        raise BadWebhook("not a JSON object") from error
    data = event.to_dict()
    if not (isinstance(data.get("id"), str) and isinstance(data.get("type"), str)):
        raise BadWebhook("not an event")
    if not isinstance(data.get("data"), dict) or not isinstance(data["data"].get("object"), dict):
        raise BadWebhook("an event without an object")
    return data


# --- Customers -----------------------------------------------------------------------------


def customer_data(customer_id: str) -> dict[str, Any] | None:
    """Return what Stripe holds about a customer, as plain dicts: `customer`, `charges` and
    (card) `payment_methods`, each list at most MAX_LISTED long (`truncated` says if one was
    cut). None when Stripe no longer knows the customer (deleted, or never existed).
    """
    api = client().v1
    with _calling_stripe():
        try:
            customer = api.customers.retrieve(customer_id)
        except stripe.InvalidRequestError as error:
            if _is_not_found(error):
                return None
            raise
        if getattr(customer, "deleted", False):
            return None
        charges = api.charges.list(params={"customer": customer_id, "limit": PAGE_SIZE})
        # Cards only: the only kind Okasio takes (and the only one localstripe lists).
        methods = api.payment_methods.list(
            params={"customer": customer_id, "type": "card", "limit": PAGE_SIZE}
        )
        charge_list = [c.to_dict() for c in islice(charges.auto_paging_iter(), MAX_LISTED + 1)]
        method_list = [m.to_dict() for m in islice(methods.auto_paging_iter(), MAX_LISTED + 1)]
    return {
        "customer": customer.to_dict(),
        "charges": charge_list[:MAX_LISTED],
        "payment_methods": method_list[:MAX_LISTED],
        "truncated": len(charge_list) > MAX_LISTED or len(method_list) > MAX_LISTED,
    }


def update_customer_contact(
    customer_id: str,
    *,
    email: str | None = None,
    name: str | None = None,
    phone: str | None = None,
    address: dict[str, str] | None = None,
) -> None:
    """Pass a rectification on to Stripe (GDPR 19): set the given contact fields of the
    customer, leave the others. `address` takes Stripe's keys (line1, postal_code, city,
    country...).
    """
    params: dict[str, Any] = {
        key: value
        for key, value in {"email": email, "name": name, "phone": phone, "address": address}.items()
        if value is not None
    }
    if not params:
        return
    with _calling_stripe():
        client().v1.customers.update(customer_id, params=params)


def delete_customer(customer_id: str) -> None:
    """Delete the customer at Stripe, with its saved payment methods (an erasure).

    A customer Stripe no longer knows counts as deleted, so calling it again is harmless.
    """
    with _calling_stripe():
        try:
            client().v1.customers.delete(customer_id)
        except stripe.InvalidRequestError as error:
            if not _is_not_found(error):
                raise


# --- Payment methods -----------------------------------------------------------------------


def detach_payment_method(payment_method_id: str) -> None:
    """Detach a saved payment method from its customer, so it can never be charged again.

    A payment method Stripe no longer knows, or that is attached to no one, counts as
    detached: calling it again (a retried webhook, a second withdrawal) is harmless.
    """
    api = client().v1
    with _calling_stripe():
        try:
            api.payment_methods.detach(payment_method_id)
        except stripe.InvalidRequestError as error:
            if _is_not_found(error):
                return
            # Stripe answers 400 when it is attached to no customer: check, don't guess.
            if api.payment_methods.retrieve(payment_method_id).customer is not None:
                raise
