"""Erasure: the plan, its execution, the ledger and reapplying it (rights.fulfilment; B4, C9,
C10, B11)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command

from audit.hashing import subject_hash
from audit.models import AuditEvent
from consent.models import Action, ConsentRecord, ConsentSource, OppositionEntry, Purpose
from people.inventory import Category, Erasure
from people.models import Activity, Person, Purchase, Review, SavedCard, TechnicalTrace
from rights import fulfilment
from rights.models import ErasureLedger, NotificationStatus, OutgoingEmail, RecipientNotification
from tests.conftest import NOW


@pytest.fixture
def seams(monkeypatch):
    """Stripe, recorded (test_it_detaches_saved_cards_at_stripe uses localstripe instead)."""
    calls = {"detach": [], "stripe": []}
    monkeypatch.setattr(
        fulfilment,
        "stripe_detach_payment_method",
        lambda *, payment_method_id: calls["detach"].append(payment_method_id),
    )
    monkeypatch.setattr(
        fulfilment,
        "stripe_delete_customer",
        lambda *, customer_id, notification_id=None: calls["stripe"].append(customer_id),
    )
    return calls


@pytest.fixture
def erasure_dsr(make_dsr):
    return make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})


def _items(plan, model, row=""):
    return [i for i in plan if i.model == model and i.row == row]


def test_it_plans_what_goes_what_stays_until_when_and_why(holdings, erasure_dsr):
    plan = fulfilment.erasure_plan(person=holdings["person"], now=NOW)
    recent, old = holdings["recent"], holdings["old"]

    recent_items = {i.category: i for i in _items(plan, "people.Purchase", recent.invoice_number)}
    card = recent_items[Category.CARD_EVIDENCE]
    assert card.action == Erasure.KEEP
    assert card.keep_until == date(2026, 12, 16)  # debit 16 Nov 2025 + 13 months
    assert "L133-24" in card.legal_reason
    invoice = recent_items[Category.PURCHASES]
    assert invoice.action == Erasure.KEEP and invoice.keep_until == date(2035, 12, 31)
    assert "billing_name" in invoice.fields and "L123-22" in invoice.legal_reason

    old_items = {i.category: i for i in _items(plan, "people.Purchase", old.invoice_number)}
    assert old_items[Category.CARD_EVIDENCE].action == Erasure.DELETE  # 13 months are over
    assert old_items[Category.PURCHASES].action == Erasure.KEEP

    person_actions = {i.action for i in _items(plan, "people.Person")}
    assert person_actions == {Erasure.DELETE}
    assert {i.action for i in _items(plan, "people.Activity")} == {Erasure.ANONYMISE}
    kept_proof = _items(plan, "rights.DataSubjectRequest")  # the erasure request itself
    assert kept_proof and {i.action for i in kept_proof} == {Erasure.KEEP}


def test_it_keeps_an_invoice_ten_years_after_the_close_of_its_financial_year(alice, make_purchase):
    make_purchase(person=alice, debited_on=date(2026, 1, 15), invoiced_on=date(2026, 1, 15))
    plan = fulfilment.erasure_plan(person=alice, now=NOW)
    invoice = next(i for i in plan if i.category == Category.PURCHASES and i.keep_until)
    assert invoice.keep_until == date(2036, 12, 31)


def test_it_keeps_deferred_debit_card_details_fifteen_months(alice, make_purchase):
    make_purchase(person=alice, debited_on=date(2025, 3, 10), is_deferred_debit=True)
    plan = fulfilment.erasure_plan(person=alice, now=NOW)
    card = next(i for i in plan if i.category == Category.CARD_EVIDENCE)
    assert card.action == Erasure.KEEP and card.keep_until == date(2026, 6, 10)


def _planned(person, purchase, field_name, now):
    """What the erasure plan at `now` does to `field_name` of `purchase`."""
    (item,) = [
        i
        for i in fulfilment.erasure_plan(person=person, now=now)
        if i.row_id == purchase.pk and field_name in i.fields
    ]
    return item.action


@pytest.mark.parametrize(
    ("day", "action"),
    [(date(2026, 1, 15), Erasure.KEEP), (date(2026, 1, 16), Erasure.DELETE)],
)
def test_it_keeps_card_evidence_through_its_last_day_as_the_sweep_does(
    alice, make_purchase, day, action
):
    """Debited 15 Dec 2024: kept "dans les treize mois", through 15 Jan 2026 (C10)."""
    from retention.sweeps import purge_card_evidence

    purchase = make_purchase(person=alice, debited_on=date(2024, 12, 15))
    now = NOW.replace(year=day.year, month=day.month, day=day.day)

    assert _planned(alice, purchase, "card_last4", now) == action
    purge_card_evidence(now=now)
    purchase.refresh_from_db()
    assert (purchase.card_last4 == "4242") == (action == Erasure.KEEP)


@pytest.mark.parametrize(
    ("day", "action"),
    [(date(2025, 12, 31), Erasure.KEEP), (date(2026, 1, 1), Erasure.DELETE)],
)
def test_it_keeps_an_invoice_through_31_december_of_year_10_as_the_sweep_does(
    alice, make_purchase, day, action
):
    """Invoiced in 2015: kept through 31 Dec 2025, ten years after its year's close (C9)."""
    from retention.sweeps import purge_accounting

    purchase = make_purchase(person=alice, debited_on=date(2015, 6, 1))
    now = NOW.replace(year=day.year, month=day.month, day=day.day)

    assert _planned(alice, purchase, "invoice_number", now) == action
    purge_accounting(now=now)
    assert Purchase.objects.filter(pk=purchase.pk).exists() == (action == Erasure.KEEP)


