"""Restriction and objection (rights.fulfilment; REQUIREMENTS B5, B8, B9)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from people.models import Person
from rights import fulfilment
from rights.models import (
    InvalidTransition,
    ObjectionDecision,
    OutgoingEmail,
    Restriction,
    RestrictionCase,
    StepKind,
)
from tests.conftest import NOW


@pytest.fixture
def restricted(alice, bob):
    return fulfilment.restrict_processing(
        person=alice, case=RestrictionCase.ACCURACY, by=bob, now=NOW
    )


@pytest.mark.parametrize("case", RestrictionCase.values)
def test_each_of_the_four_cases_is_a_ground(alice, bob, case):
    restriction = fulfilment.restrict_processing(person=alice, case=case, by=bob, now=NOW)
    assert restriction.is_active and restriction.case == case


def test_it_leaves_restricted_people_out_of_unrestricted(restricted, make_person):
    bea = make_person(email="bea@example.fr")
    assert list(Person.objects.unrestricted()) == [bea]
    assert restricted.person.is_restricted


def test_it_restricts_once_per_case(restricted, alice, bob):
    again = fulfilment.restrict_processing(
        person=alice, case=RestrictionCase.ACCURACY, by=bob, now=NOW
    )
    assert again == restricted and Restriction.objects.count() == 1


def test_lifting_without_the_notice_is_impossible(restricted, bob):
    with pytest.raises(InvalidTransition):
        restricted.lift(by=bob, now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Restriction.objects.filter(pk=restricted.pk).update(lifted_at=NOW)


def test_it_tells_the_person_then_lifts(restricted, alice, bob, make_person):
    fulfilment.lift_restriction(restriction=restricted, by=bob, now=NOW)
    restricted.refresh_from_db()
    assert restricted.lift_notice_at == NOW and restricted.lifted_at == NOW
    email = OutgoingEmail.objects.get(template="restriction_lifted")
    assert email.to == "alice@example.fr" and email.created_at <= restricted.lifted_at
    assert list(Person.objects.unrestricted()) == [alice]


def test_the_tracker_shows_the_lifting(make_dsr, alice, bob):
    dsr = make_dsr(confirm=True, kind="restriction", details={"case": "accuracy"})
    restriction = fulfilment.restrict_processing(
        person=alice, case=RestrictionCase.ACCURACY, by=bob, now=NOW, dsr=dsr
    )
    fulfilment.lift_restriction(restriction=restriction, by=bob, now=NOW)

    assert dsr.steps.filter(kind=StepKind.RESTRICTION_LIFTED, at=NOW).count() == 1


def test_it_lists_recipients_for_a_restriction_request(make_dsr, alice, bob):
    dsr = make_dsr(confirm=True, kind="restriction", details={"case": "unlawful"})
    fulfilment.restrict_processing(
        person=alice, case=RestrictionCase.UNLAWFUL, by=bob, now=NOW, dsr=dsr
    )
    assert "Stripe Payments Europe Ltd" in {n.recipient for n in dsr.recipient_notifications.all()}


# --- Objection (Art. 21) ----------------------------------------------------------------------


def test_an_objection_to_marketing_stops_it_at_once(make_dsr):
    from consent import services as consent_services
    from consent.models import Action, ConsentSource, Purpose

    dsr = make_dsr(confirm=True, kind="objection", details={"target": "marketing"})
    fulfilment.object_to_marketing(dsr=dsr, now=NOW)
    assert consent_services.is_opposed(email="alice@example.fr")
    latest = consent_services.current_consents(email="alice@example.fr")[Purpose.MARKETING_EMAIL]
    assert latest.action == Action.WITHDRAWN
    assert latest.source == ConsentSource.RIGHTS_REQUEST  # the proof says where it came from


@pytest.fixture
def objection(make_dsr, alice):
    return make_dsr(
        confirm=True, kind="objection", details={"target": "other", "grounds": "I moved"}
    )


def test_an_objection_suspends_the_processing_while_examined(objection, alice):
    restriction = fulfilment.suspend_for_objection(dsr=objection, now=NOW)
    assert restriction.case == RestrictionCase.OBJECTION_PENDING
    assert alice not in Person.objects.unrestricted()


def test_refusing_an_objection_needs_compelling_grounds(objection, bob):
    with pytest.raises(ValidationError):
        fulfilment.decide_objection(
            dsr=objection, upheld=False, compelling_grounds=" ", by=bob, now=NOW
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ObjectionDecision.objects.create(request=objection, upheld=False, decided_by=bob)


def test_refusing_an_objection_lifts_the_suspension_after_telling_the_person(objection, alice, bob):
    fulfilment.suspend_for_objection(dsr=objection, now=NOW)
    decision = fulfilment.decide_objection(
        dsr=objection,
        upheld=False,
        compelling_grounds="Fraud prevention on a contested payment outweighs it",
        by=bob,
        now=NOW,
    )
    assert not decision.upheld
    assert OutgoingEmail.objects.filter(template="restriction_lifted").exists()
    assert alice in Person.objects.unrestricted()


def test_upholding_an_objection_keeps_the_processing_stopped(objection, alice, bob):
    fulfilment.suspend_for_objection(dsr=objection, now=NOW)
    fulfilment.decide_objection(dsr=objection, upheld=True, compelling_grounds="", by=bob, now=NOW)
    assert alice not in Person.objects.unrestricted()
