"""Data-subject requests: what someone asked, when we received it, and by when we must answer.

Status changes happen only through the model methods below (STYLE 9): each one sets the
status, appends a `RequestStep` the person sees on their tracker, and writes an audit event.
Secrets (confirmation, tracker and sign-in links) are stored only as SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, router
from django.db.models import Q, sql
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.hashing import normalise_email
from audit.models import ActorType
from audit.services import record_event
from people.dpo_permissions import DPO_GROUP, dpo_members
from rights import deadlines

OBJECT_TYPE = "rights.DataSubjectRequest"


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Access (Art. 15)")
    RECTIFICATION = "rectification", _("Rectification (Art. 16)")
    ERASURE = "erasure", _("Erasure (Art. 17)")
    RESTRICTION = "restriction", _("Restriction (Art. 18)")
    PORTABILITY = "portability", _("Portability (Art. 20)")
    OBJECTION = "objection", _("Objection (Art. 21)")


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Waiting for your confirmation")
    OPEN = "open", _("Received")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_PERSON = "awaiting_person", _("Waiting for your answer")
    COMPLETED = "completed", _("Completed")
    PARTIALLY_COMPLETED = "partially_completed", _("Partially completed")
    REFUSED = "refused", _("Refused")
    EXPIRED = "expired", _("Expired (never confirmed)")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# A request in one of these states is "open": a second one of the same kind for the same
# address joins it instead of being created (rights_dsr_one_open_per_kind).
OPEN_STATUSES = [
    RequestStatus.SUBMITTED,
    RequestStatus.OPEN,
    RequestStatus.IN_PROGRESS,
    RequestStatus.AWAITING_PERSON,
]
# The person can withdraw a confirmed request until it is closed (DESIGN "A request's life").
WITHDRAWABLE_STATUSES = [
    RequestStatus.OPEN,
    RequestStatus.IN_PROGRESS,
    RequestStatus.AWAITING_PERSON,
]
# Confirmed and not closed: the DPO's actions apply, the clock runs (unless paused).
ACTIVE_STATUSES = WITHDRAWABLE_STATUSES
# What the queue opens on: the requests that need work from us.
NEEDS_WORK_STATUSES = [RequestStatus.OPEN, RequestStatus.IN_PROGRESS]
# Answered by us (the accountability figures count these; a withdrawal is not an answer).
ANSWERED_STATUSES = [
    RequestStatus.COMPLETED,
    RequestStatus.PARTIALLY_COMPLETED,
    RequestStatus.REFUSED,
]


# Confirmed and closed: what retention's closed_requests policy anonymises in time.
CLOSED_STATUSES = [*ANSWERED_STATUSES, RequestStatus.WITHDRAWN]


class Channel(models.TextChoices):
    PORTAL = "portal", _("Portal form")
    EMAIL = "email", _("Email")
    POST = "post", _("Post")


class ExtensionReason(models.TextChoices):
    """The only two reasons GDPR 12(3) accepts for an extension (REQUIREMENTS A4)."""

    COMPLEXITY = "complexity", _("Complexity of the request")
    NUMBER_OF_REQUESTS = "number_of_requests", _("Number of requests")


class PauseReason(models.TextChoices):
    """Why the clock may be paused (REQUIREMENTS A6, EDPB 01/2022 § 159)."""

    IDENTITY = "identity", _("Waiting for information to confirm your identity")
    CLARIFICATION = "clarification", _("Waiting for a clarification of your request")


class IdentityMethod(models.TextChoices):
    """How we confirm an identity we have reasonable doubts about, least intrusive first (A5).

    No ID document is ever uploaded to the portal: the DPO records only the method used.
    """

    KNOWN_CHANNEL = "known_channel", _("A one-time code sent to the email or phone we know")
    SECURITY_QUESTION = "security_question", _("A question only you can answer")
    REDACTED_ID = "redacted_id", _("An identity document, shown with what is not needed hidden")


class OutcomeGround(models.TextChoices):
    """Why a request is refused or only partly carried out (A7, A8).

    The two grounds of GDPR 12(5) need documented facts: the controller bears the burden
    of demonstrating them.
    """

    LEGAL_EXCEPTION = "legal_exception", _("A legal exception applies (e.g. GDPR 17(3))")
    IDENTITY_NOT_CONFIRMED = "identity_not_confirmed", _("We could not confirm your identity")
    RIGHTS_OF_OTHERS = "rights_of_others", _("It would affect the rights of other people")
    NOT_APPLICABLE = "not_applicable", _("The right does not apply to this processing")
    COMPELLING_GROUNDS = (
        "compelling_grounds",
        _(
            "Compelling legitimate grounds that override your interests, rights and freedoms, or "
            "the establishment, exercise or defence of legal claims (GDPR 21(1))"
        ),
    )
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded", _("Manifestly unfounded (GDPR 12(5))")
    EXCESSIVE = "excessive", _("Excessive, in particular because repetitive (GDPR 12(5))")


# These grounds need documented facts (A8).
GROUNDS_NEEDING_FACTS = [OutcomeGround.MANIFESTLY_UNFOUNDED, OutcomeGround.EXCESSIVE]
# EDPB 01/2022 § 185: a one-year interval between requests "will in any case be too large"
# for a request to be excessive because repetitive (A8). Not a policy choice.
EXCESSIVE_REPEAT_WITHIN_MONTHS = 12


class StepKind(models.TextChoices):
    """What the person sees on their tracker, oldest first."""

    RECEIVED = "received", _("Request received")
    CONFIRMED = "confirmed", _("Request confirmed")
    JOINED = "joined", _("Same request sent again: joined to this one")
    EXTENDED = "extended", _("Deadline extended")
    PAUSED = "paused", _("Clock paused")
    RESUMED = "resumed", _("Clock restarted")
    MESSAGE = "message", _("Message from our privacy team")
    EXPIRED = "expired", _("Expired: never confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn by you")
    STARTED = "started", _("We started working on your request")
    QUESTION = "question", _("We asked you for information")
    ANSWER = "answer", _("Your answer")
    IDENTITY_CHECKED = "identity_checked", _("Identity confirmed")
    COMPLETED = "completed", _("Request completed")
    PARTIALLY_COMPLETED = "partially_completed", _("Request partially completed")
    REFUSED = "refused", _("Request refused")
    RESTRICTION_LIFTED = "restriction_lifted", _("Restriction lifted, after we told you")


# --- What each right asks for: the `details` JSON, validated here for forms, the admin and
# the API alike. No "reason" field anywhere (REQUIREMENTS A1) and no ID document (A5).

DETAILS_MAX_LENGTH = 5000
# NUL (PostgreSQL refuses it in text and JSON) and lone surrogates (not encodable as UTF-8):
# the form fields refuse them already; JSON from the API or the admin can carry them.
UNSTORABLE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")

# The Person fields a rectification request may propose new values for (the rest goes in
# the free text); rights.fulfilment.rectification_diff compares them with the record.
RECTIFIABLE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "postal_code",
    "city",
    "company",
)
PROPOSED_MAX_LENGTH = 255


class ObjectionTarget(models.TextChoices):
    MARKETING = "marketing", _("Marketing (absolute, no reason needed)")
    OTHER = "other", _("Another use based on Okasio's legitimate interest")


class RestrictionCase(models.TextChoices):
    """The four cases of GDPR 18(1) (REQUIREMENTS B5)."""

    ACCURACY = "accuracy", _("I contest the accuracy of my data, while you check it")
    UNLAWFUL = "unlawful", _("The use is unlawful and I prefer restriction to erasure")
    LEGAL_CLAIMS = "legal_claims", _("You no longer need the data but I need it for a legal claim")
    OBJECTION_PENDING = "objection_pending", _("I objected and you are examining my objection")


class ErasureScope(models.TextChoices):
    EVERYTHING = "everything", _("Everything you hold about me")
    PART = "part", _("Only part of it")


def _text(value: Any, *, field: str, required: bool) -> str:
    if value is None or value == "":
        if required:
            raise ValidationError({field: _("This field is required.")}, code="required")
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: _("Enter text.")}, code="invalid")
    if UNSTORABLE_CHARACTERS.search(value):
        raise ValidationError(
            {field: _("This text contains characters we cannot store.")}, code="invalid"
        )
    value = value.strip()
    if required and not value:
        raise ValidationError({field: _("This field is required.")}, code="required")
    if len(value) > DETAILS_MAX_LENGTH:
        raise ValidationError({field: _("This text is too long.")}, code="max_length")
    return value


def _choice(value: Any, *, field: str, choices: type[models.TextChoices], required: bool) -> str:
    if value in (None, "") and not required:
        return ""
    if value not in choices.values:
        raise ValidationError({field: _("Select a valid choice.")}, code="invalid_choice")
    return value


def _proposed(value: Any) -> dict[str, str]:
    """The structured corrections of a rectification request: known fields, short texts."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict) or set(value) - set(RECTIFIABLE_FIELDS):
        raise ValidationError({"proposed": _("Invalid corrections.")}, code="invalid")
    proposed = {}
    for name in RECTIFIABLE_FIELDS:
        text = value.get(name)
        if text in (None, ""):
            continue
        if (
            not isinstance(text, str)
            or len(text.strip()) > PROPOSED_MAX_LENGTH
            or UNSTORABLE_CHARACTERS.search(text)  # NUL, lone surrogates: PostgreSQL refuses
        ):
            raise ValidationError({"proposed": _("Invalid corrections.")}, code="invalid")
        if text.strip():
            proposed[name] = text.strip()
    if "email" in proposed:
        proposed["email"] = normalise_email(proposed["email"])
        validate_email(proposed["email"])
    return proposed