def test_it_changes_nothing_when_planning(holdings):
    fulfilment.erasure_plan(person=holdings["person"], now=NOW)
    assert Person.objects.filter(pk=holdings["person"].pk).exists()


def test_it_erases_and_keeps_what_the_law_requires(
    holdings, erasure_dsr, bob, seams, django_capture_on_commit_callbacks
):
    alice, recent, old = holdings["person"], holdings["recent"], holdings["old"]
    with django_capture_on_commit_callbacks(execute=True):
        result = fulfilment.execute_erasure(dsr=erasure_dsr, person=alice, by=bob, now=NOW)

    assert not Person.objects.filter(pk=alice.pk).exists()
    for model in (SavedCard, Review, TechnicalTrace):
        assert not model.objects.exists()
    assert Activity.objects.get(pk=holdings["organised"].pk).organiser is None

    recent.refresh_from_db()
    old.refresh_from_db()
    assert recent.person is None and old.person is None  # detached
    assert recent.billing_name == "Alice Martin" == old.billing_name  # as the law requires
    assert recent.card_last4 == "4242" and recent.card_exp_year  # evidence, 13 months
    assert old.card_last4 == "" and old.card_exp_month is None and old.card_brand == ""

    assert OppositionEntry.objects.filter(subject_hash=subject_hash("alice@example.fr")).exists()
    assert seams["detach"] == ["pm_alice"]
    assert seams["stripe"] == ["cus_alice"]
    ledger = ErasureLedger.objects.get()
    assert ledger.subject_hash == subject_hash("alice@example.fr")
    assert ledger.request_code == erasure_dsr.code
    assert "alice" not in str(ledger.summary).lower() and "F-TEST" not in str(ledger.summary)

    assert Category.IDENTITY in result.erased and Category.SAVED_CARD in result.erased
    kept = {(k.category, k.keep_until) for k in result.kept}
    assert (Category.CARD_EVIDENCE, date(2026, 12, 16)) in kept
    assert (Category.PURCHASES, date(2035, 12, 31)) in kept

    email = OutgoingEmail.objects.get(template="erasure_done")
    assert email.to == "alice@example.fr"
    assert "16 December 2026" in email.body_text and "31 December 2035" in email.body_text
    assert "L123-22" in email.body_text and "CNIL" in email.body_text

    notices = {n.recipient: n for n in result.notifications}
    assert notices["Stripe Payments Europe Ltd"].status == NotificationStatus.PENDING
    assert notices["OVH SAS"].status == NotificationStatus.NOT_NEEDED
    event = AuditEvent.objects.get(action="erasure.executed")
    assert event.subject_hash == subject_hash("alice@example.fr")


def test_it_withdraws_a_marketing_consent_given_before(
    holdings, erasure_dsr, bob, seams, django_capture_on_commit_callbacks
):
    # B4, B10: once the opposition entry is purged (3 years), a re-registered address must
    # not be mailed on the consent given before the erasure.
    from consent import services as consent_services

    alice = holdings["person"]
    consent_services.grant_marketing(
        email=alice.email, source=ConsentSource.SIGNUP, now=NOW - timedelta(days=30)
    )
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.execute_erasure(dsr=erasure_dsr, person=alice, by=bob, now=NOW)

    marketing = consent_services.current_consents(email="alice@example.fr")[Purpose.MARKETING_EMAIL]
    assert (marketing.action, marketing.source, marketing.at) == (
        Action.WITHDRAWN,
        ConsentSource.RIGHTS_REQUEST,
        NOW,
    )
    OppositionEntry.objects.all().delete()  # purged, 3 years on
    later = NOW + timedelta(days=3 * 366)
    assert not consent_services.may_send_marketing(email="alice@example.fr", now=later)


def test_it_records_no_withdrawal_when_no_consent_is_current(holdings, erasure_dsr, bob, seams):
    fulfilment.execute_erasure(dsr=erasure_dsr, person=holdings["person"], by=bob, now=NOW)

    assert not ConsentRecord.objects.filter(purpose=Purpose.MARKETING_EMAIL).exists()


