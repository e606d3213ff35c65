"""`manage.py reapply_erasures`: after restoring a backup, erase again everyone erased since."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from rights.fulfilment import reapply_erasures


class Command(BaseCommand):
    help = (
        "Erase again the people a restored backup brought back, from the erasure ledger "
        "(matched by the keyed hash of their address). Idempotent."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the people to erase; change nothing."
        )

    def handle(self, *args, dry_run: bool, **options) -> None:
        count = reapply_erasures(now=timezone.now(), dry_run=dry_run)
        verb = "would erase" if dry_run else "erased"
        self.stdout.write(f"{verb} {count} restored record(s)")
