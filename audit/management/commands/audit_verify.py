"""`manage.py audit_verify`: re-walk the audit log's hash chain and name the first broken row."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.services import verify_chain


class Command(BaseCommand):
    help = "Check the audit log's hash chain. Exits 1 and names the first broken row if any."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--chunk-size", type=int, default=2000, help="Rows fetched at a time (default 2000)."
        )

    def handle(self, *args, chunk_size: int, **options) -> None:
        ok, broken_id, checked = verify_chain(chunk_size=chunk_size)
        if ok:
            self.stdout.write(f"OK: {checked} events, chain intact")
            return
        event = AuditEvent.objects.get(pk=broken_id)
        raise CommandError(
            f"Chain broken at event {event.pk} ({event.at.isoformat()}, {event.action}): "
            f"it, or a row just before it, was edited, deleted or inserted "
            f"({checked - 1} events before it verified)."
        )
