"""Saved cards go with the account (C10)."""

from __future__ import annotations

from people.models import SavedCard
from retention.sweeps import purge_saved_cards
from tests.conftest import NOW


def test_it_deletes_the_saved_cards_of_closed_accounts(make_person, make_saved_card):
    open_account = make_person(email="open@example.fr", is_user=True)
    closed_account = make_person(email="closed@example.fr", is_user=False)
    kept = make_saved_card(person=open_account)
    make_saved_card(person=closed_account)

    result = purge_saved_cards(now=NOW)

    assert list(SavedCard.objects.values_list("pk", flat=True)) == [kept.pk]
    assert result.affected == 1
