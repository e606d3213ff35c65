"""`manage.py sweep [--policy NAME] [--dry-run] [--now ISO-DATE]`: the nightly sweeps by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from retention import services, sweeps


class Command(BaseCommand):
    help = "Apply the retention policies (all, or one), or show what they would do."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--policy", choices=sorted(sweeps.POLICIES), help="one policy only")
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
        parser.add_argument(
            "--now", help="apply the periods as of this ISO date or time (UTC); default: now"
        )
        parser.add_argument("--batch-size", type=int, default=sweeps.DEFAULT_BATCH_SIZE)

    def handle(self, *args: object, **options: object) -> None:
        now = _parse_now(options["now"]) if options["now"] else timezone.now()
        names = [options["policy"]] if options["policy"] else list(sweeps.POLICIES)
        dry_run = bool(options["dry_run"])
        self.stdout.write(
            f"Retention sweep as of {now.isoformat()}" + (" (dry run: nothing changes)" * dry_run)
        )
        failed = []
        for name in names:
            try:
                run = services.run_policy(
                    name, now=now, dry_run=dry_run, batch_size=options["batch_size"]
                )
            except Exception as exc:
                failed.append(name)
                self.stderr.write(f"{name}: failed: {type(exc).__name__}: {exc}")
                continue
            self.stdout.write(_describe(run))
        if failed:
            raise CommandError(f"failed: {', '.join(failed)}")


def _parse_now(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--now: not an ISO date or time: {value!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _describe(run) -> str:
    if run.skipped:
        return f"{run.policy}: skipped, already running"
    verb = "would affect" if run.dry_run else "affected"
    counts = ", ".join(f"{key} {value}" for key, value in run.details.items())
    return (
        f"{run.policy}: {verb} {run.rows_affected} of {run.rows_examined} rows examined"
        f" ({counts}); {run.rows_held} kept by a legal hold or a restriction"
    )
