"""Appending to the audit log and checking its chain.

`record_event` is the only way rows are written. It refuses personal data in `details`
(REQUIREMENTS A11: the facts of the procedure, not the material) and names the person
only by the keyed hash of their email. `verify_chain` re-walks the whole table in id order,
in chunks, and reports the first row whose link or content does not match.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from django.db import connection, transaction

from audit.hashing import subject_hash
from audit.models import GENESIS_HASH, ActorType, AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# Key words that name personal data. A `details` key is refused when any of its words
# (snake_case, kebab-case or camelCase) is one of these: "ip_address", "firstName" and
# "email" are refused; "filename", "recipient" and "reason_code" are not.
PERSONAL_DATA_KEY_WORDS = frozenset(
    {
        "address",
        "birthdate",
        "email",
        "firstname",
        "iban",
        "ip",
        "lastname",
        "mail",
        "mobile",
        "name",
        "password",
        "phone",
        "surname",
        "telephone",
    }
)
EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ACTION_CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

# pg_advisory_xact_lock key that serialises appenders on PostgreSQL ("audit" in ASCII).
APPEND_LOCK_KEY = 0x6175646974
LOCK_AND_READ_LAST_HASH = (
    "SELECT pg_advisory_xact_lock(%s); SELECT hash FROM audit_auditevent ORDER BY id DESC LIMIT 1"
)


class ChainCheck(NamedTuple):
    ok: bool
    first_broken_id: int | None
    checked: int


class Anchor(NamedTuple):
    """An event's id and hash, written down outside the database: `audit_verify` prints
    the head's, the nightly check logs it. The chain must still hold that event unchanged."""

    id: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """Read "ID:HASH"; raise ValueError otherwise."""
        event_id, _, digest = text.partition(":")
        if not event_id.isdigit() or len(digest) != 64:
            raise ValueError("an anchor is ID:HASH, as audit_verify prints it")
        return cls(int(event_id), digest)

    def __str__(self) -> str:
        return f"{self.id}:{self.hash}"


def chain_head() -> Anchor | None:
    """The last event's anchor (None for an empty log)."""
    last = AuditEvent.objects.order_by("-id").values_list("id", "hash").first()
    return Anchor(*last) if last else None


def record_event(
    *,
    action: str,
    actor_type: ActorType | str,
    actor_user: AbstractBaseUser | None = None,
    object_type: str = "",
    object_ref: str = "",
    details: dict[str, Any] | None = None,
    subject_email: str | None = None,
    now: datetime,
) -> AuditEvent:
    """Append one event to the chain and return it.

    `actor_user` is required for ActorType.STAFF and refused otherwise. `details` holds
    strings, integers, booleans, None, and lists or dicts of them (no floats: they may not
    survive the database's JSON round trip unchanged). Raise ValueError for an invalid
    action or actor, a personal-data key in `details` (see PERSONAL_DATA_KEY_WORDS), or an
    email address anywhere in `details` or `object_ref`.

    The row joins the caller's transaction: if that rolls back, so does the event. On
    PostgreSQL appenders are serialised by a transaction-level advisory lock (held until the
    outermost transaction ends), so two of them never chain from the same row; on SQLite
    the database write lock does the same (a loser gets "database is locked", never a fork).
    Every writer waits for that lock: record the event last in a transaction, after its
    other writes (and any rendering), so the lock is held only until the commit.
    """
    details = {} if details is None else details
    _check_event(
        action=action,
        actor_type=actor_type,
        actor_user=actor_user,
        object_type=object_type,
        object_ref=object_ref,
        details=details,
        now=now,
    )
    event = AuditEvent(
        at=now,
        actor_type=actor_type,
        actor_user=actor_user,
        action=action,
        object_type=object_type,
        object_ref=object_ref,
        details=details,
        subject_hash=subject_hash(subject_email) if subject_email else "",
    )
    # No savepoint (two round trips saved on every event written inside a transaction):
    # an error here fails the caller's transaction whole, as it should.
    with transaction.atomic(savepoint=False):
        event.prev_hash = _lock_and_read_last_hash() or GENESIS_HASH
        event.hash = event.compute_hash()
        event.save(force_insert=True)
    return event


