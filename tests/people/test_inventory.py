"""The inventory cannot drift from the schema (DESIGN.md; REQUIREMENTS B7, B15, C8-C10)."""

from __future__ import annotations

import re
from pathlib import Path

from django.apps import apps
from django.conf import settings

from people import inventory
from people.inventory import Erasure, LegalBasis

PROJECT_APPS = ["people", "audit", "rights", "consent", "retention"]


def _project_model_fields():
    for label in PROJECT_APPS:
        if not apps.is_installed(label):
            continue
        for model in apps.get_app_config(label).get_models():
            for field in [*model._meta.local_fields, *model._meta.local_many_to_many]:
                yield model._meta.label, field.name


def test_it_declares_every_field_of_every_model():
    missing = [
        f"{label}.{name}"
        for label, name in _project_model_fields()
        if not inventory.is_declared(label, name)
    ]
    assert not missing, (
        "Declare these fields in people/inventory.py (FIELDS) or, with a reason, in "
        f"NOT_PERSONAL: {missing}"
    )


def test_it_declares_only_fields_that_exist():
    existing = set(_project_model_fields())
    declared = [(f.model, f.field_name) for f in inventory.personal_fields()]
    stale = [key for key in [*declared, *inventory.NOT_PERSONAL] if key not in existing]
    assert not stale


def test_it_declares_each_field_once():
    declared = [(f.model, f.field_name) for f in inventory.personal_fields()]
    assert len(declared) == len(set(declared))
    assert not set(declared) & set(inventory.NOT_PERSONAL)


def test_it_gives_every_field_a_purpose_a_recipient_and_a_retention_rule():
    for field in inventory.personal_fields():
        assert field.purposes, field
        assert field.recipients, field
        assert field.retention, field


def test_it_uses_only_retention_periods_that_exist_in_settings():
    assert inventory.retention_keys() <= set(settings.RETENTION_MONTHS)


def test_it_writes_no_retention_period_in_the_inventory_itself():
    # A retention value exists in one place only: settings.RETENTION_MONTHS (B15).
    source = Path(inventory.__file__).read_text()
    assert not re.search(r"\d+\s*(months?|years?|mois|ans)\b", source)


def test_it_reads_the_periods_from_settings(settings, in_english):
    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, "technical_traces": 7}
    rule = inventory.get_field("people.TechnicalTrace", "ip_address").retention[0]
    assert rule.months == 7
    assert rule.describe().startswith("7 months after")


def test_it_gives_a_legal_reason_for_every_field_kept_after_erasure():
    for field in inventory.personal_fields():
        if field.erasure == Erasure.KEEP:
            assert str(field.keep_reason).strip(), field


def test_it_keeps_invoices_for_the_accounting_period_and_card_evidence_13_or_15_months():
    # C9: Code de commerce L123-22; C10: CMF L133-24.
    invoice = inventory.get_field("people.Purchase", "invoice_number")
    assert [r.setting_key for r in invoice.retention] == ["accounting"]
    assert invoice.erasure == Erasure.KEEP
    for name in ["card_brand", "card_last4", "card_exp_month", "card_exp_year"]:
        card = inventory.get_field("people.Purchase", name)
        keys = {r.setting_key for r in card.retention}
        assert keys == {"card_evidence", "card_evidence_deferred_debit"}


def test_it_makes_portable_only_what_the_person_gave_or_generated_on_consent_or_contract():
    # GDPR 20(1), WP242, REQUIREMENTS B7: not inferred data, not legitimate-interest data.
    for field in inventory.personal_fields():
        if field.portable:
            assert field.source in inventory.PORTABLE_SOURCES, field
            assert set(field.legal_bases) & inventory.PORTABLE_BASES, field
    assert not inventory.portable_fields("people.TechnicalTrace")
    assert {f.field_name for f in inventory.portable_fields("people.Person")} >= {
        "email",
        "first_name",
        "last_name",
    }


def test_it_puts_every_purpose_in_a_processing_activity():
    registered = {id(p) for a in inventory.PROCESSING_ACTIVITIES for p in a.purposes}
    for field in inventory.personal_fields():
        for purpose in field.purposes:
            assert id(purpose) in registered, purpose.label


def test_it_explains_every_legitimate_interest():
    # GDPR 13(1)(d)
    purposes = {id(p): p for f in inventory.personal_fields() for p in f.purposes}
    for purpose in purposes.values():
        if purpose.legal_basis == LegalBasis.LEGITIMATE_INTEREST:
            assert str(purpose.legitimate_interest).strip(), purpose.label


def test_it_names_the_transfer_of_audience_data_to_the_united_states(in_english):
    # C7, D2: Google Analytics sends data to Google LLC, under the EU-US DPF adequacy decision.
    google = next(r for r in inventory.recipients() if "Google LLC" in str(r.name))
    assert google.outside_eu
    assert str(google.country) == "United States"
    assert "Data Privacy Framework" in str(google.transfer_basis)


def test_it_finds_the_fields_of_a_model_by_class_or_label():
    from people.models import Person

    assert inventory.fields_for(Person) == inventory.fields_for("people.Person")
    assert inventory.get_field(Person, "email").category == inventory.Category.CONTACT
