"""The work each right needs: rectification, erasure, restriction and objection, and the
DPO's action per right on the request page.

Access and portability exports are in `rights/exports.py`. The workflows of the first
sections do one right's work and never change the request's status; each takes
keyword-only arguments and `now` (STYLE 3). They read the inventory (people/inventory.py)
for everything they need to know about fields: labels, recipients, what erasure does, how
long what is kept is kept and why. The last section, "The request page", holds one action
per right: it calls them, then closes the request and tells the person.

They live here rather than in `rights/services.py`, which holds the intake, the outbox and
the generic back-office actions: one module per stage of a request keeps both readable.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any, NamedTuple

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import models, transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit.hashing import normalise_email, subject_hash
from audit.models import ActorType
from audit.services import record_event
from consent import services as consent_services
from consent.models import ConsentSource
from people import inventory
from people import stripe as people_stripe
from people.inventory import Category, Erasure, Field, Recipient, Retention
from people.models import Person
from rights import exports, services, tasks
from rights.deadlines import add_months, legal_date, period_over
from rights.models import (
    RECTIFIABLE_FIELDS,
    ActionRefused,
    DataSubjectRequest,
    ErasureKeptRow,
    ErasureLedger,
    NotificationStatus,
    ObjectionDecision,
    OutcomeGround,
    PendingStripeDeletion,
    RecipientNotification,
    RequestKind,
    RequestStatus,
    Restriction,
    RestrictionCase,
    StepKind,
)

logger = logging.getLogger(__name__)


# --- The other apps and Stripe, each through one function (tests replace them) -----------


def consent_forget_subject(*, email: str, now: datetime) -> None:
    """Put the address's keyed hash on the opposition list (B11), withdrawing a marketing
    consent still current (B4)."""
    consent_services.forget_subject(email=email, now=now)


def consent_withdraw_marketing(*, email: str, now: datetime) -> None:
    """Withdraw marketing consent and add the address to the opposition list, at once (B9)."""
    consent_services.withdraw_marketing(email=email, source=ConsentSource.RIGHTS_REQUEST, now=now)


def stripe_detach_payment_method(*, payment_method_id: str) -> None:
    """Detach a saved card at Stripe (idempotent: a card Stripe no longer knows counts)."""
    people_stripe.detach_payment_method(payment_method_id)


def stripe_delete_customer(*, customer_id: str, notification_id: int | None = None) -> None:
    """Queue the deletion of the customer at Stripe (`rights.tasks.delete_stripe_customer`,
    retried with backoff while Stripe is unreachable); the notification, if any, is marked
    sent when it is done.
    """
    tasks.delete_stripe_customer.delay(customer_id, notification_id)


def stripe_update_customer(*, notification_id: int, person_id: int) -> None:
    """Queue passing a rectification on to Stripe (`rights.tasks.update_stripe_customer`)."""
    tasks.update_stripe_customer.delay(notification_id, person_id)


# --- Art. 19: telling the recipients ------------------------------------------------------


def recipients_of(fields: Iterable[Field]) -> dict[Recipient, list[Field]]:
    """Who received each field (the inventory's recipients, narrowed by `only_for`)."""
    found: dict[Recipient, list[Field]] = {}
    for f in fields:
        for recipient in f.recipients:
            if not recipient.only_for or set(recipient.only_for) & set(f.purposes):
                found.setdefault(recipient, []).append(f)
    return found


def notify_recipients(
    *, dsr: DataSubjectRequest, fields: Iterable[Field], now: datetime
) -> list[RecipientNotification]:
    """Record one notification per recipient holding any of `fields` (GDPR 19; B6).

    Pending ones are for the DPO to send (API call or email) and mark sent; the hosts of
    our own database need none. The person sees the list on their tracker.
    """
    notifications = [
        RecipientNotification.objects.create(
            request=dsr,
            recipient=str(recipient.name),
            fields=sorted({f"{f.model}.{f.field_name}" for f in held}),
            status=NotificationStatus.PENDING
            if recipient.notify
            else NotificationStatus.NOT_NEEDED,
            created_at=now,
        )
        for recipient, held in recipients_of(fields).items()
    ]
    dsr.audit("recipients.listed", now=now, count=len(notifications))
    return notifications


def stripe_notification(
    notifications: Iterable[RecipientNotification],
) -> RecipientNotification | None:
    """The notification for Stripe among `notifications`, if the inventory says Stripe
    received any of the fields concerned."""
    name = str(inventory.STRIPE.name)
    return next((n for n in notifications if n.recipient == name), None)


def delete_stripe_customer(
    *, customer_id: str, notification: RecipientNotification | None, now: datetime
) -> None:
    """Delete the customer at Stripe, then mark the erasure's notification sent (Art. 19).

    On failure the notification records the attempt and the error (the DPO sees the
    request waiting on Stripe) and the error propagates: the task retries
    `people.stripe.StripeUnavailable`. A customer Stripe no longer knows counts as deleted.
    """
    try:
        people_stripe.delete_customer(customer_id)
    except people_stripe.StripeError as error:
        if notification is not None:
            notification.record_attempt(now=now, error=str(error))
        raise
    PendingStripeDeletion.objects.filter(customer_id=customer_id).delete()
    if notification is not None:
        _record_success(notification, now=now)


# Person fields Stripe may hold, and the customer's attribute each one sets.
STRIPE_CONTACT_FIELDS = {
    "email": "email",
    "first_name": "name",
    "last_name": "name",
    "phone": "phone",
    "street": "address",
    "postal_code": "address",
    "city": "address",
    "country": "address",
}


def update_stripe_customer(
    *, notification: RecipientNotification, person: Person | None, now: datetime
) -> bool:
    """Pass a rectification on to Stripe (Art. 19): the fields the notification names, with
    their current values; then mark it sent. Return False, with the reason recorded on the
    notification for the DPO, when there is no longer a Stripe customer to update.

    On a Stripe failure the error is recorded and propagates (the task retries).
    """
    if person is None or not person.stripe_customer_id:
        notification.record_attempt(now=now, error="No Stripe customer for this record any more")
        return False
    names = {f.rsplit(".", 1)[1] for f in notification.fields if f.startswith("people.Person.")}
    targets = {STRIPE_CONTACT_FIELDS[n] for n in names if n in STRIPE_CONTACT_FIELDS}
    contact: dict[str, Any] = {}
    if "email" in targets:
        contact["email"] = person.email
    if "name" in targets:
        contact["name"] = f"{person.first_name} {person.last_name}".strip()
    if "phone" in targets:
        contact["phone"] = person.phone
    if "address" in targets:
        contact["address"] = {
            "line1": person.street,
            "postal_code": person.postal_code,
            "city": person.city,
            "country": person.country,
        }
    try:
        people_stripe.update_customer_contact(person.stripe_customer_id, **contact)
    except people_stripe.StripeError as error:
        notification.record_attempt(now=now, error=str(error))
        raise
    _record_success(notification, now=now)
    return True


@transaction.atomic
def _record_success(notification: RecipientNotification, *, now: datetime) -> None:
    notification.record_attempt(now=now)
    if notification.status == NotificationStatus.PENDING:  # the DPO may have marked it
        notification.mark_sent(by=None, now=now)


# --- Rectification (Art. 16) ------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    current: str
    proposed: str


def rectification_diff(*, dsr: DataSubjectRequest) -> list[FieldChange]:
    """The changes the person proposed that differ from what we hold, in form order."""
    proposed = dsr.details.get("proposed") or {}
    person = person_of(dsr)
    changes = []
    for name in RECTIFIABLE_FIELDS:
        if name not in proposed:
            continue
        current = str(getattr(person, name, "") or "") if person else ""
        if proposed[name] != current:
            label = inventory.get_field(Person, name).label
            changes.append(FieldChange(name, label, current, proposed[name]))
    return changes


@transaction.atomic
def apply_rectification(
    *, dsr: DataSubjectRequest, accepted: set[str], by: AbstractBaseUser, now: datetime
) -> list[FieldChange]:
    """Apply the accepted changes of `rectification_diff` to the person, in one transaction;
    return them. Audits the field names (never the values) and records the recipients to
    tell (Art. 19). Raise ValidationError for an unknown field, an address already used
    by someone else, or no record for the request's address.
    """
    # Lock first, so the differences are computed against what is then written over.
    person = Person.objects.select_for_update().with_email(dsr.subject_email).first()
    if person is None:
        raise ValidationError("We hold no record for this address.")
    diff = rectification_diff(dsr=dsr)
    changes = [c for c in diff if c.field in accepted]
    unknown = set(accepted) - {c.field for c in diff}
    if unknown:
        raise ValidationError(f"Not proposed, or already so: {sorted(unknown)}")
    for change in changes:
        value = change.proposed
        if change.field == "email":
            value = normalise_email(value)
            validate_email(value)
            if Person.objects.with_email(value).exclude(pk=person.pk).exists():
                raise ValidationError("This address belongs to another record.")
        setattr(person, change.field, value)
    if not changes:
        return []
    person.full_clean(validate_unique=False, validate_constraints=False)
    person.save(update_fields=[c.field for c in changes])
    dsr.audit("rectification.applied", now=now, actor_user=by, fields=[c.field for c in changes])
    notifications = notify_recipients(
        dsr=dsr, fields=[inventory.get_field(Person, c.field) for c in changes], now=now
    )
    # Without a Stripe customer id, the notification stays pending for the DPO: the
    # person may have paid under another address.
    notice = stripe_notification(notifications)
    if person.stripe_customer_id and notice is not None:
        transaction.on_commit(
            partial(stripe_update_customer, notification_id=notice.pk, person_id=person.pk),
            robust=True,
        )
    return changes


# --- Erasure (Art. 17) ------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanItem:
    """What erasure does to some fields of some rows: delete, anonymise or keep (until when,
    why). `row` is the row's public reference (an invoice number), "" for all its rows.
    """

    category: Category
    model: str
    fields: tuple[str, ...]
    action: Erasure
    keep_until: date | None
    legal_reason: str
    count: int
    row: str = ""
    row_id: int | None = field(default=None, compare=False, repr=False)

    @property
    def labels(self) -> list[str]:
        return [inventory.get_field(self.model, name).label for name in self.fields]


def _keep_until(row: models.Model, rules: Iterable[Retention]) -> date | None:
    """The last day a kept field of `row` is kept (it may go the day after: period_over),
    from its rule's start field; None if no rule dates it (kept as long as the proof is
    needed...).
    """
    for rule in rules:
        if not rule.start_field or rule.months is None:
            continue
        if rule.only_when and getattr(row, rule.only_when[0]) != rule.only_when[1]:
            continue
        start = getattr(row, rule.start_field)
        if rule.from_year_end:
            start = date(start.year, 12, 31)
        return add_months(start, rule.months)
    return None


def _blank(model_field: models.Field) -> Any:
    return None if model_field.null else model_field.get_default()


def _groups(model: str) -> list[list[Field]]:
    """The model's fields, grouped by what erasure does to them and why."""
    groups: dict[tuple, list[Field]] = {}
    for f in inventory.fields_for(model):
        key = (f.category, f.erasure, str(f.keep_reason or f.erasure_note), f.retention)
        groups.setdefault(key, []).append(f)
    return list(groups.values())


def _is_blank(row: models.Model, fields: list[Field]) -> bool:
    meta = row._meta
    return all(
        getattr(row, meta.get_field(f.field_name).attname) == _blank(meta.get_field(f.field_name))
        for f in fields
    )


def erasure_plan(*, person: Person, now: datetime) -> list[PlanItem]:
    """What erasing `person` would do, model by model, from the inventory (nothing changes).

    Rows whose kept fields run on a dated rule (invoices: 10 years from the close of their
    financial year; card details: 13 or 15 months from the debit) get one item per row and
    group, with its date; a date already past turns "keep" into "delete". Other models get
    one item per group of fields, for all their rows. Kept fields without a date (the proof
    of requests) say why.
    """
    today = legal_date(now)
    plan: list[PlanItem] = []
    for model in inventory.person_models():
        rows = inventory.rows_of(model, person=person, email=person.email)
        groups = _groups(model)
        dated = any(r.start_field for g in groups for f in g for r in f.retention)
        if not dated:
            count = rows.count()
            if count:
                plan += [
                    PlanItem(
                        category=g[0].category,
                        model=model,
                        fields=tuple(f.field_name for f in g),
                        action=g[0].erasure,
                        keep_until=None,
                        legal_reason=str(g[0].keep_reason or g[0].erasure_note),
                        count=count,
                    )
                    for g in groups
                ]
            continue
        for row in rows.order_by("pk"):
            for g in groups:
                action, reason, until = (
                    g[0].erasure,
                    str(g[0].keep_reason or g[0].erasure_note),
                    None,
                )
                if action == Erasure.KEEP:
                    until = _keep_until(row, g[0].retention)
                    if until is not None and period_over(until, today=today):
                        action, until = Erasure.DELETE, None
                        reason = gettext("Its legal retention period is over")
                if action == Erasure.DELETE and _is_blank(row, g):
                    continue  # already blanked (by the sweep or a first erasure)
                plan.append(
                    PlanItem(
                        category=g[0].category,
                        model=model,
                        fields=tuple(f.field_name for f in g),
                        action=action,
                        keep_until=until,
                        legal_reason=reason,
                        count=1,
                        row=str(row),
                        row_id=row.pk,
                    )
                )
    return plan


def _apply_plan(*, person: Person, plan: list[PlanItem]) -> dict[str, int]:
    """Carry out the plan; return how many rows each model lost or changed.

    Per model (the Person last, once the rows pointing at it are dealt with): where every
    field is deleted, the rows go; otherwise the deleted fields are blanked and the link to
    the person is cleared (anonymised). Kept fields are not touched.
    """
    targets: dict[tuple[str, int | None], dict[Erasure, set[str]]] = defaultdict(
        lambda: defaultdict(set)
    )
    for item in plan:
        if item.action != Erasure.KEEP:
            targets[(item.model, item.row_id)][item.action] |= set(item.fields)
    done: dict[str, int] = defaultdict(int)
    # The Person last: deleting it first would detach (SET_NULL) the rows still to handle.
    for (model, row_id), actions in sorted(
        targets.items(), key=lambda t: t[0][0] == "people.Person"
    ):
        meta = apps.get_model(model)._meta
        rows = inventory.rows_of(model, person=person, email=person.email)
        if row_id is not None:
            rows = rows.filter(pk=row_id)
        _delete_files(rows, names=actions[Erasure.DELETE])
        if actions[Erasure.DELETE] >= {f.field_name for f in inventory.fields_for(model)}:
            done[model] += rows.delete()[1].get(meta.label, 0)
            continue
        # Anonymising a row detaches it from the person; its other fields stay as declared.
        cleared = actions[Erasure.DELETE] | {
            name for name in actions[Erasure.ANONYMISE] if inventory.get_field(model, name).is_link
        }
        changes = {meta.get_field(name).attname: _blank(meta.get_field(name)) for name in cleared}
        if changes:
            done[model] += rows.update(**changes)
    return dict(done)


def _delete_files(rows: models.QuerySet, *, names: set[str]) -> None:
    """Files a deleted field names (a photo) leave the storage too, once the erasure commits."""
    meta = rows.model._meta
    for name in names:
        if isinstance(meta.get_field(name), models.FileField):
            for path in rows.exclude(**{name: ""}).values_list(name, flat=True):
                transaction.on_commit(partial(default_storage.delete, path))


def _summary(plan: list[PlanItem], done: dict[str, int]) -> dict[str, Any]:
    """The ledger's record of an erasure: counts and dates, never a value or a reference."""
    items: dict[tuple, int] = defaultdict(int)
    for item in plan:
        key = (item.model, str(item.category.value), str(item.action), item.keep_until)
        items[key] += item.count
    return {
        "plan": [
            {
                "model": model,
                "category": category,
                "action": action,
                "keep_until": until.isoformat() if until else None,
                "rows": count,
            }
            for (model, category, action, until), count in items.items()
        ],
        "done": done,
    }


@dataclass(frozen=True)
class KeptData:
    category: Category
    labels: list[str]
    keep_until: date | None
    legal_reason: str


@dataclass(frozen=True)
class ErasureResult:
    plan: list[PlanItem]
    erased: list[Category]  # categories deleted or anonymised, in whole or part
    kept: list[KeptData]  # what stays, until when and why
    notifications: list[RecipientNotification]
    already_erased: bool = False


def _kept(plan: list[PlanItem]) -> list[KeptData]:
    grouped: dict[tuple, list[str]] = {}
    for item in plan:
        if item.action == Erasure.KEEP:
            labels = grouped.setdefault((item.category, item.keep_until, item.legal_reason), [])
            labels += [label for label in item.labels if label not in labels]
    return [
        KeptData(category, labels, until, reason)
        for (category, until, reason), labels in sorted(
            grouped.items(), key=lambda kv: (kv[0][1] or date.max, list(Category).index(kv[0][0]))
        )
    ]


class ErasureBlocked(Exception):
    """A legal hold (a dispute, a claim, an authority) keeps the person's data (17(3)(e))."""


def _forget(*, person: Person, now: datetime) -> str:
    """What erasure does outside our tables, before touching them: saved cards detached at
    Stripe first (if Stripe fails, the erasure fails whole and can be run again) and the
    address on the opposition list. Return the Stripe customer id ("" if none), for the
    caller to delete after commit (`_delete_stripe_customer_after_commit`).

    Raise ErasureBlocked while a legal hold that has not ended covers the person (even one
    dated to start later); ended holds go with the person (their FK protects the row).
    """
    if person.legal_holds.not_ended(now=now).exists():
        raise ErasureBlocked("an active legal hold covers this person")
    person.legal_holds.all().delete()
    for payment_method_id in person.saved_cards.values_list("stripe_payment_method_id", flat=True):
        stripe_detach_payment_method(payment_method_id=payment_method_id)
    consent_forget_subject(email=person.email, now=now)
    return person.stripe_customer_id


def _delete_stripe_customer_after_commit(
    customer_id: str, notification: RecipientNotification | None, *, now: datetime
) -> None:
    """Record the deletion to do, in the erasure's transaction, and queue it after commit;
    rights.tasks.retry_stripe_deletions queues again whatever Stripe has not confirmed."""
    if customer_id:
        PendingStripeDeletion.objects.update_or_create(
            customer_id=customer_id, defaults={"notification": notification, "queued_at": now}
        )
        transaction.on_commit(
            partial(
                stripe_delete_customer,
                customer_id=customer_id,
                notification_id=notification.pk if notification else None,
            ),
            robust=True,  # Redis down: the erasure stands; the notification stays pending
        )


class _Erasure(NamedTuple):
    email: str  # the address the person had
    plan: list[PlanItem]
    done: dict[str, int]  # rows deleted or anonymised, per model
    customer_id: str  # the Stripe customer to delete after commit, or ""


def _erase(person_pk: int, *, now: datetime) -> _Erasure | None:
    """Lock the person, then forget them and apply their erasure plan: the core of an
    erasure and of its reapplication after a restore. None when they are gone already;
    raise ErasureBlocked, changing nothing, under a legal hold. The caller's transaction."""
    person = Person.objects.select_for_update().filter(pk=person_pk).first()
    if person is None:
        return None
    plan = erasure_plan(person=person, now=now)
    email = person.email
    customer_id = _forget(person=person, now=now)
    return _Erasure(email, plan, _apply_plan(person=person, plan=plan), customer_id)


@transaction.atomic
def execute_erasure(
    *, dsr: DataSubjectRequest, person: Person, by: AbstractBaseUser, now: datetime
) -> ErasureResult:
    """Erase `person` as `erasure_plan` says, in one transaction, and tell them what was
    erased and what is kept, until when and why (an email; B4, A7).

    Also: the keyed hash of the address joins the opposition list (B11) and the erasure
    ledger (so `reapply_erasures` can redo it after a backup restore); the Stripe customer is
    deleted after commit by a task that retries until Stripe answers, then marks the Stripe
    notification sent; one notification per recipient is recorded (Art. 19). Running it
    again changes nothing: the person is gone (`already_erased`). Raise ErasureBlocked,
    changing nothing, while a legal hold covers the person.
    """
    erasure = _erase(person.pk, now=now)
    if erasure is None:
        return ErasureResult(plan=[], erased=[], kept=[], notifications=[], already_erased=True)
    email, plan, done, customer_id = erasure
    summary = _summary(plan, done)
    kept_rows = _kept_rows(plan)
    final_notice_due_on = max(kept_rows.values(), default=None)
    ledger, created = ErasureLedger.objects.get_or_create(
        request_code=dsr.code,
        defaults={
            "subject_hash": subject_hash(email),
            "executed_at": now,
            "summary": summary,
            # Kept for the final notice only, and only when something is kept until a date.
            "notice_email": dsr.email if final_notice_due_on else "",
            "notice_language": dsr.language if final_notice_due_on else "",
            "final_notice_due_on": final_notice_due_on,
        },
    )
    if created:
        ErasureKeptRow.objects.bulk_create(
            ErasureKeptRow(ledger=ledger, model=model, row_id=row_id, keep_until=until)
            for (model, row_id), until in kept_rows.items()
        )
    erased_items = [item for item in plan if item.action != Erasure.KEEP]
    notifications = notify_recipients(
        dsr=dsr,
        fields=[inventory.get_field(i.model, name) for i in erased_items for name in i.fields],
        now=now,
    )
    if customer_id:
        _delete_stripe_customer_after_commit(
            customer_id, stripe_notification(notifications), now=now
        )
    erased = list(dict.fromkeys(item.category for item in erased_items))
    kept = _kept(plan)
    dsr.audit("erasure.executed", now=now, actor_user=by, rows=done)
    services.queue_email(
        template="erasure_done",
        to=dsr.email,
        language=dsr.language,
        context=services._email_context(
            dsr, erased=erased, kept=kept, final_notice=final_notice_due_on is not None
        ),
        dsr=dsr,
        now=now,
    )
    return ErasureResult(plan=plan, erased=erased, kept=kept, notifications=notifications)


def _kept_rows(plan: list[PlanItem]) -> dict[tuple[str, int], date]:
    """The rows kept until a date, each with its last date (an invoice's, after its card
    details'): what the final notice waits for."""
    rows: dict[tuple[str, int], date] = {}
    for item in plan:
        if item.action == Erasure.KEEP and item.keep_until and item.row_id is not None:
            key = (item.model, item.row_id)
            rows[key] = max(item.keep_until, rows.get(key, item.keep_until))
    return rows


def send_final_notices(keys: list[int], *, now: datetime) -> int:
    """Tell the people of these erasures that what was kept for a legal reason is now
    deleted too, then forget the address kept for that; return how many were told.

    Retention's erasure_final_notices policy picks the entries (last date passed, kept rows
    gone) and locks them. One email and one audit event each; the outbox purges the email
    after RIGHTS_SENT_EMAIL_RETENTION_DAYS like any other.
    """
    ledgers = list(ErasureLedger.objects.filter(pk__in=keys).exclude(notice_email=""))
    for ledger in ledgers:
        services.queue_email(
            template="erasure_final",
            to=ledger.notice_email,
            language=ledger.notice_language or settings.LANGUAGE_CODE,
            context={
                "reference": str(ledger.request_code)[:8].upper(),
                "executed_on": legal_date(ledger.executed_at),
                "email_days": settings.RIGHTS_SENT_EMAIL_RETENTION_DAYS,
            },
            now=now,
        )
        record_event(
            action="erasure.final_notice_sent",
            actor_type=ActorType.SYSTEM,
            object_type="rights.DataSubjectRequest",
            object_ref=str(ledger.request_code),
            subject_email=ledger.notice_email,
            now=now,
        )
    done = [ledger.pk for ledger in ledgers]
    ErasureKeptRow.objects.filter(ledger_id__in=done).delete()
    ErasureLedger.objects.filter(pk__in=done).update(
        notice_email="", notice_language="", final_notice_sent_at=now
    )
    return len(done)


def reapply_erasures(*, now: datetime, dry_run: bool = False) -> int:
    """Erase again the people a restored backup brought back; return how many.

    A person matches a ledger entry when their address hashes the same and their record was
    collected before that erasure (someone who came back later, and gave their data again,
    is not erased). Idempotent: an erased person is gone, so a second run finds no one.
    """
    executed: dict[str, datetime] = {}
    for digest, at in ErasureLedger.objects.values_list("subject_hash", "executed_at"):
        executed[digest] = max(at, executed.get(digest, at))
    if not executed:
        return 0
    matches = [
        (pk, digest)
        for pk, email, collected_at in Person.objects.values_list(
            "pk", "email", "collected_at"
        ).iterator(chunk_size=2000)
        if (digest := subject_hash(email)) in executed and collected_at <= executed[digest]
    ]
    if dry_run:
        return len(matches)
    erased = 0
    for pk, digest in matches:
        with transaction.atomic():
            try:
                erasure = _erase(pk, now=now)
            except ErasureBlocked:
                logger.warning("A restored person under a legal hold was not erased again")
                continue
            if erasure is None:
                continue
            email, _plan, done, customer_id = erasure
            _delete_stripe_customer_after_commit(customer_id, None, now=now)
            ErasureLedger.objects.filter(subject_hash=digest).update(last_reapplied_at=now)
            record_event(
                action="erasure.reapplied",
                actor_type=ActorType.SYSTEM,
                details={"rows": done},
                subject_email=email,
                now=now,
            )
            erased += 1
    return erased


# --- Restriction (Art. 18) --------------------------------------------------------------------


@transaction.atomic
def restrict_processing(
    *,
    person: Person,
    case: RestrictionCase,
    by: AbstractBaseUser | None,
    now: datetime,
    dsr: DataSubjectRequest | None = None,
) -> Restriction:
    """Restrict the use of the person's data (stored, not used) for one of the four cases of
    18(1); return the active restriction (the existing one if already restricted so).
    Recipients of the person's record are listed for notification (Art. 19).
    """
    restriction, created = Restriction.objects.get_or_create(
        person=person,
        case=case,
        lifted_at__isnull=True,
        defaults={"request": dsr, "started_at": now},
    )
    if created:
        restriction._audit("restriction.started", by=by, now=now)
        if dsr is not None:
            notify_recipients(dsr=dsr, fields=inventory.fields_for(Person), now=now)
    return restriction


@transaction.atomic
def lift_restriction(*, restriction: Restriction, by: AbstractBaseUser, now: datetime) -> None:
    """Tell the person, then lift the restriction (GDPR 18(3)): the notice is recorded first
    and the model refuses to lift without it.
    """
    restriction = (
        Restriction.objects.select_for_update().select_related("person").get(pk=restriction.pk)
    )
    dsr = restriction.request
    services.queue_email(
        template="restriction_lifted",
        to=restriction.person.email,
        language=dsr.language if dsr else settings.LANGUAGE_CODE,
        context={
            "name": dsr.name if dsr else restriction.person.first_name,
            "restriction": restriction,
            "lifted_on": legal_date(now),
        },
        dsr=dsr,
        now=now,
    )
    restriction.record_lift_notice(by=by, now=now)
    restriction.lift(by=by, now=now)
    if dsr:
        dsr.add_step(StepKind.RESTRICTION_LIFTED, now=now)


# --- Objection (Art. 21) ----------------------------------------------------------------------


@transaction.atomic
def object_to_marketing(*, dsr: DataSubjectRequest, now: datetime) -> None:
    """Absolute and immediate (21(2)–(3); B9): marketing consent withdrawn and the address on
    the opposition list. No reason asked, no decision to take.
    """
    consent_withdraw_marketing(email=dsr.subject_email, now=now)
    dsr.audit("objection.marketing_stopped", now=now)


@transaction.atomic
def suspend_for_objection(
    *, dsr: DataSubjectRequest, now: datetime, by: AbstractBaseUser | None = None
) -> Restriction | None:
    """An objection to legitimate-interest processing: restrict while we examine it (18(1)(d);
    B8). Return None when we hold no record for the address.
    """
    person = Person.objects.with_email(dsr.subject_email).first()
    if person is None:
        return None
    return restrict_processing(
        person=person, case=RestrictionCase.OBJECTION_PENDING, by=by, now=now, dsr=dsr
    )


@transaction.atomic
def decide_objection(
    *,
    dsr: DataSubjectRequest,
    upheld: bool,
    compelling_grounds: str,
    by: AbstractBaseUser,
    now: datetime,
) -> ObjectionDecision:
    """Record the DPO's decision on an objection to legitimate-interest processing (B8).

    Refusing it needs the compelling legitimate grounds (our burden, 21(1)); the pending
    restriction is then lifted, the person told first. Upheld, the restriction stays: their
    data are no longer used for those purposes (an erasure request may follow, 17(1)(c)).
    """
    grounds = compelling_grounds.strip()
    if not upheld and not grounds:
        raise ValidationError(
            {"compelling_grounds": _("Refusing an objection needs the compelling grounds.")}
        )
    decision = ObjectionDecision.objects.create(
        request=dsr, upheld=upheld, compelling_grounds=grounds, decided_by=by, decided_at=now
    )
    dsr.audit("objection.decided", now=now, actor_user=by, upheld=upheld)
    if not upheld:
        for restriction in dsr.restrictions.active().filter(case=RestrictionCase.OBJECTION_PENDING):
            lift_restriction(restriction=restriction, by=by, now=now)
    return decision


# --- The request page: one action per right, each answering the request -------------------
# Called by the back office (rights/admin.py). Each locks the request, does the right's work
# with the functions above, closes the request through its model method (status, the step
# the person sees, the audit event) and tells the person through the outbox, all in one
# transaction. What the rules refuse raises ActionRefused with a message for the DPO, and
# then nothing is done. Access and portability close when their export is built
# (rights.exports.build_export).


def _require(dsr: DataSubjectRequest, *kinds: RequestKind) -> None:
    """The action applies to this request now. Data are not handed over, corrected, erased
    or restricted for a person whose identity the DPO doubted until it is checked (A5,
    GDPR 12(6)); stopping marketing on an objection needs no check."""
    if dsr.kind not in kinds:
        raise ActionRefused(_("This action does not apply to a request of this kind."))
    dsr._require_active()
    if (
        dsr.kind != RequestKind.OBJECTION
        and dsr.identity_doubt_reason
        and dsr.identity_checked_at is None
    ):
        raise ActionRefused(
            _(
                "You doubted the person's identity: record how it was checked first, or "
                "refuse the request."
            )
        )


def _start_if_open(dsr: DataSubjectRequest, *, by: AbstractBaseUser, now: datetime) -> None:
    """The work starts with the action: the person sees the step (the answer's email follows)."""
    if dsr.status == RequestStatus.OPEN:
        dsr.start(by=by, now=now)


@transaction.atomic
def prepare_export(*, dsr: DataSubjectRequest, by: AbstractBaseUser, now: datetime) -> None:
    """Access or portability: build the export in a worker. When it is built, the person is
    emailed a download link and the request is completed (rights.exports.build_export).
    """
    dsr = services._locked(dsr)
    _require(dsr, RequestKind.ACCESS, RequestKind.PORTABILITY)
    _start_if_open(dsr, by=by, now=now)
    exports.start_export(dsr=dsr, now=now)


@transaction.atomic
def rectify(
    *,
    dsr: DataSubjectRequest,
    accepted: Iterable[str],
    by: AbstractBaseUser,
    now: datetime,
    ground: str = "",
    reasons: str = "",
) -> list[FieldChange]:
    """Apply the corrections the DPO accepted and close the request: completed when all were
    accepted, partially completed when some were rejected, refused when none was; a rejection
    needs a ground and reasons, which the person receives with the remedies (A7).
    Return the changes applied.
    """
    dsr = services._locked(dsr)
    _require(dsr, RequestKind.RECTIFICATION)
    diff = rectification_diff(dsr=dsr)
    if not diff:
        raise ActionRefused(
            _("No correction left to apply: the record already holds the proposed values.")
        )
    accepted = set(accepted)
    rejected = [c for c in diff if c.field not in accepted]
    reasons = (reasons or "").strip()
    if rejected:
        if not reasons:
            raise ActionRefused(_("Give the person the reasons for the corrections you reject."))
        with translation.override(dsr.language):
            labels = ", ".join(str(inventory.get_field(Person, c.field).label) for c in rejected)
            reasons = gettext("Not corrected: %(fields)s.") % {"fields": labels} + "\n\n" + reasons
    try:
        changes = apply_rectification(dsr=dsr, accepted=accepted, by=by, now=now)
    except ValidationError as exc:
        raise ActionRefused(" ".join(exc.messages)) from exc
    if not changes:
        dsr.refuse(ground=ground, reasons=reasons, facts="", by=by, now=now)
        services._tell_person(dsr, "request_refused", now=now)
    elif rejected:
        dsr.mark_partially_completed(ground=ground, reasons=reasons, facts="", by=by, now=now)
        services._tell_person(dsr, "request_partially_completed", now=now)
    else:
        dsr.mark_completed(by=by, now=now)
        services._tell_person(dsr, "request_completed", now=now)
    return changes


def person_of(dsr: DataSubjectRequest) -> Person | None:
    return Person.objects.with_email(dsr.subject_email).first()


def kept_reasons(kept: list[KeptData], *, language: str) -> str:
    """What erasure kept, until when and why, in the person's language: the reasons of a
    partially completed erasure (the same sentences as the erasure email)."""
    with translation.override(language):
        return render_to_string("rights/_kept.txt", {"kept": kept}).strip()


@transaction.atomic
def erase(*, dsr: DataSubjectRequest, by: AbstractBaseUser, now: datetime) -> ErasureResult:
    """Execute the erasure of the request's person and close the request: completed, or
    partially completed when the law keeps something (the kept data, until when and why, are
    the reasons; B4, A7). The erasure email tells the person both, with the remedies.

    Someone we hold no record about is still put on the opposition list and told we held
    nothing to erase. Raise ActionRefused, doing nothing, under an active legal hold.
    """
    dsr = services._locked(dsr)
    _require(dsr, RequestKind.ERASURE)
    person = person_of(dsr)
    if person is None:
        consent_forget_subject(email=dsr.subject_email, now=now)
        result = ErasureResult(plan=[], erased=[], kept=[], notifications=[])
        dsr.audit("erasure.executed", now=now, actor_user=by, rows={})
        services.queue_email(
            template="erasure_done",
            to=dsr.email,
            language=dsr.language,
            context=services._email_context(dsr, erased=[], kept=[]),
            dsr=dsr,
            now=now,
        )
    else:
        try:
            result = execute_erasure(dsr=dsr, person=person, by=by, now=now)
        except ErasureBlocked as exc:
            raise ActionRefused(
                _(
                    "A legal hold covers this person (in force, or dated to start later): "
                    "nothing was erased. Refuse the erasure with its reasons (GDPR 17(3)(e)), "
                    "or wait for the hold to end."
                )
            ) from exc
    # No copy of the data left waiting to be downloaded; files go once the erasure commits.
    transaction.on_commit(partial(exports.delete_exports_about, dsr.subject_email, now=now))
    if result.kept:
        dsr.mark_partially_completed(
            ground=OutcomeGround.LEGAL_EXCEPTION,
            reasons=kept_reasons(result.kept, language=dsr.language),
            facts="",
            by=by,
            now=now,
        )
    else:
        dsr.mark_completed(by=by, now=now)
    return result


def requested_restriction_case(dsr: DataSubjectRequest) -> str:
    """The case of 18(1) the person chose (the DPO confirms or corrects it)."""
    return (dsr.details or {}).get("case", "")


@transaction.atomic
def restrict(
    *, dsr: DataSubjectRequest, case: str, by: AbstractBaseUser, now: datetime
) -> Restriction:
    """Restrict the person's data for `case` (stored, not used), list the recipients to tell
    (Art. 19) and complete the request. Lifting it later tells the person first."""
    dsr = services._locked(dsr)
    _require(dsr, RequestKind.RESTRICTION)
    if case not in RestrictionCase.values:
        raise ActionRefused(_("Choose the case of GDPR 18(1) that applies."))
    person = person_of(dsr)
    if person is None:
        raise ActionRefused(
            _("We hold no record for this address: there is nothing to restrict. Tell the person.")
        )
    restriction = restrict_processing(person=person, case=case, by=by, now=now, dsr=dsr)
    dsr.mark_completed(by=by, now=now)
    services._tell_person(dsr, "request_completed", now=now)
    return restriction


@transaction.atomic
def lift_request_restrictions(
    *, dsr: DataSubjectRequest, by: AbstractBaseUser, now: datetime
) -> int:
    """Lift the restrictions this request put in place, each after telling the person
    (18(3)); return how many. Also for a closed request: lifting comes later."""
    dsr = services._locked(dsr)
    restrictions = list(dsr.restrictions.active())
    if not restrictions:
        raise ActionRefused(_("No active restriction comes from this request."))
    for restriction in restrictions:
        lift_restriction(restriction=restriction, by=by, now=now)
    dsr.audit("request.restriction_lifted", now=now, actor_user=by, count=len(restrictions))
    return len(restrictions)


@transaction.atomic
def stop_marketing(*, dsr: DataSubjectRequest, by: AbstractBaseUser, now: datetime) -> None:
    """An objection to marketing: stopped at once, no reason asked (B9); completed."""
    dsr = services._locked(dsr)
    _require(dsr, RequestKind.OBJECTION)
    object_to_marketing(dsr=dsr, now=now)
    dsr.mark_completed(by=by, now=now)
    services._tell_person(dsr, "request_completed", now=now)


@transaction.atomic
def suspend_objected_processing(
    *, dsr: DataSubjectRequest, by: AbstractBaseUser, now: datetime
) -> Restriction:
    """An objection to legitimate-interest processing: suspend it while we examine it
    (18(1)(d); B8). The request stays in progress until the decision."""
    dsr = services._locked(dsr)
    _require(dsr, RequestKind.OBJECTION)
    restriction = suspend_for_objection(dsr=dsr, by=by, now=now)
    if restriction is None:
        raise ActionRefused(
            _("We hold no record for this address: there is nothing to suspend. Tell the person.")
        )
    _start_if_open(dsr, by=by, now=now)
    return restriction


@transaction.atomic
def decide_objection_request(
    *,
    dsr: DataSubjectRequest,
    upheld: bool,
    compelling_grounds: str,
    by: AbstractBaseUser,
    now: datetime,
) -> ObjectionDecision:
    """Decide an objection to legitimate-interest processing and answer it (B8): upheld, the
    request is completed (the processing stays stopped); refused, the compelling legitimate
    grounds are recorded and sent to the person as the reasons, with the remedies (A7)."""
    dsr = services._locked(dsr)
    _require(dsr, RequestKind.OBJECTION)
    if hasattr(dsr, "objection_decision"):
        raise ActionRefused(_("This objection was already decided."))
    try:
        decision = decide_objection(
            dsr=dsr, upheld=upheld, compelling_grounds=compelling_grounds, by=by, now=now
        )
    except ValidationError as exc:
        raise ActionRefused(" ".join(exc.messages)) from exc
    if upheld:
        dsr.mark_completed(by=by, now=now)
        services._tell_person(dsr, "request_completed", now=now)
    else:
        dsr.refuse(
            ground=OutcomeGround.COMPELLING_GROUNDS,
            reasons=decision.compelling_grounds,
            facts="",
            by=by,
            now=now,
        )
        services._tell_person(dsr, "request_refused", now=now)
    return decision


@transaction.atomic
def mark_recipient_notified(
    *, dsr: DataSubjectRequest, notification_id: int, by: AbstractBaseUser, now: datetime
) -> RecipientNotification:
    """The DPO told one recipient (Art. 19): record when. Also for a closed request."""
    notification = (
        dsr.recipient_notifications.select_for_update().filter(pk=notification_id).first()
    )
    if notification is None or notification.status != NotificationStatus.PENDING:
        raise ActionRefused(_("This recipient is not waiting to be told."))
    notification.mark_sent(by=by, now=now)
    return notification


def work_left(dsr: DataSubjectRequest) -> str:
    """What must still be done before the request can be closed as (partially) completed by
    hand, or "" when nothing is: each right's own action does its work (and closes the
    request), so no request is answered without it."""
    if dsr.kind in (RequestKind.ACCESS, RequestKind.PORTABILITY):
        if not dsr.exports.exists():
            return _("Prepare the export first: the request is completed when it is built.")
    elif dsr.kind == RequestKind.RECTIFICATION:
        if rectification_diff(dsr=dsr):
            return _("Accept or reject the proposed corrections first.")
    elif dsr.kind == RequestKind.ERASURE:
        if not ErasureLedger.objects.filter(request_code=dsr.code).exists():
            return _("Execute the erasure first, or refuse it with its reasons.")
    elif dsr.kind == RequestKind.RESTRICTION:
        if not dsr.restrictions.exists():
            return _("Restrict the processing first.")
    elif dsr.kind == RequestKind.OBJECTION and not hasattr(dsr, "objection_decision"):
        return _("Stop the marketing, or decide on the objection, first.")
    return ""
