"""The retention policies: one function per rule, and the registry that names them.

Each sweep has the same contract: `purge_x(*, now, dry_run=False, batch_size=...) ->
SweepResult`. It reads its period from the inventory's rule for the fields it enforces
(`people.inventory.retention_for`, whose months live in `settings.RETENTION_MONTHS`), so a
sweep and the public pages cannot disagree; periods the inventory does not date (days of
the outbox, Stripe's event ledger) come from their own setting. It leaves alone every row
of a held person (`held_people`: a legal hold not ended, an active restriction) and counts
them, and works in batches by primary key: each batch is one short transaction that locks
its rows, acts on them with a fixed number of queries whatever the batch size, and commits.
Nothing is ever loaded whole, so a sweep killed at any point can simply be run again:
committed batches are done and no longer match, the interrupted one rolled back as a whole.

Adding a policy is one function decorated with `@policy(...)` below. The beat schedule
(`retention.tasks.run_all_sweeps`), `manage.py sweep`, /healthz and the admin read the
registry.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial, reduce
from operator import or_

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest

from audit.hashing import subject_hash
from consent import services as consent_services
from consent.models import ConsentRecord, OppositionEntry
from people import inventory
from people.models import (
    Activity,
    ActivityParticipation,
    ContactRequest,
    Person,
    Purchase,
    Review,
    SavedCard,
    StripeEvent,
    TechnicalTrace,
)
from retention.models import LegalHold, Repermission
from rights.deadlines import add_months, legal_date, legal_midnight, period_over
from rights.models import (
    DataSubjectRequest,
    ErasureKeptRow,
    ErasureLedger,
    Export,
    OutgoingEmail,
    Restriction,
    SecretLink,
)

DEFAULT_BATCH_SIZE = 5000
ONE_DAY = timedelta(days=1)


@dataclass
class SweepResult:
    """What a sweep found and did (or, in a dry run, would do).

    `examined`: rows the rule matched, held ones included; `affected`: rows deleted,
    blanked or asked (would be, in a dry run); `held`: matched rows of held people
    (`held_people`: a legal hold, an active restriction).
    `details` splits `affected` by action when a policy has more than one.
    """

    examined: int = 0
    affected: int = 0
    held: int = 0
    details: dict[str, int] = field(default_factory=dict)

    def __add__(self, other: SweepResult) -> SweepResult:
        details = dict(self.details)
        for key, value in other.details.items():
            details[key] = details.get(key, 0) + value
        return SweepResult(
            examined=self.examined + other.examined,
            affected=self.affected + other.affected,
            held=self.held + other.held,
            details=details,
        )


# An inventory field whose dated rule a policy enforces: (model label, field, rule key or
# None when the field has one dated rule). See people.inventory.retention_for.
Enforced = tuple[str, str, str | None]


@dataclass(frozen=True)
class Policy:
    name: str
    sweep: Callable[..., SweepResult]
    # The RETENTION_MONTHS keys (or other settings) the rule reads, for the README and admin.
    settings: tuple[str, ...]
    summary: str
    # The inventory rules it applies (tests/retention/test_inventory_rules.py checks that
    # the sweep reads exactly these periods).
    enforces: tuple[Enforced, ...] = ()


POLICIES: dict[str, Policy] = {}


def policy(
    name: str, *, settings: tuple[str, ...], summary: str, enforces: tuple[Enforced, ...] = ()
) -> Callable:
    """Register a sweep under `name` (what SweepRun, the command and /healthz call it)."""

    def register(sweep: Callable[..., SweepResult]) -> Callable[..., SweepResult]:
        if name in POLICIES:
            raise ValueError(f"Retention policy {name!r} is registered twice")
        POLICIES[name] = Policy(
            name=name, sweep=sweep, settings=settings, summary=summary, enforces=enforces
        )
        return sweep

    return register


# --- Dates --------------------------------------------------------------------------------


def last_expired_day(today: date, months: int) -> date:
    """Return the latest day D whose period of `months` has ended before `today`.

    A row dated D (or earlier) has expired when D + months (rights.deadlines.add_months,
    clamped to the month's end) is before today: a card debited 13 months and a day ago
    goes, one debited exactly 13 months ago stays until tomorrow.
    """
    day = add_months(today, -months)
    while not period_over(add_months(day, months), today=today):
        day -= timedelta(days=1)
    while period_over(add_months(day + timedelta(days=1), months), today=today):
        day += timedelta(days=1)
    return day


def expired_before(now: datetime, months: int) -> datetime:
    """The instant before which a timestamp's period of `months` has ended: midnight in
    Paris after the last expired day, both read on Paris dates (legal dates are Paris
    dates, A1; the erasure plan reads them so too)."""
    return legal_midnight(last_expired_day(legal_date(now), months) + ONE_DAY)


def _months(model: str, field_name: str, key: str | None = None) -> int:
    """The period, in months, of the inventory's dated rule for this field."""
    return inventory.retention_for(model, field_name, key).months


# --- Who is held --------------------------------------------------------------------------


def _holders(now: datetime) -> tuple[QuerySet, QuerySet]:
    """What holds a person, the one place that says it: a legal hold not ended (from the
    moment it is placed, even one dated to start later) keeps the evidence of a dispute; an
    active restriction (GDPR 18(2): "with the exception of storage", processed only with
    consent or for legal claims; REQUIREMENTS B5) keeps everything stored as it is:
    deleting, blanking or emailing is processing, and deleting the person would also delete
    the restriction (CASCADE). Both are small tables, read through their person index."""
    return LegalHold.objects.not_ended(now=now), Restriction.objects.active()


def _held_through(now: datetime, **lookup: OuterRef) -> Q:
    """An EXISTS per kind of holder, OR-ed: each is an index lookup (one EXISTS over a join
    of both would make PostgreSQL scan every person)."""
    return reduce(or_, (Q(Exists(holders.filter(**lookup))) for holders in _holders(now)))


def held_people(now: datetime) -> QuerySet:
    """The people no sweep may touch (see `_holders`)."""
    return Person.objects.filter(_held_through(now, person_id=OuterRef("pk")))


def _held(now: datetime, person_ref: str) -> Q:
    """True for rows whose person (through `person_ref`) is held."""
    return _held_through(now, person_id=OuterRef(person_ref))


def _held_by_email(now: datetime, email_ref: str) -> Q:
    """True for rows kept by address (requests, the outbox) whose address is a held
    person's."""
    return _held_through(now, person__email__iexact=OuterRef(email_ref))


def _held_by_hash(now: datetime, hash_field: str) -> Q:
    """True for rows that name a held person by the keyed hash of their address. The hash
    is computed here, not in SQL; held people are few."""
    emails = held_people(now).values_list("email", flat=True)
    return Q(**{f"{hash_field}__in": sorted({subject_hash(email) for email in emails})})


# For rows that name no one a hold could cover (a Stripe event id), or actions that destroy
# nothing (expiring a request never confirmed).
NOTHING_HELD = Exists(LegalHold.objects.none())


# --- The batch engine ---------------------------------------------------------------------


# Set by retention.services.run_policy to add each batch to the run's totals in the batch's
# own transaction, so a run killed half-way still records what it committed.
batch_listener: ContextVar[Callable[[SweepResult], None] | None] = ContextVar(
    "batch_listener", default=None
)


def record_batch(batch: SweepResult) -> None:
    """Called with what a batch did, inside its transaction, after its rows were acted on:
    the listener's writes commit, or roll back, with them."""
    listener = batch_listener.get()
    if listener is not None:
        listener(batch)


def batch_committed(batch: SweepResult) -> None:
    """Called after each committed batch. Does nothing: it is where tests and tests/faults
    simulate a kill or a pause between batches."""


def _in_batches(
    matched: QuerySet,
    *,
    conditions: tuple[Exists | Q, ...] = (),
    held: Exists | Q,
    dry_run: bool,
    batch_size: int,
    act: Callable[[list[int]], int],
    action: str,
    keep: Callable[[list[int]], list[int]] | None = None,
) -> SweepResult:
    """Apply `act` to the rows of `matched` that meet `conditions` (and `keep`) and are not
    held, `batch_size` primary keys at a time.

    `matched` holds the plain column filters of the rule (what an index can serve);
    `conditions` the ones that look at other tables. Each batch first takes the next
    `batch_size` keys of `matched` after the last one done (a walk along the primary key),
    then, in one short transaction, keeps those that meet the conditions, locks them (FOR
    UPDATE SKIP LOCKED on PostgreSQL: a row a person is editing is left for the next run)
    and acts on them. Two steps, because given a range bound and a semi-join PostgreSQL
    may scan the other table from its start at every batch. The rule is re-evaluated at
    each batch: a row that stopped matching meanwhile (a prospect who clicked) is left.

    `keep`, for a condition SQL cannot state (one on the keyed hash of an address, computed
    in Python), returns the keys of a batch that meet it: checked on the locked rows, and
    counted batch by batch (a few queries per batch, never per row).
    """
    rule = matched.filter(*conditions)
    held_count = _count(rule.filter(held), keep=keep, batch_size=batch_size)
    if dry_run:
        count = _count(rule.exclude(held), keep=keep, batch_size=batch_size)
        return SweepResult(
            examined=count + held_count, affected=count, held=held_count, details={action: count}
        )
    total = SweepResult(examined=held_count, held=held_count, details={action: 0})
    if held_count:
        record_batch(SweepResult(examined=held_count, held=held_count))  # kept if killed later
    last_pk = 0
    while True:
        window = list(
            matched.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not window:
            return total
        with transaction.atomic():
            keys = list(
                rule.filter(pk__any=window)
                .exclude(held)
                .order_by()
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)
            )
            if keys and keep is not None:
                keys = keep(keys)
            if keys:
                act(keys)
                batch = SweepResult(
                    examined=len(keys), affected=len(keys), details={action: len(keys)}
                )
                record_batch(batch)
        last_pk = window[-1]
        if keys:
            total = total + batch
            batch_committed(batch)


def _count(
    rows: QuerySet, *, keep: Callable[[list[int]], list[int]] | None, batch_size: int
) -> int:
    """How many of `rows` `keep` keeps (all of them without `keep`: one COUNT)."""
    if keep is None:
        return rows.count()
    total, last_pk = 0, 0
    while window := list(
        rows.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size]
    ):
        total += len(keep(window))
        last_pk = window[-1]
    return total


