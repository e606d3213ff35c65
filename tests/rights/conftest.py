"""Factories and helpers for the rights tests."""

from __future__ import annotations

import contextlib
import re

import pytest
from django.core import mail
from django.core.cache import cache

from tests.conftest import NOW


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the shared cache (Redis in `make test`): start from zero."""
    with contextlib.suppress(Exception):  # Redis down: the fault test restarts it itself
        cache.clear()


@pytest.fixture
def make_dsr(db):
    """A request through the real intake service (portal, unconfirmed unless confirm=True)."""
    from rights import services

    def make(*, confirm: bool = False, now=NOW, **kwargs):
        kwargs.setdefault("kind", "access")
        kwargs.setdefault("email", "alice@example.fr")
        kwargs.setdefault("name", "Alice Martin")
        kwargs.setdefault("language", "en")
        kwargs.setdefault("details", {})
        dsr = services.submit_request(now=now, **kwargs)
        if confirm:
            token = issue_confirm_token(dsr, now=now)
            state, dsr, tracker = services.confirm_request(token=token, now=now)
            dsr.tracker_token = tracker
        return dsr

    return make


def issue_confirm_token(dsr, *, now=NOW) -> str:
    from rights.models import LinkPurpose, SecretLink

    _, token = SecretLink.issue(
        purpose=LinkPurpose.CONFIRM, request=dsr, expires_at=dsr.confirmation_expires_at(), now=now
    )
    return token


def link_in(body: str, fragment: str) -> str:
    """The path of the first link containing `fragment` in an email body."""
    paths = [p for p in re.findall(r"https?://[^/\s]+(/\S*)", body) if fragment in p]
    assert paths, f"no {fragment} link in {body!r}"
    return paths[0]


def sent_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


@pytest.fixture
def holdings(alice, make_purchase):
    """Alice's data in every model of the people app: what exports and erasure work on."""
    from datetime import timedelta

    from people.models import (
        Activity,
        ActivityParticipation,
        ContactRequest,
        Review,
        SavedCard,
        TechnicalTrace,
    )

    alice.phone = "+33 6 12 34 56 78"
    alice.city = "Lille"
    alice.stripe_customer_id = "cus_alice"
    alice.is_client = True
    alice.save()
    recent = make_purchase(person=alice, debited_on=(NOW - timedelta(days=60)).date())
    old = make_purchase(person=alice, debited_on=(NOW - timedelta(days=3 * 365)).date())
    SavedCard.objects.create(
        person=alice,
        stripe_payment_method_id="pm_alice",
        brand="visa",
        last4="4242",
        exp_month=4,
        exp_year=2028,
        consent_given_at=NOW,
        consent_text_version="v1",
    )
    organised = Activity.objects.create(
        title="Escape game à Lille", organiser=alice, starts_at=NOW + timedelta(days=7)
    )
    joined = Activity.objects.create(title="Rando en baie de Somme", starts_at=NOW)
    ActivityParticipation.objects.create(person=alice, activity=joined, joined_at=NOW)
    Review.objects.create(person=alice, activity=joined, rating=5, text="Superbe")
    ContactRequest.objects.create(person=alice, subject="Facture", message="Bonjour")
    TechnicalTrace.objects.create(person=alice, ip_address="192.0.2.10", user_agent="Firefox")
    return {"person": alice, "recent": recent, "old": old, "organised": organised}


@pytest.fixture
def space_client(db):
    """A browser signed in to the privacy space of `email`, through the emailed link."""
    from django.core import mail
    from django.test import Client

    from rights import services

    def sign_in(email: str = "alice@example.fr") -> Client:
        browser = Client()
        browser.post("/en/espace/connexion/", {"email": email})
        services.relay_pending_emails(now=NOW)
        browser.post(link_in(mail.outbox[-1].body, "/espace/connexion/"))
        return browser

    return sign_in
