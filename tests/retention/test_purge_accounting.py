"""Invoices: 10 years after the close of their financial year, then deleted (C9)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from people.models import Purchase
from retention.sweeps import purge_accounting


def test_it_keeps_an_invoice_until_ten_years_after_its_year_closed(make_purchase):
    invoice = make_purchase(
        debited_on=date(2016, 6, 1),
        card_last4="",
        card_brand="",
        card_exp_month=None,
        card_exp_year=None,
    )
    # Its year closed on 2016-12-31: kept through 2026-12-31.
    day_before = datetime(2026, 12, 30, 12, tzinfo=UTC)
    day_after = datetime(2027, 1, 1, 12, tzinfo=UTC)

    assert purge_accounting(now=day_before).affected == 0
    assert Purchase.objects.filter(pk=invoice.pk).exists()

    assert purge_accounting(now=day_after).affected == 1
    assert not Purchase.objects.filter(pk=invoice.pk).exists()


def test_it_keeps_a_december_invoice_as_long_as_a_january_one(make_purchase):
    january = make_purchase(debited_on=date(2016, 1, 2))
    december = make_purchase(debited_on=date(2016, 12, 31))
    later = make_purchase(debited_on=date(2017, 1, 1))

    purge_accounting(now=datetime(2027, 1, 1, tzinfo=UTC))

    assert list(Purchase.objects.values_list("pk", flat=True)) == [later.pk]
    assert not Purchase.objects.filter(pk__in=[january.pk, december.pk]).exists()
