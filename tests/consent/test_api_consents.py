"""Consents given on Okasio's platform, recorded here as proof (B10, B12, C10).

The platform fetches the boxes' texts (GET /api/v1/consents/texts/), shows one unticked,
and posts the choice with the hash of the text shown (POST /api/v1/consents/).
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
import time_machine

from audit.hashing import subject_hash
from consent import services
from consent.models import Action, ConsentRecord, ConsentSource, OppositionEntry, Purpose
from people.models import SavedCard
from tests.conftest import NOW

URL = "/api/v1/consents/"
TEXTS_URL = "/api/v1/consents/texts/"
PLATFORM = {"Authorization": "Bearer platform-token"}

pytestmark = pytest.mark.usefixtures("_frozen")


@pytest.fixture
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def texts(client, db) -> dict[tuple[str, str], str]:
    """The current texts' hashes, by (purpose, language), as the platform fetches them."""
    response = client.get(TEXTS_URL)
    assert response.status_code == 200
    return {(t["purpose"], t["language"]): t["hash"] for t in response.json()["texts"]}


@pytest.fixture
def post(client, texts):
    def post_choice(headers: dict | None = PLATFORM, **body):
        body.setdefault("email", "alice@example.fr")
        body.setdefault("purpose", "marketing_email")
        body.setdefault("action", "granted")
        body.setdefault("source", "signup")
        body.setdefault("text_hash", texts.get((body["purpose"], "fr"), "0" * 64))
        return client.post(URL, body, content_type="application/json", headers=headers or {})

    return post_choice


def _card(**kwargs) -> dict:
    return {"payment_method": "pm_new", "brand": "visa", "last4": "4242", "exp_month": 4,
            "exp_year": 2030, **kwargs}  # fmt: skip


def test_it_publishes_each_box_text_in_each_language_with_its_hash(client, db):
    response = client.get(TEXTS_URL)
    assert response.status_code == 200
    texts = response.json()["texts"]
    assert {(t["purpose"], t["language"]) for t in texts} == {
        ("marketing_email", "fr"),
        ("marketing_email", "en"),
        ("saved_card", "fr"),
        ("saved_card", "en"),
    }
    [english] = [t for t in texts if (t["purpose"], t["language"]) == ("marketing_email", "en")]
    assert english["text"].startswith("I agree to receive Okasio's newsletters")
    # Each is stored as proof, under the hash given (C4, B12).
    for text in texts:
        stored = services.known_text(text_hash=text["hash"], purpose=Purpose(text["purpose"]))
        assert stored.snapshot == {"language": text["language"], "text": text["text"]}


def test_it_records_a_marketing_consent_given_at_sign_up(post, texts):
    response = post(text_hash=texts[("marketing_email", "en")])
    assert response.status_code == 201
    record = ConsentRecord.objects.get()
    assert response.json() == {
        "id": str(record.code),
        "purpose": "marketing_email",
        "action": "granted",
        "at": "2026-01-15T12:00:00Z",
    }
    assert (record.subject_hash, record.source) == (subject_hash("alice@example.fr"), "signup")
    assert record.text.snapshot["language"] == "en"  # the exact text shown, as shown
    assert services.may_send_marketing(email="alice@example.fr", now=NOW)


def test_it_records_a_choice_made_earlier_at_its_time(post):
    at = NOW - timedelta(hours=3)
    assert post(at=at.isoformat()).status_code == 201
    assert ConsentRecord.objects.get().at == at


def test_it_refuses_a_moment_in_the_future_or_too_long_ago(post, settings):
    settings.CONSENT_RECORD_MAX_AGE_HOURS = 24
    future = post(at=(NOW + timedelta(minutes=5)).isoformat())
    assert future.status_code == 400 and "at" in future.json()
    old = post(at=(NOW - timedelta(hours=24, minutes=1)).isoformat())
    assert old.status_code == 400 and "at" in old.json()
    assert post(at=(NOW - timedelta(hours=23)).isoformat()).status_code == 201


def test_it_records_a_refusal_which_wins_over_the_soft_opt_in(post, make_person):
    make_person(email="alice@example.fr", is_client=True)
    assert services.may_send_marketing(email="alice@example.fr", now=NOW)
    assert post(action="refused").status_code == 201
    assert ConsentRecord.objects.get().action == Action.REFUSED
    assert not services.may_send_marketing(email="alice@example.fr", now=NOW)
    assert not OppositionEntry.objects.exists()  # an unticked box is not an objection


def test_it_withdraws_marketing_and_puts_the_address_on_the_opposition_list(post):
    assert post().status_code == 201
    assert post(action="withdrawn", source="api").status_code == 201
    assert OppositionEntry.objects.filter(subject_hash=subject_hash("alice@example.fr")).exists()
    assert not services.may_send_marketing(email="alice@example.fr", now=NOW)


