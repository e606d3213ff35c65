"""Each of the six rights, from a confirmed request in the queue to what the person sees,
through the DPO's actions on the request page (rights.fulfilment, "The request page").

The admin actions run as bob (DPO group, second factor verified); what happens after commit
(the export task, the outbox) runs too, in-process. The person's side is their tracker and
the emails they receive.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core import mail
from django.test import Client

from audit.hashing import subject_hash
from consent import services as consent_services
from consent.models import OppositionEntry
from people import stripe as people_stripe
from people.models import Person, Purchase
from rights import fulfilment, services
from rights.models import (
    ActionRefused,
    DataSubjectRequest,
    ErasureLedger,
    Export,
    NotificationStatus,
    OutgoingEmail,
    RequestStatus,
    Restriction,
    RestrictionCase,
)
from tests.conftest import NOW

from .conftest import link_in, sent_to
from .test_request_page import action_url, page_url

ALICE = "alice@example.fr"

pytestmark = pytest.mark.usefixtures("_private_media")


@pytest.fixture
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def _stripe_knows_no_one(monkeypatch):
    """Stripe's part of the export is tested against localstripe (tests/people)."""
    monkeypatch.setattr(people_stripe, "customer_data", lambda customer_id: None)


@pytest.fixture
def worker_media(monkeypatch, settings, tmp_path):
    """The real worker writes where this test reads: the same MEDIA_ROOT (same machine).
    Listed before `celery_worker`, which starts the worker with this environment."""
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path))
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def dpo(staff_client, bob):
    return staff_client(bob)


@pytest.fixture
def act(dpo, django_capture_on_commit_callbacks):
    """Post one action of the request page as bob; run what it leaves for after commit."""

    def post(dsr, action: str, **data):
        with django_capture_on_commit_callbacks(execute=True):
            return dpo.post(
                action_url(dsr, action), {f"{action}-{name}": v for name, v in data.items()}
            )

    return post


@pytest.fixture
def seams(monkeypatch):
    """Stripe, recorded (tests/rights/test_erasure.py covers the real calls)."""
    calls = {"detach": [], "delete": []}
    monkeypatch.setattr(
        fulfilment,
        "stripe_detach_payment_method",
        lambda *, payment_method_id: calls["detach"].append(payment_method_id),
    )
    monkeypatch.setattr(
        fulfilment,
        "stripe_delete_customer",
        lambda *, customer_id, **kwargs: calls["delete"].append(customer_id),
    )
    return calls


def tags_of(response) -> list[str]:
    return [m.level_tag for m in get_messages(response.wsgi_request)]


def tracker(dsr) -> str:
    response = Client().get(f"/en/suivi/{dsr.tracker_token}/")
    assert response.status_code == 200
    return response.content.decode()


def last_email(template: str):
    """The email the person received from `template` (sent through the outbox)."""
    outgoing = OutgoingEmail.objects.filter(template=template, to=ALICE).latest("id")
    return [m for m in sent_to(ALICE) if m.subject == outgoing.subject][-1]


# --- Access and portability (Art. 15, 20) ------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_access_prepares_the_export_completes_and_the_person_downloads_it(
    holdings, make_dsr, dpo, act
):
    dsr = make_dsr(confirm=True, kind="access")
    page = dpo.get(page_url(dsr)).content.decode()
    assert 'id="action-prepare-export"' in page
    assert 'id="action-complete"' not in page  # the export is the answer

    response = act(dsr, "prepare-export")

    assert response.status_code == 302
    assert tags_of(response)[-1] == "success"
    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.COMPLETED
    assert [s.kind for s in dsr.steps.all()][-2:] == ["started", "completed"]
    export = Export.objects.get(request=dsr)
    email = last_email("export_ready")
    assert "CNIL" in email.body and "judicial remedy" in email.body  # the answer's remedies
    link_in(email.body, "/suivi/")
    assert not OutgoingEmail.objects.filter(template="request_completed").exists()  # one email

    page = tracker(dsr)
    assert 'data-step="completed"' in page and 'id="send-download-link"' in page
    download = Client().post(link_in(email.body, "/telecharger/"))
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as zf:
        assert "summary.html" in zf.namelist()
        purchases = json.loads(zf.read("purchases.json"))
    invoices = {r["invoice_number"] for r in purchases["records"] if r["record"] == "purchase"}
    assert holdings["recent"].invoice_number in invoices
    assert f'data-export="{export.code}"' in dpo.get(page_url(dsr)).content.decode()


