"""Celery entry points: an id (or nothing) in, a service call, a count out (STYLE 17)."""

from __future__ import annotations

import uuid

from celery import Task, shared_task
from django.utils import timezone

from rights import exports, services
from rights.models import DataSubjectRequest


# No result: the web request queues it, and a result would make `.delay()` subscribe to the
# result backend, which retries for 20 s when Redis is down (tests/faults/test_redis_down.py).
@shared_task(ignore_result=True)
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


@shared_task(bind=True)
def build_export(self: Task, dsr_id: int) -> int:
    """Build an access or portability export; return its size in bytes. The task's id names
    the build, so a message delivered again (acks_late, a killed worker) builds it once."""
    dsr = DataSubjectRequest.objects.get(pk=dsr_id)
    build_id = uuid.UUID(self.request.id) if self.request.id else None
    return exports.build_export(dsr=dsr, now=timezone.now(), build_id=build_id).size


@shared_task
def delete_expired_exports() -> int:
    return exports.delete_expired_exports(now=timezone.now())
