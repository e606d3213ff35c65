"""Saved cards go with the account (C10), detached at Stripe first."""

from __future__ import annotations

from unittest import mock

from people.models import SavedCard
from retention.sweeps import purge_saved_cards, purge_saved_cards_without_consent
from tests.conftest import NOW


def test_it_marks_the_cards_of_closed_accounts_withdrawn_without_deleting_them(
    make_person, make_saved_card
):
    open_account = make_person(email="open@example.fr", is_user=True)
    closed_account = make_person(email="closed@example.fr", is_user=False)
    kept = make_saved_card(person=open_account)
    closed = make_saved_card(person=closed_account)

    result = purge_saved_cards(now=NOW)

    # Still there: a card attached at Stripe could be charged; the next policy detaches it.
    assert SavedCard.objects.count() == 2
    closed.refresh_from_db()
    kept.refresh_from_db()
    assert closed.consent_withdrawn_at == NOW
    assert kept.consent_withdrawn_at is None
    assert result.details == {"withdrawn": 1}
    assert purge_saved_cards(now=NOW).affected == 0  # marked once


def test_the_next_policy_detaches_them_at_stripe_then_deletes_them(make_person, make_saved_card):
    card = make_saved_card(person=make_person(is_user=False))
    purge_saved_cards(now=NOW)

    with mock.patch("people.stripe.detach_payment_method") as detach:
        purge_saved_cards_without_consent(now=NOW)

    detach.assert_called_once_with(card.stripe_payment_method_id)
    assert not SavedCard.objects.exists()


def test_it_leaves_the_card_of_a_held_person(make_person, make_saved_card, make_hold):
    person = make_person(is_user=False)
    make_hold(person)
    card = make_saved_card(person=person)

    result = purge_saved_cards(now=NOW)

    card.refresh_from_db()
    assert card.consent_withdrawn_at is None
    assert (result.held, result.affected) == (1, 0)