def validate_details(kind: str, details: dict[str, Any] | None, *, complete: bool = True) -> dict:
    """Return the cleaned `details` for a request of `kind`; raise ValidationError otherwise.

    `complete=True` (the portal, the API) requires what each right needs; staff logging a
    request that came by email or post may leave the answers out (`complete=False`) since
    no form or channel can be imposed on the person (REQUIREMENTS A1). Unknown keys are
    always refused.
    """
    if details is None:
        details = {}
    if not isinstance(details, dict):
        raise ValidationError(_("Invalid details."), code="invalid")
    req = complete
    if kind in (RequestKind.ACCESS, RequestKind.PORTABILITY):
        cleaned: dict[str, str] = {}
    elif kind == RequestKind.RECTIFICATION:
        # The free text is needed unless the person proposed corrections field by field.
        proposed = _proposed(details.get("proposed"))
        text_req = req and not proposed
        cleaned = {
            "what_is_wrong": _text(
                details.get("what_is_wrong"), field="what_is_wrong", required=text_req
            ),
            "correction": _text(details.get("correction"), field="correction", required=text_req),
            "proposed": proposed,
        }
    elif kind == RequestKind.OBJECTION:
        target = _choice(
            details.get("target"), field="target", choices=ObjectionTarget, required=req
        )
        grounds = _text(
            details.get("grounds"),
            field="grounds",
            required=req and target == ObjectionTarget.OTHER,
        )
        cleaned = {"target": target, "grounds": grounds if target != "marketing" else ""}
    elif kind == RequestKind.RESTRICTION:
        cleaned = {
            "case": _choice(
                details.get("case"), field="case", choices=RestrictionCase, required=req
            ),
            "explanation": _text(details.get("explanation"), field="explanation", required=False),
        }
    elif kind == RequestKind.ERASURE:
        scope = _choice(details.get("scope"), field="scope", choices=ErasureScope, required=req)
        part = _text(details.get("part"), field="part", required=req and scope == ErasureScope.PART)
        cleaned = {"scope": scope, "part": part if scope == ErasureScope.PART else ""}
    else:
        raise ValidationError({"kind": _("Unknown kind of request.")}, code="invalid_choice")
    unknown = set(details) - set(cleaned)
    if unknown:
        raise ValidationError(
            _("Unexpected fields: %(fields)s"), params={"fields": sorted(unknown)}
        )
    return {key: value for key, value in cleaned.items() if value not in ("", {})}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvalidTransition(Exception):
    """A status change that the request's current status does not allow."""