@time_machine.travel(NOW, tick=False)
def test_portability_answers_with_the_portable_export(holdings, make_dsr, act):
    dsr = make_dsr(confirm=True, kind="portability")

    act(dsr, "prepare-export")

    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.COMPLETED
    download = Client().post(link_in(last_email("export_ready").body, "/telecharger/"))
    with zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content))) as zf:
        assert "schema.md" in zf.namelist() and "summary.html" not in zf.namelist()
    assert 'data-step="completed"' in tracker(dsr)


def test_it_refuses_to_close_by_hand_before_the_work_is_done(make_dsr, bob, in_english):
    dsr = make_dsr(confirm=True, kind="access")

    with pytest.raises(ActionRefused, match="Prepare the export"):
        services.complete_request(dsr=dsr, by=bob, now=NOW)

    erasure = make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})
    with pytest.raises(ActionRefused, match="Execute the erasure"):
        services.partially_complete_request(
            dsr=erasure, ground="legal_exception", reasons="r", by=bob, now=NOW
        )


def test_an_export_built_after_a_withdrawal_completes_and_sends_nothing(
    holdings, make_dsr, settings
):
    from rights import exports

    dsr = make_dsr(confirm=True, kind="access")
    services.withdraw_request(dsr=dsr, now=NOW)

    assert exports.build_export(dsr=dsr, now=NOW) is None

    assert DataSubjectRequest.objects.get(pk=dsr.pk).status == RequestStatus.WITHDRAWN
    assert not Export.objects.exists()
    assert not OutgoingEmail.objects.filter(template="export_ready").exists()
    assert not list((settings.MEDIA_ROOT / "exports").glob("*.zip"))  # no file left


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_builds_the_export_and_completes_the_request(
    worker_media, celery_worker, make_person, make_purchase, make_dsr, staff_client, fresh_dpo
):
    alice = make_person()
    make_purchase(person=alice)
    dsr = make_dsr(confirm=True, kind="access")

    response = staff_client(fresh_dpo).post(action_url(dsr, "prepare-export"))

    assert response.status_code == 302
    deadline = time.monotonic() + 60
    while not Export.objects.filter(request=dsr).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    export = Export.objects.get(request=dsr)
    with zipfile.ZipFile(worker_media / export.file_path) as zf:
        assert "summary.html" in zf.namelist()
    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.COMPLETED
    assert OutgoingEmail.objects.filter(request=dsr, template="export_ready").exists()


# --- Rectification (Art. 16) ---------------------------------------------------------------


@pytest.fixture
def rectification(make_dsr, alice):
    return make_dsr(
        confirm=True,
        kind="rectification",
        details={
            "what_is_wrong": "My first name and address",
            "proposed": {"first_name": "Alicia", "email": "alicia@example.fr"},
        },
    )


@time_machine.travel(NOW, tick=False)
def test_rectification_applies_what_the_dpo_accepts_and_explains_the_rest(
    rectification, alice, dpo, act
):
    page = dpo.get(page_url(rectification)).content.decode()
    assert 'data-field="first_name"' in page and 'data-field="email"' in page
    assert 'name="rectify-accepted" value="first_name"' in page  # a checkbox per field

    act(
        rectification,
        "rectify",
        accepted=["first_name"],
        ground="not_applicable",
        reasons="Your address is the one you confirmed when you signed in.",
    )

    alice.refresh_from_db()
    assert (alice.first_name, alice.email) == ("Alicia", ALICE)
    rectification.refresh_from_db()
    assert rectification.status == RequestStatus.PARTIALLY_COMPLETED
    email = last_email("request_partially_completed")
    assert "Not corrected: Email address." in email.body
    assert "the one you confirmed" in email.body
    assert "CNIL" in email.body and "judicial remedy" in email.body
    page = tracker(rectification)
    assert 'data-step="partially_completed"' in page and "Not corrected" in page
    assert 'id="recipients"' in page  # who we told (Art. 19)