def test_it_changes_nothing_the_second_time(holdings, erasure_dsr, bob, seams):
    alice = holdings["person"]
    fulfilment.execute_erasure(dsr=erasure_dsr, person=alice, by=bob, now=NOW)
    before = (
        list(Purchase.objects.order_by("pk").values()),
        OutgoingEmail.objects.count(),
        RecipientNotification.objects.count(),
        list(ErasureLedger.objects.values()),
        AuditEvent.objects.count(),
    )
    result = fulfilment.execute_erasure(dsr=erasure_dsr, person=alice, by=bob, now=NOW)
    after = (
        list(Purchase.objects.order_by("pk").values()),
        OutgoingEmail.objects.count(),
        RecipientNotification.objects.count(),
        list(ErasureLedger.objects.values()),
        AuditEvent.objects.count(),
    )
    assert result.already_erased and before == after


def test_it_erases_again_a_person_a_backup_restore_brought_back(
    holdings, erasure_dsr, bob, seams, make_person, make_purchase
):
    fulfilment.execute_erasure(dsr=erasure_dsr, person=holdings["person"], by=bob, now=NOW)
    # The restore: the person and a purchase of theirs come back as they were.
    restored = make_person(email="Alice@Example.fr", collected_at=NOW - timedelta(days=400))
    purchase = make_purchase(person=restored)
    someone_else = make_person(email="bea@example.fr")

    assert fulfilment.reapply_erasures(now=NOW + timedelta(days=1), dry_run=True) == 1
    assert Person.objects.filter(pk=restored.pk).exists()
    assert fulfilment.reapply_erasures(now=NOW + timedelta(days=1)) == 1
    assert not Person.objects.filter(pk=restored.pk).exists()
    purchase.refresh_from_db()
    assert purchase.person is None
    assert Person.objects.filter(pk=someone_else.pk).exists()
    assert ErasureLedger.objects.get().last_reapplied_at == NOW + timedelta(days=1)
    assert AuditEvent.objects.filter(action="erasure.reapplied").count() == 1
    assert fulfilment.reapply_erasures(now=NOW + timedelta(days=2)) == 0  # idempotent


def test_it_does_not_erase_someone_who_came_back_after_their_erasure(
    holdings, erasure_dsr, bob, seams, make_person
):
    fulfilment.execute_erasure(dsr=erasure_dsr, person=holdings["person"], by=bob, now=NOW)
    returned = make_person(collected_at=NOW + timedelta(days=30))
    assert fulfilment.reapply_erasures(now=NOW + timedelta(days=31)) == 0
    assert Person.objects.filter(pk=returned.pk).exists()


def test_the_command_reapplies_erasures(holdings, erasure_dsr, bob, seams, make_person):
    fulfilment.execute_erasure(dsr=erasure_dsr, person=holdings["person"], by=bob, now=NOW)
    make_person(collected_at=NOW - timedelta(days=1))
    call_command("reapply_erasures", "--dry-run")
    assert Person.objects.exists()
    call_command("reapply_erasures")
    assert not Person.objects.exists()


def test_it_deletes_the_files_of_erased_fields(
    alice, erasure_dsr, bob, seams, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    settings.MEDIA_ROOT = tmp_path
    alice.photo.save("alice.jpg", ContentFile(b"a photo"))
    path = alice.photo.name
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.execute_erasure(dsr=erasure_dsr, person=alice, by=bob, now=NOW)
    assert not default_storage.exists(path)


@pytest.mark.parametrize("since", [NOW, NOW + timedelta(days=30)], ids=["in force", "starts later"])
def test_it_is_blocked_by_a_legal_hold_not_ended(holdings, erasure_dsr, bob, seams, since):
    from retention.models import HoldReason, LegalHold

    alice = holdings["person"]
    LegalHold.objects.create(person=alice, reason=HoldReason.DISPUTE, since=since)
    with pytest.raises(fulfilment.ErasureBlocked):
        fulfilment.execute_erasure(dsr=erasure_dsr, person=alice, by=bob, now=NOW)
    assert Person.objects.filter(pk=alice.pk).exists() and not ErasureLedger.objects.exists()


def test_an_ended_legal_hold_does_not_block(holdings, erasure_dsr, bob, seams):
    from retention.models import HoldReason, LegalHold

    alice = holdings["person"]
    LegalHold.objects.create(
        person=alice, reason=HoldReason.DISPUTE, since=NOW - timedelta(days=90), until=NOW
    )
    fulfilment.execute_erasure(dsr=erasure_dsr, person=alice, by=bob, now=NOW)
    assert not Person.objects.filter(pk=alice.pk).exists()


def test_it_detaches_saved_cards_at_stripe(
    stripe_api, alice, attached_method, erasure_dsr, bob, monkeypatch
):
    monkeypatch.setattr(fulfilment, "stripe_delete_customer", lambda **kwargs: None)
    SavedCard.objects.create(
        person=alice,
        stripe_payment_method_id=attached_method,
        brand="visa",
        last4="4242",
        exp_month=4,
        exp_year=2030,
        consent_given_at=NOW,
        consent_text_version="v1",
    )
    fulfilment.execute_erasure(dsr=erasure_dsr, person=alice, by=bob, now=NOW)
    assert stripe_api.v1.payment_methods.retrieve(attached_method).customer is None
    assert not SavedCard.objects.exists()
