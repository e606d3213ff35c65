"""Person A against person B: A's secrets, links and privacy-space session never reach B.

One table, one row per endpoint that takes a secret or serves one person's data. Every row
is attacked the same way, with A signed in to the privacy space:

- A's secrets of every other kind (a tracker secret on the confirmation link, a sign-in
  token on the download link, a request code as an unsubscribe token...);
- B's secret of the row's kind, one character changed, cut short, or lengthened;
- for the rows scoped by the session (withdraw from the space, withdraw a card), B's own
  request code or card: A's session must not reach them.

Each attack must get exactly the answer an unknown secret gets (status and page, CSRF tokens
and nonces aside) and change nothing in the database; A's own secret, the control, must get
a different answer, so no row passes by refusing everything. A new endpoint is one row.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from audit.hashing import subject_hash
from audit.models import AuditEvent
from consent import services as consent_services
from consent.models import ConsentRecord, ConsentSource, OppositionEntry
from people.models import Person, SavedCard
from retention import services as retention_services
from retention.models import Repermission
from rights.models import (
    DataSubjectRequest,
    Export,
    ExportKind,
    LinkPurpose,
    OutgoingEmail,
    SecretLink,
)
from rights.views import SPACE_SESSION_KEY
from tests.conftest import NOW
from tests.rights.conftest import issue_confirm_token

PLATFORM_TOKEN = "platform-token-isolation"
A_EMAIL = "alice@example.fr"
B_EMAIL = "brigitte@example.fr"


@dataclass(frozen=True)
class Endpoint:
    """`path` has one `{}`: where the attacker's value goes. `takes` names what belongs there."""

    method: str
    path: str
    takes: str  # tracker, confirm, download, sign_in, unsubscribe, repermission, request, card
    # Scoped by the privacy-space session: B's own value is an attack, not B's secret.
    session_scoped: bool = False
    # A JSON body for the API rows; "{}" in a value is replaced like the path's.
    body: dict | None = None
    form: dict | None = None  # form fields to post
    headers: dict = field(default_factory=dict)
    # False where the page is the same for every token (a button; the POST does the work).
    control: bool = True


ENDPOINTS = {
    "tracker": Endpoint("GET", "/suivi/{}/", "tracker"),
    "tracker-en": Endpoint("GET", "/en/suivi/{}/", "tracker"),
    "withdraw": Endpoint("POST", "/suivi/{}/retirer/", "tracker"),
    "answer": Endpoint("POST", "/suivi/{}/repondre/", "tracker", form={"answer": "Here it is"}),
    "send-download-link": Endpoint("POST", "/suivi/{}/lien/", "tracker"),
    "api-track": Endpoint("GET", "/api/v1/requests/{}/", "tracker"),
    "confirm-page": Endpoint("GET", "/confirmer/{}/", "confirm"),
    "confirm": Endpoint("POST", "/confirmer/{}/", "confirm"),
    "download-page": Endpoint("GET", "/telecharger/{}/", "download", control=False),
    "download": Endpoint("POST", "/telecharger/{}/", "download"),
    "space-enter-page": Endpoint("GET", "/espace/connexion/{}/", "sign_in", control=False),
    "space-enter": Endpoint("POST", "/espace/connexion/{}/", "sign_in"),
    "unsubscribe-page": Endpoint("GET", "/desinscription/{}/", "unsubscribe"),
    "unsubscribe": Endpoint("POST", "/desinscription/{}/", "unsubscribe"),
    "keep-in-touch-page": Endpoint("GET", "/garder-contact/{}/", "repermission"),
    "keep-in-touch": Endpoint("POST", "/garder-contact/{}/", "repermission"),
    "space-withdraw": Endpoint(
        "POST", "/espace/demandes/{}/retirer/", "request", session_scoped=True
    ),
    "space-withdraw-card": Endpoint(
        "POST", "/vie-privee/consentements/cartes/{}/retirer/", "card", session_scoped=True
    ),
    "api-withdraw-card": Endpoint(
        "POST",
        "/api/v1/saved-cards/withdraw",
        "card",
        session_scoped=True,  # scoped by the email in the body: A's address with B's card
        body={"email": A_EMAIL, "payment_method": "{}"},
        headers={"HTTP_AUTHORIZATION": f"Bearer {PLATFORM_TOKEN}"},
    ),
}

