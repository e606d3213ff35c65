"""Access and portability exports: the person's data, streamed into a ZIP in private storage.

What goes in is read from the inventory (people/inventory.py), never listed here: every model
in `PERSON_LOOKUPS`, every declared field (the portable ones only for portability), one JSON
and one CSV file per category. Access adds `summary.html`, the Art. 15(1)(a)–(h) and 15(2)
information tailored to the person (REQUIREMENTS B1, B2, A9); portability adds `schema.md`,
the documented schema, and never a PDF (B7).

Rows are streamed: `.values_list(...).iterator(chunk_size=...)` into zip entries opened with
`ZipFile.open(name, "w")`, so memory does not grow with the data (bench/export.py measures
it). The CSV of a category is spooled to a temporary file while its JSON is written, so each
table is read once. Files live under MEDIA_ROOT/exports/, which no URL serves; the person
downloads one through a single-use emailed link (`send_download_link`, `use_download_link`).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import FileField, Q
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from audit.hashing import normalise_email
from people import inventory
from people import stripe as people_stripe
from people.inventory import Category, Field
from people.models import Person
from rights import services, tasks
from rights.models import (
    DataSubjectRequest,
    Export,
    ExportKind,
    LinkPurpose,
    RequestKind,
    RequestStatus,
    SecretLink,
    hash_token,
)

logger = logging.getLogger(__name__)

EXPORTS_DIR = "exports"
KIND_OF_REQUEST = {
    RequestKind.ACCESS: ExportKind.ACCESS,
    RequestKind.PORTABILITY: ExportKind.PORTABILITY,
}


# --- What goes in: read from the inventory ------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One field of one model, as written in the files."""

    field: Field
    # What `.values_list()` reads: the field itself, or a public code or title behind a
    # foreign key (integer keys never leave the server, STYLE 6).
    lookup: str

    @property
    def name(self) -> str:
        return self.field.field_name


@dataclass(frozen=True)
class Table:
    """One model's columns within one category file."""

    model: str  # "people.Purchase"
    columns: tuple[Column, ...]

    @property
    def record(self) -> str:
        """The `record` key of its rows: the model's name ("purchase")."""
        return apps.get_model(self.model)._meta.model_name


@dataclass(frozen=True)
class CategoryFile:
    category: Category
    tables: tuple[Table, ...]
    rows: int = 0

    @property
    def stem(self) -> str:
        return str(self.category.value)

    @property
    def header(self) -> list[str]:
        names = ["record"]
        for table in self.tables:
            names += [c.name for c in table.columns if c.name not in names]
        return names


def _lookup(model: str, field_name: str) -> str:
    model_field = apps.get_model(model)._meta.get_field(field_name)
    if model_field.many_to_one:
        related = {f.name for f in model_field.related_model._meta.fields}
        for public in ("code", "title"):
            if public in related:
                return f"{field_name}__{public}"
    return field_name


def package_layout(kind: ExportKind) -> list[CategoryFile]:
    """Return the category files of an export of `kind`, in Category order.

    Every model of `inventory.PERSON_LOOKUPS` with declared fields in the category (portable
    ones only for portability); the link to the person itself is left out (it is them).
    """
    files = []
    for category in Category:
        tables = []
        for model in inventory.person_models():
            fields = [
                f
                for f in inventory.fields_for(model)
                if f.category == category
                and not f.is_link
                and (kind == ExportKind.ACCESS or f.portable)
            ]
            if fields:
                columns = tuple(Column(f, _lookup(model, f.field_name)) for f in fields)
                tables.append(Table(model, columns))
        if tables:
            files.append(CategoryFile(category, tuple(tables)))
    return files


# --- The streaming writer -----------------------------------------------------------------


def _rows(
    table: Table, *, person: Person | None, email: str, chunk_size: int
) -> Iterator[dict[str, Any]]:
    queryset = inventory.rows_of(table.model, person=person, email=email).order_by("pk")
    names = ["record", *(c.name for c in table.columns)]
    lookups = [c.lookup for c in table.columns]
    record = table.record
    for values in queryset.values_list(*lookups).iterator(chunk_size=chunk_size):
        yield dict(zip(names, (record, *values), strict=True))


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return str(value)


