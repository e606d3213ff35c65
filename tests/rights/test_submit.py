"""Filing a request through the portal forms (rights.views.submit)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from rights import services
from rights.models import DataSubjectRequest, OutgoingEmail, RequestStatus, StepKind
from tests.conftest import NOW

from .conftest import link_in, sent_to

FORM = {"email": "Alice@Example.fr ", "name": "Alice Martin", "language": "en"}
DETAILS = {
    "access": {},
    "portability": {},
    "rectification": {"what_is_wrong": "My city is Lile", "correction": "Lille"},
    "erasure": {"scope": "everything"},
    "restriction": {"case": "accuracy"},
    "objection": {"target": "marketing"},
}


def _url(kind: str, language: str = "fr") -> str:
    with translation.override(language):
        return reverse("rights:submit", args=[kind])


def _deliver() -> None:
    services.relay_pending_emails(now=NOW)


@pytest.mark.parametrize("kind", sorted(DETAILS))
def test_it_shows_a_form_per_right_linked_from_home(client, kind, db):
    home = client.get("/en/")
    assert _url(kind, "en") in home.content.decode()
    response = client.get(_url(kind, "en"))
    assert response.status_code == 200
    fields = response.context["form"].fields
    assert {"email", "name", "language"} <= set(fields)
    assert "reason" not in fields  # REQUIREMENTS A1
    assert not any(
        f.widget.input_type == "file" for f in fields.values() if hasattr(f.widget, "input_type")
    )  # A5


@pytest.mark.parametrize("kind", sorted(DETAILS))
@time_machine.travel(NOW, tick=False)
def test_it_files_each_right_with_its_details(client, kind, db):
    response = client.post(_url(kind), {**FORM, **DETAILS[kind]})
    assert response.status_code == 302
    assert response["Location"] == "/demande/envoyee/"
    dsr = DataSubjectRequest.objects.get()
    assert dsr.kind == kind
    assert dsr.email == "alice@example.fr"
    assert dsr.status == RequestStatus.SUBMITTED
    assert dsr.details == DETAILS[kind]
    assert dsr.received_at == NOW
    assert [s.kind for s in dsr.steps.all()] == [StepKind.RECEIVED]
    assert AuditEvent.objects.filter(action="request.submitted", object_ref=str(dsr.code)).exists()


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        ("rectification", {"what_is_wrong": "x"}, "correction"),
        ("objection", {"target": "other"}, "grounds"),
        ("restriction", {}, "case"),
        ("restriction", {"case": "because"}, "case"),
        ("erasure", {"scope": "part"}, "part"),
    ],
)
def test_it_asks_each_right_for_what_it_needs(client, kind, data, field, db):
    response = client.post(_url(kind, "en"), {**FORM, **data})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not DataSubjectRequest.objects.exists()


def test_it_drops_objection_grounds_for_marketing(db):
    dsr = services.submit_request(
        kind="objection",
        email="a@example.fr",
        name="",
        language="fr",
        details={"target": "marketing", "grounds": "ignored"},
        now=NOW,
    )
    assert dsr.details == {"target": "marketing"}


def test_it_refuses_unknown_details_keys(db):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.submit_request(
            kind="access",
            email="a@example.fr",
            name="",
            language="fr",
            details={"reason": "curious"},
            now=NOW,
        )


def test_it_404s_an_unknown_right(client, db):
    assert client.get(_url("everything")).status_code == 404


def test_it_starts_the_clock_on_the_paris_date_of_receipt(db):
    """A1: Saturday 23:50 in Paris (22:50 UTC) is received on that Saturday."""
    from datetime import UTC, date, datetime

    dsr = services.submit_request(
        kind="access",
        email="a@example.fr",
        name="",
        language="fr",
        details={},
        now=datetime(2026, 1, 31, 22, 50, tzinfo=UTC),
    )
    assert dsr.received_on == date(2026, 1, 31)
    assert dsr.raw_due_on == date(2026, 2, 28)
    assert dsr.due_on == date(2026, 3, 2)


def test_it_emails_a_single_use_confirmation_link(client, db):
    client.post(_url("access"), FORM)
    _deliver()
    [message] = mail.outbox
    assert message.to == ["alice@example.fr"]
    assert "/en/confirmer/" in message.body
    html = message.alternatives[0][0]
    assert "/en/confirmer/" in html
    outgoing = OutgoingEmail.objects.get()
    assert outgoing.status == "sent" and outgoing.attempts == 1


def test_it_answers_identically_for_known_and_unknown_addresses(
    client, make_person, django_assert_num_queries, db
):
    """No enumeration: same page, same number of queries, known person or not."""
    make_person(email="known@example.fr")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as known:
        known_response = client.post(_url("access"), {**FORM, "email": "known@example.fr"})
    with django_assert_num_queries(len(known.captured_queries)):
        unknown_response = client.post(_url("access"), {**FORM, "email": "nobody@example.fr"})
    assert known_response.status_code == unknown_response.status_code == 302
    assert known_response["Location"] == unknown_response["Location"]


def test_it_joins_a_second_open_request_of_the_same_kind(client, db):
    first = client.post(_url("erasure"), {**FORM, **DETAILS["erasure"]})
    second = client.post(
        _url("erasure"), {**FORM, "email": "ALICE@example.fr", **DETAILS["erasure"]}
    )
    assert first["Location"] == second["Location"]  # the page says nothing
    dsr = DataSubjectRequest.objects.get()
    assert [s.kind for s in dsr.steps.all()] == [StepKind.RECEIVED, StepKind.JOINED]
    _deliver()
    joined = [m for m in mail.outbox if "/confirmer/" in m.body]
    assert len(joined) == 2  # the second email tells them, with a fresh confirmation link
    assert AuditEvent.objects.filter(action="request.joined").count() == 1
    # Another right is another request.
    client.post(_url("access"), FORM)
    assert DataSubjectRequest.objects.count() == 2


@pytest.mark.parametrize("confirmed", [False, True], ids=["unconfirmed", "confirmed"])
def test_what_a_joining_submission_asked_is_kept_for_the_dpo_only(
    client, make_dsr, staff_client, bob, confirmed
):
    """Nothing sent is lost: the request keeps its first details, the "joined" step holds
    what the second submission asked. Nobody confirmed it (anyone who knows the address can
    send one), so the DPO sees it marked so, and the person's tracker does not show it."""
    dsr = make_dsr(confirm=confirmed, kind="erasure", details={"scope": "everything"})
    services.submit_request(
        kind="erasure",
        email="alice@example.fr",
        name="",
        language="en",
        details={"scope": "part", "part": "Only my reviews of the pottery class"},
        now=NOW,
    )
    dsr.refresh_from_db()
    assert dsr.details["scope"] == "everything"
    step = dsr.steps.get(kind=StepKind.JOINED)
    assert "Only my reviews of the pottery class" in step.message
    page = staff_client(bob).get(f"/admin/rights/datasubjectrequest/{dsr.pk}/change/")
    html = page.content.decode()
    assert "Only my reviews of the pottery class" in html
    assert "non confirmé" in html  # the admin renders in French
    if confirmed:
        tracker = client.get(f"/en/suivi/{dsr.tracker_token}/").content.decode()
        assert 'data-step="joined"' in tracker
        assert "pottery" not in tracker


