"""Consent workflows: recording choices, the opposition list, marketing eligibility, cards.

Every marketing send asks `marketing_recipients` (or `may_send_marketing` for one address):
it is the one place that honours consent, withdrawal and the opposition list (B9-B11).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from audit.hashing import normalise_email, subject_hash
from audit.models import ActorType
from audit.services import record_event
from people import stripe as people_stripe
from people.models import Person, SavedCard
from rights import services as rights_services

from . import banner
from .models import (
    COOKIE_PURPOSES,
    Action,
    ConsentRecord,
    ConsentSource,
    ConsentText,
    OppositionChannel,
    OppositionEntry,
    Purpose,
    TextKind,
)

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "consent.unsubscribe"

# The wordings people tick or click, in English msgids; the exact text shown (in the
# language shown) is what a record's hash proves (C4, B12).
MARKETING_CONSENT_TEXT = _(
    "I agree to receive Okasio's newsletters and offers by email. I can unsubscribe at any "
    "time, with one click, from every email or from my privacy space."
)
SAVED_CARD_CONSENT_TEXT = _(
    "Keep my card for my next purchases. Stripe, our payment provider, holds its number; "
    "I can remove it at any time from my privacy space."
)
UNSUBSCRIBE_TEXT = _("Unsubscribe: I no longer want to receive Okasio's newsletters and offers.")

KIND_TEXTS = {
    TextKind.MARKETING: MARKETING_CONSENT_TEXT,
    TextKind.SAVED_CARD: SAVED_CARD_CONSENT_TEXT,
    TextKind.UNSUBSCRIBE: UNSUBSCRIBE_TEXT,
}

# The box shown for each consent tied to an email (on the platform and in the privacy space).
PURPOSE_TEXT_KINDS = {
    Purpose.MARKETING_EMAIL: TextKind.MARKETING,
    Purpose.SAVED_CARD: TextKind.SAVED_CARD,
}


class StaleBannerVersion(Exception):
    """The choice was made on a banner that is no longer the current one."""


class OnOppositionList(Exception):
    """The address objected to prospecting: it may not be (re)imported (B11)."""


class UnknownPerson(Exception):
    """No person has this address (a card can only be kept for someone we know)."""


class CardAlreadyKept(Exception):
    """This payment method is already kept."""


# --- Texts (C4) -------------------------------------------------------------------------


def store_text(*, kind: TextKind, snapshot: Any, now: datetime) -> ConsentText:
    """Return the stored version of a wording, storing it the first time it is used."""
    digest = banner.content_hash(snapshot)
    text, _created = ConsentText.objects.get_or_create(
        hash=digest, defaults={"kind": kind, "snapshot": snapshot, "first_recorded_at": now}
    )
    return text


def wording(kind: TextKind) -> str:
    """The wording of a consent box or link, in the active language."""
    return str(KIND_TEXTS[kind])


def _store_wording(*, kind: TextKind, now: datetime) -> ConsentText:
    return store_text(
        kind=kind,
        snapshot={"language": translation.get_language(), "text": wording(kind)},
        now=now,
    )


def current_texts(*, now: datetime) -> list[ConsentText]:
    """The boxes' current wordings, in every language, stored so a record can cite them.

    Okasio's platform shows these exact texts and sends back the hash of the one shown.
    """
    texts = []
    for kind in PURPOSE_TEXT_KINDS.values():
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                texts.append(_store_wording(kind=kind, now=now))
    return texts


def known_text(*, text_hash: str, purpose: Purpose) -> ConsentText | None:
    """The stored wording with this hash, if it is a box for `purpose`; else None."""
    kind = PURPOSE_TEXT_KINDS.get(purpose)
    return ConsentText.objects.filter(hash=text_hash, kind=kind).first() if kind else None


# --- Cookie choices (C1-C5) -------------------------------------------------------------

# Banner versions whose text this process has seen committed: the banner's busiest write
# then skips looking its text up (#8). Texts are never deleted; should one vanish all the
# same (a backup restored under running processes), the choice that needs it fails and its
# version is forgotten, so the next choice stores the text again. Tests start it empty.
STORED_BANNER_VERSIONS: set[str] = set()
# What a banner choice writes: every column but the id, which the database gives.
INSERTED_FIELDS = [f for f in ConsentRecord._meta.concrete_fields if not f.primary_key]


def record_cookie_choice(
    *,
    browser_id: uuid.UUID | None,
    version: str,
    choices: dict[str, bool],
    now: datetime,
) -> banner.StoredChoice:
    """Record one banner choice (one record per purpose) and return what the cookie holds.

    A purpose previously granted and now off is recorded as withdrawn, otherwise as refused.
    Raise StaleBannerVersion when `version` is not the current banner's.

    No transaction: the records are one INSERT (all or none), and the text, stored once
    for everyone, is kept whatever follows. A new visitor (no browser id yet) has nothing
    to look up. The banner's busiest write: one INSERT for a new visitor, a look-up and the
    INSERT for a returning one, once this process knows the text is stored (bench/load.py).
    """
    if version != banner.version():
        raise StaleBannerVersion
    if version not in STORED_BANNER_VERSIONS:
        store_text(kind=TextKind.BANNER, snapshot=banner.full_snapshot(), now=now)
        transaction.on_commit(partial(STORED_BANNER_VERSIONS.add, version))
    previous = ConsentRecord.objects.for_browser(browser_id).current() if browser_id else {}
    browser_id = browser_id or uuid.uuid4()
    records = []
    for purpose in COOKIE_PURPOSES:
        granted = bool(choices.get(purpose.value))
        was_granted = purpose in previous and previous[purpose].action == Action.GRANTED
        action = Action.GRANTED if granted else Action.WITHDRAWN if was_granted else Action.REFUSED
        records.append(
            ConsentRecord(
                browser_id=browser_id,
                purpose=purpose,
                action=action,
                text_id=version,  # the text's hash
                source=ConsentSource.BANNER,
                at=now,
            )
        )
    try:
        # One statement, all or none: bulk_create would wrap it in BEGIN and COMMIT, two
        # more round trips on the banner's busiest write (#8).
        ConsentRecord.objects._insert(records, fields=INSERTED_FIELDS)
    except IntegrityError:  # the text is not stored after all
        STORED_BANNER_VERSIONS.discard(version)
        raise
    return banner.StoredChoice(
        browser_id=browser_id,
        version=version,
        chosen_at=now.replace(microsecond=0),
        choices={p.value: bool(choices.get(p.value)) for p in COOKIE_PURPOSES},
    )


# --- Consents tied to an email ------------------------------------------------------------


def record_consent(
    *,
    email: str,
    purpose: Purpose,
    action: Action,
    source: ConsentSource,
    text: ConsentText,
    now: datetime,
) -> ConsentRecord:
    return ConsentRecord.objects.create(
        subject_hash=subject_hash(email),
        purpose=purpose,
        action=action,
        text=text,
        source=source,
        at=now,
    )


def current_consents(*, email: str) -> dict[str, ConsentRecord]:
    """The latest record per purpose for this address: the person's current state."""
    return ConsentRecord.objects.for_subject(subject_hash(email)).current()


