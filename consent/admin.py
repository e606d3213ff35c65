from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from audit.hashing import subject_hash

from .models import Action, ConsentRecord, ConsentText, OppositionEntry, Purpose


class ReadOnlyAdmin(admin.ModelAdmin):
    """Proof is never added, changed or deleted by hand (B12, C4)."""

    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        # The DPO may type an email: it is hashed, never stored.
        if "@" in search_term:
            return queryset.filter(subject_hash=subject_hash(search_term)), False
        return super().get_search_results(request, queryset, search_term)


def consent_rates() -> list[dict[str, Any]]:
    """Per purpose: records granted, refused, withdrawn, and the share granted."""
    counts = ConsentRecord.objects.values("purpose").annotate(
        granted=Count("id", filter=Q(action=Action.GRANTED)),
        refused=Count("id", filter=Q(action=Action.REFUSED)),
        withdrawn=Count("id", filter=Q(action=Action.WITHDRAWN)),
        total=Count("id"),
    )
    by_purpose = {row["purpose"]: row for row in counts}
    rates = []
    for purpose in Purpose:
        empty = {"granted": 0, "refused": 0, "withdrawn": 0, "total": 0}
        row = by_purpose.get(purpose.value, empty)
        rate = f"{100 * row['granted'] / row['total']:.0f} %" if row["total"] else "—"
        rates.append({"purpose": purpose.label, **row, "rate": rate})
    return rates


@admin.register(ConsentRecord)
class ConsentRecordAdmin(ReadOnlyAdmin):
    change_list_template = "admin/consent/consentrecord/change_list.html"
    list_display = ["at", "purpose", "action", "source", "who", "short_text_hash"]
    list_filter = ["purpose", "action", "source"]
    search_fields = ["=subject_hash", "=browser_id", "code"]
    search_help_text = _("A subject hash, a browser id, or a person's email address.")
    date_hierarchy = "at"
    fields = ["code", "at", "purpose", "action", "source", "subject_hash", "browser_id", "text"]
    readonly_fields = fields

    @admin.display(description=_("who"))
    def who(self, record: ConsentRecord) -> str:
        return f"{record.subject_hash[:12]}…" if record.subject_hash else str(record.browser_id)

    @admin.display(description=_("text version"))
    def short_text_hash(self, record: ConsentRecord) -> str:
        return record.text_id[:12]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict | None = None
    ) -> HttpResponse:
        return super().changelist_view(
            request, {**(extra_context or {}), "consent_rates": consent_rates()}
        )


@admin.register(ConsentText)
class ConsentTextAdmin(ReadOnlyAdmin):
    list_display = ["hash", "kind", "first_recorded_at"]
    list_filter = ["kind"]
    search_fields = ["hash"]
    fields = ["hash", "kind", "first_recorded_at", "snapshot"]
    readonly_fields = fields


@admin.register(OppositionEntry)
class OppositionEntryAdmin(ReadOnlyAdmin):
    list_display = ["subject_hash", "channel", "objected_at"]
    list_filter = ["channel"]
    search_fields = ["=subject_hash"]
    search_help_text = _("A subject hash or a person's email address.")
    fields = ["subject_hash", "channel", "objected_at"]
    readonly_fields = fields