# Pages that show one person's data: signed in as A, nothing of B's may appear.
PERSONAL_PAGES = ["/espace/", "/en/espace/", "/vie-privee/consentements/", "/suivi/{tracker}/"]


def _unknown(takes: str) -> str:
    if takes == "request":
        return str(uuid.uuid4())
    if takes == "card":
        return "pm_" + secrets.token_hex(8)
    return secrets.token_urlsafe(32)


def _tampered(value: str) -> list[str]:
    flipped = value[:-1] + ("A" if value[-1] != "A" else "B")
    return [flipped, value[:-1], value + "A"]


def _person_secrets(email: str, *, make_person, make_dsr, suffix: str) -> dict[str, str]:
    """One of every secret a person can hold, all valid at NOW."""
    person = make_person(email=email, is_prospect=True, collected_at=NOW - timedelta(days=1200))
    SavedCard.objects.create(
        person=person,
        stripe_payment_method_id=f"pm_{suffix}",
        brand="visa",
        last4="4242" if suffix == "a" else "1881",
        exp_month=4,
        exp_year=2028,
        consent_given_at=NOW,
        consent_text_version="v1",
    )
    consent_services.grant_marketing(email=email, source=ConsentSource.PRIVACY_SPACE, now=NOW)
    tracked = make_dsr(email=email, name=f"Name {suffix.upper()}", confirm=True)
    export = Export.objects.create(  # what exports.build_export records, without the build
        request=tracked,
        kind=ExportKind.ACCESS,
        file_path=f"exports/{suffix}.zip",
        created_at=NOW,
        expires_at=NOW + timedelta(days=7),
    )
    path = Path(settings.MEDIA_ROOT) / export.file_path
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"PK\x05\x06" + bytes(18))  # an empty ZIP
    _, download = SecretLink.issue(
        purpose=LinkPurpose.DOWNLOAD, request=tracked, expires_at=export.expires_at, now=NOW
    )
    unconfirmed = make_dsr(email=email, kind="erasure", details={"scope": "everything"})
    _, sign_in = SecretLink.issue(
        purpose=LinkPurpose.SIGN_IN, email=email, expires_at=NOW + timedelta(minutes=30), now=NOW
    )
    repermission = Repermission.objects.create(person=person, asked_at=NOW, sent_at=NOW)
    return {
        "tracker": tracked.tracker_token,
        "confirm": issue_confirm_token(unconfirmed),
        "download": download,
        "sign_in": sign_in,
        "unsubscribe": consent_services.unsubscribe_token(email=email),
        "repermission": retention_services.repermission_token(repermission),
        "request": str(unconfirmed.code),
        "card": f"pm_{suffix}",
    }


@pytest.fixture
def world(make_person, make_dsr, settings, tmp_path, monkeypatch):
    """A and B, each holding every kind of secret; the Stripe detach call recorded, not made."""
    settings.MEDIA_ROOT = tmp_path
    settings.PLATFORM_API_TOKENS = [PLATFORM_TOKEN]
    settings.RIGHTS_RATE_LIMIT_TRACKER_PER_IP = "100000/h"
    cache.clear()
    detached: list[str] = []
    monkeypatch.setattr("people.stripe.detach_payment_method", detached.append)
    with time_machine.travel(NOW, tick=False):
        a = _person_secrets(A_EMAIL, make_person=make_person, make_dsr=make_dsr, suffix="a")
        b = _person_secrets(B_EMAIL, make_person=make_person, make_dsr=make_dsr, suffix="b")
        yield {"a": a, "b": b, "detached": detached}


def _sign_in_as(client, email: str) -> None:

    session = client.session
    until = timezone.now() + timedelta(minutes=30)
    session[SPACE_SESSION_KEY] = {"email": email, "until": until.isoformat()}
    session.save()