@transaction.atomic
def grant_marketing(
    *, email: str, source: ConsentSource, now: datetime, text: ConsentText | None = None
) -> ConsentRecord:
    """Record consent to marketing emails, ticked by the person (B10).

    `text` is the wording shown (default: the portal's, in the active language). The
    person's own explicit consent lifts their email objection, if any, unless they objected
    after `now` (a choice reported late by the platform does not undo a later objection).
    """
    OppositionEntry.objects.filter(
        subject_hash=subject_hash(email), channel=OppositionChannel.EMAIL, objected_at__lte=now
    ).delete()
    return record_consent(
        email=email,
        purpose=Purpose.MARKETING_EMAIL,
        action=Action.GRANTED,
        source=source,
        text=text or _store_wording(kind=TextKind.MARKETING, now=now),
        now=now,
    )


@transaction.atomic
def withdraw_marketing(
    *, email: str, source: ConsentSource, now: datetime, text: ConsentText | None = None
) -> ConsentRecord:
    """Withdraw marketing consent and object to marketing, at once (B9, B12)."""
    add_to_opposition_list(email=email, channel=OppositionChannel.EMAIL, now=now)
    return record_consent(
        email=email,
        purpose=Purpose.MARKETING_EMAIL,
        action=Action.WITHDRAWN,
        source=source,
        text=text or _store_wording(kind=TextKind.MARKETING, now=now),
        now=now,
    )


