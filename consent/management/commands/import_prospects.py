"""`manage.py import_prospects FILE.csv [--dry-run]`: a prospect list, minus the objectors."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from consent import services

COLUMNS = {"email", "first_name", "last_name", "company", "phone", "collected_at", "source"}


class Command(BaseCommand):
    help = (
        "Create prospects from a CSV file (columns: email, and optionally first_name, "
        "last_name, company, phone, collected_at, source). Addresses on the opposition list "
        "are refused, known ones skipped, invalid rows reported by line number; the output "
        "holds line numbers and counts only."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="A UTF-8 CSV file with a header row.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and count every row; create nothing."
        )
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Rows per transaction (default 500)."
        )

    def handle(self, *args, file: Path, dry_run: bool, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            handle = file.open(newline="", encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        with handle:
            reader = csv.DictReader(handle)
            header = set(reader.fieldnames or [])
            if "email" not in header:
                raise CommandError("The file has no `email` column")
            unknown = header - COLUMNS
            if unknown:
                raise CommandError(f"Unknown columns: {', '.join(sorted(unknown))}")
            result = services.import_prospects(
                rows=_rows(reader), now=timezone.now(), dry_run=dry_run, batch_size=batch_size
            )
        for line, fields in result.invalid:
            self.stdout.write(f"line {line}: invalid ({', '.join(fields)})")
        if result.opposed:
            lines = _lines(result.opposed)
            self.stdout.write(f"on the opposition list, refused: lines {lines}")
        if result.existing:
            self.stdout.write(f"already known, skipped: lines {_lines(result.existing)}")
        counts = result.counts()
        verb = "would create" if dry_run else "created"
        self.stdout.write(
            f"{verb} {counts['created']}, refused (opposition list) {counts['opposed']}, "
            f"skipped (already known) {counts['existing']}, invalid {counts['invalid']}"
        )


def _rows(reader: csv.DictReader) -> Iterator[tuple[int, dict[str, str]]]:
    for row in reader:
        # DictReader puts surplus cells under None; a short row has None values.
        values = {key: (value or "").strip() for key, value in row.items() if key is not None}
        yield reader.line_num, values


def _lines(lines: list[int]) -> str:
    return ", ".join(str(line) for line in lines)
