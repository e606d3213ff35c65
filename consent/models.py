"""What someone chose: consent records, the wordings they were shown, the opposition list.

Consent records are append-only (REQUIREMENTS B12, C4): a choice is never edited, a new
record supersedes it, and the current state of someone's consents is derived from the
latest record per purpose. People are named by the keyed hash of their email
(`audit.hashing.subject_hash`); cookie choices by a random browser id.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    # Cookie purposes (charter section 15; REQUIREMENTS C3)
    AUDIENCE = "audience", _("Audience measurement")
    ADVERTISING = "advertising", _("Advertising")
    SOCIAL = "social", _("Social networks")
    # Consents tied to an email address
    MARKETING_EMAIL = "marketing_email", _("Newsletters and offers by email")
    SAVED_CARD = "saved_card", _("Keeping my card for my next purchases")


COOKIE_PURPOSES = (Purpose.AUDIENCE, Purpose.ADVERTISING, Purpose.SOCIAL)


class Action(models.TextChoices):
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ConsentSource(models.TextChoices):
    """Where the choice was made."""

    BANNER = "banner", _("Cookie banner")
    SIGNUP = "signup", _("Sign-up form")
    CHECKOUT = "checkout", _("Checkout")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe link")
    PRIVACY_SPACE = "privacy_space", _("Privacy space")
    API = "api", _("Okasio platform (API)")
    RIGHTS_REQUEST = "rights_request", _("Rights request (objection)")


class TextKind(models.TextChoices):
    BANNER = "banner", _("Cookie banner")
    MARKETING = "marketing", _("Marketing consent box")
    SAVED_CARD = "saved_card", _("Saved card consent box")
    UNSUBSCRIBE = "unsubscribe", _("Unsubscribe page")


class OppositionChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    POST = "post", _("Post")


class ConsentText(models.Model):
    """One version of a wording shown to people, kept as proof (REQUIREMENTS C4).

    `hash` is the SHA-256 of the canonical JSON of `snapshot`; for the cookie banner it is the
    banner version, derived from its purposes, third parties and texts in every language.
    """

    hash = models.CharField(_("hash"), max_length=64, unique=True, editable=False)
    kind = models.CharField(_("kind of text"), max_length=20, choices=TextKind)
    snapshot = models.JSONField(_("text shown"), editable=False)
    first_recorded_at = models.DateTimeField(_("first recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("consent text version")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=TextKind.values), name="consent_consenttext_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.hash[:12]}"


class ConsentRecordQuerySet(models.QuerySet):
    def for_subject(self, subject_hash: str) -> ConsentRecordQuerySet:
        return self.filter(subject_hash=subject_hash)

    def for_browser(self, browser_id: uuid.UUID) -> ConsentRecordQuerySet:
        return self.filter(browser_id=browser_id)

    def latest_first(self) -> ConsentRecordQuerySet:
        return self.order_by("-at", "-id")

    def current(self) -> dict[str, ConsentRecord]:
        """Return the latest record per purpose, keyed by purpose: the current state. Only
        those rows are read, however long the history (a returning visitor's banner POST)."""
        latest = self.filter(purpose=OuterRef("purpose")).latest_first().values("pk")[:1]
        return {record.purpose: record for record in self.filter(pk=Subquery(latest))}


class ConsentRecord(models.Model):
    """One choice, never edited: who, which purpose, what, which text, where, when."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Who: the keyed hash of the email, or a random browser id for cookie choices.
    subject_hash = models.CharField(_("subject (keyed hash)"), max_length=64, blank=True)
    browser_id = models.UUIDField(_("browser id"), null=True, blank=True)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose)
    action = models.CharField(_("choice"), max_length=10, choices=Action)
    text = models.ForeignKey(
        ConsentText,
        to_field="hash",
        db_column="text_hash",
        on_delete=models.PROTECT,
        related_name="records",
        verbose_name=_("text shown"),
    )
    source = models.CharField(_("where"), max_length=20, choices=ConsentSource)
    at = models.DateTimeField(_("when"), default=timezone.now)

    objects = ConsentRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent record")
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=Purpose.values), name="consent_consentrecord_purpose_valid"
            ),
            models.CheckConstraint(
                condition=Q(action__in=Action.values), name="consent_consentrecord_action_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=ConsentSource.values),
                name="consent_consentrecord_source_valid",
            ),
            # Exactly one "who": an email hash or a browser id.
            models.CheckConstraint(
                condition=(Q(subject_hash="") & Q(browser_id__isnull=False))
                | (~Q(subject_hash="") & Q(browser_id__isnull=True)),
                name="consent_consentrecord_one_subject",
            ),
        ]
        indexes = [
            # Used by ConsentRecordQuerySet.current and consent.services.marketing_recipients
            models.Index(fields=["subject_hash", "purpose", "at"], name="consent_record_subject"),
            # Used by the proof of a browser's cookie choices (C4)
            models.Index(fields=["browser_id", "at"], name="consent_record_browser"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()}: {self.get_action_display()} ({self.at:%Y-%m-%d})"

    def save(self, *args, **kwargs) -> None:
        # Append-only (B12, C4): a new choice is a new record.
        if not self._state.adding:
            raise ValueError("Consent records are append-only")
        super().save(*args, **kwargs)


class OppositionEntryManager(models.Manager):
    def get_by_natural_key(self, subject_hash: str, channel: str) -> OppositionEntry:
        return self.get(subject_hash=subject_hash, channel=channel)


class OppositionEntry(models.Model):
    """Someone who objected to prospecting (B11): a keyed hash, the channel, the date.

    Survives erasure; purged by retention no earlier than RETENTION_MONTHS["opposition_list"]
    after `objected_at`, the date of the latest objection (charter 7.3: 3 years from the
    exercise of the right): a new unsubscribe, objection or erasure moves it forward,
    never back (consent.services._add_hash_to_opposition_list).
    """

    subject_hash = models.CharField(_("subject (keyed hash)"), max_length=64)
    channel = models.CharField(_("channel"), max_length=10, choices=OppositionChannel)
    objected_at = models.DateTimeField(_("objection date"), default=timezone.now)

    # By its natural key (the subject and channel), so a copy taken before a restore loads
    # into the restored database whatever the ids (README, "Restoring a backup").
    objects = OppositionEntryManager()

    class Meta:
        verbose_name = _("opposition list entry")
        verbose_name_plural = _("opposition list")
        constraints = [
            models.CheckConstraint(
                condition=Q(channel__in=OppositionChannel.values),
                name="consent_oppositionentry_channel_valid",
            ),
            models.UniqueConstraint(
                fields=["subject_hash", "channel"], name="consent_oppositionentry_once"
            ),
        ]
        indexes = [
            # Used by retention's purge of the opposition list (B11: at least 3 years)
            models.Index(fields=["objected_at"], name="consent_opposition_objected"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.subject_hash[:12]}…"

    def natural_key(self) -> tuple[str, str]:
        return (self.subject_hash, self.channel)