@time_machine.travel(NOW, tick=False)
def test_rectification_needs_reasons_to_reject_a_correction(rectification, alice, act):
    response = act(rectification, "rectify", accepted=["first_name"])

    assert tags_of(response)[-1] == "error"
    alice.refresh_from_db()
    assert alice.first_name == "Alice"
    assert DataSubjectRequest.objects.get(pk=rectification.pk).status == RequestStatus.OPEN


@time_machine.travel(NOW, tick=False)
def test_rectification_completes_when_every_correction_is_accepted(rectification, alice, act):
    act(rectification, "rectify", accepted=["first_name", "email"])

    alice.refresh_from_db()
    assert (alice.first_name, alice.email) == ("Alicia", "alicia@example.fr")
    assert DataSubjectRequest.objects.get(pk=rectification.pk).status == RequestStatus.COMPLETED
    assert "request_completed" in {e.template for e in OutgoingEmail.objects.all()}


# --- Erasure (Art. 17) ---------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_erasure_erases_keeps_what_the_law_requires_and_says_until_when(
    holdings, make_dsr, dpo, act, seams
):
    recent, old = holdings["recent"], holdings["old"]  # debited 2 months and 3 years ago
    dsr = make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})
    page = dpo.get(page_url(dsr)).content.decode()
    assert 'id="erasure-plan"' in page
    assert 'data-until="2026-12-16"' in page and 'data-until="2035-12-31"' in page

    response = act(dsr, "erase")

    assert tags_of(response)[-2:] == ["success", "warning"]  # Stripe is still to be told
    assert not Person.objects.filter(email=ALICE).exists()
    recent, old = Purchase.objects.get(pk=recent.pk), Purchase.objects.get(pk=old.pk)
    assert (recent.card_last4, recent.debited_on) == ("4242", date(2025, 11, 16))
    assert old.card_last4 == "" and old.card_brand == ""  # 13 months are over
    assert recent.invoice_number and old.invoice_number and old.billing_name  # 10 years
    assert OppositionEntry.objects.filter(subject_hash=subject_hash(ALICE)).exists()
    assert ErasureLedger.objects.get().request_code == dsr.code
    assert seams["detach"] == ["pm_alice"]

    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.PARTIALLY_COMPLETED
    assert "16 December 2026" in dsr.outcome_reasons and "L133-24" in dsr.outcome_reasons
    email = last_email("erasure_done")
    assert "16 December 2026" in email.body and "31 December 2035" in email.body
    assert "CNIL" in email.body and "judicial remedy" in email.body
    page = tracker(dsr)
    assert 'data-step="partially_completed"' in page and "31 December 2035" in page

    stripe = dsr.recipient_notifications.get(recipient="Stripe Payments Europe Ltd")
    assert 'id="recipients-pending"' in dpo.get(page_url(dsr)).content.decode()
    act(dsr, "notified", notification=stripe.pk)
    stripe.refresh_from_db()
    assert stripe.status == NotificationStatus.SENT and stripe.notified_at == NOW


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("since", [NOW, NOW + timedelta(days=30)], ids=["in force", "starts later"])
def test_erasure_under_a_legal_hold_does_nothing_and_says_why(
    holdings, make_dsr, dpo, act, seams, since
):
    from retention.models import HoldReason, LegalHold

    LegalHold.objects.create(person=holdings["person"], reason=HoldReason.DISPUTE, since=since)
    dsr = make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})
    assert 'id="legal-hold"' in dpo.get(page_url(dsr)).content.decode()

    response = act(dsr, "erase")

    assert tags_of(response)[-1] == "error"
    said = str(list(get_messages(response.wsgi_request))[-1])  # the admin speaks French
    assert said.startswith("Un gel conservatoire concerne cette personne (en vigueur, ou daté")
    assert Person.objects.filter(email=ALICE).exists() and not ErasureLedger.objects.exists()
    assert not OppositionEntry.objects.exists() and seams["detach"] == []
    assert DataSubjectRequest.objects.get(pk=dsr.pk).status == RequestStatus.OPEN
    assert not sent_to(ALICE)


