"""The public API (rights.api): filing a request and following it with its tracker secret."""

from __future__ import annotations

import json
from datetime import date

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rights import services
from rights.models import DataSubjectRequest, ExtensionReason, RequestStatus, StepKind
from tests.conftest import NOW

from .conftest import link_in

SUBMIT = "/api/v1/requests/"
BODY = {"kind": "access", "email": "Alice@Example.fr ", "name": "Alice Martin", "language": "en"}
DETAILS = {
    "access": {},
    "portability": {},
    "rectification": {"what_is_wrong": "My city is Lile", "correction": "Lille"},
    "erasure": {"scope": "part", "part": "My reviews"},
    "restriction": {"case": "accuracy"},
    "objection": {"target": "other", "grounds": "I moved abroad"},
}


def _post(client, body, **extra):
    payload = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(SUBMIT, payload, content_type="application/json", **extra)


def _track(client, token: str, **extra):
    return client.get(f"/api/v1/requests/{token}/", **extra)


# --- Filing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(DETAILS))
@time_machine.travel(NOW, tick=False)
def test_it_files_each_right_and_answers_202(client, kind, db):
    response = _post(client, {**BODY, "kind": kind, "details": DETAILS[kind]})
    assert response.status_code == 202
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}
    dsr = DataSubjectRequest.objects.get()
    assert (dsr.kind, dsr.email, dsr.name, dsr.language) == (
        kind,
        "alice@example.fr",
        "Alice Martin",
        "en",
    )
    assert dsr.status == RequestStatus.SUBMITTED
    assert dsr.details == DETAILS[kind]
    assert dsr.received_at == NOW
    assert [s.kind for s in dsr.steps.all()] == [StepKind.RECEIVED]


def test_it_emails_the_confirmation_link_through_the_outbox(client, db):
    _post(client, BODY)
    services.relay_pending_emails(now=NOW)
    [message] = mail.outbox
    assert message.to == ["alice@example.fr"]
    # The link confirms the request, exactly as for the portal form.
    response = client.post(link_in(message.body, "/en/confirmer/"))
    assert response.status_code == 302
    assert DataSubjectRequest.objects.get().status == RequestStatus.OPEN


def test_it_answers_in_the_language_of_accept_language(client, db):
    english = _post(client, {"kind": "access"}, HTTP_ACCEPT_LANGUAGE="en")
    french = _post(client, {"kind": "access"})
    assert english["Content-Language"] == "en"
    assert english.json()["email"] == ["This field is required."]
    assert french["Content-Language"] == "fr"  # French by default, as the portal
    assert french.json()["email"] == ["Ce champ est obligatoire."]


def test_it_never_says_whether_an_address_is_known(client, make_person, db):
    """No enumeration: same body, same number of queries, known person or not."""
    make_person(email="known@example.fr")
    _post(client, {**BODY, "email": "warm-up@example.fr"})  # per-process caches filled
    with CaptureQueriesContext(connection) as known:
        known_response = _post(client, {**BODY, "email": "known@example.fr"})
    with CaptureQueriesContext(connection) as unknown:
        unknown_response = _post(client, {**BODY, "email": "nobody@example.fr"})
    assert known_response.status_code == unknown_response.status_code == 202
    assert known_response.content == unknown_response.content
    assert len(known.captured_queries) == len(unknown.captured_queries)


