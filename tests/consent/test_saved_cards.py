"""Saved cards: kept only with consent, withdrawn at once, detached at Stripe (C10, B12).

The real stripe-python client talks to localstripe on 127.0.0.1 (tests/conftest.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps

from consent import services
from consent.models import Action, ConsentRecord, ConsentSource, Purpose
from people.models import SavedCard
from retention.sweeps import purge_saved_cards_without_consent
from tests.conftest import NOW

PLATFORM = {"Authorization": "Bearer platform-token"}


def _customer_of(stripe_api, card: SavedCard) -> str | None:
    return stripe_api.v1.payment_methods.retrieve(card.stripe_payment_method_id).customer


@pytest.fixture
def saved_card(attached_method, alice):
    return services.keep_card(
        person=alice,
        card=services.CardDetails(attached_method, "visa", "4242", 4, 2030),
        source=ConsentSource.CHECKOUT,
        now=NOW,
    )


def test_it_records_the_consent_to_keep_a_card(saved_card):
    record = ConsentRecord.objects.get(purpose=Purpose.SAVED_CARD)
    assert (record.action, record.source) == (Action.GRANTED, ConsentSource.CHECKOUT)
    # The exact text shown, in the language it was shown in (French by default).
    assert record.text.snapshot["text"].startswith("Conserver ma carte")
    assert saved_card.consent_text_version == record.text_id[:40]


def test_it_detaches_the_card_at_stripe_and_deletes_it_on_withdrawal(saved_card, stripe_api):
    method_id = saved_card.stripe_payment_method_id
    services.withdraw_saved_card(card=saved_card, source=ConsentSource.PRIVACY_SPACE, now=NOW)
    assert stripe_api.v1.payment_methods.retrieve(method_id).customer is None
    assert not SavedCard.objects.exists()
    latest = ConsentRecord.objects.latest_first().first()
    assert (latest.purpose, latest.action) == (Purpose.SAVED_CARD, Action.WITHDRAWN)


def test_it_records_the_withdrawal_and_retries_the_card_when_stripe_fails(
    saved_card, stripe_api, stripe_server, settings
):
    # B12: the withdrawal stands whatever Stripe does; the card waits for the retry (C10).
    method_id = saved_card.stripe_payment_method_id
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    assert services.withdraw_saved_card(card=saved_card, source=ConsentSource.API, now=NOW) is False
    card = SavedCard.objects.get(pk=saved_card.pk)
    assert card.consent_withdrawn_at == NOW
    latest = ConsentRecord.objects.latest_first().first()
    assert (latest.purpose, latest.action) == (Purpose.SAVED_CARD, Action.WITHDRAWN)

    settings.STRIPE_API_BASE = stripe_server  # Stripe is back: the nightly sweep finishes
    result = purge_saved_cards_without_consent(now=NOW)
    assert (result.examined, result.affected) == (1, 1)
    assert not SavedCard.objects.exists()
    assert stripe_api.v1.payment_methods.retrieve(method_id).customer is None


def test_it_hides_a_withdrawn_card_still_waiting_for_stripe(saved_card, privacy_client):
    SavedCard.objects.update(consent_withdrawn_at=NOW)
    page = privacy_client("alice@example.fr").get("/vie-privee/consentements/").content.decode()
    assert "•••• 4242" not in page


def test_it_withdraws_from_the_privacy_space(saved_card, stripe_api, privacy_client):
    client = privacy_client("alice@example.fr")
    page = client.get("/vie-privee/consentements/").content.decode()
    assert "•••• 4242" in page
    url = f"/vie-privee/consentements/cartes/{saved_card.stripe_payment_method_id}/retirer/"
    assert client.post(url).status_code == 302
    assert not SavedCard.objects.exists()
    assert (
        stripe_api.v1.payment_methods.retrieve(saved_card.stripe_payment_method_id).customer is None
    )


def test_it_refuses_someone_elses_card(saved_card, privacy_client):
    client = privacy_client("mallory@example.fr")
    url = f"/vie-privee/consentements/cartes/{saved_card.stripe_payment_method_id}/retirer/"
    assert client.post(url).status_code == 404
    assert SavedCard.objects.exists()


def test_it_withdraws_from_the_platform_api(saved_card, stripe_api, client):
    body = {"email": "Alice@example.fr", "payment_method": saved_card.stripe_payment_method_id}
    url = "/api/v1/saved-cards/withdraw"
    assert client.post(url, body, content_type="application/json").status_code == 401
    response = client.post(
        url,
        body,
        content_type="application/json",
        headers={"Authorization": "Bearer platform-token"},
    )
    assert response.status_code == 204
    assert not SavedCard.objects.exists()
    assert (
        stripe_api.v1.payment_methods.retrieve(saved_card.stripe_payment_method_id).customer is None
    )


def test_it_stores_no_cvv_in_any_model():
    # C10: every field of every model, of every installed app.
    for model in apps.get_models():
        for field in model._meta.get_fields():
            name = field.name.lower()
            assert not any(w in name for w in ["cvv", "cvc", "cryptogram", "security_code"]), (
                f"{model._meta.label}.{field.name}"
            )


def test_it_does_not_keep_a_card_withdrawn_after_the_checkout_reported_late(
    alice, attached_method, stripe_api, django_capture_on_commit_callbacks
):
    # B12, C10: the person ticked the box at 11:00 and withdrew at 11:05; a delayed or
    # retried webhook reports the 11:00 consent afterwards. The later choice wins.
    services.withdraw_cards(email=alice.email, source=ConsentSource.PRIVACY_SPACE, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        services.keep_card(
            person=alice,
            card=services.CardDetails(attached_method, "visa", "4242", 4, 2030),
            source=ConsentSource.CHECKOUT,
            now=NOW - timedelta(minutes=5),
        )

    assert not SavedCard.objects.exists()
    assert stripe_api.v1.payment_methods.retrieve(attached_method).customer is None
    state = services.current_consents(email=alice.email)[Purpose.SAVED_CARD]
    assert (state.action, state.at) == (Action.WITHDRAWN, NOW)
    assert ConsentRecord.objects.filter(action=Action.GRANTED).count() == 1  # the proof


def test_it_refuses_a_card_kept_twice_without_a_database_error(saved_card):
    # What the webhook and the platform's API racing for one card end in: the second is
    # told the card is kept (400 for the API), and leaves no record behind.
    with pytest.raises(services.CardAlreadyKept):
        services.keep_card(
            person=saved_card.person,
            card=services.CardDetails(saved_card.stripe_payment_method_id, "visa", "4242", 4, 2030),
            source=ConsentSource.API,
            now=NOW,
        )
    assert SavedCard.objects.count() == 1
    assert ConsentRecord.objects.filter(purpose=Purpose.SAVED_CARD).count() == 1
