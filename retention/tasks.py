"""Celery entry points: each fetches what it needs, calls a service, returns a count."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.utils import timezone

from retention import services, sweeps


@shared_task
def run_all_sweeps() -> int:
    """Beat's nightly entry: one task per registered policy, so workers share them."""
    for name in sweeps.POLICIES:
        run_sweep.delay(name)
    return len(sweeps.POLICIES)


@shared_task
def run_sweep(policy: str) -> int:
    return services.run_policy(policy, now=timezone.now()).rows_affected


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, max_retries=8)
def send_repermission_emails(repermission_ids: list[int]) -> int:
    return services.send_repermission_emails(repermission_ids=repermission_ids)
