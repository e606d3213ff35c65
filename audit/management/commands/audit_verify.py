"""`manage.py audit_verify`: re-walk the audit log's hash chain and name the first broken row."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.services import Anchor, chain_head, verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit log's hash chain. Exits 1 and names the first broken row if any. "
        "Prints the head (ID:HASH): kept outside the database and given back with --anchor, "
        "it also catches rows cut from the end or rewritten with their hashes recomputed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--chunk-size", type=int, default=2000, help="Rows fetched at a time (default 2000)."
        )
        parser.add_argument(
            "--anchor",
            type=_anchor,
            help="ID:HASH of an event, as an earlier run printed it: it must still be there.",
        )

    def handle(self, *args, chunk_size: int, anchor: Anchor | None, **options) -> None:
        ok, broken_id, checked = verify_chain(chunk_size=chunk_size, anchor=anchor)
        if ok:
            self.stdout.write(f"OK: {checked} events, chain intact; head {chain_head() or '-'}")
            return
        event = AuditEvent.objects.filter(pk=broken_id).first()
        if anchor is not None and broken_id == anchor.id:
            state = "is gone" if event is None else "has another hash"
            raise CommandError(
                f"The anchored event {anchor.id} {state}: the log was cut or rewritten "
                f"({checked} events verified)."
            )
        raise CommandError(
            f"Chain broken at event {event.pk} ({event.at.isoformat()}, {event.action}): "
            f"it, or a row just before it, was edited, deleted or inserted "
            f"({checked - 1} events before it verified)."
        )


def _anchor(text: str) -> Anchor:
    try:
        return Anchor.parse(text)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
