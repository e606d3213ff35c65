"""Running a policy (the lock, the ledger, the audit event) and the re-permission workflow."""

from __future__ import annotations

import fcntl
import hashlib
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from smtplib import SMTPException

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.utils import timezone

from audit.models import ActorType
from audit.services import EMAIL_LIKE, record_event
from consent import services as consent_services
from retention import sweeps
from retention.models import Repermission, SweepRun
from rights import emails
from rights.emails import absolute_url

TOKEN_SALT = "retention.repermission"


# --- Running a policy ---------------------------------------------------------------------


@contextmanager
def policy_lock(name: str) -> Iterator[bool]:
    """Yield True if this process now holds the lock of policy `name`, False if another does.

    PostgreSQL: a session-level advisory lock (pg_try_advisory_lock), which the server
    releases by itself if the process dies. It needs a direct connection or session pooling
    (a transaction-pooling PgBouncer would lose it between statements). Elsewhere (SQLite in
    development): `file_lock`.
    """
    if connection.vendor != "postgresql":
        with file_lock(name) as acquired:
            yield acquired
        return
    digest = hashlib.sha256(f"okasio.retention.{name}".encode()).digest()
    key = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


@contextmanager
def file_lock(name: str) -> Iterator[bool]:
    """The fallback lock: an exclusive flock on a file named after the database and the
    policy, released by the kernel when the process dies."""
    database = hashlib.sha256(str(connection.settings_dict["NAME"]).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"okasio-retention-{database}-{name}.lock"
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# The SweepRun fields a run's totals fill.
TOTALS = ["rows_examined", "rows_affected", "rows_held", "details"]


def run_policy(
    name: str, *, now: datetime, dry_run: bool = False, batch_size: int | None = None
) -> SweepRun:
    """Run one policy as of `now` and return its SweepRun (written whatever happens).

    A real run takes the policy's lock first; if another run holds it, this one records a
    skipped run and does nothing. A dry run changes nothing and takes no lock. Each batch
    adds itself to the run's totals in its own transaction, so what was committed is
    recorded even if the process is killed (SIGKILL, a hard time limit) and never gets to
    the end (A11: the run then has no `finished_at`). An error is recorded with those
    totals and raised again.
    """
    policy = sweeps.POLICIES[name]
    batch_size = batch_size or sweeps.DEFAULT_BATCH_SIZE
    with _no_lock() if dry_run else policy_lock(name) as acquired:
        run = SweepRun.objects.create(
            policy=name, as_of=now, started_at=timezone.now(), dry_run=dry_run
        )
        if not acquired:
            run.skipped = True
            _finish(run, sweeps.SweepResult())
            return run
        progress = sweeps.SweepResult()

        def record(batch: sweeps.SweepResult) -> None:
            nonlocal progress
            progress = progress + batch
            _set_totals(run, progress)
            run.save(update_fields=TOTALS)

        listening = sweeps.batch_listener.set(record)
        try:
            result = policy.sweep(now=now, dry_run=dry_run, batch_size=batch_size)
        except Exception as exc:
            # The row's totals, not `progress`: a batch that failed at its commit (a
            # deferred check) had counted itself before it rolled back.
            run.refresh_from_db(fields=TOTALS)
            # A database message may quote a row's values: no address reaches the ledger.
            run.error = EMAIL_LIKE.sub("[email]", f"{type(exc).__name__}: {exc}")[:2000]
            _finish(run)
            raise
        finally:
            sweeps.batch_listener.reset(listening)
        _finish(run, result)
        return run


@contextmanager
def _no_lock() -> Iterator[bool]:
    yield True


def _set_totals(run: SweepRun, result: sweeps.SweepResult) -> None:
    run.rows_examined = result.examined
    run.rows_affected = result.affected
    run.rows_held = result.held
    run.details = result.details


def _finish(run: SweepRun, result: sweeps.SweepResult | None = None) -> None:
    """Close the run with `result`'s totals (None: those its batches recorded) and write
    its audit event."""
    run.finished_at = timezone.now()
    if result is not None:
        _set_totals(run, result)
    run.save()
    record_event(
        action="retention.sweep_run",
        actor_type=ActorType.SYSTEM,
        object_type="retention.SweepRun",
        object_ref=str(run.code),
        details={
            "policy": run.policy,
            "as_of": run.as_of.isoformat(),
            "dry_run": run.dry_run,
            "skipped": run.skipped,
            "rows_examined": run.rows_examined,
            "rows_affected": run.rows_affected,
            "rows_held": run.rows_held,
            "counts": run.details,
            # The exception's class only: a database message may quote a row's values.
            "error": run.error.split(":", 1)[0] if run.error else "",
        },
        now=run.finished_at,
    )


# --- Re-permission (REQUIREMENTS C8) --------------------------------------------------------


def repermission_token(repermission: Repermission) -> str:
    """The secret part of the "yes" link: the request's code, signed with SECRET_KEY."""
    return signing.dumps(str(repermission.code), salt=TOKEN_SALT)


def repermission_from_token(token: str) -> Repermission | None:
    """Return the re-permission the link names, or None for a forged or stale link."""
    try:
        code = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    return Repermission.objects.select_related("person").filter(code=code).first()


class RepermissionEmailsRefused(SMTPException):
    """Some re-permission emails did not leave; the task retries them. Says how many, never
    to whom (the server's own exception names the addresses)."""


def send_repermission_emails(*, repermission_ids: list[int]) -> int:
    """Send the re-permission emails not sent yet among these, in one connection; return
    how many left. Rows another worker is sending are skipped (SKIP LOCKED).

    An address the server refuses does not stop the others: each email that left is marked
    with the time it left (the grace period counts from it, C8), then, if any was refused,
    RepermissionEmailsRefused is raised and the task retries, sending only the rest, never
    the same email twice. After that the prospects sweep sends it again every day; an email
    that still has not left a grace period after it was asked counts as asked and
    unanswered, so the person is deleted rather than kept for ever (`purge_prospects`).
    """
    sent: list[Repermission] = []
    refusals: list[str] = []
    with transaction.atomic():
        pending = list(
            Repermission.objects.filter(pk__in=repermission_ids, sent_at__isnull=True)
            .select_related("person")
            .select_for_update(skip_locked=True, of=("self",))
        )
        # Someone who objected since they were asked gets no email (B9); the prospects sweep
        # deletes them at its next run (a restricted person stays, held).
        objected = consent_services.objected_to_marketing(
            emails=[repermission.person.email for repermission in pending], now=timezone.now()
        )
        pending = [r for r in pending if r.person.email not in objected]
        if not pending:
            return 0
        with get_connection() as mail:
            for repermission in pending:
                try:
                    mail.send_messages([_repermission_email(repermission)])
                except Exception as exc:  # refused: the others still go, the retry sends it
                    refusals.append(type(exc).__name__)
                    continue
                repermission.sent_at = timezone.now()
                sent.append(repermission)
        Repermission.objects.bulk_update(sent, ["sent_at"])
    if refusals:
        raise RepermissionEmailsRefused(
            f"{len(refusals)} of {len(pending)} re-permission email(s) did not leave"
            f" ({', '.join(sorted(set(refusals)))})"
        )
    return len(sent)


def _repermission_email(repermission: Repermission) -> EmailMultiAlternatives:
    # No language is recorded for a person yet: the default (French) one.
    language = settings.LANGUAGE_CODE
    link = absolute_url(
        "retention:keep_in_touch", language=language, token=repermission_token(repermission)
    )
    subject, text, html = emails.render(
        "repermission",
        context={
            "person": repermission.person,
            "link": link,
            "grace_days": settings.RETENTION_REPERMISSION_GRACE_DAYS,
            "controller": settings.CONTROLLER,
        },
        language=language,
    )
    message = EmailMultiAlternatives(subject=subject, body=text, to=[repermission.person.email])
    message.attach_alternative(html, "text/html")
    return message


@transaction.atomic
def keep_in_touch(*, repermission: Repermission, now: datetime) -> None:
    """The prospect's explicit "yes": their three years start again from now (C8)."""
    if repermission.answered_yes_at is None:
        repermission.answered_yes_at = now
        repermission.save(update_fields=["answered_yes_at"])
    person = repermission.person
    person.last_contact_initiated_at = now
    person.save(update_fields=["last_contact_initiated_at"])
    record_event(
        action="retention.repermission_yes",
        actor_type=ActorType.PERSON,
        object_type="retention.Repermission",
        object_ref=str(repermission.code),
        subject_email=person.email,
        now=now,
    )