def _write_category(
    zf: zipfile.ZipFile,
    category_file: CategoryFile,
    *,
    person: Person | None,
    email: str,
    chunk_size: int,
) -> int:
    """Write `<category>.json` and `<category>.csv`, and the files the rows name (a photo)
    under `files/`; return the number of rows.
    """
    count = 0
    header = category_file.header
    stored: list[str] = []
    with tempfile.TemporaryFile() as spool:
        csv_text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        writer = csv.writer(csv_text)
        writer.writerow(header)
        with zf.open(f"{category_file.stem}.json", "w", force_zip64=True) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8")
            out.write(
                json.dumps(
                    {"category": category_file.stem, "label": str(category_file.category.label)},
                    ensure_ascii=False,
                )[:-1]
                + ', "records": ['
            )
            for table in category_file.tables:
                files = [c.name for c in _file_columns(table)]
                for row in _rows(table, person=person, email=email, chunk_size=chunk_size):
                    out.write(",\n" if count else "\n")
                    out.write(json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False))
                    writer.writerow([_csv_value(row.get(name)) for name in header])
                    stored += [row[name] for name in files if row[name]]
                    count += 1
            out.write("\n]}\n")
            out.flush()
            out.detach()
        csv_text.flush()
        csv_text.detach()
        spool.seek(0)
        with zf.open(f"{category_file.stem}.csv", "w", force_zip64=True) as raw:
            shutil.copyfileobj(spool, raw, 1024 * 1024)
    for name in stored:
        if default_storage.exists(name):
            with default_storage.open(name, "rb") as src, zf.open(f"files/{name}", "w") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
    return count


def _file_columns(table: Table) -> list[Column]:
    meta = apps.get_model(table.model)._meta
    return [c for c in table.columns if isinstance(meta.get_field(c.name), FileField)]


def write_package(
    zf: zipfile.ZipFile,
    *,
    kind: ExportKind,
    person: Person | None,
    email: str,
    chunk_size: int | None = None,
) -> list[CategoryFile]:
    """Stream the person's rows into `zf`, one JSON and one CSV per category; return the
    files written with their row counts. The number of queries depends on the inventory,
    never on the number of rows.
    """
    chunk_size = chunk_size or settings.RIGHTS_EXPORT_CHUNK_SIZE
    written = []
    for category_file in package_layout(kind):
        rows = _write_category(zf, category_file, person=person, email=email, chunk_size=chunk_size)
        written.append(CategoryFile(category_file.category, category_file.tables, rows))
    return written


# --- Stripe-held data ----------------------------------------------------------------------

STRIPE_STEM = "stripe"


