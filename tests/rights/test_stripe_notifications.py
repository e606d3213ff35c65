"""Stripe's part of the rights, against localstripe: the access package reads the customer,
a rectification updates it, an erasure deletes it, each through a task that retries while
Stripe is down and records it on the request's Stripe notification (GDPR 15, 16, 17, 19).
"""

from __future__ import annotations

import json
import zipfile

import pytest

from audit.models import AuditEvent
from people import stripe as people_stripe
from people.models import Person
from rights import exports, fulfilment, tasks
from rights.models import Export, NotificationStatus, RecipientNotification
from tests.conftest import NOW

STRIPE = "Stripe Payments Europe Ltd"
CARD = {"number": "4242424242424242", "exp_month": 4, "exp_year": 2030, "cvc": "123"}


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def paying_alice(stripe_api, alice):
    """Alice, a Stripe customer at localstripe with a card and a charge."""
    customer = stripe_api.v1.customers.create(params={"email": alice.email, "name": "Alice Martin"})
    method = stripe_api.v1.payment_methods.create(params={"type": "card", "card": CARD})
    stripe_api.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    stripe_api.v1.charges.create(
        params={"amount": 4500, "currency": "eur", "customer": customer.id, "source": method.id}
    )
    alice.stripe_customer_id = customer.id
    alice.is_client = True
    alice.save()
    return alice


@pytest.fixture
def stripe_down(settings, monkeypatch):
    def down():
        settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
        monkeypatch.setattr(people_stripe, "NETWORK_RETRIES", 0)

    return down


@pytest.fixture
def eager_retries(monkeypatch):
    """Let an eager task retry: its retries run at once, one after the other (a worker waits
    1, 2, 4... minutes), and the last failure is returned rather than raised."""
    from okasio_privacy.celery import app

    monkeypatch.setattr(app.conf, "task_eager_propagates", False)


def _stripe_notice(dsr) -> RecipientNotification:
    return dsr.recipient_notifications.get(recipient=STRIPE)


# --- Access (Art. 15) ------------------------------------------------------------------------


def test_the_access_package_holds_what_stripe_holds(paying_alice, make_dsr):
    dsr = make_dsr(confirm=True)
    export = exports.build_export(dsr=dsr, now=NOW)
    with zipfile.ZipFile(exports.export_path(export)) as zf:
        document = json.loads(zf.read("stripe.json"))
        csv_text = zf.read("stripe.csv").decode()
        summary = zf.read("summary.html").decode()
    records = {r["record"]: r for r in document["records"]}
    assert records["customer"]["id"] == paying_alice.stripe_customer_id
    assert records["customer"]["email"] == "alice@example.fr"
    assert records["charge"]["amount"] == 4500
    assert records["payment_method"]["card"]["last4"] == "4242"
    assert document["truncated"] is False
    header, *rows = csv_text.splitlines()
    assert header.startswith("record,") and "card.last4" in header
    assert len(rows) == 3
    assert "stripe.csv" in summary


def test_an_export_that_cannot_reach_stripe_leaves_nothing_and_is_retried(
    paying_alice, make_dsr, stripe_down, settings, eager_retries, monkeypatch
):
    dsr = make_dsr(confirm=True)
    stripe_down()
    monkeypatch.setattr(tasks.build_export, "max_retries", 2)
    result = tasks.build_export.apply(args=(dsr.id,))  # retries, then fails
    assert isinstance(result.result, people_stripe.StripeUnavailable)
    assert not Export.objects.exists()
    assert not list((settings.MEDIA_ROOT / "exports").glob("*.zip"))
    assert tasks.build_export.autoretry_for == (people_stripe.StripeUnavailable,)


# --- Rectification (Art. 16, 19) -------------------------------------------------------------