def _lock_and_read_last_hash() -> str | None:
    """Take the appenders' lock (PostgreSQL) and return the last event's hash, if any.

    On PostgreSQL both statements go in one round trip (psycopg2 sends them as one simple
    query; intake pays for every round trip, #8). The SELECT still runs after the lock is
    granted, with a snapshot of its own (READ COMMITTED takes one per statement), so it
    sees the event of whoever held the lock before.
    """
    if connection.vendor != "postgresql":
        head = chain_head()
        return head.hash if head else None
    with connection.cursor() as cursor:
        cursor.execute(LOCK_AND_READ_LAST_HASH, [APPEND_LOCK_KEY])
        row = cursor.fetchone()
    return row[0] if row else None


def verify_chain(*, chunk_size: int = 2000, anchor: Anchor | None = None) -> ChainCheck:
    """Walk the log in id order and return (ok, first broken row's id or None, rows checked).

    A row is broken when its `prev_hash` is not the previous row's `hash` (a row deleted,
    inserted or moved before it) or its `hash` does not match its content (the row edited).
    Rows are streamed `chunk_size` at a time, so memory does not grow with the table.

    The chain alone cannot show rows cut from its end, nor an edit followed by recomputing
    every later hash: whoever can disable the trigger (the table's owner) can do both. An
    `anchor` kept outside the database catches them up to it: the event it names must still
    be there with the same hash (else that event's id is returned as broken).
    """
    expected_prev = GENESIS_HASH
    checked = 0
    anchored = anchor is None
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size):
        checked += 1
        if event.prev_hash != expected_prev or event.hash != event.compute_hash():
            return ChainCheck(ok=False, first_broken_id=event.pk, checked=checked)
        if anchor is not None and event.pk == anchor.id:
            if event.hash != anchor.hash:
                return ChainCheck(ok=False, first_broken_id=event.pk, checked=checked)
            anchored = True
        expected_prev = event.hash
    if not anchored:
        return ChainCheck(ok=False, first_broken_id=anchor.id, checked=checked)
    return ChainCheck(ok=True, first_broken_id=None, checked=checked)


def _check_event(
    *,
    action: str,
    actor_type: ActorType | str,
    actor_user: AbstractBaseUser | None,
    object_type: str,
    object_ref: str,
    details: dict[str, Any],
    now: datetime,
) -> None:
    if not ACTION_CODE.fullmatch(action or ""):
        raise ValueError(f"Audit action must be a dotted code like 'request.submitted': {action!r}")
    if actor_type not in ActorType.values:
        raise ValueError(f"Unknown audit actor type: {actor_type!r}")
    if (actor_type == ActorType.STAFF) != (actor_user is not None):
        raise ValueError("actor_user is required for staff events and refused for the others")
    if object_ref and not object_type:
        raise ValueError("object_ref needs an object_type")
    if EMAIL_LIKE.search(object_ref):
        raise ValueError("object_ref must be a code, not an email address")
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    if not isinstance(details, dict):
        raise ValueError("details must be a dict")
    _check_details(details, path="details")


def _check_details(value: Any, *, path: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path}: keys must be strings")
            words = re.split(r"[^a-z0-9]+", _CAMEL_BOUNDARY.sub("_", key).lower())
            if PERSONAL_DATA_KEY_WORDS.intersection(words):
                raise ValueError(f"{path}: {key!r} names personal data; the audit log holds none")
            _check_details(key, path=path)
            _check_details(item, path=f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_details(item, path=f"{path}[{index}]")
    elif isinstance(value, str):
        if EMAIL_LIKE.search(value):
            raise ValueError(f"{path}: looks like an email address; the audit log holds none")
    elif isinstance(value, float):
        raise ValueError(f"{path}: floats are not allowed (store a string or an integer)")
    elif value is not None and not isinstance(value, int):  # bool is an int
        raise ValueError(f"{path}: {type(value).__name__} is not allowed")