def _state() -> dict:
    """Everything an attack could change, for both people."""

    return {
        "requests": sorted(DataSubjectRequest.objects.values_list("code", "status")),
        "links": sorted(SecretLink.objects.values_list("token_hash", "used_at")),
        "exports": sorted(Export.objects.values_list("id", "downloaded_at")),
        "cards": sorted(SavedCard.objects.values_list("stripe_payment_method_id", flat=True)),
        "consents": ConsentRecord.objects.count(),
        "opposition": OppositionEntry.objects.count(),
        "repermissions": sorted(Repermission.objects.values_list("id", "answered_yes_at")),
        "people": sorted(Person.objects.values_list("email", "last_contact_initiated_at")),
        "emails": OutgoingEmail.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


NOISE = [
    re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+'),
    re.compile(r'(nonce=")[^"]+'),
]


def _answer(client, endpoint: Endpoint, value: str) -> tuple[int, str]:
    """Send `value` where the endpoint takes its secret; return (status, normalised body)."""
    path = endpoint.path.format(value)
    kwargs = dict(endpoint.headers)
    if endpoint.body is not None:
        body = {k: v.replace("{}", value) for k, v in endpoint.body.items()}
        kwargs.update(data=json.dumps(body), content_type="application/json")
    elif endpoint.form is not None:
        kwargs["data"] = endpoint.form
    response = getattr(client, endpoint.method.lower())(path, **kwargs)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode("utf-8", "replace").replace(value, "{secret}")
    for pattern in NOISE:
        text = pattern.sub(r"\1…", text)
    return response.status_code, text


def _attacks(endpoint: Endpoint, a: dict[str, str], b: dict[str, str]) -> dict[str, str]:
    attacks = {f"A's {kind}": value for kind, value in a.items() if kind != endpoint.takes}
    if endpoint.takes not in ("request", "card"):  # codes and card ids are not secrets
        for n, value in enumerate(_tampered(b[endpoint.takes])):
            attacks[f"B's {endpoint.takes}, tampered #{n}"] = value
    if endpoint.session_scoped:
        attacks[f"B's {endpoint.takes}"] = b[endpoint.takes]
    return attacks


@pytest.mark.parametrize("name", ENDPOINTS)
def test_it_never_lets_a_reach_b(client, world, name):
    endpoint = ENDPOINTS[name]
    a, b = world["a"], world["b"]
    _sign_in_as(client, A_EMAIL)
    before = _state()
    unknown = _answer(client, endpoint, _unknown(endpoint.takes))
    assert unknown[0] in (404, 410) or (unknown[0] == 200 and not endpoint.control), unknown[0]

    for attack, value in _attacks(endpoint, a, b).items():
        assert _answer(client, endpoint, value) == unknown, f"{name}: {attack}"
    assert _state() == before, f"{name}: an attack changed something"
    assert world["detached"] == []

    if endpoint.control:  # A's own secret works: the row is not refusing everything
        assert _answer(client, endpoint, a[endpoint.takes]) != unknown, f"{name}: control"
    assert b["card"] not in world["detached"]


@pytest.mark.parametrize("path", PERSONAL_PAGES)
def test_it_shows_a_only_what_is_theirs(client, world, path):

    _sign_in_as(client, A_EMAIL)
    response = client.get(path.format(tracker=world["a"]["tracker"]))
    assert response.status_code == 200
    page = response.content.decode()
    b_codes = DataSubjectRequest.objects.filter(email=B_EMAIL).values_list("code", flat=True)
    for marker in [B_EMAIL, "brigitte", "Name B", "pm_b", "1881", *map(str, b_codes)]:
        assert marker not in page, f"{path} shows B's {marker!r}"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/vie-privee/consentements/marketing/", {}),  # withdraw marketing
        ("/vie-privee/consentements/marketing/", {"marketing": "on"}),
        ("/espace/deconnexion/", {}),
    ],
)
def test_it_changes_only_a_from_the_space(client, world, path, data):

    _sign_in_as(client, A_EMAIL)
    b_records = ConsentRecord.objects.for_subject(subject_hash(B_EMAIL))
    before = list(b_records.values_list("id", flat=True))
    assert client.post(path, data).status_code == 302
    assert list(b_records.values_list("id", flat=True)) == before