def stripe_data_for(person: Person | None) -> dict[str, Any] | None:
    """Return what Stripe holds about the person, read through its API: `customer`,
    `charges`, `payment_methods` (plain dicts) and `truncated`. None when they have no
    Stripe customer, or Stripe no longer knows it.

    Raise `people.stripe.StripeUnavailable` while Stripe cannot be reached: the build
    fails whole, leaving nothing, and its task tries again.
    """
    if person is None or not person.stripe_customer_id:
        return None
    return people_stripe.customer_data(person.stripe_customer_id)


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"card": {"last4": "4242"}} -> {"card.last4": "4242"}; lists stay whole (JSON)."""
    flat: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, dict) and item:
            flat.update(_flatten(item, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = item
    return flat


def write_stripe_files(zf: zipfile.ZipFile, data: dict[str, Any]) -> int:
    """Write `stripe.json` (Stripe's objects as it returned them) and `stripe.csv` (one row
    per object, nested fields as dotted columns); return the number of records."""
    records = [{"record": "customer", **data["customer"]}]
    records += [{"record": "charge", **charge} for charge in data["charges"]]
    records += [{"record": "payment_method", **method} for method in data["payment_methods"]]
    document = {
        "category": STRIPE_STEM,
        "label": gettext("Held by Stripe, our payment provider"),
        "truncated": data["truncated"],
        "records": records,
    }
    zf.writestr(
        f"{STRIPE_STEM}.json",
        json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1),
    )
    rows = [_flatten(record) for record in records]
    header = list(dict.fromkeys(key for row in rows for key in row))
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_value(row.get(name)) for name in header])
    zf.writestr(f"{STRIPE_STEM}.csv", text.getvalue())
    return len(records)


# --- Access: the Art. 15 summary; portability: the schema ----------------------------------


def render_summary(
    *, dsr: DataSubjectRequest, files: list[CategoryFile], has_stripe_data: bool, now: datetime
) -> str:
    """The readable HTML answer carrying every item of Art. 15(1)(a)–(h) and 15(2)."""
    # Tailored (EDPB 01/2022): only the categories we hold something in, for this person.
    held = {f.category: f for f in files if f.rows}
    summaries = [s for s in inventory.category_summaries() if s.category in held]
    recipients = list({id(r): r for s in summaries for r in s.recipients}.values())
    return render_to_string(
        "rights/exports/summary.html",
        {
            "dsr": dsr,
            "now": now,
            "controller": settings.CONTROLLER,
            "controller_identity": inventory.controller_identity(),
            "sections": [(s, held[s.category]) for s in summaries],
            "holds_data": any(category != Category.RIGHTS for category in held),
            "recipients": recipients,
            "transfers": [r for r in recipients if r.transfer_basis is not inventory.NO_TRANSFER],
            "has_stripe_data": has_stripe_data,
            "rights_urls": {
                kind: services.absolute_url("rights:submit", language=dsr.language, kind=kind)
                for kind in RequestKind.values
            },
            "LANGUAGE_CODE": dsr.language,
        },
    )


FIELD_TYPES = {
    "AutoField": "integer",
    "BigAutoField": "integer",
    "BooleanField": "boolean (true/false)",
    "CharField": "text",
    "DateField": "date (YYYY-MM-DD)",
    "DateTimeField": "date and time (ISO 8601, UTC)",
    "EmailField": "text (email address)",
    "FileField": "text (file name)",
    "ForeignKey": "text (reference)",
    "GenericIPAddressField": "text (IP address)",
    "JSONField": "JSON object",
    "PositiveBigIntegerField": "integer",
    "PositiveIntegerField": "integer",
    "PositiveSmallIntegerField": "integer",
    "TextField": "text",
    "UUIDField": "text (UUID)",
}


def render_schema(files: list[CategoryFile]) -> str:
    """`schema.md`: each file and each field, with its label, type and where it comes from."""
    return render_to_string(
        "rights/exports/schema.md",
        {
            "files": [
                (
                    f,
                    [
                        (
                            column,
                            table,
                            FIELD_TYPES.get(
                                apps.get_model(table.model)
                                ._meta.get_field(column.name)
                                .get_internal_type(),
                                "text",
                            ),
                        )
                        for table in f.tables
                        for column in table.columns
                    ],
                )
                for f in files
            ]
        },
    )


# --- Building, sending, downloading, deleting ---------------------------------------------


def start_export(*, dsr: DataSubjectRequest, now: datetime) -> None:
    """Ask a worker to build the export of an access or portability request, after commit."""
    if dsr.kind not in KIND_OF_REQUEST:
        raise ValueError(f"a {dsr.kind} request has no export")
    dsr.audit("export.requested", now=now)
    transaction.on_commit(partial(tasks.build_export.delay, dsr.id))


# A request closed in one of these states while its export was building gets no file.
CLOSED_WITHOUT_DATA = (RequestStatus.REFUSED, RequestStatus.WITHDRAWN, RequestStatus.EXPIRED)


def export_path(export: Export) -> Path:
    return Path(settings.MEDIA_ROOT) / export.file_path


def build_export(
    *, dsr: DataSubjectRequest, now: datetime, build_id: uuid.UUID | None = None
) -> Export | None:
    """Build the ZIP of an access or portability request, record it, complete the request
    (if still open) and email a download link: that email is the answer.

    The file is written first; the `Export` row, the audit event and the email are written
    in one transaction after it (a failed build leaves no row and no file). A request closed
    meanwhile without an answer (withdrawn, refused) gets nothing: None, no file, no email.
    `build_id` (the Celery task's id) names the file: a build run again for the same task,
    after its worker was killed, rewrites the same file over its partial one, and a build
    already recorded is returned as it is (one row, one email, however often the task runs).
    """
    kind = KIND_OF_REQUEST[RequestKind(dsr.kind)]
    relative = f"{EXPORTS_DIR}/{(build_id or uuid.uuid4()).hex}.zip"
    done = Export.objects.filter(request=dsr, file_path=relative).first()
    if done is not None:
        return done
    person = Person.objects.with_email(dsr.subject_email).first()
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        with (
            translation.override(dsr.language),
            zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        ):
            files = write_package(zf, kind=kind, person=person, email=dsr.subject_email)
            if kind == ExportKind.ACCESS:
                stripe_data = stripe_data_for(person)
                if stripe_data:
                    write_stripe_files(zf, stripe_data)
                summary = render_summary(
                    dsr=dsr, files=files, has_stripe_data=bool(stripe_data), now=now
                )
                zf.writestr("summary.html", summary)
            else:
                zf.writestr("schema.md", render_schema(files))
        path.chmod(0o600)
        with transaction.atomic():
            # Locked, so a withdrawal or a refusal is either seen here or waits for the commit.
            dsr = DataSubjectRequest.objects.select_for_update().get(pk=dsr.pk)
            if dsr.status in CLOSED_WITHOUT_DATA:  # closed meanwhile: nobody gets the data
                path.unlink()
                return None
            # The export is the answer to an access or portability request still open (A9);
            # a request it already answered gets the new file, without being answered again.
            answers_request = dsr.is_active
            if answers_request:
                dsr.mark_completed(by=None, now=now)
            export = Export.objects.create(
                request=dsr,
                kind=kind,
                file_path=relative,
                size=path.stat().st_size,
                created_at=now,
                expires_at=now + timedelta(days=settings.RIGHTS_EXPORT_LINK_DAYS),
            )
            dsr.audit(
                "export.built",
                now=now,
                export=str(export.code),
                rows=sum(f.rows for f in files),
                files=len(files),
            )
            send_download_link(dsr=dsr, now=now, answers_request=answers_request)
    except BaseException:  # no row, or no file: never a file no row points at
        path.unlink(missing_ok=True)
        raise
    return export


@transaction.atomic
def send_download_link(
    *, dsr: DataSubjectRequest, now: datetime, answers_request: bool = False
) -> bool:
    """Email a single-use download link for the request's export; False when none is
    available (never built, or expired). The email proves the person still holds the
    address (the tracker's own link may have been forwarded). When it `answers_request`
    (the export completed it), it also carries the tracker link and the remedies.
    """
    export = dsr.exports.available(now=now).order_by("-created_at").first()
    if export is None:
        return False
    _, token = SecretLink.issue(
        purpose=LinkPurpose.DOWNLOAD, request=dsr, expires_at=export.expires_at, now=now
    )
    url = services.absolute_url("rights:download", language=dsr.language, token=token)
    services.queue_email(
        template="export_ready",
        to=dsr.email,
        language=dsr.language,
        context=services._email_context(
            dsr,
            export=export,
            download_url=url,
            tracker_url=services.new_tracker_link(dsr, now=now)[1] if answers_request else "",
        ),
        dsr=dsr,
        now=now,
    )
    dsr.audit("export.link_sent", now=now)
    return True


@transaction.atomic
def use_download_link(*, token: str, now: datetime) -> tuple[services.LinkState, Export | None]:
    """Spend a download link: return (LinkState.OK, export), or (the problem, None)."""
    link = (
        SecretLink.objects.select_for_update()
        .filter(purpose=LinkPurpose.DOWNLOAD, token_hash=hash_token(token))
        .first()
    )
    if link is None:
        return services.LinkState.INVALID, None
    if link.used_at is not None:
        return services.LinkState.USED, None
    export = link.request.exports.available(now=now).order_by("-created_at").first()
    if link.is_expired(now=now) or export is None or not export_path(export).exists():
        return services.LinkState.EXPIRED, None
    link.mark_used(now=now)
    export.mark_downloaded(now=now)
    return services.LinkState.OK, export


def open_export(export: Export) -> IO[bytes]:
    return export_path(export).open("rb")


def delete_exports_about(email: str, *, now: datetime) -> int:
    """Delete every export of the address's requests, and of requests made about it after a
    death (B14): an erasure leaves no copy of the data waiting to be downloaded (B4)."""
    email = normalise_email(email)
    keys = Export.objects.filter(
        Q(request__email=email) | Q(request__deceased_email=email)
    ).values_list("pk", flat=True)
    return delete_exports(list(keys), now=now)


def delete_exports(keys: list[int], *, now: datetime) -> int:
    """Delete these exports, file then row, with an audit event each on the request's
    timeline; return how many (retention's exports policy picks the expired ones).

    The files go first: if the transaction then fails, the rows stay and the next run
    deletes them (a file already gone is fine), so no file is ever left without its row.
    """
    doomed = list(Export.objects.filter(pk__in=keys).select_related("request"))
    for export in doomed:
        export_path(export).unlink(missing_ok=True)
        export.request.audit("export.deleted", now=now, export=str(export.code))
    Export.objects.filter(pk__in=[export.pk for export in doomed]).delete()
    return len(doomed)