def test_a_rectification_updates_the_stripe_customer_and_marks_it_notified(
    paying_alice, make_dsr, bob, stripe_api, django_capture_on_commit_callbacks
):
    dsr = make_dsr(
        confirm=True,
        kind="rectification",
        details={
            "what_is_wrong": "My name",
            "proposed": {"first_name": "Alicia", "email": "alicia@example.fr"},
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.apply_rectification(dsr=dsr, accepted={"first_name", "email"}, by=bob, now=NOW)

    customer = stripe_api.v1.customers.retrieve(paying_alice.stripe_customer_id)
    assert (customer.email, customer.name) == ("alicia@example.fr", "Alicia Martin")
    notice = _stripe_notice(dsr)
    assert notice.status == NotificationStatus.SENT and notice.attempts == 1
    assert notice.last_error == ""


def test_without_a_stripe_customer_the_notification_waits_for_the_dpo(
    alice, make_dsr, bob, django_capture_on_commit_callbacks
):
    dsr = make_dsr(
        confirm=True,
        kind="rectification",
        details={"what_is_wrong": "My name", "proposed": {"first_name": "Alicia"}},
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        fulfilment.apply_rectification(dsr=dsr, accepted={"first_name"}, by=bob, now=NOW)
    assert _stripe_notice(dsr).status == NotificationStatus.PENDING
    assert not [c for c in callbacks if "stripe" in repr(c)]


# --- Erasure (Art. 17, 19) -------------------------------------------------------------------


def test_an_erasure_deletes_the_stripe_customer(
    paying_alice, make_dsr, bob, django_capture_on_commit_callbacks
):
    customer_id = paying_alice.stripe_customer_id
    dsr = make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.execute_erasure(dsr=dsr, person=paying_alice, by=bob, now=NOW)

    assert not Person.objects.exists()
    assert people_stripe.customer_data(customer_id) is None
    notice = _stripe_notice(dsr)
    assert notice.status == NotificationStatus.SENT and notice.notified_at is not None
    notified = AuditEvent.objects.get(action="recipient.notified")
    assert (notified.actor_type, notified.object_ref) == ("system", str(dsr.code))


def test_while_stripe_is_down_the_task_retries_and_the_request_waits_on_stripe(
    paying_alice,
    make_dsr,
    bob,
    stripe_down,
    stripe_server,
    settings,
    staff_client,
    eager_retries,
    monkeypatch,
):
    customer_id = paying_alice.stripe_customer_id
    dsr = make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})
    fulfilment.execute_erasure(dsr=dsr, person=paying_alice, by=bob, now=NOW)
    notice = _stripe_notice(dsr)

    stripe_down()
    monkeypatch.setattr(tasks.delete_stripe_customer, "max_retries", 3)
    result = tasks.delete_stripe_customer.apply(args=(customer_id, notice.pk))
    assert isinstance(result.result, people_stripe.StripeUnavailable)
    notice.refresh_from_db()
    assert notice.status == NotificationStatus.PENDING
    assert notice.attempts == 4  # tried, retried 3 times, then gave up until the DPO acts
    assert notice.last_error.startswith("APIConnectionError") and notice.is_waiting

    client = staff_client(bob)
    page = client.get("/admin/rights/recipientnotification/").content.decode()
    assert "En attente de Stripe Payments Europe Ltd" in page  # the admin renders in French
    page = client.get(f"/admin/rights/datasubjectrequest/{dsr.pk}/change/").content.decode()
    assert 'id="recipients"' in page and "En attente de Stripe Payments Europe Ltd" in page
    assert "APIConnectionError" in page

    settings.STRIPE_API_BASE = stripe_server  # Stripe answers again
    tasks.delete_stripe_customer.apply(args=(customer_id, notice.pk))
    notice.refresh_from_db()
    assert notice.status == NotificationStatus.SENT and not notice.is_waiting
    assert people_stripe.customer_data(customer_id) is None


def test_a_refusal_is_recorded_and_not_retried(make_dsr, stripe_api, settings, eager_retries):
    dsr = make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})
    notice = RecipientNotification.objects.create(request=dsr, recipient=STRIPE, created_at=NOW)
    settings.STRIPE_SECRET_KEY = ""
    result = tasks.delete_stripe_customer.apply(args=("cus_1", notice.pk))
    assert type(result.result) is people_stripe.StripeError
    notice.refresh_from_db()
    assert notice.attempts == 1 and "not configured" in notice.last_error


def test_a_stripe_deletion_is_not_forgotten_when_its_task_is_lost(
    paying_alice, make_dsr, bob, django_capture_on_commit_callbacks, time_machine
):
    """B4, B6: the customer to delete is written with the erasure; when the task never runs
    (the broker was down at commit, or it gave up after its retries), the hourly
    retry_stripe_deletions queues it again a day later, until Stripe confirms."""
    from rights.models import PendingStripeDeletion

    customer_id = paying_alice.stripe_customer_id
    dsr = make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})
    time_machine.move_to(NOW, tick=False)
    with django_capture_on_commit_callbacks(execute=False):  # the task is lost
        fulfilment.execute_erasure(dsr=dsr, person=paying_alice, by=bob, now=NOW)
    assert PendingStripeDeletion.objects.filter(customer_id=customer_id).exists()
    assert tasks.retry_stripe_deletions() == 0  # not yet: its own task may still be retrying

    time_machine.move_to(NOW + tasks.STRIPE_DELETION_REQUEUE_AFTER * 1.1, tick=False)
    assert tasks.retry_stripe_deletions() == 1

    assert people_stripe.customer_data(customer_id) is None  # deleted at Stripe
    assert not PendingStripeDeletion.objects.exists()
    assert _stripe_notice(dsr).status == NotificationStatus.SENT
