"""The privacy space: signed in by an emailed single-use link, scoped to that address."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.core import mail

from rights import services
from rights.models import RequestStatus, SecretLink
from tests.conftest import NOW

from .conftest import link_in


def _sign_in(client, email: str = "alice@example.fr") -> str:
    client.post("/en/espace/connexion/", {"email": email})
    services.relay_pending_emails(now=NOW)
    path = link_in(mail.outbox[-1].body, "/espace/connexion/")
    return path


@time_machine.travel(NOW, tick=False)
def test_it_signs_in_with_a_single_use_link(client, make_dsr):
    dsr = make_dsr(confirm=True)
    make_dsr(email="other@example.fr")
    path = _sign_in(client)
    assert client.get(path).status_code == 200  # a button, nothing spent
    assert client.post(path)["Location"] == "/en/espace/"
    response = client.get("/en/espace/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert [r.code for r in response.context["requests"]] == [dsr.code]
    assert client.post(path).status_code == 410  # single use


@time_machine.travel(NOW, tick=False)
def test_it_never_reveals_whether_an_address_is_known(client, make_dsr, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_dsr()
    with CaptureQueriesContext(connection) as known:
        known_response = client.post("/espace/connexion/", {"email": "alice@example.fr"})
    with django_assert_num_queries(len(known.captured_queries)):
        unknown_response = client.post("/espace/connexion/", {"email": "zed@example.fr"})
    assert (
        known_response["Location"] == unknown_response["Location"] == "/espace/connexion/envoyee/"
    )


def test_it_ends_the_session_after_the_configured_minutes(client, make_dsr, settings):
    settings.RIGHTS_SPACE_SESSION_MINUTES = 30
    make_dsr(confirm=True)
    with time_machine.travel(NOW, tick=False):
        client.post(_sign_in(client))
        assert client.get("/espace/").status_code == 200
    with time_machine.travel(NOW + timedelta(minutes=31), tick=False):
        assert client.get("/espace/")["Location"] == "/espace/connexion/"


def test_it_expires_sign_in_links(client, make_dsr):
    with time_machine.travel(NOW, tick=False):
        path = _sign_in(client)
    with time_machine.travel(NOW + timedelta(minutes=31), tick=False):
        response = client.post(path)
    assert response.status_code == 410
    assert response.context["state"] == "expired"
    from retention.sweeps import purge_sign_in_links

    assert purge_sign_in_links(now=NOW + timedelta(minutes=31)).affected == 1
    assert not SecretLink.objects.filter(purpose="sign_in").exists()


@time_machine.travel(NOW, tick=False)
def test_it_withdraws_only_the_signed_in_persons_requests(client, make_dsr):
    mine = make_dsr(confirm=True)
    theirs = make_dsr(email="other@example.fr", confirm=True)
    client.post(_sign_in(client))
    assert client.post(f"/espace/demandes/{theirs.code}/retirer/").status_code == 404
    assert client.post(f"/espace/demandes/{mine.code}/retirer/").status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == RequestStatus.WITHDRAWN
    assert theirs.status == RequestStatus.OPEN


def test_it_sends_anonymous_visitors_to_the_sign_in_page(client, db):
    assert client.get("/espace/")["Location"] == "/espace/connexion/"


@time_machine.travel(NOW, tick=False)
def test_it_signs_out(client, make_dsr):
    client.post(_sign_in(client))
    client.post("/espace/deconnexion/")
    assert client.get("/espace/")["Location"] == "/espace/connexion/"