class ActionRefused(InvalidTransition):
    """A DPO action the rules refuse; `message` says why, in words the DPO can act on."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


# DataSubjectRequestQuerySet.insert_unless_open's ending: rights_dsr_one_open_per_kind (below)
# as the conflict, its predicate spelled out (SQLite only matches it against constants).
_OPEN = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
JOIN_OPEN_REQUEST = (
    f"ON CONFLICT (lower(email), kind) WHERE status IN ({_OPEN}) DO UPDATE SET"  # nosec B608
    " status = rights_datasubjectrequest.status RETURNING id, code, kind, status, email"
)


class DataSubjectRequestQuerySet(models.QuerySet):
    def open(self) -> DataSubjectRequestQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def insert_unless_open(self, candidate: DataSubjectRequest) -> DataSubjectRequest:
        """Insert `candidate` unless its address has an open request of its kind; return the
        open request: the candidate's new row, or the earlier one (loaded: id, code, kind,
        status and email).

        One statement either way, so filing and joining cost the same (no enumeration by
        query count). It is Django's own INSERT with an ON CONFLICT clause on
        rights_dsr_one_open_per_kind (the ORM cannot name an index on an expression) whose
        update changes nothing: it returns the row met, a concurrent submission's included
        once that one commits, and locks it until this transaction ends.
        """
        using = router.db_for_write(self.model)  # raw() alone would read from db_for_read
        fields = [f for f in self.model._meta.local_concrete_fields if not f.primary_key]
        query = sql.InsertQuery(self.model)
        query.insert_values(fields, [candidate])
        [(insert, params)] = query.get_compiler(using=using).as_sql()
        return self.raw(f"{insert} {JOIN_OPEN_REQUEST}", params, using=using)[0]

    def closed_before(self, moment: datetime) -> DataSubjectRequestQuerySet:
        """Confirmed requests closed (answered or withdrawn) before `moment`, whose personal
        data are still there."""
        return self.filter(
            status__in=CLOSED_STATUSES, closed_at__lt=moment, anonymised_at__isnull=True
        )

    def expired_before(self, moment: datetime) -> DataSubjectRequestQuerySet:
        """Never-confirmed requests that expired before `moment` (never anonymised: the
        condition lets rights_dsr_closed_not_anon serve the query)."""
        return self.filter(
            status=RequestStatus.EXPIRED, closed_at__lt=moment, anonymised_at__isnull=True
        )

    def for_email(self, email: str) -> DataSubjectRequestQuerySet:
        return self.filter(email=normalise_email(email))

    def unconfirmed_since(self, moment: datetime) -> DataSubjectRequestQuerySet:
        """Submitted (never confirmed) requests received at or before `moment`."""
        return self.filter(status=RequestStatus.SUBMITTED, received_at__lte=moment)

    def confirmed(self) -> DataSubjectRequestQuerySet:
        """Confirmed by the person (or logged by the DPO), at any stage since: not the ones
        waiting for confirmation or expired without it, which anyone can file."""
        return self.exclude(status__in=[RequestStatus.SUBMITTED, RequestStatus.EXPIRED])

    def active(self) -> DataSubjectRequestQuerySet:
        """Confirmed and not yet closed."""
        return self.filter(status__in=ACTIVE_STATUSES)

    def needs_work(self) -> DataSubjectRequestQuerySet:
        return self.filter(status__in=NEEDS_WORK_STATUSES)

    def answered(self) -> DataSubjectRequestQuerySet:
        return self.filter(status__in=ANSWERED_STATUSES)

    def overdue(self, today: date) -> DataSubjectRequestQuerySet:
        """Active, the clock running (not paused), and past the current deadline."""
        return self.active().filter(paused_since__isnull=True, current_due_on__lt=today)

    def due_within(self, today: date, days: int) -> DataSubjectRequestQuerySet:
        """Active, the clock running, due between today and `days` days from now."""
        return self.active().filter(
            paused_since__isnull=True,
            current_due_on__gte=today,
            current_due_on__lte=today + timedelta(days=days),
        )


class DataSubjectRequest(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("right"), max_length=20, choices=RequestKind)
    status = models.CharField(
        _("status"), max_length=20, choices=RequestStatus, default=RequestStatus.SUBMITTED
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel, default=Channel.PORTAL)
    # Stored normalised (trimmed, lower-case): the one-open-request constraint compares it.
    email = models.EmailField(_("email address"))
    # A request about someone who died, from the person their directive names or an heir
    # (LIL art. 85; B14): the records searched and acted on are this address's, while every
    # email and the tracker go to `email`, the requester's. Logged by staff only.
    deceased_email = models.EmailField(_("about a deceased person (their address)"), blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    # The right-specific answers, validated by validate_details() (one shape per kind).
    details = models.JSONField(_("details of the request"), default=dict, blank=True)

    # The legal clock (REQUIREMENTS A1, A2): set once from received_at, never recomputed.
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    received_on = models.DateField(_("received on"))
    raw_due_on = models.DateField(_("internal target (one month)"))
    due_on = models.DateField(_("legal deadline"))
    # The one extension (A4); the DPO action that sets these comes with the back office.
    extended_at = models.DateTimeField(_("extension decided at"), null=True, blank=True)
    extension_reason = models.CharField(
        _("extension reason"), max_length=20, choices=ExtensionReason, blank=True
    )
    extension_justification = models.TextField(_("extension justification"), blank=True)
    extended_due_on = models.DateField(_("extended deadline"), null=True, blank=True)
    # The latest deadline the one extension could give (receipt + 3 months, A4): what the
    # "answered within three months" figure compares with (A11).
    latest_due_on = models.DateField(_("latest possible deadline (three months)"))
    # The deadline now: the extended one if any, moved by the days the clock was paused
    # (A6). Kept by the model methods below; the queue sorts and filters on it.
    current_due_on = models.DateField(_("current deadline"))
    # Set while the clock is paused (we wait for the person's answer, A6).
    paused_since = models.DateField(_("clock paused since"), null=True, blank=True)

    # The back office (issue 4).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_requests",
        limit_choices_to={"is_staff": True, "groups__name": DPO_GROUP},
        verbose_name=_("assignee"),
    )
    # Proof of identity asked on reasonable doubt (A5): why we doubted, the method asked
    # (least intrusive first); then when and how it was checked. Never a document.
    identity_doubt_reason = models.TextField(_("reason for the reasonable doubt"), blank=True)
    identity_method_asked = models.CharField(
        _("identity check method asked"), max_length=20, choices=IdentityMethod, blank=True
    )
    identity_checked_at = models.DateTimeField(_("identity checked at"), null=True, blank=True)
    identity_check_method = models.CharField(
        _("identity check method"), max_length=20, choices=IdentityMethod, blank=True
    )
    # A refusal or a partial answer: the ground, the reasons sent to the person (A7) and,
    # for "manifestly unfounded or excessive", the documented facts (A8).
    outcome_ground = models.CharField(_("ground"), max_length=30, choices=OutcomeGround, blank=True)
    outcome_reasons = models.TextField(_("reasons given to the person"), blank=True)
    outcome_facts = models.TextField(_("documented facts"), blank=True)

    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("confirmation reminder sent at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The legal date of closure (Paris) and the calendar days from receipt: the register
    # and the accountability figures read these (A11).
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    days_taken = models.PositiveIntegerField(_("days taken"), null=True, blank=True)
    # Set by retention's closed_requests policy, RETENTION_MONTHS["closed_requests"] after
    # closure: the address, name, answers and messages are gone; the facts stay (A11).
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("logged by"),
    )

    objects = DataSubjectRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=RequestKind.values), name="rights_dsr_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values), name="rights_dsr_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="rights_dsr_channel_valid"
            ),
            models.CheckConstraint(
                condition=Q(extension_reason="") | Q(extension_reason__in=ExtensionReason.values),
                name="rights_dsr_extension_reason_valid",
            ),
            # An extension has a date, a reason, a justification and a new deadline, or
            # nothing at all (A4).
            models.CheckConstraint(
                condition=(
                    Q(
                        extended_at__isnull=True,
                        extended_due_on__isnull=True,
                        extension_reason="",
                        extension_justification="",
                    )
                    | (
                        Q(extended_at__isnull=False, extended_due_on__isnull=False)
                        & ~Q(extension_reason="")
                        & ~Q(extension_justification="")
                    )
                ),
                name="rights_dsr_extension_complete",
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("received_on")),
                name="rights_dsr_due_after_receipt",
            ),
            models.CheckConstraint(
                condition=Q(current_due_on__gte=models.F("due_on")),
                name="rights_dsr_current_due_not_before_due",
            ),
            models.CheckConstraint(
                condition=Q(identity_check_method="")
                | Q(identity_check_method__in=IdentityMethod.values),
                name="rights_dsr_identity_method_valid",
            ),
            models.CheckConstraint(
                condition=Q(identity_method_asked="")
                | Q(identity_method_asked__in=IdentityMethod.values),
                name="rights_dsr_identity_method_asked_valid",
            ),
            models.CheckConstraint(
                condition=Q(outcome_ground="") | Q(outcome_ground__in=OutcomeGround.values),
                name="rights_dsr_outcome_ground_valid",
            ),
            # A refusal or a partial answer always carries its reasons (A7)...
            models.CheckConstraint(
                condition=~Q(status__in=[RequestStatus.REFUSED, RequestStatus.PARTIALLY_COMPLETED])
                | (~Q(outcome_reasons="") & ~Q(outcome_ground="")),
                name="rights_dsr_refusal_has_reasons",
            ),
            # ...and "manifestly unfounded or excessive" its documented facts (A8).
            models.CheckConstraint(
                condition=~Q(outcome_ground__in=GROUNDS_NEEDING_FACTS) | ~Q(outcome_facts=""),
                name="rights_dsr_unfounded_has_facts",
            ),
            # One open request per address and right: a second one joins the first (STYLE 5).
            models.UniqueConstraint(
                Lower("email"),
                "kind",
                condition=Q(status__in=OPEN_STATUSES),
                name="rights_dsr_one_open_per_kind",
            ),
        ]
        indexes = [
            # Used by rights.services.send_confirmation_reminders and
            # retention.sweeps.purge_unconfirmed_requests (status = submitted, oldest first).
            models.Index(fields=["status", "received_at"], name="rights_dsr_status_received"),
            # Used by the privacy space and the admin search (requests of one address).
            models.Index(fields=["email"], name="rights_dsr_email"),
            # Used by the back-office queue (open work, soonest due first), the daily
            # digest and the dashboard's due-soon and overdue counts.
            models.Index(fields=["status", "current_due_on"], name="rights_dsr_status_due"),
            # Used by retention.sweeps.anonymise_closed_requests (closed, not yet anonymised)
            # and purge_unconfirmed_requests (expired, by closure date). Open requests are
            # left out: an intake does not write it.
            models.Index(
                fields=["closed_at"],
                condition=Q(anonymised_at__isnull=True, closed_at__isnull=False),
                name="rights_dsr_closed_not_anon",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {str(self.code)[:8]}" if self.kind else "Request"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.email:
            self.email = normalise_email(self.email)
        super().save(*args, **kwargs)

    def set_clock(self, received_at: datetime) -> None:
        """Derive the legal dates from the receipt timestamp (A1, A2). Before the first save."""
        self.received_at = received_at
        self.received_on = deadlines.received_on(received_at)
        self.raw_due_on = deadlines.raw_due_on(self.received_on)
        self.due_on = deadlines.due_on(self.received_on)
        self.latest_due_on = deadlines.extended_due_on(self.received_on)
        self.current_due_on = self.due_on

    # --- Reading ---------------------------------------------------------------------------

    @property
    def reference(self) -> str:
        """The short reference the person sees on their tracker and may quote to us."""
        return str(self.code)[:8].upper()

    @property
    def subject_email(self) -> str:
        """Whose records the request is about: the requester's, or a deceased person's."""
        return self.deceased_email or self.email

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_extended(self) -> bool:
        return self.extended_at is not None

    @property
    def paused_days(self) -> int:
        """Days the clock was suspended, over the pauses that ended (uses `pauses.all()`,
        so a prefetch serves it)."""
        return sum(pause.days or 0 for pause in self.pauses.all())

    def days_left(self, today: date) -> int:
        return (self.current_due_on - today).days

    @property
    def can_be_withdrawn(self) -> bool:
        return self.status in WITHDRAWABLE_STATUSES

    def confirmation_expires_at(self) -> datetime:
        return self.received_at + timedelta(days=settings.RIGHTS_CONFIRMATION_LINK_DAYS)

    # --- Status changes (STYLE 9): status + step + audit event ------------------------------

    def audit(
        self,
        action: str,
        *,
        now: datetime,
        actor_type: ActorType = ActorType.SYSTEM,
        actor_user: Any = None,
        **details: Any,
    ) -> None:
        """Write an audit event about this request (no personal data in `details`)."""
        record_event(
            action=action,
            actor_type=ActorType.STAFF if actor_user else actor_type,
            actor_user=actor_user,
            object_type=OBJECT_TYPE,
            object_ref=str(self.code),
            details={"kind": self.kind, **details},
            subject_email=self.email,
            now=now,
        )

    def add_step(self, kind: StepKind, *, now: datetime, message: str = "") -> RequestStep:
        return RequestStep.objects.create(request=self, kind=kind, at=now, message=message)

    def confirm(self, *, now: datetime) -> None:
        """The person clicked their confirmation link: the request is open (single use)."""
        if self.status != RequestStatus.SUBMITTED:
            raise InvalidTransition(f"cannot confirm a {self.status} request")
        self.status = RequestStatus.OPEN
        self.confirmed_at = now
        self.save(update_fields=["status", "confirmed_at"])
        self.add_step(StepKind.CONFIRMED, now=now)
        self.audit("request.confirmed", now=now, actor_type=ActorType.PERSON)

    def mark_reminded(self, *, now: datetime) -> None:
        if self.status != RequestStatus.SUBMITTED:
            raise InvalidTransition(f"cannot remind about a {self.status} request")
        self.reminded_at = now
        self.save(update_fields=["reminded_at"])
        self.audit("request.confirmation_reminded", now=now)

    def expire(self, *, now: datetime) -> None:
        """Never confirmed: the request expires, and that is recorded, never silent."""
        if self.status != RequestStatus.SUBMITTED:
            raise InvalidTransition(f"cannot expire a {self.status} request")
        self.status = RequestStatus.EXPIRED
        self.closed_at = now
        self.save(update_fields=["status", "closed_at"])
        self.add_step(StepKind.EXPIRED, now=now)
        self.audit("request.expired", now=now)

    def withdraw(self, *, now: datetime) -> None:
        """The person withdraws their request (from the tracker or their privacy space)."""
        if not self.can_be_withdrawn:
            raise InvalidTransition(f"cannot withdraw a {self.status} request")
        self.status = RequestStatus.WITHDRAWN
        self.closed_at = now
        self.closed_on = deadlines.received_on(now)
        self.days_taken = (self.closed_on - self.received_on).days
        self._end_pause(today=self.closed_on)
        self.save(update_fields=self.CLOCK_FIELDS + ["status", "closed_at"])
        self.add_step(StepKind.WITHDRAWN, now=now)
        self.audit("request.withdrawn", now=now, actor_type=ActorType.PERSON)

    # --- The DPO's actions (issue 4): each checks its rule, writes a step the person sees
    # when it concerns them, and an audit event. Refusals raise ActionRefused. -------------

    CLOCK_FIELDS = ["paused_since", "current_due_on", "closed_on", "days_taken"]

    def _require_active(self) -> None:
        if not self.is_active:
            raise ActionRefused(
                _("This request is %(status)s: only a confirmed, open request can be handled.")
                % {"status": self.get_status_display()}
            )

    def assign(self, *, assignee: Any, by: Any, now: datetime) -> None:
        """Give the request to a member of the DPO group (`assignee`), or to nobody (None)."""

        if assignee is not None and not dpo_members().filter(pk=assignee.pk).exists():
            raise ActionRefused(_("Requests can be assigned only to members of the DPO group."))
        self.assignee = assignee
        self.save(update_fields=["assignee"])
        self.audit(
            "request.assigned",
            now=now,
            actor_user=by,
            assignee_id=assignee.pk if assignee else None,
        )

    def start(self, *, by: Any, now: datetime) -> None:
        """Open → in progress; the request goes to `by` if nobody has it yet."""
        if self.status != RequestStatus.OPEN:
            raise ActionRefused(
                _("Only a request that is %(status)s can be started.")
                % {"status": RequestStatus.OPEN.label}
            )
        self.status = RequestStatus.IN_PROGRESS
        self.assignee = self.assignee or by
        self.save(update_fields=["status", "assignee"])
        self.add_step(StepKind.STARTED, now=now)
        self.audit("request.started", now=now, actor_user=by)

    def ask_person(
        self,
        *,
        reason: PauseReason | str,
        message: str,
        pause_clock: bool,
        by: Any,
        now: datetime,
        doubt_reason: str = "",
        identity_method: IdentityMethod | str = "",
    ) -> RequestPause | None:
        """Ask the person for a clarification or, on reasonable doubt, for proof of identity.

        An identity request needs the recorded doubt and a method (A5). The clock pauses
        only if asked (`pause_clock`) and only within RIGHTS_PAUSE_ASK_WITHIN_WORKING_DAYS
        working days of receipt, "without undue delay" (A6); later, the pause is refused
        and the DPO may ask without pausing. Return the pause, if any.
        """
        self._require_active()
        if self.status == RequestStatus.AWAITING_PERSON:
            raise ActionRefused(_("We are already waiting for the person's answer."))
        if reason not in PauseReason.values:
            raise ActionRefused(_("Choose what you are asking for."))
        message = (message or "").strip()
        if not message:
            raise ActionRefused(_("Write the question the person will receive."))
        doubt_reason = (doubt_reason or "").strip()
        if reason == PauseReason.IDENTITY:
            if not doubt_reason:
                raise ActionRefused(
                    _(
                        "Proof of identity may be asked only on a reasonable doubt: "
                        "record the reason for the doubt."
                    )
                )
            if identity_method not in IdentityMethod.values:
                raise ActionRefused(_("Choose the least intrusive method that removes the doubt."))
        today = deadlines.received_on(now)
        pause = None
        if pause_clock:
            limit = settings.RIGHTS_PAUSE_ASK_WITHIN_WORKING_DAYS
            if deadlines.working_days_after(self.received_on, today) > limit:
                raise ActionRefused(
                    _(
                        "The clock cannot be paused: the request for information must go "
                        "out within %(days)s working days of receipt (%(received)s). Ask "
                        "without pausing the clock."
                    )
                    % {"days": limit, "received": self.received_on.isoformat()}
                )
            pause = RequestPause.objects.create(
                request=self,
                reason=reason,
                asked_at=now,
                paused_from=today,
                decided_by=by,
            )
            self.paused_since = today
        if reason == PauseReason.IDENTITY:
            # A new doubt undoes an earlier check: the data wait for a new one (A5).
            self.identity_doubt_reason = doubt_reason
            self.identity_method_asked = identity_method
            self.identity_checked_at = None
            self.identity_check_method = ""
        self.status = RequestStatus.AWAITING_PERSON
        self.save(
            update_fields=[
                "status",
                "paused_since",
                "identity_doubt_reason",
                "identity_method_asked",
                "identity_checked_at",
                "identity_check_method",
            ]
        )
        self.add_step(StepKind.QUESTION, now=now, message=message)
        if pause is not None:
            self.add_step(StepKind.PAUSED, now=now)
        self.audit(
            "request.information_requested",
            now=now,
            actor_user=by,
            reason=str(reason),
            method=str(identity_method),
            paused=pause is not None,
        )
        return pause

    def record_answer(self, *, message: str, now: datetime) -> None:
        """The person answered from their tracker: the pause (if any) ends, work resumes."""
        if self.status != RequestStatus.AWAITING_PERSON:
            raise ActionRefused(_("We are not waiting for an answer on this request."))
        message = (message or "").strip()
        if not message:
            raise ActionRefused(_("Write your answer."))
        today = deadlines.received_on(now)
        was_paused = self.paused_since is not None
        days = self._end_pause(today=today)
        self.status = RequestStatus.IN_PROGRESS
        self.save(update_fields=["status", "paused_since", "current_due_on"])
        self.add_step(StepKind.ANSWER, now=now, message=message)
        if was_paused:
            self.add_step(StepKind.RESUMED, now=now)
        self.audit(
            "request.answered",
            now=now,
            actor_type=ActorType.PERSON,
            paused_days=days,
            current_due_on=self.current_due_on.isoformat(),
        )

    def _end_pause(self, *, today: date) -> int:
        """End the open pause (if any) today; move the current deadline; return its days."""
        if self.paused_since is None:
            return 0
        pause = self.pauses.filter(paused_until__isnull=True).order_by("-id").first()
        days = 0
        if pause is not None:
            pause.paused_until = today
            pause.save(update_fields=["paused_until"])
            days = pause.days or 0
        self.paused_since = None
        self._recompute_due()
        return days

    def _recompute_due(self) -> None:
        paused = sum(
            p.days or 0
            for p in RequestPause.objects.filter(request=self, paused_until__isnull=False)
        )
        raw = (
            deadlines.raw_extended_due_on(self.received_on)
            if self.extended_due_on
            else self.raw_due_on
        )
        self.current_due_on = deadlines.suspended_due_on(raw, paused)

    def mark_identity_checked(
        self, *, method: IdentityMethod | str, by: Any, now: datetime
    ) -> None:
        """Record that the identity was checked, and how: only that stays (A5, EDPB § 79)."""
        self._require_active()
        if method not in IdentityMethod.values:
            raise ActionRefused(_("Choose the method used to check the identity."))
        self.identity_checked_at = now
        self.identity_check_method = method
        self.save(update_fields=["identity_checked_at", "identity_check_method"])
        self.add_step(StepKind.IDENTITY_CHECKED, now=now)
        self.audit("request.identity_checked", now=now, actor_user=by, method=str(method))

    def extend(self, *, reason: ExtensionReason | str, justification: str, by: Any, now: datetime):
        """The one extension of two further months, decided and notified on or before the
        first deadline, with a reason code and a written justification (A4)."""
        self._require_active()
        if self.is_extended:
            raise ActionRefused(_("This request was already extended: the law allows it once."))
        today = deadlines.received_on(now)
        if today > self.due_on:
            raise ActionRefused(
                _(
                    "Too late to extend: the extension must be notified on or before the "
                    "first deadline (%(due)s)."
                )
                % {"due": self.due_on.isoformat()}
            )
        if reason not in ExtensionReason.values:
            raise ActionRefused(
                _(
                    "An extension needs one of the two reasons the law accepts: complexity or "
                    "the number of requests."
                )
            )
        justification = (justification or "").strip()
        if not justification:
            raise ActionRefused(_("An extension needs a written justification for the person."))
        self.extended_at = now
        self.extension_reason = reason
        self.extension_justification = justification
        self.extended_due_on = deadlines.extended_due_on(self.received_on)
        self._recompute_due()
        self.save(
            update_fields=[
                "extended_at",
                "extension_reason",
                "extension_justification",
                "extended_due_on",
                "current_due_on",
            ]
        )
        self.add_step(StepKind.EXTENDED, now=now)
        self.audit(
            "request.extended",
            now=now,
            actor_user=by,
            reason=str(reason),
            extended_due_on=self.extended_due_on.isoformat(),
            notified_on=today.isoformat(),
        )

    def add_message(self, *, message: str, by: Any, now: datetime) -> RequestStep:
        """A message from the DPO to the person, shown on the tracker."""
        self._require_active()
        message = (message or "").strip()
        if not message:
            raise ActionRefused(_("Write the message."))
        step = self.add_step(StepKind.MESSAGE, now=now, message=message)
        self.audit("request.message_sent", now=now, actor_user=by)
        return step

    def mark_completed(self, *, by: Any, now: datetime) -> None:
        self._close(RequestStatus.COMPLETED, StepKind.COMPLETED, by=by, now=now)

    def mark_partially_completed(
        self, *, ground: OutcomeGround | str, reasons: str, facts: str, by: Any, now: datetime
    ) -> None:
        self._close(
            RequestStatus.PARTIALLY_COMPLETED,
            StepKind.PARTIALLY_COMPLETED,
            ground=ground,
            reasons=reasons,
            facts=facts,
            by=by,
            now=now,
        )

    def has_recent_repeat(self) -> bool:
        """Whether the same address made a request of the same kind in the 12 months before
        this one (A8; EDPB § 185). One never confirmed does not count: anyone can file it."""
        since = deadlines.add_months(self.received_on, -EXCESSIVE_REPEAT_WITHIN_MONTHS)
        return (
            DataSubjectRequest.objects.filter(
                email=self.email, kind=self.kind, received_on__gt=since
            )
            .confirmed()
            .exclude(pk=self.pk)
            .exclude(received_on__gt=self.received_on)
            .exists()
        )

    def refuse(
        self, *, ground: OutcomeGround | str, reasons: str, facts: str, by: Any, now: datetime
    ) -> None:
        self._close(
            RequestStatus.REFUSED,
            StepKind.REFUSED,
            ground=ground,
            reasons=reasons,
            facts=facts,
            by=by,
            now=now,
        )

    def _close(
        self,
        status: RequestStatus,
        step: StepKind,
        *,
        by: Any,
        now: datetime,
        ground: str = "",
        reasons: str = "",
        facts: str = "",
    ) -> None:
        self._require_active()
        reasons, facts = (reasons or "").strip(), (facts or "").strip()
        if status != RequestStatus.COMPLETED:
            if ground not in OutcomeGround.values:
                raise ActionRefused(_("Choose the ground of the decision."))
            if not reasons:
                raise ActionRefused(
                    _("A refusal, in whole or in part, must give the person its reasons.")
                )
            if ground in GROUNDS_NEEDING_FACTS and not facts:
                raise ActionRefused(
                    _(
                        "A request can be called manifestly unfounded or excessive only with "
                        "documented facts: the burden of proof is ours."
                    )
                )
            if ground == OutcomeGround.EXCESSIVE and not self.has_recent_repeat():
                raise ActionRefused(
                    _(
                        "No request of the same kind from this address in the previous 12 "
                        "months: EDPB guidance (§ 185) rules out calling it excessive by "
                        "repetition."
                    )
                )
        today = deadlines.received_on(now)
        self._end_pause(today=today)
        late = today > self.current_due_on
        self.status = status
        self.outcome_ground, self.outcome_reasons, self.outcome_facts = ground, reasons, facts
        self.closed_at = now
        self.closed_on = today
        self.days_taken = (today - self.received_on).days
        self.save(
            update_fields=self.CLOCK_FIELDS
            + ["status", "outcome_ground", "outcome_reasons", "outcome_facts", "closed_at"]
        )
        self.add_step(step, now=now, message=reasons)
        self.audit(
            f"request.{RequestStatus(status).value}",
            now=now,
            actor_user=by,
            ground=ground,
            days_taken=self.days_taken,
            late=late,
        )


class RequestStep(models.Model):
    """One step of a request, as the person sees it on their tracker (append-only)."""

    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.CASCADE,
        related_name="steps",
        verbose_name=_("request reference"),
    )
    kind = models.CharField(_("step"), max_length=20, choices=StepKind)
    at = models.DateTimeField(_("at"), default=timezone.now)
    # A message from the DPO to the person (StepKind.MESSAGE), the person's answer, or what
    # a joining submission asked (StepKind.JOINED); may hold personal data.
    message = models.TextField(_("message"), blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("request step")
        verbose_name_plural = _("request steps")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=StepKind.values), name="rights_requeststep_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M}" if self.at else "Step"

    @property
    def public_message(self) -> str:
        """The message the person's tracker shows: not a joining submission's, which nobody
        confirmed (anyone who knows the address can send one); the DPO sees it, marked."""
        return "" if self.kind == StepKind.JOINED else self.message


class RequestPause(models.Model):
    """A pause of the clock while we wait for the person (REQUIREMENTS A6): recorded, never silent.

    Opened by `DataSubjectRequest.ask_person`, closed by `record_answer` (or the closure of
    the request); the tracker shows `due_on` and the deadline moved by the paused days side
    by side.
    """

    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.CASCADE,
        related_name="pauses",
        verbose_name=_("request reference"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=PauseReason)
    # When we asked the person (the pause is allowed only if we asked without undue delay).
    asked_at = models.DateTimeField(_("asked at"))
    paused_from = models.DateField(_("paused from"))
    paused_until = models.DateField(_("paused until"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        ordering = ["paused_from", "id"]
        verbose_name = _("clock pause")
        verbose_name_plural = _("clock pauses")
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=PauseReason.values), name="rights_requestpause_reason_valid"
            ),
            models.CheckConstraint(
                condition=Q(paused_until__isnull=True)
                | Q(paused_until__gte=models.F("paused_from")),
                name="rights_requestpause_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Pause from {self.paused_from}" if self.paused_from else "Pause"

    @property
    def days(self) -> int | None:
        return (self.paused_until - self.paused_from).days if self.paused_until else None


class LinkPurpose(models.TextChoices):
    CONFIRM = "confirm", _("Confirm a request")
    TRACKER = "tracker", _("Follow a request")
    SIGN_IN = "sign_in", _("Sign in to the privacy space")
    DOWNLOAD = "download", _("Download an export of your data")


class SecretLinkQuerySet(models.QuerySet):
    def find(self, purpose: LinkPurpose, token: str) -> SecretLink | None:
        """The link with this token, and its request in the same query."""
        return (
            self.filter(purpose=purpose, token_hash=hash_token(token))
            .select_related("request")
            .first()
        )

    def expired_sign_ins(self, *, now: datetime) -> SecretLinkQuerySet:
        """Sign-in links past their expiry, used or not."""
        return self.filter(purpose=LinkPurpose.SIGN_IN, expires_at__lte=now)


class SecretLink(models.Model):
    """A link only its recipient knows: a random token, stored here as its SHA-256 hash only.

    Confirmation and sign-in links are single-use and expire; tracker links last as long as
    the request.
    """

    purpose = models.CharField(_("purpose"), max_length=10, choices=LinkPurpose)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="links",
        verbose_name=_("request reference"),
    )
    # Sign-in links only: the normalised address the privacy space will be scoped to.
    email = models.EmailField(_("email address"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    objects = SecretLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("secret link")
        verbose_name_plural = _("secret links")
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=LinkPurpose.values), name="rights_secretlink_purpose_valid"
            ),
            # A sign-in link names an address; the others name a request.
            models.CheckConstraint(
                condition=(
                    Q(purpose=LinkPurpose.SIGN_IN, request__isnull=True) & ~Q(email="")
                    | (~Q(purpose=LinkPurpose.SIGN_IN) & Q(request__isnull=False, email=""))
                ),
                name="rights_secretlink_names_its_target",
            ),
        ]
        indexes = [
            # Used by retention.sweeps.purge_sign_in_links.
            models.Index(fields=["purpose", "expires_at"], name="rights_secretlink_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link" if self.purpose else "Link"

    @classmethod
    def issue(
        cls,
        *,
        purpose: LinkPurpose,
        now: datetime,
        request: DataSubjectRequest | None = None,
        email: str = "",
        expires_at: datetime | None = None,
    ) -> tuple[SecretLink, str]:
        """Create a link and return it with its token, the only time the token exists."""
        token = secrets.token_urlsafe(32)
        link = cls.objects.create(
            purpose=purpose,
            token_hash=hash_token(token),
            request=request,
            email=normalise_email(email) if email else "",
            created_at=now,
            expires_at=expires_at,
        )
        return link, token

    def is_expired(self, *, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def mark_used(self, *, now: datetime) -> None:
        self.used_at = now
        self.save(update_fields=["used_at"])


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutgoingEmailQuerySet(models.QuerySet):
    def pending(self) -> OutgoingEmailQuerySet:
        return self.filter(status=EmailStatus.PENDING)

    def done_before(self, cutoff: datetime) -> OutgoingEmailQuerySet:
        """Sent at or before `cutoff`, or failed for good and queued at or before it."""
        return self.filter(
            Q(status=EmailStatus.SENT, sent_at__lte=cutoff)
            | Q(status=EmailStatus.FAILED, created_at__lte=cutoff)
        )


class OutgoingEmail(models.Model):
    """The outbox: an email written in the same transaction as what it tells about.

    The relay (rights.tasks) sends what is pending, exactly once. The subject and bodies are
    rendered when the email is queued, so a single-use token can be in them; or, for an
    email with a `link`, by its sender, which issues that link in the transaction that marks
    the email sent (the intake's emails: rights.services.queue_link_email). They are
    personal data and are purged RIGHTS_SENT_EMAIL_RETENTION_DAYS after sending.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("request reference"),
    )
    template = models.CharField(_("template"), max_length=50)
    to = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=255)
    body_text = models.TextField(_("text body"))
    body_html = models.TextField(_("HTML body"))
    # The link the sender issues and renders into the email ("": rendered when queued). The
    # database default lets code from before this field queue emails during a deploy.
    link = models.CharField(
        _("link issued when sent"),
        max_length=10,
        choices=LinkPurpose,
        blank=True,
        default="",
        db_default="",
    )
    # Extra headers, e.g. a marketing email's List-Unsubscribe (RFC 8058), whose URL carries
    # a token naming the recipient: personal data, like the body.
    headers = models.JSONField(_("extra headers"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=EmailStatus, default=EmailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=EmailStatus.values), name="rights_outgoingemail_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(status=EmailStatus.SENT, sent_at__isnull=False)
                | (~Q(status=EmailStatus.SENT) & Q(sent_at__isnull=True)),
                name="rights_outgoingemail_sent_has_date",
            ),
            models.CheckConstraint(
                condition=Q(link__in=["", LinkPurpose.CONFIRM, LinkPurpose.TRACKER]),
                name="rights_outgoingemail_link_valid",
            ),
        ]
        indexes = [
            # Used by rights.services.relay_pending_emails (pending, oldest first).
            models.Index(
                fields=["created_at"],
                condition=Q(status=EmailStatus.PENDING),
                name="rights_outgoingemail_pending",
            ),
            # Used by retention.sweeps.purge_sent_emails.
            models.Index(fields=["sent_at"], name="rights_outgoingemail_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.template} ({self.get_status_display()})" if self.template else "Email"


# --- Fulfilment: what each right produced (rights/exports.py, rights/fulfilment.py) ---------


class ExportKind(models.TextChoices):
    ACCESS = "access", _("Copy of your data (access)")
    PORTABILITY = "portability", _("Your data in a reusable format (portability)")


class ExportQuerySet(models.QuerySet):
    def available(self, *, now: datetime) -> ExportQuerySet:
        return self.filter(expires_at__gt=now)

    def expired(self, *, now: datetime) -> ExportQuerySet:
        return self.filter(expires_at__lte=now)


class Export(models.Model):
    """A ZIP of the person's data, in private storage (MEDIA_ROOT/exports/, never a public URL).

    Downloaded through a single-use emailed link (LinkPurpose.DOWNLOAD); the file is deleted
    when it expires, RIGHTS_EXPORT_LINK_DAYS after it was built.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.CASCADE,
        related_name="exports",
        verbose_name=_("request reference"),
    )
    kind = models.CharField(_("kind of export"), max_length=20, choices=ExportKind)
    # Relative to MEDIA_ROOT; the file name is random, never the person's.
    file_path = models.CharField(_("file"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    created_at = models.DateTimeField(_("built at"), default=timezone.now)
    expires_at = models.DateTimeField(_("available until"))
    downloaded_at = models.DateTimeField(_("first downloaded at"), null=True, blank=True)

    objects = ExportQuerySet.as_manager()

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ExportKind.values), name="rights_export_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")),
                name="rights_export_expires_after_creation",
            ),
        ]
        indexes = [
            # Used by retention.sweeps.purge_exports.
            models.Index(fields=["expires_at"], name="rights_export_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {str(self.code)[:8]}" if self.kind else "Export"

    @property
    def file_name(self) -> str:
        """The name the person's browser saves it under (no personal data in it)."""
        return f"okasio-{self.kind}-{self.created_at:%Y-%m-%d}.zip"

    def mark_downloaded(self, *, now: datetime) -> None:
        if self.downloaded_at is None:
            self.downloaded_at = now
            self.save(update_fields=["downloaded_at"])
        self.request.audit("export.downloaded", now=now, actor_type=ActorType.PERSON)


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("To be notified")
    SENT = "sent", _("Notified")
    NOT_NEEDED = "not_needed", _("Nothing to notify: it hosts our own database")


class RecipientNotificationQuerySet(models.QuerySet):
    def pending(self) -> RecipientNotificationQuerySet:
        return self.filter(status=NotificationStatus.PENDING)


class RecipientNotification(models.Model):
    """One recipient told of a rectification, an erasure or a restriction (GDPR 19; B6).

    The recipient is named as in the inventory; the person sees the list on their tracker.
    """

    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.CASCADE,
        related_name="recipient_notifications",
        verbose_name=_("request reference"),
    )
    recipient = models.CharField(_("recipient"), max_length=200)
    # The inventory's field names ("people.Person.email"); never their values.
    fields = models.JSONField(_("data concerned"), default=list)
    status = models.CharField(
        _("status"), max_length=12, choices=NotificationStatus, default=NotificationStatus.PENDING
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    # Sent by an API call (Stripe): how the tries went, for the DPO while it is pending.
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=255, blank=True)

    objects = RecipientNotificationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("recipient notification")
        verbose_name_plural = _("recipient notifications")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=NotificationStatus.values),
                name="rights_recipientnotification_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(status=NotificationStatus.SENT, notified_at__isnull=False)
                | (~Q(status=NotificationStatus.SENT) & Q(notified_at__isnull=True)),
                name="rights_recipientnotification_sent_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} ({self.get_status_display()})" if self.recipient else "Notice"

    @property
    def is_waiting(self) -> bool:
        """Pending with an API call tried and failed: a task is trying again."""
        return self.status == NotificationStatus.PENDING and bool(self.last_error)

    def record_attempt(self, *, now: datetime, error: str = "") -> None:
        """Count one try of the API call that tells the recipient, and its error if any.

        Not a status change (no audit event): `mark_sent` follows a try that worked.
        """
        self.attempts += 1
        self.last_attempt_at = now
        self.last_error = error[:255]
        self.save(update_fields=["attempts", "last_attempt_at", "last_error"])

    def mark_sent(self, *, by: Any, now: datetime) -> None:
        """The DPO, or the API call, told the recipient; record when. `by` is None for the
        API call (a system event)."""
        if self.status != NotificationStatus.PENDING:
            raise InvalidTransition(f"cannot notify a {self.status} recipient notification")
        self.status = NotificationStatus.SENT
        self.notified_at = now
        self.save(update_fields=["status", "notified_at"])
        self.request.audit(
            "recipient.notified", now=now, actor_user=by, recipient=str(self.recipient)
        )