def _delete_in_batches(
    matched: QuerySet,
    *,
    conditions: tuple[Exists | Q, ...] = (),
    held: Exists | Q,
    dry_run: bool,
    batch_size: int,
) -> SweepResult:
    """What most policies do: delete the rows of `matched` (see _in_batches) in batches."""
    return _in_batches(
        matched,
        conditions=conditions,
        held=held,
        dry_run=dry_run,
        batch_size=batch_size,
        act=partial(_delete_rows, matched.model),
        action="deleted",
    )


def _delete_rows(model: type[models.Model], keys: list[int]) -> int:
    """Delete rows of a model nothing points at (one DELETE, no signals to honour)."""
    deleted, _ = model._base_manager.filter(pk__any=keys).delete()
    return deleted


def delete_people(keys: list[int], *, now: datetime) -> int:
    """Delete these people and everything that is theirs, in a fixed number of queries.

    Walks Person's reverse relations from the model's own metadata, so a model added later
    is covered without touching this: CASCADE children are deleted (Django's fast path: one
    DELETE each), SET_NULL ones (invoices, activities organised) are detached with one
    UPDATE. Then one raw DELETE of the people: Django's collector would select every row
    again. A row left in place by any other relation (PROTECT: a legal hold) refuses the
    whole batch rather than half-delete anyone.

    Must run in the batch's transaction, after its people were locked FOR UPDATE: that lock
    is what lets `_delete_checked_people` skip the database's per-row reference checks.
    """
    # A hold that has ended protects no one any more (one not ended kept its person out of
    # the batch): it goes with the person, or it would refuse the batch every night.
    LegalHold.objects.ended(now=now).filter(person_id__any=keys).delete()
    kept = []
    for relation in Person._meta.related_objects:
        related = relation.related_model._base_manager.filter(
            **{f"{relation.field.name}__any": keys}
        )
        if relation.on_delete is models.CASCADE:
            related.delete()
        elif relation.on_delete is models.SET_NULL:
            related.update(**{relation.field.name: None})
        else:
            kept.append(related)
    people = Person._base_manager.filter(pk__any=keys)
    connection = connections[people.db]
    if not _may_skip_reference_checks(connection):
        # The database's own checks refuse the batch at commit if a kept row points here.
        return people._raw_delete(people.db)
    if any(related.exists() for related in kept):
        raise IntegrityError("A person of this batch is still referenced (a legal hold?).")
    return _delete_checked_people(connection, people)


