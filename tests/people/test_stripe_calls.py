"""The Stripe calls the rights need (people/stripe.py), against localstripe on 127.0.0.1."""

from __future__ import annotations

import pytest

from people import stripe as people_stripe

CARD = {"number": "4242424242424242", "exp_month": 4, "exp_year": 2030, "cvc": "123"}


@pytest.fixture
def customer(stripe_api):
    """A customer with a saved card and two charges on it, made through the stripe client."""
    customer = stripe_api.v1.customers.create(
        params={"email": "alice@example.fr", "name": "Alice Martin", "description": "kept"}
    )
    method = stripe_api.v1.payment_methods.create(params={"type": "card", "card": CARD})
    stripe_api.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    for amount in (2500, 4500):
        stripe_api.v1.charges.create(
            params={
                "amount": amount,
                "currency": "eur",
                "customer": customer.id,
                "source": method.id,
                "description": "Escape game",
            }
        )
    return customer


@pytest.fixture
def stripe_down(stripe_api, settings, monkeypatch):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    monkeypatch.setattr(people_stripe, "NETWORK_RETRIES", 0)


def test_it_reads_a_customers_charges_and_payment_methods_as_plain_dicts(customer):
    data = people_stripe.customer_data(customer.id)
    assert data["customer"]["email"] == "alice@example.fr"
    assert sorted(c["amount"] for c in data["charges"]) == [2500, 4500]
    assert [m["card"]["last4"] for m in data["payment_methods"]] == ["4242"]
    assert data["truncated"] is False
    assert type(data["customer"]) is dict and type(data["charges"][0]) is dict
    assert type(data["payment_methods"][0]["card"]) is dict


def test_it_reads_every_page_up_to_a_bound(customer, stripe_api, monkeypatch):
    monkeypatch.setattr(people_stripe, "PAGE_SIZE", 1)
    assert len(people_stripe.customer_data(customer.id)["charges"]) == 2  # two pages

    monkeypatch.setattr(people_stripe, "MAX_LISTED", 1)
    data = people_stripe.customer_data(customer.id)
    assert len(data["charges"]) == 1 and data["truncated"] is True


def test_it_reads_nothing_for_a_customer_stripe_does_not_know(stripe_api):
    assert people_stripe.customer_data("cus_unknown") is None


def test_it_updates_only_the_contact_fields_given(customer, stripe_api):
    people_stripe.update_customer_contact(
        customer.id,
        email="alicia@example.fr",
        phone="+33 6 12 34 56 78",
        address={"line1": "1 place du Théâtre", "postal_code": "59000", "city": "Lille"},
    )
    updated = stripe_api.v1.customers.retrieve(customer.id)
    assert (updated.email, updated.phone) == ("alicia@example.fr", "+33 6 12 34 56 78")
    assert updated.address["city"] == "Lille"
    assert (updated.name, updated.description) == ("Alice Martin", "kept")


def test_it_deletes_a_customer_and_a_second_time_is_harmless(customer):
    people_stripe.delete_customer(customer.id)
    assert people_stripe.customer_data(customer.id) is None
    people_stripe.delete_customer(customer.id)  # a 404 counts as deleted


def test_detaching_twice_is_harmless(customer, stripe_api):
    method = stripe_api.v1.payment_methods.list(params={"customer": customer.id, "type": "card"})
    method_id = method.data[0].id
    people_stripe.detach_payment_method(method_id)
    people_stripe.detach_payment_method(method_id)
    people_stripe.detach_payment_method("pm_unknown")
    assert stripe_api.v1.payment_methods.retrieve(method_id).customer is None


def test_it_says_when_stripe_is_unreachable(stripe_down):
    with pytest.raises(people_stripe.StripeUnavailable, match="APIConnectionError"):
        people_stripe.delete_customer("cus_1")
    with pytest.raises(people_stripe.StripeUnavailable):
        people_stripe.customer_data("cus_1")


def test_a_refusal_is_not_worth_retrying(stripe_api, settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(people_stripe.StripeError) as caught:
        people_stripe.delete_customer("cus_1")
    assert not isinstance(caught.value, people_stripe.StripeUnavailable)
