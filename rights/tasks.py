"""Celery entry points: an id (or nothing) in, a service call, a count out (STYLE 17)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from rights import exports, services
from rights.models import DataSubjectRequest


@shared_task
def send_email(email_id: int) -> int:
    """Send one outbox email (queued on commit); the relay catches anything missed."""
    return int(services.send_outgoing_email(email_id=email_id, now=timezone.now()))


@shared_task
def relay_pending_emails() -> int:
    return services.relay_pending_emails(now=timezone.now())


@shared_task
def send_confirmation_reminders() -> int:
    return services.send_confirmation_reminders(now=timezone.now())


@shared_task
def expire_unconfirmed_requests() -> int:
    return services.expire_unconfirmed_requests(now=timezone.now())


@shared_task
def purge_sent_emails() -> int:
    return services.purge_sent_emails(now=timezone.now())


@shared_task
def purge_spent_sign_in_links() -> int:
    return services.purge_spent_sign_in_links(now=timezone.now())


@shared_task
def build_export(dsr_id: int) -> int:
    """Build an access or portability export; return its size in bytes."""
    dsr = DataSubjectRequest.objects.get(pk=dsr_id)
    return exports.build_export(dsr=dsr, now=timezone.now()).size


@shared_task
def delete_expired_exports() -> int:
    return exports.delete_expired_exports(now=timezone.now())


@shared_task
def send_deadline_digest() -> int:
    """The DPO group's morning digest: due soon and overdue (references and kinds only)."""
    return services.send_deadline_digest(now=timezone.now())