def refuse_consent(
    *, email: str, purpose: Purpose, source: ConsentSource, text: ConsentText, now: datetime
) -> ConsentRecord:
    """Record that the person left a box unticked: nothing else changes (a refusal is not
    an objection, but it wins over the soft opt-in, see marketing_recipients)."""
    return record_consent(
        email=email, purpose=purpose, action=Action.REFUSED, source=source, text=text, now=now
    )


@transaction.atomic
def forget_subject(*, email: str, now: datetime) -> None:
    """On erasure: the address joins the opposition list, so it is never re-imported (B11),
    and a consent to marketing still current is withdrawn (B4: erasure removes marketing
    consent). The records outlive the person as proof; without the withdrawal, once the
    entry is purged, a re-imported or re-registered address would be mailed on the consent
    given before the erasure (B10)."""
    add_to_opposition_list(email=email, channel=OppositionChannel.EMAIL, now=now, via="erasure")
    marketing = current_consents(email=email).get(Purpose.MARKETING_EMAIL)
    if marketing is not None and marketing.action == Action.GRANTED:
        record_consent(
            email=email,
            purpose=Purpose.MARKETING_EMAIL,
            action=Action.WITHDRAWN,
            source=ConsentSource.RIGHTS_REQUEST,  # the erasure request
            text=_store_wording(kind=TextKind.MARKETING, now=now),
            now=now,
        )


# --- One-click unsubscribe (B9, B10, RFC 8058) ------------------------------------------