def _may_skip_reference_checks(connection: BaseDatabaseWrapper) -> bool:
    """Whether this PostgreSQL role may turn the foreign-key triggers off for a statement
    (superuser, or `GRANT SET ON PARAMETER session_replication_role`, PostgreSQL 15+)."""
    if connection.vendor != "postgresql" or connection.pg_version < 150000:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
        return cursor.fetchone()[0]


def _delete_checked_people(connection: BaseDatabaseWrapper, people: QuerySet) -> int:
    """Delete people whose references `delete_people` has just removed or checked, without
    PostgreSQL's per-row reference checks.

    Deleting a person makes PostgreSQL look, for every deleted row, into each
    table that points at Person (twice for Django's deferrable constraints): about 85%
    of the time of deleting a prospect with their rows. Those checks are redundant here: the
    batch's people are locked FOR UPDATE, which blocks any new reference to them until the
    commit (a concurrent insert's own reference check takes FOR KEY SHARE on the person,
    and fails once the person is gone); every reference committed before the lock was
    deleted, detached or checked above. `session_replication_role = replica` turns the
    triggers off for this one statement only (PostgreSQL decides which triggers fire when
    the statement runs, so restoring it before the commit keeps the deferred checks of the
    rest of the transaction), and the transaction's end would restore it anyway.
    `test_delete_people_skips_only_redundant_checks` checks that Django knows every
    constraint pointing at Person, so none is skipped unseen.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        deleted = people._raw_delete(people.db)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    return deleted


# --- The policies -------------------------------------------------------------------------


def _prospects(now: datetime) -> QuerySet:
    """Prospects who never became clients and have no account, past their three years:
    since collection and since the last contact they initiated (C8; an email open is not
    one, so nothing but `last_contact_initiated_at` moves the clock)."""
    before = expired_before(now, _months("people.Person", "collected_at", "prospect"))
    return Person.objects.filter(
        Q(last_contact_initiated_at__isnull=True) | Q(last_contact_initiated_at__lt=before),
        is_prospect=True,
        is_client=False,
        is_user=False,
        collected_at__lt=before,
    )


def _asked_this_cycle() -> QuerySet:
    """Re-permissions asked since the person's clock last started."""
    clock_start = Greatest(
        OuterRef("collected_at"),
        Coalesce(OuterRef("last_contact_initiated_at"), OuterRef("collected_at")),
    )
    return Repermission.objects.filter(person_id=OuterRef("pk"), asked_at__gte=clock_start)


