"""Former clients leave the prospecting base 3 years after the relationship ends (C8)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from retention.sweeps import purge_client_prospecting
from tests.conftest import NOW
from tests.retention.conftest import months_ago


def _ended(days: int):
    day = months_ago(NOW.date(), 36, days)
    return NOW.replace(year=day.year, month=day.month, day=day.day)


@pytest.mark.parametrize(("offset", "leaves"), [(+1, False), (0, False), (-1, True)])
def test_it_drops_the_prospect_role_a_day_after_3_years(make_person, offset, leaves):
    client = make_person(
        is_client=True,
        is_prospect=True,
        last_contact_initiated_at=_ended(offset) - timedelta(days=30),
        client_relationship_ended_at=_ended(offset),
    )

    result = purge_client_prospecting(now=NOW)

    client.refresh_from_db()
    assert client.is_prospect is not leaves
    # The last contact stays: account_content reads it as the account's last use.
    assert client.last_contact_initiated_at == _ended(offset) - timedelta(days=30)
    assert result.affected == int(leaves)
    # Identity stays: the account and the invoices are other rules.
    assert client.email == "alice@example.fr" and client.is_client


def test_it_leaves_current_clients_alone(make_person):
    make_person(is_client=True, is_prospect=True, collected_at=NOW - timedelta(days=3000))

    assert purge_client_prospecting(now=NOW).examined == 0