def unsubscribe_token(*, email: str) -> str:
    """A signed token naming the address by its keyed hash; it never expires."""
    return signing.dumps({"s": subject_hash(email)}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, email: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("consent:unsubscribe", args=[unsubscribe_token(email=email)])
    return settings.SITE_URL.rstrip("/") + path


def subject_for_token(token: str) -> str | None:
    """Return the subject hash a token names, or None when it is not one of ours."""
    try:
        return signing.loads(token, salt=UNSUBSCRIBE_SALT)["s"]
    except (signing.BadSignature, KeyError, TypeError):
        return None


@transaction.atomic
def unsubscribe(*, subject: str, now: datetime) -> None:
    """Stop marketing to this subject, at once: objection plus a withdrawal record."""
    _add_hash_to_opposition_list(
        subject=subject, channel=OppositionChannel.EMAIL, via="unsubscribe", now=now
    )
    ConsentRecord.objects.create(
        subject_hash=subject,
        purpose=Purpose.MARKETING_EMAIL,
        action=Action.WITHDRAWN,
        text=_store_wording(kind=TextKind.UNSUBSCRIBE, now=now),
        source=ConsentSource.UNSUBSCRIBE,
        at=now,
    )


# --- The opposition list (B11) ------------------------------------------------------------


def add_to_opposition_list(
    *, email: str, channel: OppositionChannel, now: datetime, via: str = "objection"
) -> None:
    _add_hash_to_opposition_list(subject=subject_hash(email), channel=channel, via=via, now=now)


def _add_hash_to_opposition_list(
    *, subject: str, channel: OppositionChannel, via: str, now: datetime
) -> None:
    """Put the subject on the list, or move their entry's date forward to `now`.

    The list keeps an entry 3 years from the exercise of the right to object (charter 7.3;
    B11), so the latest objection (an unsubscribe, an objection, an erasure) dates it: kept
    at the first, an entry would lapse soon after a new objection, and the address could be
    re-imported (DESIGN: never). An earlier objection reported late never moves it back.
    """
    try:
        with transaction.atomic():
            OppositionEntry.objects.create(subject_hash=subject, channel=channel, objected_at=now)
        action = "consent.opposition_added"
    except IntegrityError:
        renewed = OppositionEntry.objects.filter(
            subject_hash=subject, channel=channel, objected_at__lt=now
        ).update(objected_at=now)
        if not renewed:
            return  # already dated by this objection or a later one
        action = "consent.opposition_renewed"
    record_event(
        action=action,
        actor_type=ActorType.SYSTEM if via == "erasure" else ActorType.PERSON,
        details={"channel": str(channel), "via": via},
        now=now,
    )


def is_opposed(*, email: str, channel: OppositionChannel = OppositionChannel.EMAIL) -> bool:
    entries = OppositionEntry.objects.filter(subject_hash=subject_hash(email), channel=channel)
    return entries.exists()


def check_opposition(*, emails: Sequence[str]) -> list[bool]:
    """For each address, in order: whether it is on the email opposition list (B11)."""
    hashes = [subject_hash(email) for email in emails]
    opposed = set(
        OppositionEntry.objects.filter(
            subject_hash__in=set(hashes), channel=OppositionChannel.EMAIL
        ).values_list("subject_hash", flat=True)
    )
    return [h in opposed for h in hashes]


def create_prospect(*, email: str, now: datetime, **fields: Any) -> Person:
    """Create (or import) a prospect; refuse an address on the opposition list (B11)."""
    if is_opposed(email=email):
        raise OnOppositionList
    fields.setdefault("collected_at", now)
    return Person.objects.create(email=normalise_email(email), is_prospect=True, **fields)


# --- Importing a prospect list (B11, C8) -------------------------------------------------

PROSPECT_FIELDS = ("first_name", "last_name", "company", "phone", "collected_at")


@dataclass
class ProspectImport:
    """What an import did (or, in a dry run, would do), by line number: never a value."""

    created: list[int] = field(default_factory=list)
    opposed: list[int] = field(default_factory=list)
    existing: list[int] = field(default_factory=list)
    invalid: list[tuple[int, list[str]]] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.created),
            "opposed": len(self.opposed),
            "existing": len(self.existing),
            "invalid": len(self.invalid),
        }


def import_prospects(
    *,
    rows: Iterable[tuple[int, dict[str, str]]],
    now: datetime,
    dry_run: bool = False,
    batch_size: int = 500,
) -> ProspectImport:
    """Create a prospect per valid row through `create_prospect`, `batch_size` rows at a time.

    `rows` are (line number, raw values). An invalid row is reported with the names of its
    wrong fields; an address on the opposition list is refused (B11) and one already known
    is skipped, each counted. Each batch is one transaction with two look-ups for the whole
    batch. A real run ends with an audit event holding the counts.
    """
    from .forms import ProspectRowForm

    result = ProspectImport()
    seen: set[str] = set()
    batch: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        _import_prospect_batch(batch, result=result, seen=seen, now=now, dry_run=dry_run)
        batch.clear()

    for line, raw in rows:
        form = ProspectRowForm(data=raw)
        if not form.is_valid():
            result.invalid.append((line, sorted(form.errors)))
            continue
        batch.append((line, form.cleaned_data))
        if len(batch) >= batch_size:
            flush()
    flush()
    if not dry_run:
        record_event(
            action="consent.prospects_imported",
            actor_type=ActorType.SYSTEM,
            details={**result.counts(), "sources": result.sources},
            now=now,
        )
    return result