def _objected(keys: list[int], *, now: datetime, objected: bool = True) -> list[int]:
    """The keys, among `keys`, of the people who objected to marketing (or, with
    `objected=False`, of the others), by consent.services' own rule. Four queries."""
    emails = dict(Person.objects.filter(pk__any=keys).values_list("pk", "email"))
    barred = consent_services.objected_to_marketing(emails=emails.values(), now=now)
    return [key for key in keys if (emails.get(key) in barred) == objected]


def _ask(keys: list[int], *, now: datetime) -> int:
    from retention import tasks  # the task module imports the services, which import us

    asked = Repermission.objects.bulk_create(
        [Repermission(person_id=key, asked_at=now) for key in keys]
    )
    ids = [repermission.pk for repermission in asked]
    transaction.on_commit(partial(tasks.send_repermission_emails.delay, ids), robust=True)
    return len(ids)


def _resend(keys: list[int]) -> int:
    from retention import tasks

    ids = list(
        Repermission.objects.filter(person_id__any=keys, sent_at__isnull=True).values_list(
            "pk", flat=True
        )
    )
    transaction.on_commit(partial(tasks.send_repermission_emails.delay, ids), robust=True)
    return len(ids)


@policy(
    "prospects",
    enforces=(("people.Person", "collected_at", "prospect"),),
    settings=("RETENTION_MONTHS['prospect']", "RETENTION_REPERMISSION_GRACE_DAYS"),
    summary="Non-client prospects: one re-permission email at 3 years, deleted with "
    "everything of theirs when no explicit yes came within the grace period (C8). "
    "Those who objected to marketing are not asked, but deleted at 3 years (B9).",
)
def purge_prospects(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    expired = _prospects(now)
    held = _held(now, "pk")
    grace_ended = now - timedelta(days=settings.RETENTION_REPERMISSION_GRACE_DAYS)
    # Asked and unanswered: no yes a grace period after the email left, or, for an address
    # the server has refused every day since (the resend below), a grace period after it
    # was asked: otherwise a dead address would keep its person for ever.
    unanswered = _asked_this_cycle().filter(
        Q(sent_at__lt=grace_ended) | Q(sent_at__isnull=True, asked_at__lt=grace_ended),
        answered_yes_at__isnull=True,
    )
    # Asking someone who objected (opposition list, refusal or withdrawal last) whether
    # they want our emails is itself prospecting (GDPR 21(3); B9): they are not asked, and
    # since no answer can come, they go at the end of their 3 years. A restricted person
    # is held (`held_people`): neither asked nor deleted.
    not_objected = partial(_objected, now=now, objected=False)
    objected = _in_batches(
        expired,
        held=held,
        dry_run=dry_run,
        batch_size=batch_size,
        act=partial(delete_people, now=now),
        action="deleted",
        keep=partial(_objected, now=now),
    )
    delete = _in_batches(
        expired,
        conditions=(Exists(unanswered),),
        held=held,
        dry_run=dry_run,
        batch_size=batch_size,
        act=partial(delete_people, now=now),
        action="deleted",
        keep=not_objected,
    )
    ask = _in_batches(
        expired,
        conditions=(~Exists(_asked_this_cycle()),),
        held=held,
        dry_run=dry_run,
        batch_size=batch_size,
        act=partial(_ask, now=now),
        action="asked",
        keep=not_objected,
    )
    # An email that never left (the task gave up) is sent again every day, until it leaves
    # or its grace period since it was asked ends (then the person goes, above). The four
    # passes meet disjoint people, so nobody is counted twice (held ones included).
    never_left = _asked_this_cycle().filter(
        sent_at__isnull=True, asked_at__lt=now - ONE_DAY, asked_at__gte=grace_ended
    )
    resend = _in_batches(
        expired,
        conditions=(Exists(never_left),),
        held=held,
        dry_run=dry_run,
        batch_size=batch_size,
        act=_resend,
        action="resent",
        keep=not_objected,
    )
    return objected + delete + ask + resend


@policy(
    "client_prospecting",
    enforces=(("people.Person", "client_relationship_ended_at", "client_prospecting"),),
    settings=("RETENTION_MONTHS['client_prospecting']",),
    summary="Former clients leave the prospecting base 3 years after the relationship "
    "ended: prospect role dropped (C8). Their last contact stays: it also dates the "
    "account's last use, which the account_content policy reads.",
)
def purge_client_prospecting(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    before = expired_before(
        now, _months("people.Person", "client_relationship_ended_at", "client_prospecting")
    )
    return _in_batches(
        Person.objects.filter(
            is_client=True, is_prospect=True, client_relationship_ended_at__lt=before
        ),
        held=_held(now, "pk"),
        dry_run=dry_run,
        batch_size=batch_size,
        act=lambda keys: Person.objects.filter(pk__any=keys).update(is_prospect=False),
        action="left_prospecting",
    )


@policy(
    "card_evidence",
    enforces=(
        ("people.Purchase", "card_last4", "card_evidence"),
        ("people.Purchase", "card_last4", "card_evidence_deferred_debit"),
    ),
    settings=(
        "RETENTION_MONTHS['card_evidence']",
        "RETENTION_MONTHS['card_evidence_deferred_debit']",
    ),
    summary="Card details of a purchase blanked 13 months after the debit date, 15 for "
    "a deferred-debit card (C10, CMF L133-24).",
)
def purge_card_evidence(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    today = legal_date(now)
    immediate = last_expired_day(today, _months("people.Purchase", "card_last4", "card_evidence"))
    deferred = last_expired_day(
        today, _months("people.Purchase", "card_last4", "card_evidence_deferred_debit")
    )
    return _in_batches(
        Purchase.objects.exclude(card_last4="").filter(
            Q(is_deferred_debit=False, debited_on__lte=immediate)
            | Q(is_deferred_debit=True, debited_on__lte=deferred)
        ),
        held=_held(now, "person_id"),
        dry_run=dry_run,
        batch_size=batch_size,
        act=lambda keys: Purchase.objects.filter(pk__any=keys).update(
            card_brand="", card_last4="", card_exp_month=None, card_exp_year=None
        ),
        action="blanked",
    )


@policy(
    "accounting",
    enforces=(("people.Purchase", "invoiced_on", None),),
    settings=("RETENTION_MONTHS['accounting']",),
    summary="Invoices and payment records deleted 10 years after the close of their "
    "financial year (C9, Code de commerce L123-22; financial year = calendar year).",
)
def purge_accounting(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    # The period runs from the close of the financial year (REQUIREMENTS C9), taken to be
    # 31 December: an invoice goes once 31 December of its year has expired.
    last_day = last_expired_day(legal_date(now), _months("people.Purchase", "invoiced_on"))
    closed_year = last_day.year if (last_day.month, last_day.day) == (12, 31) else last_day.year - 1
    return _delete_in_batches(
        Purchase.objects.filter(invoiced_on__lte=date(closed_year, 12, 31)),
        held=_held(now, "person_id"),
        dry_run=dry_run,
        batch_size=batch_size,
    )


@policy(
    "technical_traces",
    enforces=(("people.TechnicalTrace", "seen_at", None),),
    settings=("RETENTION_MONTHS['technical_traces']",),
    summary="IP addresses and browser traces deleted 13 months after they were seen.",
)
def purge_technical_traces(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    return _delete_in_batches(
        TechnicalTrace.objects.filter(
            seen_at__lt=expired_before(now, _months("people.TechnicalTrace", "seen_at"))
        ),
        held=_held(now, "person_id"),
        dry_run=dry_run,
        batch_size=batch_size,
    )


@policy(
    "contact_requests",
    enforces=(("people.ContactRequest", "last_exchange_at", None),),
    settings=("RETENTION_MONTHS['contact_requests']",),
    summary="Contact requests deleted 3 years after their last exchange.",
)
def purge_contact_requests(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    # last_exchange_at is never null (it starts at the message's own date), so the
    # column alone, which the index serves, dates the request.
    before = expired_before(now, _months("people.ContactRequest", "last_exchange_at"))
    return _delete_in_batches(
        ContactRequest.objects.filter(last_exchange_at__lt=before),
        held=_held(now, "person_id"),
        dry_run=dry_run,
        batch_size=batch_size,
    )


def _inactive_accounts(before: datetime) -> QuerySet:
    """People who have not used their account since before `before`.

    The last use is the latest of: when we first collected them, the last contact they
    initiated (`last_contact_initiated_at`: a click, a purchase, a sign-in, a reply; never
    an email open) and the end of their client relationship. A current client (no end
    date) is never inactive.
    """
    return Person.objects.filter(
        Q(last_contact_initiated_at__isnull=True) | Q(last_contact_initiated_at__lt=before),
        Q(is_client=False) | Q(client_relationship_ended_at__lt=before),
        collected_at__lt=before,
    )


@policy(
    "account_content",
    enforces=(
        ("people.Review", "created_at", None),
        ("people.ActivityParticipation", "joined_at", None),
        ("people.Activity", "organiser", None),
    ),
    settings=("RETENTION_MONTHS['account_content']",),
    summary="Reviews and activity participations deleted, and activities organised "
    "detached from their organiser (kept for their participants), 3 years after the "
    "person last used their account: the latest of first collection, last contact they "
    "initiated (click, purchase, sign-in, reply) and end of the client relationship; "
    "never for a current client, never content younger than the period.",
)
def purge_account_content(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    # One period for the three models (the inventory's ACCOUNT_CONTENT_RETENTION).
    before = expired_before(now, _months("people.Review", "created_at"))
    inactive = _inactive_accounts(before)
    reviews = _in_batches(
        Review.objects.filter(created_at__lt=before),
        conditions=(Exists(inactive.filter(pk=OuterRef("person_id"))),),
        held=_held(now, "person_id"),
        dry_run=dry_run,
        batch_size=batch_size,
        act=partial(_delete_rows, Review),
        action="reviews_deleted",
    )
    participations = _in_batches(
        ActivityParticipation.objects.filter(joined_at__lt=before),
        conditions=(Exists(inactive.filter(pk=OuterRef("person_id"))),),
        held=_held(now, "person_id"),
        dry_run=dry_run,
        batch_size=batch_size,
        act=partial(_delete_rows, ActivityParticipation),
        action="participations_deleted",
    )
    # What an erasure does to an activity (inventory: anonymise): it stays for its
    # participants, without its organiser.
    activities = _in_batches(
        Activity.objects.filter(organiser__isnull=False, created_at__lt=before),
        conditions=(Exists(inactive.filter(pk=OuterRef("organiser_id"))),),
        held=_held(now, "organiser_id"),
        dry_run=dry_run,
        batch_size=batch_size,
        act=lambda keys: Activity.objects.filter(pk__any=keys).update(organiser=None),
        action="activities_anonymised",
    )
    return reviews + participations + activities


@policy(
    "saved_cards",
    settings=(),
    summary="Saved cards of a closed account marked withdrawn at once (C10); "
    "saved_cards_without_consent then detaches them at Stripe and deletes them.",
)
def purge_saved_cards(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    # A card is kept "for future purchases" on an account; with the account gone the
    # consent has nothing left to apply to. The row is not deleted here: a card still
    # attached at Stripe could be charged. It is marked as the person's own withdrawal
    # marks it, and the next policy detaches it at Stripe before deleting it.
    return _in_batches(
        SavedCard.objects.filter(consent_withdrawn_at__isnull=True),
        conditions=(Exists(Person.objects.filter(pk=OuterRef("person_id"), is_user=False)),),
        held=_held(now, "person_id"),
        dry_run=dry_run,
        batch_size=batch_size,
        act=lambda keys: SavedCard.objects.filter(pk__any=keys).update(consent_withdrawn_at=now),
        action="withdrawn",
    )


class CardsNotDetached(Exception):
    """Stripe failed to detach some cards whose consent was withdrawn; the next run retries."""


@policy(
    "saved_cards_without_consent",
    settings=(),
    summary="Saved cards whose consent was withdrawn (or whose account closed) and which "
    "are still attached: detached at Stripe and deleted, retried every run (C10, B12).",
)
def purge_saved_cards_without_consent(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    # Withdrawal records the choice and marks the card first, then asks Stripe
    # (consent.services.withdraw_cards); this finishes what Stripe refused then. No legal
    # hold applies: the withdrawal path itself ignores them, and a hold keeps evidence, not
    # a card that can still be charged. Stripe is called outside any transaction, one card
    # at a time; each batch is then one DELETE. If some cards are still attached at the
    # end, the run fails (SweepRun.error, /healthz) after deleting the others.
    from consent.services import remove_withdrawn_cards  # consent imports people, as we do

    withdrawn = SavedCard.objects.filter(consent_withdrawn_at__isnull=False)
    if dry_run:
        count = withdrawn.count()
        return SweepResult(examined=count, affected=count, details={"deleted": count})
    total = SweepResult(details={"deleted": 0})
    last_pk = 0
    while True:
        cards = list(withdrawn.filter(pk__gt=last_pk).order_by("pk")[:batch_size])
        if not cards:
            break
        last_pk = cards[-1].pk
        removed = remove_withdrawn_cards(cards=cards)
        batch = SweepResult(examined=len(cards), affected=removed, details={"deleted": removed})
        # Just after the cards' own transaction (Stripe is called outside any), not in it.
        record_batch(batch)
        total = total + batch
        batch_committed(batch)
    if total.affected < total.examined:
        raise CardsNotDetached(f"{total.examined - total.affected} card(s) still attached")
    return total


@policy(
    "opposition_list",
    enforces=(("consent.OppositionEntry", "objected_at", None),),
    settings=("RETENTION_MONTHS['opposition_list']",),
    summary="Opposition-list entries deleted once their period (at least 3 years) has passed.",
)
def purge_opposition_list(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    # B11: never before RETENTION_MONTHS["opposition_list"] (settings refuse less than 36).
    # An entry names no person (a keyed hash only), so no legal hold can apply to it.
    return _delete_in_batches(
        OppositionEntry.objects.filter(
            objected_at__lt=expired_before(now, _months("consent.OppositionEntry", "objected_at"))
        ),
        held=NOTHING_HELD,
        dry_run=dry_run,
        batch_size=batch_size,
    )


# --- Rights requests and what they leave behind (rights/) ---------------------------------


@policy(
    "unconfirmed_requests",
    enforces=(("rights.DataSubjectRequest", "email", "unconfirmed_requests"),),
    settings=("RIGHTS_CONFIRMATION_LINK_DAYS", "RETENTION_MONTHS['unconfirmed_requests']"),
    summary="Requests never confirmed: expired when their link expires (a step and an audit "
    "event each), then deleted with their steps, links and emails a month later.",
)
def purge_unconfirmed_requests(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    from rights import services  # rights.services imports its tasks, which import it

    link_expired = now - timedelta(days=settings.RIGHTS_CONFIRMATION_LINK_DAYS)
    # Expiring destroys nothing (the request stays, closed): no hold to honour.
    expire = _in_batches(
        DataSubjectRequest.objects.unconfirmed_since(link_expired),
        held=NOTHING_HELD,
        dry_run=dry_run,
        batch_size=batch_size,
        act=partial(services.expire_requests, now=now),
        action="expired",
    )
    months = _months("rights.DataSubjectRequest", "email", "unconfirmed_requests")
    delete = _in_batches(
        DataSubjectRequest.objects.expired_before(expired_before(now, months)),
        held=_held_by_email(now, "email"),
        dry_run=dry_run,
        batch_size=batch_size,
        act=services.delete_requests,
        action="deleted",
    )
    return expire + delete


@policy(
    "closed_requests",
    enforces=(
        ("rights.DataSubjectRequest", "email", "closed_requests"),
        ("rights.RequestStep", "message", "closed_requests"),
    ),
    settings=("RETENTION_MONTHS['closed_requests']",),
    summary="Closed requests anonymised 5 years after closure: address, name, answers, "
    "messages and the emails and links left go; kind, dates, outcome, ground and days "
    "taken stay as proof (A11).",
)
def anonymise_closed_requests(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    from rights import services

    months = _months("rights.DataSubjectRequest", "email", "closed_requests")
    return _in_batches(
        DataSubjectRequest.objects.closed_before(expired_before(now, months)),
        held=_held_by_email(now, "email"),
        dry_run=dry_run,
        batch_size=batch_size,
        act=partial(services.anonymise_requests, now=now),
        action="anonymised",
    )


@policy(
    "sent_emails",
    settings=("RIGHTS_SENT_EMAIL_RETENTION_DAYS",),
    summary="Outbox emails (address, single-use links) deleted 30 days after they were sent, "
    "or after they were queued when sending failed for good.",
)
def purge_sent_emails(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    # Measured in days, so not an inventory rule in months: the inventory describes it
    # from the same setting (SENT_EMAIL_RETENTION).
    cutoff = now - timedelta(days=settings.RIGHTS_SENT_EMAIL_RETENTION_DAYS)
    return _delete_in_batches(
        OutgoingEmail.objects.done_before(cutoff),
        held=_held_by_email(now, "to"),
        dry_run=dry_run,
        batch_size=batch_size,
    )


@policy(
    "sign_in_links",
    settings=("RIGHTS_SIGN_IN_LINK_MINUTES",),
    summary="Privacy-space sign-in links deleted once expired, used or not.",
)
def purge_sign_in_links(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    return _delete_in_batches(
        SecretLink.objects.expired_sign_ins(now=now),
        held=_held_by_email(now, "email"),
        dry_run=dry_run,
        batch_size=batch_size,
    )


@policy(
    "exports",
    settings=("RIGHTS_EXPORT_LINK_DAYS",),
    summary="Access and portability exports deleted, file and row, when their link expires "
    "(an audit event each on the request's timeline).",
)
def purge_exports(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    from rights import exports

    return _in_batches(
        Export.objects.expired(now=now),
        held=_held_by_email(now, "request__email"),
        dry_run=dry_run,
        batch_size=batch_size,
        act=partial(exports.delete_exports, now=now),
        action="deleted",
    )


def _kept_row_still_there() -> Q:
    """True for an ErasureKeptRow whose row still exists (the sweeps delete a kept invoice
    whole when its date has passed), for each model the inventory keeps on a dated rule."""
    dated = sorted(
        {f.model for f in inventory.personal_fields() for r in f.retention if r.start_field}
    )
    condition = Q()
    for label in dated:
        rows = apps.get_model(label)._base_manager.filter(pk=OuterRef("row_id"))
        condition |= Q(model=label) & Q(Exists(rows))
    return condition


@policy(
    "erasure_final_notices",
    settings=(),
    summary="After an erasure, once what was kept for a legal reason has been deleted "
    "(its last date passed and the rows gone), the person gets one final notice; the "
    "address kept for it is then blanked (B4).",
)
def send_erasure_final_notices(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    from rights import fulfilment

    today = legal_date(now)
    still_kept = ErasureKeptRow.objects.filter(ledger_id=OuterRef("pk")).filter(
        _kept_row_still_there()
    )
    return _in_batches(
        ErasureLedger.objects.final_notice_due(today),
        conditions=(~Exists(still_kept),),
        held=_held_by_email(now, "notice_email"),
        dry_run=dry_run,
        batch_size=batch_size,
        act=partial(fulfilment.send_final_notices, now=now),
        action="notified",
    )


# --- Leftovers ------------------------------------------------------------------------------


@policy(
    "stripe_events",
    settings=("STRIPE_EVENT_RETENTION_DAYS",),
    summary="The ledger of handled Stripe webhook events (ids and types, no content) "
    "deleted after 30 days: Stripe stops retrying an event after 3.",
)
def purge_stripe_events(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    # An event id names no one (NOT_PERSONAL in the inventory): no hold applies.
    cutoff = now - timedelta(days=settings.STRIPE_EVENT_RETENTION_DAYS)
    return _delete_in_batches(
        StripeEvent.objects.filter(received_at__lt=cutoff),
        held=NOTHING_HELD,
        dry_run=dry_run,
        batch_size=batch_size,
    )


@policy(
    "consent_proof",
    enforces=(("consent.ConsentRecord", "at", None),),
    settings=("RETENTION_MONTHS['consent_proof']",),
    summary="Consent records deleted 5 years after they stopped being relied on, that is "
    "after a later choice (a withdrawal, a new choice) replaced them; the latest choice "
    "per person and purpose is the current state and stays (B12, GDPR 7(1)). A cookie "
    "choice is relied on for CONSENT_CHOICE_MONTHS at most: 5 years after that, it goes.",
)
def purge_consent_proof(
    *, now: datetime, dry_run: bool = False, batch_size: int = DEFAULT_BATCH_SIZE
) -> SweepResult:
    # The proof of a consent is needed while the consent is relied on, and for the period
    # after (claims): so a record goes only once the record that replaced it is itself
    # older than the period. The latest record of a subject and purpose never goes here:
    # a current consent keeps its proof as long as it lasts.
    proof_months = _months("consent.ConsentRecord", "at")
    before = expired_before(now, proof_months)
    later = Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk"))
    replaced = ConsentRecord.objects.filter(later, purpose=OuterRef("purpose"), at__lt=before)
    superseded = Exists(
        replaced.exclude(subject_hash="").filter(subject_hash=OuterRef("subject_hash"))
    ) | Exists(replaced.filter(browser_id=OuterRef("browser_id")))
    # A cookie choice lapses after CONSENT_CHOICE_MONTHS (the banner asks again, under a new
    # browser id): from then it is relied on no more, replaced or not (C5).
    lapsed_before = expired_before(now, proof_months + settings.CONSENT_CHOICE_MONTHS)
    lapsed = Q(browser_id__isnull=False, at__lt=lapsed_before)
    return _delete_in_batches(
        ConsentRecord.objects.filter(at__lt=before),
        conditions=(superseded | lapsed,),
        held=_held_by_hash(now, "subject_hash"),
        dry_run=dry_run,
        batch_size=batch_size,
    )
