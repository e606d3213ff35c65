"""What retention records: every sweep run, the legal holds that stop sweeps, and the
re-permission asked of prospects at the end of their three years (REQUIREMENTS C8, A11).

The policies themselves are functions in `retention/sweeps.py`, listed in its `POLICIES`
registry; their periods live in `settings.RETENTION_MONTHS`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SweepRunQuerySet(models.QuerySet):
    def successful(self) -> SweepRunQuerySet:
        """Real runs that finished without an error (what /healthz watches)."""
        return self.filter(dry_run=False, finished_at__isnull=False, error="", skipped=False)


class SweepRun(models.Model):
    """One run of one policy: the ledger the DPO reads, and the proof of deletion (A11)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # A name from retention.sweeps.POLICIES. Not a TextChoices: adding a policy is one
    # function and one registry entry, with no migration.
    policy = models.CharField(_("policy"), max_length=60)
    # The date the policy applied its periods to (`--now` when run by hand; else the start).
    as_of = models.DateTimeField(_("as of"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    # Another run of the same policy held the lock: this one did nothing.
    skipped = models.BooleanField(_("skipped (already running)"), default=False)
    rows_examined = models.PositiveBigIntegerField(_("rows examined"), default=0)
    rows_affected = models.PositiveBigIntegerField(_("rows affected"), default=0)
    rows_held = models.PositiveBigIntegerField(
        _("rows kept by a legal hold or a restriction"), default=0
    )
    # Counts per action (e.g. {"asked": 3, "deleted": 2}); never personal data.
    details = models.JSONField(_("details"), default=dict, blank=True)
    # The exception's class and message; empty when the run succeeded.
    error = models.TextField(_("error"), blank=True)

    objects = SweepRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("sweep run")
        verbose_name_plural = _("sweep runs")
        ordering = ["-started_at"]
        indexes = [
            # Used by retention.views.healthz: the last successful run of each policy.
            models.Index(fields=["policy", "finished_at"], name="retention_sweeprun_last"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} at {self.started_at:%Y-%m-%d %H:%M} UTC"


class HoldReason(models.TextChoices):
    DISPUTE = "dispute", _("Dispute or litigation")
    LEGAL_CLAIMS = "legal_claims", _("Restriction kept for legal claims (Art. 18(1)(c))")
    AUTHORITY = "authority", _("Request from an authority")


class LegalHoldQuerySet(models.QuerySet):
    def not_ended(self, *, now: datetime) -> LegalHoldQuerySet:
        """The holds that protect their person now: in force, or placed to start later
        (deleting the data a hold is about to cover would defeat it)."""
        return self.filter(Q(until__isnull=True) | Q(until__gt=now))

    def ended(self, *, now: datetime) -> LegalHoldQuerySet:
        """The holds that protect no one any more: the others (an open end is never past)."""
        return self.filter(until__lte=now)


class LegalHold(models.Model):
    """Until it ends, no sweep touches any data of this person (dry runs count them), and
    their erasure is refused: from the moment it is placed, even one dated to start later."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # PROTECT: a person under hold cannot be deleted by any path, not only the sweeps.
    person = models.ForeignKey(
        "people.Person",
        on_delete=models.PROTECT,
        related_name="legal_holds",
        verbose_name=_("person"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=HoldReason)
    # A case or file number, not a narrative: no personal data beyond the person link.
    reference = models.CharField(_("case reference"), max_length=100, blank=True)
    since = models.DateTimeField(_("since"), default=timezone.now)
    until = models.DateTimeField(_("until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("placed by"),
    )

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=HoldReason.values), name="retention_legalhold_reason_valid"
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gt=models.F("since")),
                name="retention_legalhold_until_after_since",
            ),
        ]

    def __str__(self) -> str:
        return f"Legal hold #{self.pk} ({self.get_reason_display()})"


class Repermission(models.Model):
    """The one re-permission email a prospect gets when their three years end (C8).

    `sent_at` is set once the email has left; the grace period counts from it, so a prospect
    whose email never went out is never deleted for not answering. A "yes" sets
    `answered_yes_at` and restarts the person's clock (Person.last_contact_initiated_at).
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="repermissions"
    )
    asked_at = models.DateTimeField(_("asked"), default=timezone.now)
    sent_at = models.DateTimeField(_("email sent"), null=True, blank=True)
    answered_yes_at = models.DateTimeField(_("answered yes"), null=True, blank=True)

    class Meta:
        verbose_name = _("re-permission request")
        verbose_name_plural = _("re-permission requests")
        indexes = [
            # Used by retention.sweeps.purge_prospects: has this cycle's question been asked?
            models.Index(fields=["person", "asked_at"], name="retention_reperm_person_asked"),
        ]

    def __str__(self) -> str:
        return f"Re-permission #{self.pk}"
