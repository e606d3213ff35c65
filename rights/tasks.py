"""Celery entry points: an id (or nothing) in, a service call, a count out (STYLE 17).

What the rights app leaves behind (unconfirmed requests, sent emails, sign-in links,
expired exports, closed requests) is purged by retention's policies (retention/sweeps.py),
which record every run.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from celery import Task, shared_task
from django.utils import timezone

from people import stripe as people_stripe
from people.models import Person
from rights import exports, fulfilment, services
from rights.models import DataSubjectRequest, PendingStripeDeletion, RecipientNotification

# Stripe unreachable, timing out, 429 or 5xx: try again after 1, 2, 4... minutes, then
# hourly, for about a day (with jitter); the notification shows the DPO the last error.
STRIPE_RETRY = {
    "autoretry_for": (people_stripe.StripeUnavailable,),
    "retry_backoff": 60,
    "retry_backoff_max": 60 * 60,
    "retry_jitter": True,
    "max_retries": 24,
}


# No result: the web request queues it, and a result would make `.delay()` subscribe to the
# result backend, which retries for 20 s when Redis is down (tests/faults/test_redis_down.py).
@shared_task(ignore_result=True)
def send_email(email_id: int) -> int:
    """Send one outbox email (queued on commit); the relay catches anything missed."""
    return int(services.send_outgoing_email(email_id=email_id, now=timezone.now()))


@shared_task(ignore_result=True)  # web processes queue it too (RelayThrottle): as send_email
def relay_pending_emails() -> int:
    return services.relay_pending_emails(now=timezone.now())


@shared_task
def send_confirmation_reminders() -> int:
    return services.send_confirmation_reminders(now=timezone.now())


@shared_task(bind=True, **STRIPE_RETRY)
def build_export(self: Task, dsr_id: int) -> int:
    """Build an access or portability export; return its size in bytes. A failed build
    leaves nothing behind, so one that could not read Stripe is simply tried again. The
    task's id names the build, so a message delivered again (acks_late, a killed worker)
    builds it once."""
    dsr = DataSubjectRequest.objects.get(pk=dsr_id)
    build_id = uuid.UUID(self.request.id) if self.request.id else None
    export = exports.build_export(dsr=dsr, now=timezone.now(), build_id=build_id)
    return export.size if export else 0


@shared_task
def send_deadline_digest() -> int:
    """The DPO group's morning digest: due soon and overdue (references and kinds only)."""
    return services.send_deadline_digest(now=timezone.now())


@shared_task(**STRIPE_RETRY)
def delete_stripe_customer(customer_id: str, notification_id: int | None = None) -> int:
    """Delete a customer at Stripe (erasure) and mark its notification sent.

    By Stripe's customer id: the Person row is gone by the time this runs. The id is an
    opaque, pseudonymous reference (no name, no address), so it may travel as a Celery
    argument and appear in the broker (STYLE 16 forbids personal data such as emails).
    """
    notification = RecipientNotification.objects.filter(pk=notification_id).first()
    fulfilment.delete_stripe_customer(
        customer_id=customer_id, notification=notification, now=timezone.now()
    )
    return 1


# A deletion still waiting this long has outlived its task's retries (about a day), or its
# task was never queued: queue it again.
STRIPE_DELETION_REQUEUE_AFTER = timedelta(days=1)


@shared_task(ignore_result=True)
def retry_stripe_deletions() -> int:
    """Queue again each Stripe deletion an erasure recorded that Stripe has not confirmed
    within STRIPE_DELETION_REQUEUE_AFTER of its last queueing; return how many."""
    now = timezone.now()
    waiting = list(
        PendingStripeDeletion.objects.filter(queued_at__lt=now - STRIPE_DELETION_REQUEUE_AFTER)
    )
    for deletion in waiting:
        delete_stripe_customer.delay(deletion.customer_id, deletion.notification_id)
    PendingStripeDeletion.objects.filter(pk__in=[d.pk for d in waiting]).update(queued_at=now)
    return len(waiting)


@shared_task(**STRIPE_RETRY)
def update_stripe_customer(notification_id: int, person_id: int) -> int:
    """Pass a rectification on to Stripe; read the values when it runs, never from the
    arguments."""
    notification = RecipientNotification.objects.get(pk=notification_id)
    person = Person.objects.filter(pk=person_id).first()
    updated = fulfilment.update_stripe_customer(
        notification=notification, person=person, now=timezone.now()
    )
    return int(updated)