@pytest.mark.parametrize("confirmed", [False, True], ids=["unconfirmed", "confirmed"])
def test_joining_leaves_the_open_request_as_it_was(make_dsr, confirmed):
    """The join's INSERT meets the open request and returns it unchanged (STYLE 5)."""
    from django.forms.models import model_to_dict

    dsr = make_dsr(confirm=confirmed)
    before = model_to_dict(DataSubjectRequest.objects.get(pk=dsr.pk))
    joined = services.submit_request(
        kind=dsr.kind,
        email=dsr.email.upper(),
        name="Someone Else",
        language="fr",
        details=None,
        now=NOW + timedelta(days=3),
    )
    assert (joined.pk, joined.code, joined.status) == (dsr.pk, dsr.code, before["status"])
    assert model_to_dict(DataSubjectRequest.objects.get(pk=dsr.pk)) == before
    assert DataSubjectRequest.objects.count() == 1


def test_it_enforces_one_open_request_per_kind_in_the_database(make_dsr):
    from django.db import IntegrityError, transaction

    dsr = make_dsr()
    clone = DataSubjectRequest(kind=dsr.kind, email="ALICE@example.fr", language="fr")
    clone.set_clock(NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()


def test_it_allows_a_new_request_once_the_first_is_closed(make_dsr, client):
    dsr = make_dsr(confirm=True)
    services.withdraw_request(dsr=dsr, now=NOW)
    again = make_dsr()
    assert again.pk != dsr.pk


def test_it_confirms_and_shows_the_tracker(client, db):
    client.post(_url("access"), FORM)
    _deliver()
    path = link_in(mail.outbox[0].body, "/confirmer/")
    assert client.get(path).status_code == 200  # a button: link scanners spend nothing
    response = client.post(path)
    assert response.status_code == 302
    dsr = DataSubjectRequest.objects.get()
    assert dsr.status == RequestStatus.OPEN
    tracker = client.get(response["Location"])
    assert tracker.status_code == 200
    assert tracker.context["dsr"] == dsr
    # The link was single use.
    again = client.post(path)
    assert again.status_code == 410
    assert again.context["state"] == "used"
    # The acknowledgement (A10) has the received date, the due date and the tracker link.
    _deliver()
    ack = sent_to("alice@example.fr")[-1]
    assert dsr.received_on.strftime("%B") in ack.body or str(dsr.received_on.year) in ack.body
    assert "/suivi/" in ack.body


def test_it_rate_limits_per_address_with_a_friendly_429(client, settings, db):
    settings.RIGHTS_RATE_LIMIT_PER_EMAIL = "2/h"
    for _ in range(2):
        assert client.post(_url("access"), FORM).status_code == 302
    response = client.post(_url("access", "en"), FORM)
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    # Another address from the same IP is still under the IP limit.
    assert client.post(_url("access"), {**FORM, "email": "bob@example.fr"}).status_code == 302


def test_it_rate_limits_per_ip(client, settings, db):
    settings.RIGHTS_RATE_LIMIT_PER_IP = "2/h"
    for i in range(2):
        assert client.post(_url("access"), {**FORM, "email": f"p{i}@example.fr"}).status_code == 302
    assert client.post(_url("access"), {**FORM, "email": "p9@example.fr"}).status_code == 429


def test_behind_our_proxy_it_limits_each_client_not_the_proxy(client, settings, db):
    """Behind a TLS terminator (TRUSTED_PROXY_COUNT=1) every request comes from its address:
    the limit counts the address it saw, the last X-Forwarded-For entry; what the client
    put before it is ignored."""
    settings.RIGHTS_RATE_LIMIT_PER_IP = "2/h"
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    def post(i, forwarded):
        return client.post(
            _url("access"),
            {**FORM, "email": f"p{i}@example.fr"},
            HTTP_X_FORWARDED_FOR=forwarded,
            **proxy,
        ).status_code

    assert [post(i, "203.0.113.7") for i in range(3)] == [302, 302, 429]
    assert post(3, "198.51.100.4") == 302  # another client, through the same proxy
    assert post(4, "198.51.100.99, 203.0.113.7") == 429  # a forged first entry changes nothing


def test_the_login_lockouts_read_the_same_address(rf, settings):
    from axes.helpers import get_client_ip_address

    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    assert get_client_ip_address(request) == "203.0.113.7"
    settings.TRUSTED_PROXY_COUNT = 0
    assert get_client_ip_address(request) == "10.0.0.2"


def test_it_fails_open_when_the_cache_is_down(client, settings, db, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = client.post(_url("access"), FORM)
    assert response.status_code == 302
    assert DataSubjectRequest.objects.count() == 1
    assert "failing open" in caplog.text
    assert "alice" not in caplog.text.lower()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_it_joins_concurrent_submissions_into_one_request(db):
    """Four submissions of the same right at once: one request, three joins, no error."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")
    barrier = threading.Barrier(4)
    codes: list[str] = []

    def submit():
        barrier.wait()
        try:
            dsr = services.submit_request(
                kind="access", email="alice@example.fr", name="", language="fr", details={}, now=NOW
            )
            codes.append(str(dsr.code))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dsr = DataSubjectRequest.objects.get()
    assert codes == [str(dsr.code)] * 4
    assert sorted(s.kind for s in dsr.steps.all()) == [StepKind.JOINED] * 3 + [StepKind.RECEIVED]


class _ReadsElsewhere:
    """A router that sends the requests' reads to a replica this test run does not have."""

    def db_for_read(self, model, **hints):
        return "replica" if model is DataSubjectRequest else None

    def db_for_write(self, model, **hints):
        return "default"


def test_the_intake_writes_to_the_write_database(settings, db):
    """insert_unless_open's INSERT goes where writes go, not where raw() reads from."""
    settings.DATABASE_ROUTERS = [_ReadsElsewhere()]
    dsr = services.submit_request(
        kind="access", email="alice@example.fr", name="", language="fr", details={}, now=NOW
    )
    settings.DATABASE_ROUTERS = []
    assert DataSubjectRequest.objects.get().code == dsr.code


@pytest.mark.parametrize(
    "url", [_url("access"), reverse("rights:space_sign_in")], ids=["request form", "sign-in"]
)
def test_an_address_too_long_for_our_columns_is_a_form_error(client, url, db):
    """255 to 320 characters pass Django's EmailField but not the database (was a 500)."""
    response = client.post(url, {**FORM, "email": "a" * 250 + "@example.fr"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not DataSubjectRequest.objects.exists()