def _import_prospect_batch(
    batch: list[tuple[int, dict[str, Any]]],
    *,
    result: ProspectImport,
    seen: set[str],
    now: datetime,
    dry_run: bool,
) -> None:
    if not batch:
        return
    emails = [row["email"] for _line, row in batch]
    opposed = dict(zip(emails, check_opposition(emails=emails), strict=True))
    known = set(
        Person.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .values_list("email_lower", flat=True)
    )
    with transaction.atomic():
        for line, row in batch:
            email = row["email"]
            if opposed[email]:
                result.opposed.append(line)
                continue
            if email in known or email in seen:
                result.existing.append(line)
                continue
            seen.add(email)
            fields = {name: row[name] for name in PROSPECT_FIELDS if row.get(name)}
            if not dry_run:
                try:
                    with transaction.atomic():
                        create_prospect(email=email, now=now, **fields)
                except OnOppositionList:  # objected since the batch's look-up
                    result.opposed.append(line)
                    continue
                except IntegrityError:  # created meanwhile by someone else
                    result.existing.append(line)
                    continue
            result.created.append(line)
            if row.get("source"):
                result.sources[row["source"]] = result.sources.get(row["source"], 0) + 1


# --- Who may receive marketing (B9, B10, B11; CPCE L34-5) ---------------------------------


def marketing_recipients(*, emails: Iterable[str], now: datetime) -> list[str]:
    """Return the addresses, among `emails`, that may receive a marketing email now.

    An address qualifies when nothing bars it (`_barred`) and either its latest marketing
    record is a consent, or, with no record at all, it belongs to a client whose
    relationship is ongoing or ended less than RETENTION_MONTHS["client_prospecting"] ago
    (the soft opt-in of CPCE L34-5: analogous services, objection offered in every email).
    Four queries per call, whatever the batch size.
    """
    emails = list(dict.fromkeys(emails))
    barred, latest = _barred(emails=emails, now=now)
    cutoff = now - relativedelta(months=settings.RETENTION_MONTHS["client_prospecting"])
    clients = set(
        _people(emails)
        .filter(is_client=True)
        .exclude(client_relationship_ended_at__lt=cutoff)
        .values_list("email_lower", flat=True)
    )
    allowed = []
    for subject, email in {subject_hash(email): email for email in emails}.items():
        if subject in barred:
            continue
        action = latest.get(subject)
        if action == Action.GRANTED or (action is None and normalise_email(email) in clients):
            allowed.append(email)
    return allowed


def objected_to_marketing(*, emails: Iterable[str], now: datetime) -> set[str]:
    """Return the addresses, among `emails`, that no marketing may reach, whatever else
    holds (see `_barred`). Asking such a person whether they want our emails is itself
    prospecting (GDPR 21(3); B9): retention's re-permission sweep asks this first. Three
    queries per call, whatever the batch size.
    """
    emails = list(dict.fromkeys(emails))
    barred, _latest = _barred(emails=emails, now=now)
    return {email for email in emails if subject_hash(email) in barred}


def _barred(*, emails: list[str], now: datetime) -> tuple[set[str], dict[str, str]]:
    """The one rule of what stops marketing, and each address's latest marketing action.

    Barred: an address on the email opposition list (B9, B11), whose latest marketing
    record is a refusal or a withdrawal (a refusal or withdrawal always wins; B10, B12),
    or whose person's data are restricted (GDPR 18; B5). Returns (the barred subject
    hashes, {subject hash: latest action}).
    """
    by_hash = {subject_hash(email): email for email in emails}
    opposed = set(
        OppositionEntry.objects.filter(
            subject_hash__in=by_hash.keys(), channel=OppositionChannel.EMAIL
        ).values_list("subject_hash", flat=True)
    )
    latest: dict[str, str] = {}
    for subject, action in (
        ConsentRecord.objects.filter(
            subject_hash__in=by_hash.keys(), purpose=Purpose.MARKETING_EMAIL, at__lte=now
        )
        .order_by("-at", "-id")
        .values_list("subject_hash", "action")
    ):
        latest.setdefault(subject, action)
    restricted = set(_people(emails).restricted().values_list("email_lower", flat=True))
    barred = {
        subject
        for subject, email in by_hash.items()
        if subject in opposed
        or latest.get(subject) in (Action.REFUSED, Action.WITHDRAWN)
        or normalise_email(email) in restricted
    }
    return barred, latest


def _people(emails: list[str]) -> QuerySet[Person]:
    """The people with these addresses, with `email_lower`: Person.email keeps the case it
    was given, so compare lower-cased, as its unique constraint does."""
    normalised = [normalise_email(e) for e in emails]
    return Person.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=normalised)