class PendingStripeDeletion(models.Model):
    """A Stripe customer an erasure must still delete (B4, B6).

    Written in the erasure's transaction and deleted once Stripe confirms, so the customer
    is not forgotten when the task is never queued (the broker was down) or gives up after
    its retries: `rights.tasks.retry_stripe_deletions` queues what is left. The customer id
    is an opaque, pseudonymous reference; the person's row is gone.
    """

    customer_id = models.CharField(_("Stripe customer"), max_length=255, unique=True)
    notification = models.ForeignKey(
        RecipientNotification,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("notification"),
    )
    queued_at = models.DateTimeField(_("last queued at"), default=timezone.now)

    class Meta:
        verbose_name = _("Stripe deletion waiting")
        verbose_name_plural = _("Stripe deletions waiting")

    def __str__(self) -> str:
        return f"Stripe {self.customer_id[:8]}…"


class ErasureLedgerQuerySet(models.QuerySet):
    def final_notice_due(self, today: date) -> ErasureLedgerQuerySet:
        """Entries whose final notice waits and whose last kept item's date has passed."""
        return self.exclude(notice_email="").filter(final_notice_due_on__lt=today)


class ErasureLedger(models.Model):
    """A pseudonymous record of an executed erasure, so a restored backup can be erased again.

    It names the person only by the keyed hash of their address (audit.hashing.subject_hash);
    `summary` holds counts and dates per model and action, never a value.
    `manage.py reapply_erasures` re-runs every entry against the current database.
    """

    subject_hash = models.CharField(_("subject (keyed hash)"), max_length=64)
    request_code = models.UUIDField(_("request reference"), unique=True)
    executed_at = models.DateTimeField(_("executed at"), default=timezone.now)
    summary = models.JSONField(_("what was erased and kept"), default=dict)
    last_reapplied_at = models.DateTimeField(_("last reapplied at"), null=True, blank=True)
    # The final notice (DESIGN "Erasure"): when what was kept for a legal reason has gone,
    # the person is told so once. The address is kept for that alone, and blanked when the
    # notice is sent (retention's erasure_final_notices); empty when nothing was kept with
    # a date. `final_notice_due_on` is the last kept item's date (ErasureKeptRow).
    notice_email = models.EmailField(_("address for the final notice"), blank=True)
    notice_language = models.CharField(
        _("language of the final notice"), max_length=8, choices=settings.LANGUAGES, blank=True
    )
    final_notice_due_on = models.DateField(_("final notice due after"), null=True, blank=True)
    final_notice_sent_at = models.DateTimeField(_("final notice sent at"), null=True, blank=True)

    objects = ErasureLedgerQuerySet.as_manager()

    class Meta:
        verbose_name = _("erasure ledger entry")
        verbose_name_plural = _("erasure ledger")
        constraints = [
            # An address waits for its notice only with a date to send it.
            models.CheckConstraint(
                condition=Q(notice_email="") | Q(final_notice_due_on__isnull=False),
                name="rights_erasureledger_notice_has_date",
            ),
        ]
        indexes = [
            # Used by rights.fulfilment.reapply_erasures (match restored people by hash).
            models.Index(fields=["subject_hash"], name="rights_erasureledger_subject"),
            # Used by retention.sweeps.send_erasure_final_notices (notices still to send).
            models.Index(
                fields=["final_notice_due_on"],
                condition=~Q(notice_email=""),
                name="rights_erasureledger_notice",
            ),
        ]

    def __str__(self) -> str:
        return f"Erasure {str(self.request_code)[:8]}" if self.request_code else "Erasure"


