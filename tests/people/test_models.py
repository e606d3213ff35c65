from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError

from people.models import Person, Role
from tests.conftest import NOW

PROJECT_APPS = ["people", "audit", "rights", "consent", "retention"]


def test_it_stores_no_cvv_and_no_card_number():
    # C10: the CVV is never kept; the card number (PAN) stays with Stripe.
    forbidden = []
    for label in PROJECT_APPS:
        if not apps.is_installed(label):
            continue
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.get_fields():
                name = field.name.lower()
                words = name.split("_")
                if (
                    any(word in name for word in ["cvv", "cvc", "cryptogram", "card_number"])
                    or "pan" in words
                    or "cardnumber" in words
                ):
                    forbidden.append(f"{model._meta.label}.{field.name}")
    assert not forbidden


def test_it_refuses_the_same_email_in_another_case(make_person):
    make_person(email="alice@example.fr")
    with pytest.raises(IntegrityError):
        make_person(email="Alice@Example.FR")


def test_it_finds_a_person_by_email_in_any_case(alice):
    assert Person.objects.with_email(" ALICE@example.fr ").get() == alice


def test_it_gives_a_person_several_roles(make_person):
    assert make_person().roles == [Role.VISITOR]
    both = make_person(email="b@example.fr", is_client=True, is_prospect=True)
    assert both.roles == [Role.CLIENT, Role.PROSPECT]


def test_it_refuses_a_relationship_end_for_someone_who_was_never_a_client(make_person):
    with pytest.raises(IntegrityError):
        make_person(client_relationship_ended_at=NOW)


def test_it_keeps_the_card_details_together_or_blanks_them_together(alice, make_purchase):
    make_purchase(person=alice)
    blank = {"card_brand": "", "card_last4": "", "card_exp_month": None, "card_exp_year": None}
    make_purchase(person=alice, **blank)
    with pytest.raises(IntegrityError):
        make_purchase(person=alice, **{**blank, "card_last4": "4242"})


def test_it_keeps_the_invoice_when_the_person_is_deleted(alice, make_purchase):
    # B4, C9: the invoice carries its own billing name and stays 10 years.
    purchase = make_purchase(person=alice)
    alice.delete()
    purchase.refresh_from_db()
    assert purchase.person is None
    assert purchase.billing_name == "Alice Martin"