def may_send_marketing(*, email: str, now: datetime) -> bool:
    return bool(marketing_recipients(emails=[email], now=now))


def send_marketing_email(
    *,
    email: str,
    template: str,
    context: dict[str, Any],
    now: datetime,
    language: str = settings.LANGUAGE_CODE,
) -> bool:
    """Queue one marketing email if the address may receive it; return whether it was queued.

    `template` names `templates/emails/marketing/<template>/`. Every message carries the
    unsubscribe link, the objection block (B9) and the RFC 8058 headers.
    """
    if not may_send_marketing(email=email, now=now):
        return False
    url = unsubscribe_url(email=email)
    # Through the outbox (rights.services): written in the caller's transaction, relayed
    # exactly once, even when the broker is down at the time.
    rights_services.queue_email(
        template=f"marketing/{template}",
        to=email,
        language=language,
        context={**context, "unsubscribe_url": url},
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        now=now,
    )
    return True


# --- Saved cards (C10) --------------------------------------------------------------------


@dataclass(frozen=True)
class CardDetails:
    stripe_payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@transaction.atomic
def keep_card(
    *,
    person: Person,
    card: CardDetails,
    source: ConsentSource,
    now: datetime,
    text: ConsentText | None = None,
) -> SavedCard:
    """Keep a card because the person ticked the (unticked by default) box (C10).

    `text` is the wording shown (default: the portal's, in the active language). Raise
    CardAlreadyKept when this payment method is already kept. `now` is when they ticked it;
    see `_keep_card` for a choice reported after a withdrawal.
    """
    return _keep_card(person=person, card=card, source=source, now=now, text=text)[1]


def _keep_card(
    *,
    person: Person,
    card: CardDetails,
    source: ConsentSource,
    now: datetime,
    text: ConsentText | None,
) -> tuple[ConsentRecord, SavedCard]:
    """Record the consent and save the card, in the caller's transaction.

    A consent reported late (a delayed or retried Stripe webhook, the platform's API) can
    arrive after the person withdrew: the consent is recorded as of `now`, the withdrawal
    stays their latest choice, and the card is saved already withdrawn, then detached at
    Stripe after the commit, as `withdraw_cards` does (B12: the later choice wins; a card
    Stripe fails to detach is retried by the saved_cards_without_consent sweep). A
    withdrawal record names no card, so any card withdrawal since `now` counts: in doubt,
    the card is not kept (the person can tick the box at their next purchase).

    Two reports of the same card at once (the webhook and the platform's API) end as one
    after the other would: the second raises CardAlreadyKept, not an IntegrityError.
    """
    text = text or _store_wording(kind=TextKind.SAVED_CARD, now=now)
    record = record_consent(
        email=person.email,
        purpose=Purpose.SAVED_CARD,
        action=Action.GRANTED,
        source=source,
        text=text,
        now=now,
    )
    withdrawn = (
        ConsentRecord.objects.for_subject(record.subject_hash)
        .filter(purpose=Purpose.SAVED_CARD, action=Action.WITHDRAWN, at__gt=now)
        .latest_first()
        .first()
    )
    try:
        with transaction.atomic():
            saved = SavedCard.objects.create(
                person=person,
                stripe_payment_method_id=card.stripe_payment_method_id,
                brand=card.brand,
                last4=card.last4,
                exp_month=card.exp_month,
                exp_year=card.exp_year,
                consent_given_at=now,
                consent_text_version=text.hash[:40],
                consent_withdrawn_at=withdrawn.at if withdrawn else None,
            )
    except IntegrityError:
        pm = card.stripe_payment_method_id
        if SavedCard.objects.filter(stripe_payment_method_id=pm).exists():
            raise CardAlreadyKept from None
        raise
    if withdrawn:
        transaction.on_commit(partial(remove_withdrawn_cards, cards=[saved]), robust=True)
    return record, saved


