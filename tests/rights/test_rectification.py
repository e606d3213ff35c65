"""Rectification: the form's corrections, the diff, applying it, the recipients told
(rights.fulfilment; REQUIREMENTS B3, B6)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from audit.models import AuditEvent
from people.models import Person
from rights import fulfilment
from rights.forms import RectificationForm
from rights.models import NotificationStatus, RecipientNotification
from tests.conftest import NOW

FORM = {"email": "alice@example.fr", "name": "", "language": "en"}


def test_the_form_takes_corrections_field_by_field():
    form = RectificationForm({**FORM, "new_first_name": " Alicia ", "new_email": "NEW@Example.fr"})
    assert form.is_valid(), form.errors
    assert form.details == {"proposed": {"first_name": "Alicia", "email": "new@example.fr"}}


def test_the_form_still_takes_free_text():
    form = RectificationForm({**FORM, "what_is_wrong": "My city", "correction": "Roubaix"})
    assert form.is_valid(), form.errors
    assert form.details == {"what_is_wrong": "My city", "correction": "Roubaix"}


def test_the_form_needs_free_text_or_a_correction():
    assert not RectificationForm(FORM).is_valid()
    assert not RectificationForm({**FORM, "new_email": "not-an-address"}).is_valid()


@pytest.fixture
def rectification(make_dsr, alice):
    return make_dsr(
        confirm=True,
        kind="rectification",
        details={
            "what_is_wrong": "My name and address",
            "proposed": {"first_name": "Alicia", "last_name": "Martin", "email": "alicia@ex.fr"},
        },
    )


def test_it_shows_the_changes_against_the_record(rectification):
    with translation.override("en"):
        changes = fulfilment.rectification_diff(dsr=rectification)
    assert [(c.field, c.label, c.current, c.proposed) for c in changes] == [
        ("first_name", "First name", "Alice", "Alicia"),
        ("email", "Email address", "alice@example.fr", "alicia@ex.fr"),
    ]  # the last name is already right


def test_it_applies_the_accepted_changes_and_lists_the_recipients(rectification, alice, bob):
    applied = fulfilment.apply_rectification(
        dsr=rectification, accepted={"first_name", "email"}, by=bob, now=NOW
    )
    alice.refresh_from_db()
    assert (alice.first_name, alice.email) == ("Alicia", "alicia@ex.fr")
    assert {c.field for c in applied} == {"first_name", "email"}

    event = AuditEvent.objects.get(action="rectification.applied")
    assert event.details["fields"] == ["first_name", "email"]
    assert "Alicia" not in str(event.details) and "alicia@" not in str(event.details)

    notices = {n.recipient: n for n in RecipientNotification.objects.filter(request=rectification)}
    stripe = notices["Stripe Payments Europe Ltd"]
    assert stripe.status == NotificationStatus.PENDING
    assert stripe.fields == ["people.Person.email", "people.Person.first_name"]
    assert notices["OVH SAS"].status == NotificationStatus.NOT_NEEDED

    stripe.mark_sent(by=bob, now=NOW)
    assert stripe.status == NotificationStatus.SENT and stripe.notified_at == NOW


def test_it_applies_only_what_the_dpo_accepted(rectification, alice, bob):
    fulfilment.apply_rectification(dsr=rectification, accepted={"first_name"}, by=bob, now=NOW)
    alice.refresh_from_db()
    assert (alice.first_name, alice.email) == ("Alicia", "alice@example.fr")


def test_it_refuses_an_address_someone_else_has(rectification, make_person, bob):
    make_person(email="alicia@ex.fr")
    with pytest.raises(ValidationError):
        fulfilment.apply_rectification(dsr=rectification, accepted={"email"}, by=bob, now=NOW)
    assert Person.objects.filter(email="alice@example.fr").exists()


def test_it_refuses_a_field_that_was_not_proposed(rectification, bob):
    with pytest.raises(ValidationError):
        fulfilment.apply_rectification(dsr=rectification, accepted={"phone"}, by=bob, now=NOW)


def test_the_tracker_lists_the_recipients_told(client, rectification, bob):
    fulfilment.apply_rectification(dsr=rectification, accepted={"email"}, by=bob, now=NOW)
    page = client.get(f"/en/suivi/{rectification.tracker_token}/").content.decode()
    assert "Stripe Payments Europe Ltd: To be notified" in page
    assert 'data-status="not_needed"' in page
