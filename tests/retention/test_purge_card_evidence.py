"""Card details of a purchase: 13 months after the debit date, 15 for deferred debit (C10)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from people.models import Purchase
from retention.sweeps import purge_card_evidence
from tests.conftest import NOW
from tests.retention.conftest import months_ago

TODAY = NOW.date()


def _card_kept(purchase: Purchase) -> bool:
    purchase.refresh_from_db()
    return purchase.card_last4 != ""


@pytest.mark.parametrize(("deferred", "months"), [(False, 13), (True, 15)])
def test_it_keeps_the_card_until_the_period_ends(make_purchase, deferred, months):
    day_before = make_purchase(debited_on=months_ago(TODAY, months, +1), is_deferred_debit=deferred)
    exactly = make_purchase(debited_on=months_ago(TODAY, months), is_deferred_debit=deferred)
    day_after = make_purchase(debited_on=months_ago(TODAY, months, -1), is_deferred_debit=deferred)

    result = purge_card_evidence(now=NOW)

    assert _card_kept(day_before)
    assert _card_kept(exactly)
    assert not _card_kept(day_after)
    assert (result.examined, result.affected) == (1, 1)


def test_it_reads_today_in_paris(make_purchase):
    """Debited on a Paris date (people.services), blanked on the Paris day after its last
    day: 00:30 in Paris is still 23:30 UTC the day before."""
    purchase = make_purchase(debited_on=date(2024, 12, 15))  # kept through 15 January 2026

    purge_card_evidence(now=datetime(2026, 1, 15, 23, 30, tzinfo=UTC))

    assert not _card_kept(purchase)


def test_it_keeps_a_deferred_debit_card_until_15_months(make_purchase):
    deferred = make_purchase(debited_on=months_ago(TODAY, 14), is_deferred_debit=True)
    immediate = make_purchase(debited_on=months_ago(TODAY, 14), is_deferred_debit=False)

    purge_card_evidence(now=NOW)

    assert _card_kept(deferred)
    assert not _card_kept(immediate)


def test_it_blanks_every_card_field_and_keeps_the_invoice(make_purchase):
    purchase = make_purchase(debited_on=months_ago(TODAY, 13, -1))

    purge_card_evidence(now=NOW)

    purchase.refresh_from_db()
    assert (purchase.card_brand, purchase.card_last4) == ("", "")
    assert (purchase.card_exp_month, purchase.card_exp_year) == (None, None)
    assert purchase.invoice_number and purchase.billing_name == "Alice Martin"


def test_it_reads_the_periods_from_settings(make_purchase, settings):
    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, "card_evidence": 6}
    purchase = make_purchase(debited_on=months_ago(TODAY, 6, -1))

    purge_card_evidence(now=NOW)

    assert not _card_kept(purchase)
