"""The re-permission link: /garder-contact/<token>/, no login, an explicit yes (C8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from audit.models import AuditEvent
from retention import services
from retention.models import Repermission
from tests.conftest import NOW


@pytest.fixture
def repermission(make_person):
    prospect = make_person(is_prospect=True, collected_at=NOW - timedelta(days=4 * 366))
    return Repermission.objects.create(person=prospect, asked_at=NOW, sent_at=NOW)


def _url(repermission: Repermission) -> str:
    return f"/garder-contact/{services.repermission_token(repermission)}/"


def test_it_asks_the_question_without_answering_it_on_a_get(client, repermission):
    response = client.get(_url(repermission))

    assert response.status_code == 200
    assert b'method="post"' in response.content
    repermission.refresh_from_db()
    assert repermission.answered_yes_at is None


@time_machine.travel(NOW + timedelta(days=3), tick=False)
def test_it_restarts_the_clock_on_the_yes(client, repermission):
    response = client.post(_url(repermission))

    assert response.status_code == 302
    repermission.refresh_from_db()
    repermission.person.refresh_from_db()
    assert repermission.answered_yes_at == NOW + timedelta(days=3)
    assert repermission.person.last_contact_initiated_at == NOW + timedelta(days=3)
    event = AuditEvent.objects.get(action="retention.repermission_yes")
    assert event.object_ref == str(repermission.code) and event.subject_hash
    assert "Merci" in client.get(response["Location"]).content.decode()  # French by default


def test_it_works_in_english_too(client, repermission):
    assert client.get("/en" + _url(repermission)).status_code == 200


def test_it_refuses_a_forged_link(client, repermission):
    token = services.repermission_token(repermission)

    assert client.get(f"/garder-contact/{token}x/").status_code == 404
    assert client.post(f"/garder-contact/{token[:-2]}/").status_code == 404


def test_it_says_the_link_expired_once_the_person_is_deleted(client, repermission):
    url = _url(repermission)
    repermission.person.delete()

    response = client.get(url)

    assert response.status_code == 404
    assert "Ce lien n’est plus valide" in response.content.decode()