def withdraw_saved_card(*, card: SavedCard, source: ConsentSource, now: datetime) -> bool:
    """Withdraw consent to keep one card (C10, B12); return whether it is already gone."""
    withdraw_cards(
        email=card.person.email,
        payment_method=card.stripe_payment_method_id,
        source=source,
        now=now,
    )
    return not SavedCard.objects.filter(pk=card.pk).exists()


def withdraw_cards(
    *,
    email: str,
    source: ConsentSource,
    now: datetime,
    payment_method: str | None = None,
    text: ConsentText | None = None,
) -> ConsentRecord:
    """Withdraw consent to keep this person's cards (or the one `payment_method` names).

    The withdrawal is recorded, and the cards marked withdrawn, first and in one
    transaction: the person's choice stands whatever Stripe does (B12: withdrawing is as
    easy as consenting). Then each card is detached at Stripe and deleted. A card Stripe
    failed to detach stays marked, out of every list, and retention's
    saved_cards_without_consent sweep tries again. Cards kept after `now` (a withdrawal
    reported late) are not touched.
    """
    cards = SavedCard.objects.filter(
        person__in=Person.objects.with_email(email), consent_given_at__lte=now
    )
    if payment_method is not None:
        cards = cards.filter(stripe_payment_method_id=payment_method)
    with transaction.atomic():
        record = record_consent(
            email=email,
            purpose=Purpose.SAVED_CARD,
            action=Action.WITHDRAWN,
            source=source,
            text=text or _store_wording(kind=TextKind.SAVED_CARD, now=now),
            now=now,
        )
        marked = list(cards.select_for_update())
        SavedCard.objects.filter(pk__in=[card.pk for card in marked]).update(
            consent_withdrawn_at=now
        )
        record_event(
            action="consent.saved_card_withdrawn",
            actor_type=ActorType.PERSON,
            subject_email=email,
            details={"via": str(source), "cards": len(marked)},
            now=now,
        )
    remove_withdrawn_cards(cards=marked)
    return record


def remove_withdrawn_cards(*, cards: Iterable[SavedCard]) -> int:
    """Detach each card at Stripe, then delete those detached; return how many went.

    A Stripe failure is logged (the card's id, never whose it is) and leaves the card for
    the next try. One DELETE whatever the number of cards.
    """
    detached = []
    for card in cards:
        try:
            people_stripe.detach_payment_method(card.stripe_payment_method_id)
        except Exception as exc:  # Stripe down, or anything on the way to it
            logger.warning(
                "Saved card %s not detached at Stripe (%s); the retention sweep will retry",
                card.pk,
                type(exc).__name__,
            )
            continue
        detached.append(card.pk)
    SavedCard.objects.filter(pk__in=detached, consent_withdrawn_at__isnull=False).delete()
    return len(detached)


# --- Choices made on Okasio's platform (B12, C10) -----------------------------------------


def record_platform_choice(
    *,
    email: str,
    purpose: Purpose,
    action: Action,
    source: ConsentSource,
    text: ConsentText,
    now: datetime,
    card: CardDetails | None = None,
    payment_method: str | None = None,
) -> ConsentRecord:
    """Record a choice the person made on Okasio's platform, through the same services as
    the portal's own boxes; `now` is when they made it. The portal is the proof store.

    A kept card needs `card` and a person with this address (UnknownPerson otherwise);
    a card withdrawal concerns every card of theirs, or the one `payment_method` names.
    """
    if action == Action.REFUSED:
        return refuse_consent(email=email, purpose=purpose, source=source, text=text, now=now)
    if purpose == Purpose.MARKETING_EMAIL:
        if action == Action.GRANTED:
            return grant_marketing(email=email, source=source, now=now, text=text)
        return withdraw_marketing(email=email, source=source, now=now, text=text)
    if action == Action.WITHDRAWN:
        return withdraw_cards(
            email=email, payment_method=payment_method, source=source, now=now, text=text
        )
    person = Person.objects.with_email(email).first()
    if person is None:
        raise UnknownPerson
    assert card is not None, "a kept card needs its details"
    with transaction.atomic():
        record, _saved = _keep_card(person=person, card=card, source=source, now=now, text=text)
    return record
