from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from retention.models import LegalHold, Repermission, SweepRun


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SweepRun)
class SweepRunAdmin(ReadOnlyAdmin):
    """The ledger of every sweep: read-only, written only by retention.services.run_policy."""

    list_display = [
        "policy",
        "started_at",
        "finished_at",
        "dry_run",
        "skipped",
        "rows_examined",
        "rows_affected",
        "rows_held",
        "error",
    ]
    list_filter = ["policy", "dry_run", "skipped"]
    search_fields = ["code"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in SweepRun._meta.fields]


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
    """The DPO places and lifts holds here; no sweep touches a held person's data."""

    list_display = ["__str__", "person", "reason", "reference", "since", "until"]
    list_filter = ["reason"]
    search_fields = ["code", "person__email", "reference"]
    raw_id_fields = ["person"]
    list_select_related = ["person"]
    fields = ["person", "reason", "reference", "since", "until", "created_by"]
    readonly_fields = ["created_by"]

    def save_model(self, request: HttpRequest, obj: LegalHold, form: object, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Repermission)
class RepermissionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "person", "asked_at", "sent_at", "answered_yes_at"]
    search_fields = ["code", "person__email"]
    list_select_related = ["person"]
    readonly_fields = ["code", "person", "asked_at", "sent_at", "answered_yes_at"]