@time_machine.travel(NOW, tick=False)
def test_erasure_of_someone_we_hold_nothing_about_completes(make_dsr, act):
    dsr = make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})

    act(dsr, "erase")

    assert DataSubjectRequest.objects.get(pk=dsr.pk).status == RequestStatus.COMPLETED
    assert "we held nothing we could erase" in last_email("erasure_done").body
    assert consent_services.is_opposed(email=ALICE)


# --- Restriction (Art. 18) -----------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_restriction_restricts_completes_and_lifts_after_telling_the_person(
    make_dsr, alice, dpo, act
):
    dsr = make_dsr(confirm=True, kind="restriction", details={"case": "accuracy"})
    page = dpo.get(page_url(dsr)).content.decode()
    assert '<option value="accuracy" selected>' in page  # the person's case, to confirm

    act(dsr, "restrict", case="accuracy")

    restriction = Restriction.objects.get(person=alice)
    assert restriction.case == RestrictionCase.ACCURACY and restriction.request_id == dsr.pk
    assert alice in Person.objects.restricted()
    dsr.refresh_from_db()
    assert dsr.status == RequestStatus.COMPLETED
    assert "request_completed" in {e.template for e in OutgoingEmail.objects.filter(to=ALICE)}
    assert 'data-step="completed"' in tracker(dsr)

    page = dpo.get(page_url(dsr)).content.decode()
    assert 'id="action-lift"' in page  # later, on the closed request
    act(dsr, "lift")

    restriction.refresh_from_db()
    assert restriction.lift_notice_at == restriction.lifted_at == NOW
    assert alice in Person.objects.unrestricted()
    assert "GDPR article 18(3)" in last_email("restriction_lifted").body


# --- Objection (Art. 21) -------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_an_objection_to_marketing_is_stopped_at_once(make_dsr, alice, dpo, act):
    dsr = make_dsr(confirm=True, kind="objection", details={"target": "marketing"})
    page = dpo.get(page_url(dsr)).content.decode()
    assert 'id="action-stop-marketing"' in page and 'id="action-decide"' not in page

    act(dsr, "stop-marketing")

    assert consent_services.is_opposed(email=ALICE)
    assert DataSubjectRequest.objects.get(pk=dsr.pk).status == RequestStatus.COMPLETED
    assert "completed" in last_email("request_completed").subject.lower()
    assert 'data-step="completed"' in tracker(dsr)


@pytest.fixture
def objection(make_dsr, alice):
    return make_dsr(
        confirm=True, kind="objection", details={"target": "other", "grounds": "I moved"}
    )


@time_machine.travel(NOW, tick=False)
def test_an_objection_refused_needs_compelling_grounds_sent_as_reasons(objection, alice, act):
    act(objection, "suspend")
    objection.refresh_from_db()
    assert objection.status == RequestStatus.IN_PROGRESS
    assert alice in Person.objects.restricted()

    response = act(objection, "decide", decision="refused", compelling_grounds=" ")
    assert tags_of(response)[-1] == "error"
    assert DataSubjectRequest.objects.get(pk=objection.pk).status == RequestStatus.IN_PROGRESS

    grounds = "Fraud prevention on a contested payment outweighs it."
    act(objection, "decide", decision="refused", compelling_grounds=grounds)

    objection.refresh_from_db()
    assert objection.status == RequestStatus.REFUSED and objection.outcome_reasons == grounds
    assert objection.objection_decision.compelling_grounds == grounds
    assert alice in Person.objects.unrestricted()  # lifted, the person told first
    assert last_email("restriction_lifted")
    refusal = last_email("request_refused")
    assert grounds in refusal.body and "CNIL" in refusal.body
    assert "judicial remedy" in refusal.body
    assert 'data-step="refused"' in tracker(objection)


@time_machine.travel(NOW, tick=False)
def test_an_objection_upheld_completes_and_keeps_the_processing_stopped(objection, alice, act):
    act(objection, "suspend")

    act(objection, "decide", decision="upheld", compelling_grounds="")

    assert DataSubjectRequest.objects.get(pk=objection.pk).status == RequestStatus.COMPLETED
    assert alice in Person.objects.restricted()
    assert last_email("request_completed")
    assert mail.outbox
