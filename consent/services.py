"""Consent workflows: recording choices, the opposition list, marketing eligibility, cards.

Every marketing send asks `marketing_recipients` (or `may_send_marketing` for one address):
it is the one place that honours consent, withdrawal and the opposition list (B9-B11).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from audit.hashing import normalise_email, subject_hash
from audit.models import ActorType
from audit.services import record_event
from people import stripe as people_stripe
from people.models import Person, SavedCard
from rights import emails

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


class StaleBannerVersion(Exception):
    """The choice was made on a banner that is no longer the current one."""


class OnOppositionList(Exception):
    """The address objected to prospecting: it may not be (re)imported (B11)."""


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


# --- Cookie choices (C1-C5) -------------------------------------------------------------


@transaction.atomic
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
    """
    if version != banner.version():
        raise StaleBannerVersion
    browser_id = browser_id or uuid.uuid4()
    text = store_text(kind=TextKind.BANNER, snapshot=banner.full_snapshot(), now=now)
    previous = ConsentRecord.objects.for_browser(browser_id).current()
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
                text=text,
                source=ConsentSource.BANNER,
                at=now,
            )
        )
    ConsentRecord.objects.bulk_create(records)
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
def grant_marketing(*, email: str, source: ConsentSource, now: datetime) -> ConsentRecord:
    """Record consent to marketing emails, ticked by the person (B10).

    The person's own explicit consent lifts their email objection, if any.
    """
    OppositionEntry.objects.filter(
        subject_hash=subject_hash(email), channel=OppositionChannel.EMAIL
    ).delete()
    return record_consent(
        email=email,
        purpose=Purpose.MARKETING_EMAIL,
        action=Action.GRANTED,
        source=source,
        text=_store_wording(kind=TextKind.MARKETING, now=now),
        now=now,
    )


@transaction.atomic
def withdraw_marketing(*, email: str, source: ConsentSource, now: datetime) -> ConsentRecord:
    """Withdraw marketing consent and object to marketing, at once (B9, B12)."""
    add_to_opposition_list(email=email, channel=OppositionChannel.EMAIL, now=now)
    return record_consent(
        email=email,
        purpose=Purpose.MARKETING_EMAIL,
        action=Action.WITHDRAWN,
        source=source,
        text=_store_wording(kind=TextKind.MARKETING, now=now),
        now=now,
    )


def forget_subject(*, email: str, now: datetime) -> None:
    """On erasure: the address joins the opposition list, so it is never re-imported (B11)."""
    add_to_opposition_list(email=email, channel=OppositionChannel.EMAIL, now=now, via="erasure")


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
    try:
        with transaction.atomic():
            OppositionEntry.objects.create(subject_hash=subject, channel=channel, objected_at=now)
    except IntegrityError:
        return  # already on the list: the first objection's date stands
    record_event(
        action="consent.opposition_added",
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


# --- Who may receive marketing (B9, B10, B11; CPCE L34-5) ---------------------------------


def marketing_recipients(*, emails: Iterable[str], now: datetime) -> list[str]:
    """Return the addresses, among `emails`, that may receive a marketing email now.

    An address qualifies when it is not on the email opposition list and either its latest
    marketing record is a consent, or, with no record at all, it belongs to a client whose
    relationship is ongoing or ended less than RETENTION_MONTHS["client_prospecting"] ago
    (the soft opt-in of CPCE L34-5: analogous services, objection offered in every email).
    A refusal or a withdrawal always wins, and a person whose data are restricted (GDPR 18;
    B5) gets nothing. Four queries per call, whatever the batch size.
    """
    emails = list(dict.fromkeys(emails))
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
    cutoff = now - relativedelta(months=settings.RETENTION_MONTHS["client_prospecting"])
    clients = {
        normalise_email(email)
        for email in Person.objects.filter(is_client=True)
        .exclude(client_relationship_ended_at__lt=cutoff)
        .filter(email__in=[normalise_email(e) for e in emails])
        .values_list("email", flat=True)
    }
    restricted = set(
        Person.objects.restricted()
        .filter(email__in=[normalise_email(e) for e in emails])
        .values_list("email", flat=True)
    )
    allowed = []
    for subject, email in by_hash.items():
        if subject in opposed or normalise_email(email) in restricted:
            continue
        action = latest.get(subject)
        if action == Action.GRANTED or (action is None and normalise_email(email) in clients):
            allowed.append(email)
    return allowed


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
    """Send one marketing email if the address may receive it; return whether it was queued.

    `template` names `templates/emails/marketing/<template>/`. Every message carries the
    unsubscribe link, the objection block (B9) and the RFC 8058 headers.
    """
    if not may_send_marketing(email=email, now=now):
        return False
    url = unsubscribe_url(email=email)
    subject, text, html = emails.render(
        f"marketing/{template}", context={**context, "unsubscribe_url": url}, language=language
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[email],
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    # Not the rights outbox yet: OutgoingEmail has no headers field for List-Unsubscribe.
    transaction.on_commit(partial(message.send, fail_silently=False))
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
    *, person: Person, card: CardDetails, source: ConsentSource, now: datetime
) -> SavedCard:
    """Keep a card because the person ticked the (unticked by default) box (C10)."""
    text = _store_wording(kind=TextKind.SAVED_CARD, now=now)
    record_consent(
        email=person.email,
        purpose=Purpose.SAVED_CARD,
        action=Action.GRANTED,
        source=source,
        text=text,
        now=now,
    )
    return SavedCard.objects.create(
        person=person,
        stripe_payment_method_id=card.stripe_payment_method_id,
        brand=card.brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        consent_given_at=now,
        consent_text_version=text.hash[:40],
    )


def withdraw_saved_card(*, card: SavedCard, source: ConsentSource, now: datetime) -> None:
    """Detach the card at Stripe, then delete it and record the withdrawal, at once (C10).

    Stripe first: if it fails, nothing changes here and the error propagates.
    """
    people_stripe.detach_payment_method(card.stripe_payment_method_id)
    with transaction.atomic():
        record_consent(
            email=card.person.email,
            purpose=Purpose.SAVED_CARD,
            action=Action.WITHDRAWN,
            source=source,
            text=_store_wording(kind=TextKind.SAVED_CARD, now=now),
            now=now,
        )
        card.delete()
        record_event(
            action="consent.saved_card_withdrawn",
            actor_type=ActorType.PERSON,
            subject_email=card.person.email,
            details={"via": str(source)},
            now=now,
        )