def test_it_does_not_let_a_late_consent_undo_a_later_unsubscribe(post):
    # Ticked on the platform at 10:00, unsubscribed here at 11:00, reported at 12:00.
    services.unsubscribe(subject=subject_hash("alice@example.fr"), now=NOW - timedelta(hours=1))
    assert post(at=(NOW - timedelta(hours=2)).isoformat()).status_code == 201
    assert OppositionEntry.objects.exists()
    assert not services.may_send_marketing(email="alice@example.fr", now=NOW)


def test_it_refuses_an_unknown_text_or_another_boxs_text(post, texts):
    unknown = post(text_hash="0" * 64)
    assert unknown.status_code == 400 and "text_hash" in unknown.json()
    other_box = post(text_hash=texts[("saved_card", "fr")])
    assert other_box.status_code == 400 and "text_hash" in other_box.json()
    assert not ConsentRecord.objects.exists()


def test_it_refuses_without_the_platform_token(post):
    assert post(headers=None).status_code == 401
    assert post(headers={"Authorization": "Bearer nope"}).status_code == 401
    opposition = {"Authorization": "Bearer opposition-token-1"}  # another service's token
    assert post(headers=opposition).status_code == 401
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not an address"}, "email"),
        ({"purpose": "audience"}, "purpose"),  # cookies: the banner's API
        ({"action": "maybe"}, "action"),
        ({"source": "banner"}, "source"),
        ({"card": _card()}, "card"),  # a card with a marketing choice
    ],
)
def test_it_answers_field_errors(post, body, field):
    response = post(**body)
    assert response.status_code == 400
    assert field in response.json()


def test_it_keeps_a_card_ticked_at_checkout(post, alice):
    response = post(purpose="saved_card", source="checkout", card=_card())
    assert response.status_code == 201
    card = SavedCard.objects.get()
    assert (card.person, card.last4, card.consent_given_at) == (alice, "4242", NOW)
    record = ConsentRecord.objects.get(code=response.json()["id"])
    assert (record.purpose, record.action, record.source) == ("saved_card", "granted", "checkout")
    assert card.consent_text_version == record.text_id[:40]


def test_it_needs_the_whole_card_and_a_known_person_to_keep_a_card(post, make_person):
    missing = post(purpose="saved_card", card={"payment_method": "pm_new", "brand": "visa"})
    assert missing.status_code == 400
    assert set(missing.json()["card"]) == {"last4", "exp_month", "exp_year"}
    stranger = post(purpose="saved_card", email="nobody@example.fr", card=_card())
    assert stranger.status_code == 400 and "email" in stranger.json()
    make_person()
    assert post(purpose="saved_card", card=_card()).status_code == 201
    again = post(purpose="saved_card", card=_card())
    assert again.status_code == 400 and "payment_method" in again.json()["card"]
    assert ConsentRecord.objects.count() == 1 and SavedCard.objects.count() == 1


def test_it_withdraws_every_card_detached_at_stripe(post, alice):
    post(purpose="saved_card", card=_card(payment_method="pm_a"))
    post(purpose="saved_card", card=_card(payment_method="pm_b"))
    with mock.patch("people.stripe.detach_payment_method") as detach:
        response = post(purpose="saved_card", action="withdrawn", source="api")
    assert response.status_code == 201
    assert sorted(call.args[0] for call in detach.call_args_list) == ["pm_a", "pm_b"]
    assert not SavedCard.objects.exists()
    latest = services.current_consents(email="alice@example.fr")[Purpose.SAVED_CARD]
    assert latest.action == Action.WITHDRAWN and str(latest.code) == response.json()["id"]


def test_it_withdraws_the_one_card_named(post, alice):
    post(purpose="saved_card", card=_card(payment_method="pm_a"))
    post(purpose="saved_card", card=_card(payment_method="pm_b"))
    with mock.patch("people.stripe.detach_payment_method") as detach:
        response = post(purpose="saved_card", action="withdrawn", card={"payment_method": "pm_a"})
    assert response.status_code == 201
    detach.assert_called_once_with("pm_a")
    assert list(SavedCard.objects.values_list("stripe_payment_method_id", flat=True)) == ["pm_b"]


def test_it_records_the_withdrawal_even_when_stripe_fails(post, alice, caplog):
    post(purpose="saved_card", card=_card())
    failing = mock.patch("people.stripe.detach_payment_method", side_effect=OSError("down"))
    with failing:
        response = post(purpose="saved_card", action="withdrawn")
    assert response.status_code == 201
    # The choice stands; the card is marked, out of every list, and retention retries.
    card = SavedCard.objects.get()
    assert card.consent_withdrawn_at == NOW
    latest = services.current_consents(email="alice@example.fr")[Purpose.SAVED_CARD]
    assert latest.action == Action.WITHDRAWN
    assert "alice" not in caplog.text.lower()


def test_it_records_a_refused_card_box(post):
    assert post(purpose="saved_card", action="refused", source="checkout").status_code == 201
    record = ConsentRecord.objects.get()
    assert (record.purpose, record.action) == (Purpose.SAVED_CARD, Action.REFUSED)
    assert record.source == ConsentSource.CHECKOUT