class ErasureKeptRow(models.Model):
    """A row an erasure kept for a legal reason (an invoice), until `keep_until`.

    The final notice waits until every kept row of its erasure is gone (the accounting
    sweep deletes it); then these go with the notice. The row's internal key only: the
    row itself no longer names the person (anonymised by the erasure).
    """

    ledger = models.ForeignKey(ErasureLedger, on_delete=models.CASCADE, related_name="kept_rows")
    model = models.CharField(_("model"), max_length=100)
    row_id = models.PositiveBigIntegerField(_("row"))
    keep_until = models.DateField(_("kept until"))

    class Meta:
        verbose_name = _("row kept after an erasure")
        verbose_name_plural = _("rows kept after an erasure")
        constraints = [
            models.UniqueConstraint(
                fields=["ledger", "model", "row_id"], name="rights_erasurekeptrow_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} #{self.row_id}" if self.model else "Kept row"


class RestrictionQuerySet(models.QuerySet):
    def active(self) -> RestrictionQuerySet:
        return self.filter(lifted_at__isnull=True)


class Restriction(models.Model):
    """A person's data are restricted: stored, not used (GDPR 18; REQUIREMENTS B5).

    `Person.objects.unrestricted()` leaves out everyone with an active restriction; marketing,
    exports to third parties and edits use it. Lifting needs the notice first (18(3)): `lift`
    refuses until `record_lift_notice` has run, and the database refuses it too.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="restrictions"
    )
    case = models.CharField(_("case (GDPR 18(1))"), max_length=20, choices=RestrictionCase)
    request = models.ForeignKey(
        DataSubjectRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="restrictions",
        verbose_name=_("request reference"),
    )
    started_at = models.DateTimeField(_("restricted since"), default=timezone.now)
    lift_notice_at = models.DateTimeField(_("told before lifting at"), null=True, blank=True)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)

    objects = RestrictionQuerySet.as_manager()

    class Meta:
        verbose_name = _("restriction of processing")
        verbose_name_plural = _("restrictions of processing")
        constraints = [
            models.CheckConstraint(
                condition=Q(case__in=RestrictionCase.values), name="rights_restriction_case_valid"
            ),
            # No lifting without the notice first (GDPR 18(3)).
            models.CheckConstraint(
                condition=Q(lifted_at__isnull=True)
                | Q(lift_notice_at__isnull=False, lifted_at__gte=models.F("lift_notice_at")),
                name="rights_restriction_lifted_after_notice",
            ),
            models.UniqueConstraint(
                fields=["person", "case"],
                condition=Q(lifted_at__isnull=True),
                name="rights_restriction_one_active_per_case",
            ),
        ]
        indexes = [
            # Used by PersonQuerySet.unrestricted (active restrictions only).
            models.Index(
                fields=["person"],
                condition=Q(lifted_at__isnull=True),
                name="rights_restriction_active",
            ),
        ]

    def __str__(self) -> str:
        return f"Restriction {str(self.code)[:8]} ({self.get_case_display()})"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None

    def _audit(self, action: str, *, by: Any, now: datetime) -> None:
        record_event(
            action=action,
            actor_type=ActorType.STAFF if by else ActorType.SYSTEM,
            actor_user=by,
            object_type="rights.Restriction",
            object_ref=str(self.code),
            details={"case": self.case},
            subject_email=self.person.email,
            now=now,
        )

    def record_lift_notice(self, *, by: Any, now: datetime) -> None:
        """The person was told the restriction will be lifted (the email is in the outbox)."""
        if not self.is_active:
            raise InvalidTransition("this restriction is already lifted")
        self.lift_notice_at = now
        self.save(update_fields=["lift_notice_at"])
        self._audit("restriction.lift_notified", by=by, now=now)

    def lift(self, *, by: Any, now: datetime) -> None:
        """Lift the restriction; refused unless the person was told first (18(3))."""
        if not self.is_active:
            raise InvalidTransition("this restriction is already lifted")
        if self.lift_notice_at is None or self.lift_notice_at > now:
            raise InvalidTransition("tell the person before lifting a restriction (GDPR 18(3))")
        self.lifted_at = now
        self.save(update_fields=["lifted_at"])
        self._audit("restriction.lifted", by=by, now=now)


class ObjectionDecision(models.Model):
    """The DPO's answer to an objection to legitimate-interest processing (GDPR 21(1); B8).

    Refusing it needs the compelling legitimate grounds, recorded (the burden is ours).
    """

    request = models.OneToOneField(
        DataSubjectRequest,
        on_delete=models.CASCADE,
        related_name="objection_decision",
        verbose_name=_("request reference"),
    )
    upheld = models.BooleanField(_("objection upheld"))
    compelling_grounds = models.TextField(_("compelling legitimate grounds"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )

    class Meta:
        verbose_name = _("objection decision")
        verbose_name_plural = _("objection decisions")
        constraints = [
            models.CheckConstraint(
                condition=Q(upheld=True) | ~Q(compelling_grounds=""),
                name="rights_objectiondecision_refusal_has_grounds",
            ),
        ]

    def __str__(self) -> str:
        return "Objection upheld" if self.upheld else "Objection refused"


# --- Post-mortem directives (LIL arts 84-85; REQUIREMENTS B14, D13) ---------------------------


class DirectiveInstruction(models.TextChoices):
    """What the person wants done with their data after their death (LIL art. 85)."""

    ERASE = "erase", _("Erase my data")
    COMMUNICATE = "communicate", _("Give a copy of my data to the person I name, then erase it")
    KEEP = "keep", _("Keep my data for the periods our privacy notice gives, then erase it")


# The one rule of a directive's fields: the form shows it on the field, full_clean() and the
# database enforce it.
COPY_NEEDS_AN_ADDRESS = _("Give the address of the person who should receive the copy.")


class PostMortemDirective(models.Model):
    """A person's specific directive for their data after their death (LIL art. 85; B14).

    One per address, recorded from the privacy space (the address is the proof of who
    wrote it), changed or revoked there at any time; revoking deletes it. It may name the
    person who carries it out; failing that, the heirs act (LIL art. 85 I). The DPO finds
    it by address and records when and how it was carried out.
    """

    code = models.UUIDField(_("reference"), default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email address"))
    instruction = models.CharField(
        _("instruction"), max_length=20, choices=DirectiveInstruction.choices
    )
    executor_name = models.CharField(_("person named to carry it out"), max_length=200, blank=True)
    executor_email = models.EmailField(_("their email address"), blank=True)
    wishes = models.TextField(_("specific wishes"), blank=True, max_length=DETAILS_MAX_LENGTH)
    recorded_at = models.DateTimeField(_("recorded at"))
    changed_at = models.DateTimeField(_("last changed at"))
    carried_out_at = models.DateTimeField(_("carried out at"), null=True, blank=True)
    carried_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("carried out by"),
    )
    carried_out_note = models.TextField(
        _("how it was carried out"),
        blank=True,
        help_text=_(
            "How the death and the requester were checked (e.g. death certificate and ID of "
            "the person named), and what was done."
        ),
    )

    class Meta:
        verbose_name = _("post-mortem directive")
        verbose_name_plural = _("post-mortem directives")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="rights_directive_one_per_email"),
            models.CheckConstraint(
                condition=Q(instruction__in=DirectiveInstruction.values),
                name="rights_directive_instruction_valid",
            ),
            models.CheckConstraint(
                condition=~Q(instruction=DirectiveInstruction.COMMUNICATE) | ~Q(executor_email=""),
                name="rights_directive_communicate_names_someone",
                violation_error_message=COPY_NEEDS_AN_ADDRESS,
            ),
            models.CheckConstraint(
                condition=Q(carried_out_at__isnull=True) | ~Q(carried_out_note=""),
                name="rights_directive_carried_out_says_how",
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_instruction_display())
