"""Cards whose consent was withdrawn but which Stripe failed to detach: retried (C10, B12).

Stripe itself is patched here (people.stripe); tests/consent/test_saved_cards.py runs the
same path against localstripe.
"""

from __future__ import annotations

from unittest import mock

import pytest

from people.models import SavedCard
from retention import sweeps
from retention.sweeps import CardsNotDetached, purge_saved_cards_without_consent
from tests.conftest import NOW


def test_it_detaches_and_deletes_only_withdrawn_cards(make_person, make_saved_card):
    person = make_person(is_user=True)
    kept = make_saved_card(person=person)
    make_saved_card(person=person, consent_withdrawn_at=NOW)

    with mock.patch("people.stripe.detach_payment_method") as detach:
        result = purge_saved_cards_without_consent(now=NOW)

    assert list(SavedCard.objects.values_list("pk", flat=True)) == [kept.pk]
    assert detach.call_count == 1
    assert (result.examined, result.affected) == (1, 1)


def test_it_keeps_what_stripe_still_refuses_and_fails_the_run(make_person, make_saved_card):
    person = make_person()
    refused = make_saved_card(person=person, consent_withdrawn_at=NOW)
    make_saved_card(person=person, consent_withdrawn_at=NOW)

    def detach(payment_method_id: str) -> None:
        if payment_method_id == refused.stripe_payment_method_id:
            raise OSError("Stripe is down")

    failing = mock.patch("people.stripe.detach_payment_method", side_effect=detach)
    with failing, pytest.raises(CardsNotDetached):
        purge_saved_cards_without_consent(now=NOW)

    assert list(SavedCard.objects.values_list("pk", flat=True)) == [refused.pk]


def test_it_changes_nothing_in_a_dry_run(make_person, make_saved_card):
    make_saved_card(person=make_person(), consent_withdrawn_at=NOW)
    with mock.patch("people.stripe.detach_payment_method") as detach:
        result = purge_saved_cards_without_consent(now=NOW, dry_run=True)
    assert result.affected == 1 and SavedCard.objects.count() == 1
    detach.assert_not_called()


def test_it_makes_two_queries_per_batch(make_person, make_saved_card, django_assert_num_queries):
    person = make_person()
    for _ in range(10):
        make_saved_card(person=person, consent_withdrawn_at=NOW)
    with mock.patch("people.stripe.detach_payment_method"), django_assert_num_queries(2 * 2 + 1):
        result = purge_saved_cards_without_consent(now=NOW, batch_size=5)
    assert result.affected == 10
    assert "saved_cards_without_consent" in sweeps.POLICIES
