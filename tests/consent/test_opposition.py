"""The opposition list and the platform's check (B11)."""

from __future__ import annotations

import pytest
from django.conf import settings

from audit.hashing import subject_hash
from audit.models import AuditEvent
from consent import services
from consent.api import OPPOSITION_CHECK_MAX_BATCH
from consent.models import OppositionChannel, OppositionEntry
from people.models import Person
from tests.conftest import NOW

URL = "/api/v1/opposition/check"
AUTH = {"Authorization": "Bearer opposition-token-2"}


def test_it_stores_a_keyed_hash_not_the_secret_key_hash(db):
    services.add_to_opposition_list(email=" P@Example.fr", channel=OppositionChannel.EMAIL, now=NOW)
    entry = OppositionEntry.objects.get()
    assert entry.subject_hash == subject_hash("p@example.fr")
    assert settings.SUBJECT_HASH_KEY != settings.SECRET_KEY
    assert (entry.channel, entry.objected_at) == (OppositionChannel.EMAIL, NOW)


def test_it_dates_the_entry_from_the_latest_objection(db):
    # Charter 7.3, B11: 3 years from the exercise of the right to object. An erasure 35
    # months after an unsubscribe must keep the address off the lists for 3 more years.
    later = NOW.replace(year=2028, month=12)
    services.add_to_opposition_list(email="p@example.fr", channel="email", now=NOW)
    services.forget_subject(email="p@example.fr", now=later)
    assert OppositionEntry.objects.get().objected_at == later
    assert AuditEvent.objects.filter(action="consent.opposition_renewed").count() == 1
    unsubscribed = later.replace(year=2029)
    services.unsubscribe(subject=subject_hash("p@example.fr"), now=unsubscribed)
    assert OppositionEntry.objects.get().objected_at == unsubscribed


def test_it_never_moves_the_date_back_for_an_earlier_objection_reported_late(db):
    services.add_to_opposition_list(email="p@example.fr", channel="email", now=NOW)
    services.add_to_opposition_list(
        email="p@example.fr", channel="email", now=NOW.replace(year=2025)
    )
    assert OppositionEntry.objects.get().objected_at == NOW
    assert AuditEvent.objects.filter(action="consent.opposition_renewed").count() == 0


def test_it_survives_erasure_and_refuses_the_prospect_again(make_person):
    # B11: after unsubscribe and full erasure, re-importing the address is blocked.
    person = make_person(email="p@example.fr", is_prospect=True)
    services.forget_subject(email=person.email, now=NOW)
    person.delete()
    assert OppositionEntry.objects.count() == 1
    with pytest.raises(services.OnOppositionList):
        services.create_prospect(email="P@example.fr", now=NOW)
    assert not Person.objects.exists()


def test_it_creates_a_prospect_who_never_objected(db):
    person = services.create_prospect(email="New@Example.fr", now=NOW, first_name="Zoé")
    assert (person.email, person.is_prospect, person.collected_at) == ("new@example.fr", True, NOW)


def test_it_answers_the_platform_in_order(client, db):
    services.forget_subject(email="b@example.fr", now=NOW)
    response = client.post(
        URL,
        {"emails": ["a@example.fr", "B@example.fr", "c@example.fr"]},
        content_type="application/json",
        headers=AUTH,
    )
    assert response.status_code == 200
    assert response.json() == {"opposed": [False, True, False]}


def test_it_refuses_the_public(client, db):
    body = {"emails": ["a@example.fr"]}
    assert client.post(URL, body, content_type="application/json").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert client.post(URL, body, content_type="application/json", headers=wrong).status_code == 401
    platform = {"Authorization": "Bearer platform-token"}  # another service's token
    response = client.post(URL, body, content_type="application/json", headers=platform)
    assert response.status_code == 401


def test_it_refuses_a_batch_over_the_limit(client, db):
    emails = [f"p{n}@example.fr" for n in range(OPPOSITION_CHECK_MAX_BATCH + 1)]
    response = client.post(URL, {"emails": emails}, content_type="application/json", headers=AUTH)
    assert response.status_code == 400


def test_it_checks_a_full_batch_in_one_query(client, db, django_assert_num_queries):
    emails = [f"p{n}@example.fr" for n in range(OPPOSITION_CHECK_MAX_BATCH)]
    with django_assert_num_queries(1):
        response = client.post(
            URL, {"emails": emails}, content_type="application/json", headers=AUTH
        )
    assert response.json()["opposed"] == [False] * OPPOSITION_CHECK_MAX_BATCH


def test_it_refuses_every_token_when_none_is_configured(client, db, settings):
    settings.OPPOSITION_API_TOKENS = [""]
    headers = {"Authorization": "Bearer "}
    response = client.post(URL, {"emails": []}, content_type="application/json", headers=headers)
    assert response.status_code == 401


def test_it_describes_the_apis_in_a_valid_schema(tmp_path):
    from django.core.management import call_command

    call_command(
        "spectacular", "--file", str(tmp_path / "schema.yml"), "--validate", "--fail-on-warn"
    )
    schema = (tmp_path / "schema.yml").read_text()
    assert "/api/v1/opposition/check" in schema and "/api/v1/consent/" in schema