@pytest.mark.parametrize("confirmed", [False, True], ids=["unconfirmed", "confirmed"])
def test_it_never_says_whether_a_request_is_new_or_joined(
    client, make_dsr, django_assert_num_queries, confirmed
):
    """A second request of the same kind joins the open one: nothing in the answer shows it."""
    make_dsr(email="first@example.fr", confirm=confirmed)  # per-process caches filled
    with CaptureQueriesContext(connection) as new:
        new_response = _post(client, {**BODY, "email": "new@example.fr"})
    make_dsr(email="open@example.fr", confirm=confirmed)
    with django_assert_num_queries(len(new.captured_queries)):
        joined_response = _post(client, {**BODY, "email": "open@example.fr"})
    assert new_response.status_code == joined_response.status_code == 202
    assert new_response.content == joined_response.content
    dsr = DataSubjectRequest.objects.get(email="open@example.fr")
    assert dsr.steps.last().kind == StepKind.JOINED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "kind": "everything"}, "kind"),
        ({**BODY, "kind": None}, "kind"),
        ({**BODY, "email": "not-an-address"}, "email"),
        ({**BODY, "email": "a" * 250 + "@example.fr"}, "email"),
        ({**BODY, "email": 42}, "email"),
        ({**BODY, "language": "de"}, "language"),
        ({**BODY, "name": "n" * 201}, "name"),
        ({**BODY, "name": None}, "name"),
        ({**BODY, "name": 5}, "name"),  # a string is a string (OpenAPI), not a coerced number
        ({**BODY, "name": True}, "name"),
        ({**BODY, "name": "Alice\x00"}, "name"),
        ({**BODY, "details": []}, "details"),
        ({**BODY, "details": None}, "details"),
        ({key: value for key, value in BODY.items() if key != "email"}, "email"),
    ],
)
def test_it_refuses_invalid_fields_with_their_errors(client, body, field, db):
    response = _post(client, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not DataSubjectRequest.objects.exists()


@pytest.mark.parametrize(
    ("kind", "details", "field"),
    [
        ("rectification", {"what_is_wrong": "x"}, "correction"),
        ("rectification", {"what_is_wrong": "x", "correction": "   "}, "correction"),
        ("rectification", {"what_is_wrong": "x", "correction": "y" * 5001}, "correction"),
        ("rectification", {"what_is_wrong": "x", "correction": ["y"]}, "correction"),
        ("objection", {"target": "other"}, "grounds"),
        ("objection", {"target": "everything"}, "target"),
        ("restriction", {}, "case"),
        ("restriction", {"case": "because"}, "case"),
        ("erasure", {"scope": "part"}, "part"),
        ("erasure", {"scope": {"part": "all"}}, "scope"),
    ],
)
def test_it_checks_the_details_of_each_right_like_the_forms(client, kind, details, field, db):
    response = _post(client, {**BODY, "kind": kind, "details": details})
    assert response.status_code == 400
    assert field in response.json()["details"]
    assert not DataSubjectRequest.objects.exists()


def test_it_refuses_unknown_details_such_as_a_reason(client, db):
    """No "reason" field (REQUIREMENTS A1): unknown keys are refused, not ignored."""
    response = _post(client, {**BODY, "details": {"reason": "curious"}})
    assert response.status_code == 400
    assert "reason" in response.json()["details"][0]


@pytest.mark.parametrize(
    "payload",
    [
        b"{not json",
        b"",
        b"[]",
        b'"a string"',
        b"null",
        b"\xff\xfe",
        b'{"kind": "access", "email": "a@example.fr", "language": "\\ud800"}',
        b'{"kind": "\\ud800", "email": "a@example.fr", "language": "fr"}',
        b'{"kind": "access", "email": "a@example.fr", "language": "fr", "details": {"\\ud800": 1}}',
        b'{"kind": "objection", "email": "a@example.fr", "language": "fr", '
        b'"details": {"target": "other", "grounds": "\\u0000"}}',
        b'{"kind": "objection", "email": "a@example.fr", "language": "fr", '
        b'"details": {"target": "other", "grounds": "\\udfff"}}',
    ],
)
def test_it_answers_400_never_500_to_malformed_bodies(client, payload, db):
    response = _post(client, payload)
    assert response.status_code == 400
    assert isinstance(response.json(), dict)
    assert not DataSubjectRequest.objects.exists()


def test_it_accepts_unicode_names_and_details(client, db):
    body = {
        **BODY,
        "kind": "rectification",
        "name": "Zoë Ørsted-Łukasiewicz 李",
        "details": {"what_is_wrong": "Ma ville : « Lile » 🙃", "correction": "Lille"},
    }
    assert _post(client, body).status_code == 202
    assert DataSubjectRequest.objects.get().name == "Zoë Ørsted-Łukasiewicz 李"


def test_it_refuses_other_media_types(client, db):
    response = client.post(SUBMIT, {"kind": "access", "email": "a@example.fr", "language": "fr"})
    assert response.status_code == 415
    assert not DataSubjectRequest.objects.exists()


# --- Following ------------------------------------------------------------------------------


def test_it_shows_a_tracked_request(client, make_dsr):
    dsr = make_dsr(confirm=True)
    response = _track(client, dsr.tracker_token, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "kind": "access",
        "status": "open",
        "received_on": "2026-01-15",
        "due_on": "2026-02-16",  # 15 Jan 2026 + 1 month is a Sunday: Monday 16
        "extended_due_on": None,
        "steps": [
            {"at": "2026-01-15T12:00:00Z", "kind": "received", "label": "Request received"},
            {"at": "2026-01-15T12:00:00Z", "kind": "confirmed", "label": "Request confirmed"},
        ],
    }
    assert "alice" not in response.content.decode().lower()
    assert str(dsr.pk) not in body and str(dsr.code) not in response.content.decode()


def test_it_shows_an_extended_deadline(client, make_dsr):
    dsr = make_dsr(confirm=True)
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(
        extended_at=NOW,
        extension_reason=ExtensionReason.COMPLEXITY,
        extension_justification="Twelve years of bookings to gather",
        extended_due_on=date(2026, 4, 15),
    )
    assert _track(client, dsr.tracker_token).json()["extended_due_on"] == "2026-04-15"


def test_it_keeps_the_dpo_messages_off_the_api(client, make_dsr):
    dsr = make_dsr(confirm=True)
    dsr.add_step(StepKind.MESSAGE, now=NOW, message="Alice, we found your 2019 invoices")
    response = _track(client, dsr.tracker_token)
    assert response.json()["steps"][-1]["kind"] == "message"
    assert "invoices" not in response.content.decode()


def test_it_sends_no_store(client, make_dsr):
    dsr = make_dsr(confirm=True)
    assert "no-store" in _track(client, dsr.tracker_token)["Cache-Control"]
    assert "no-store" in _track(client, "not-a-real-token")["Cache-Control"]


def test_it_404s_an_unknown_secret(client, make_dsr):
    dsr = make_dsr(confirm=True)
    assert _track(client, "not-a-real-token").status_code == 404
    assert _track(client, str(dsr.code)).status_code == 404  # the public id is no key
    assert _track(client, str(dsr.pk)).status_code == 404
    for odd in ("%F0%9F%99%83\u2603", "a%2Fb", "%0Aa", "%00", "%ff"):
        response = _track(client, odd)
        assert response.status_code == 404
        assert set(response.json()) == {"detail"}


# --- Limits ---------------------------------------------------------------------------------


def test_it_limits_filing_per_address_with_a_json_429(client, settings, db):
    settings.RIGHTS_RATE_LIMIT_PER_EMAIL = "2/h"
    for _ in range(2):
        assert _post(client, BODY).status_code == 202
    response = _post(client, {**BODY, "email": "ALICE@example.fr"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many attempts. Please try again later."}
    # Another address from the same IP is still under the IP limit.
    assert _post(client, {**BODY, "email": "bob@example.fr"}).status_code == 202


def test_it_limits_filing_per_ip(client, settings, db):
    settings.RIGHTS_RATE_LIMIT_PER_IP = "2/h"
    for i in range(2):
        assert _post(client, {**BODY, "email": f"p{i}@example.fr"}).status_code == 202
    assert _post(client, {**BODY, "email": "p9@example.fr"}).status_code == 429


def test_it_shares_the_limits_with_the_portal_forms(client, settings, db):
    settings.RIGHTS_RATE_LIMIT_PER_EMAIL = "2/h"
    assert client.post("/demande/access/", BODY).status_code == 302
    assert _post(client, BODY).status_code == 202
    assert _post(client, BODY).status_code == 429
    assert client.post("/demande/access/", BODY).status_code == 429


def test_it_limits_tracker_look_ups_per_ip(client, settings, make_dsr):
    settings.RIGHTS_RATE_LIMIT_TRACKER_PER_IP = "3/h"
    dsr = make_dsr(confirm=True)
    for token in ("guess-1", "guess-2", dsr.tracker_token):
        assert _track(client, token).status_code in (200, 404)
    response = _track(client, dsr.tracker_token)
    assert response.status_code == 429
    assert "detail" in response.json()
    assert "no-store" in response["Cache-Control"]
    # Another client is not affected.
    assert _track(client, dsr.tracker_token, REMOTE_ADDR="192.0.2.7").status_code == 200


def test_it_fails_open_when_the_cache_is_down(client, settings, db, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    assert _post(client, BODY).status_code == 202
    assert DataSubjectRequest.objects.count() == 1
    assert "failing open" in caplog.text
    assert "alice" not in caplog.text.lower()


# --- The schema and the docs --------------------------------------------------------------


def test_it_serves_an_openapi_schema_documenting_every_answer(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    submit = schema["paths"]["/api/v1/requests/"]["post"]
    assert set(submit["responses"]) == {"202", "400", "429"}
    track = schema["paths"]["/api/v1/requests/{token}/"]["get"]
    assert set(track["responses"]) == {"200", "404", "429"}


def test_it_serves_the_docs_with_local_assets_and_no_inline_code(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "<style" not in html
    assert "<script>" not in html  # every script is a file: the CSP allows 'self' only
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()


def test_it_refuses_an_address_that_lower_casing_makes_too_long(client, db):
    """ "İ" lower-cases to two characters: 254 on the way in, 255 once normalised."""
    domain = "@" + "İ" * 3 + "." + "b" * 60 + "." + "c" * 60 + ".fr"
    email = "a" * (254 - len(domain)) + domain
    assert len(email) == 254 and len(email.lower()) == 257
    from django.core.validators import validate_email

    validate_email(email)  # valid as sent
    response = _post(client, {**BODY, "email": email})
    assert response.status_code == 400
    assert "email" in response.json()
