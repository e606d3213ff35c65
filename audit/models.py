"""The audit log: one append-only, hash-chained table of privacy-relevant facts.

Each row stores the hash of the row before it (`prev_hash`) and its own `hash`, computed
by `AuditEvent.compute_hash()` over a canonical JSON of its fields plus `prev_hash`. Editing,
deleting, inserting or reordering rows breaks the chain, which `audit.services.verify_chain`
(and `manage.py audit_verify`) detects. On PostgreSQL a trigger also refuses UPDATE, DELETE
and TRUNCATE (migration 0002). Rows are written only by `audit.services.record_event`.

No personal data in the log (REQUIREMENTS A11: the facts of the procedure, not the
material): a person appears only as `subject_hash`, the keyed hash from `audit.hashing`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.hashing import subject_hash

# The first row chains from this value.
GENESIS_HASH = "0" * 64


class ActorType(models.TextChoices):
    STAFF = "staff", _("Staff member")
    SYSTEM = "system", _("System")
    PERSON = "person", _("The person")


class AuditEventQuerySet(models.QuerySet):
    def for_object(self, object_type: str, object_ref: str) -> AuditEventQuerySet:
        """Events about one object, oldest first (a request's timeline)."""
        return self.filter(object_type=object_type, object_ref=object_ref).order_by("id")

    def for_subject(self, email: str) -> AuditEventQuerySet:
        """Events about the person with this email, oldest first."""
        return self.filter(subject_hash=subject_hash(email)).order_by("id")


class AuditEvent(models.Model):
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor_type = models.CharField(_("actor type"), max_length=10, choices=ActorType)
    # PROTECT, not SET_NULL: SET_NULL would UPDATE audit rows (the trigger refuses it) and
    # change what the chain hashed. Staff accounts that acted are deactivated, not deleted.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    # A dotted code such as "request.submitted"; the set grows app by app.
    action = models.CharField(_("action"), max_length=100)
    # An app label and model name ("rights.DataSubjectRequest") and a public code (a UUID).
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_ref = models.CharField(_("object reference"), max_length=100, blank=True)
    # Never personal data: record_event refuses personal-data keys and email-like values.
    details = models.JSONField(_("details"), default=dict, blank=True)
    subject_hash = models.CharField(_("subject (keyed hash)"), max_length=64, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [
            models.CheckConstraint(
                condition=Q(actor_type__in=ActorType.values),
                name="audit_auditevent_actor_type_valid",
            ),
            # A staff event names the staff member; "system" and "the person" name nobody.
            models.CheckConstraint(
                condition=(
                    Q(actor_type=ActorType.STAFF, actor_user__isnull=False)
                    | (~Q(actor_type=ActorType.STAFF) & Q(actor_user__isnull=True))
                ),
                name="audit_auditevent_staff_has_user",
            ),
            models.CheckConstraint(condition=~Q(action=""), name="audit_auditevent_action_set"),
            # The chain cannot fork: no two rows follow the same row, whatever the writers do.
            models.UniqueConstraint(fields=["prev_hash"], name="audit_auditevent_one_successor"),
        ]
        indexes = [
            # Used by AuditEventQuerySet.for_object (a request's timeline, A11).
            models.Index(fields=["object_type", "object_ref"], name="audit_auditevent_object"),
            # Used by AuditEventQuerySet.for_subject and the admin search.
            models.Index(fields=["subject_hash"], name="audit_auditevent_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.action or 'event'} at {self.at:%Y-%m-%d %H:%M:%S} UTC"

    def canonical_json(self) -> bytes:
        """Return the bytes the chain hashes: every field but `id` and `hash`, plus `prev_hash`.

        `details` must survive a JSON round trip through the database unchanged, which is
        why record_event refuses floats in it.
        """
        fields = {
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_type": self.actor_type,
            "actor_user_id": self.actor_user_id,
            "action": self.action,
            "object_type": self.object_type,
            "object_ref": self.object_ref,
            "details": self.details,
            "subject_hash": self.subject_hash,
            "prev_hash": self.prev_hash,
        }
        return json.dumps(
            fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    def compute_hash(self) -> str:
        """Return the SHA-256 hex digest of canonical_json(): what `hash` must hold."""
        return hashlib.sha256(self.canonical_json()).hexdigest()
