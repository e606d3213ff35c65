"""Stripe, reached from here only (STYLE 13): the one module that imports `stripe`.

`client()` is configured from settings: STRIPE_SECRET_KEY, STRIPE_TIMEOUT_SECONDS, and
STRIPE_API_BASE when set (tests point it at a local Stripe-compatible server on 127.0.0.1,
never the network). A call that times out or gets a 409 or a 5xx is retried twice (with
Stripe's backoff and idempotency keys), then raises.
"""

from __future__ import annotations

import stripe
from django.conf import settings


def client() -> stripe.StripeClient:
    """Return a Stripe client for the configured key and API base."""
    options = {}
    if settings.STRIPE_API_BASE:
        options["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        max_network_retries=2,
        http_client=stripe.new_default_http_client(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        **options,
    )


def detach_payment_method(payment_method_id: str) -> None:
    """Detach a saved payment method from its customer, so it can never be charged again.

    A payment method Stripe no longer knows counts as detached.
    """
    try:
        client().v1.payment_methods.detach(payment_method_id)
    except stripe.InvalidRequestError as error:
        if error.http_status != 404:
            raise
