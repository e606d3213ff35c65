"""No enumeration: every public door that takes an email answers the same, known or not.

For each door (the six request forms, the privacy-space sign-in, the requests API for each
right) and each way an address can be known (a person we hold, an open or unconfirmed
request of the same right, a request of another right, an opposition-list entry), the answer
equals an unknown address's: status, headers, body (the address itself, CSRF tokens and
nonces aside), the page the redirect leads to, and the number of database queries.

The consent pages and the unsubscribe link take no address (a signed token or the privacy
space session); the platform's opposition check and card withdrawal are behind service
tokens and answer about addresses by design.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent import services as consent_services
from consent.models import OppositionChannel
from tests.conftest import NOW

FORM_DETAILS = {
    "access": {},
    "portability": {},
    "rectification": {"what_is_wrong": "My city is Lile", "correction": "Lille"},
    "erasure": {"scope": "everything"},
    "restriction": {"case": "accuracy"},
    "objection": {"target": "marketing"},
}
API_DETAILS = {**FORM_DETAILS, "erasure": {"scope": "everything", "part": ""}}
NOISE = [
    re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+'),
    re.compile(r"(nonce=['\"]?)[\w+/=-]+"),
]


@dataclass(frozen=True)
class Door:
    kind: str  # the right its requests are of (the sign-in: any)
    send: Callable  # (client, email) -> response


def _form(kind: str, prefix: str = "") -> Door:
    def send(client, email):
        data = {"email": email, "name": "Sam", "language": "fr", **FORM_DETAILS[kind]}
        return client.post(f"{prefix}/demande/{kind}/", data)

    return Door(kind, send)


def _api(kind: str) -> Door:
    def send(client, email):
        body = {"kind": kind, "email": email, "name": "Sam", "language": "fr"}
        body["details"] = API_DETAILS[kind]
        return client.post("/api/v1/requests/", json.dumps(body), content_type="application/json")

    return Door(kind, send)


def _sign_in(prefix: str = "") -> Door:
    def send(client, email):
        return client.post(f"{prefix}/espace/connexion/", {"email": email})

    return Door("access", send)


DOORS = {
    **{f"form-{kind}": _form(kind) for kind in FORM_DETAILS},
    "form-access-en": _form("access", "/en"),
    **{f"api-{kind}": _api(kind) for kind in API_DETAILS},
    "sign-in": _sign_in(),
    "sign-in-en": _sign_in("/en"),
}


def _other_kind(kind: str) -> str:
    return "erasure" if kind != "erasure" else "access"


# How an address can be known: (make_person, make_dsr, email, kind) -> None
KNOWN = {
    "person": lambda mp, md, email, kind: mp(email=email, is_client=True),
    "open-request": lambda mp, md, email, kind: md(
        email=email, kind=kind, details=FORM_DETAILS[kind], confirm=True
    ),
    "unconfirmed-request": lambda mp, md, email, kind: md(
        email=email, kind=kind, details=FORM_DETAILS[kind]
    ),
    "other-request": lambda mp, md, email, kind: md(
        email=email, kind=_other_kind(kind), details=FORM_DETAILS[_other_kind(kind)]
    ),
    "opposed": lambda mp, md, email, kind: consent_services.add_to_opposition_list(
        email=email, channel=OppositionChannel.EMAIL, now=NOW
    ),
}


def _answer(client, door: Door, email: str) -> tuple:
    """Send `email` through the door; return what a visitor could observe, and the queries."""
    with CaptureQueriesContext(connection) as queries:
        response = door.send(client, email)
    headers = {k: _quiet(v) for k, v in response.headers.items()}
    text = _quiet(response.content.decode().replace(email, "{email}"))
    landing = None
    if response.status_code == 302:
        page = client.get(response["Location"])
        landing = (page.status_code, _quiet(page.content.decode()))
    return (response.status_code, headers, text, landing), len(queries.captured_queries)


def _quiet(text: str) -> str:
    for pattern in NOISE:
        text = pattern.sub(r"\1…", text)
    return text


@pytest.fixture
def open_limits(settings):
    settings.RIGHTS_RATE_LIMIT_PER_IP = "100000/h"
    settings.RIGHTS_RATE_LIMIT_PER_EMAIL = "100000/h"


@pytest.mark.parametrize("known", KNOWN)
@pytest.mark.parametrize("door", DOORS)
@time_machine.travel(NOW, tick=False)
def test_it_answers_a_known_address_as_an_unknown_one(
    client, make_person, make_dsr, open_limits, door, known
):
    door = DOORS[door]
    KNOWN[known](make_person, make_dsr, "known@example.fr", door.kind)
    door.send(client, "warm-up@example.fr")  # per-process caches (wording, templates) filled
    unknown, unknown_queries = _answer(client, door, "nobody@example.fr")
    answer, queries = _answer(client, door, "known@example.fr")
    assert answer == unknown
    assert queries == unknown_queries
