from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit.hashing import subject_hash
from audit.models import ActorType, AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The log, read-only: nobody adds, changes or deletes events here, superusers included."""

    list_display = ["at", "actor", "action", "object_label", "short_subject_hash"]
    list_filter = ["action", "actor_type"]
    # The DPO may also type a person's email: it is hashed, never stored (get_search_results).
    search_fields = ["object_ref", "=subject_hash"]
    search_help_text = _("An object reference, a subject hash, or a person's email address.")
    list_select_related = ["actor_user"]
    actions = None
    fields = [
        "at",
        "actor_type",
        "actor_user",
        "action",
        "object_type",
        "object_ref",
        "details",
        "subject_hash",
        "prev_hash",
        "hash",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        if "@" in search_term:
            return queryset.filter(subject_hash=subject_hash(search_term)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("actor"), ordering="actor_type")
    def actor(self, event: AuditEvent) -> str:
        if event.actor_type == ActorType.STAFF and event.actor_user is not None:
            return event.actor_user.get_username()
        return event.get_actor_type_display()

    @admin.display(description=_("object"))
    def object_label(self, event: AuditEvent) -> str:
        return f"{event.object_type} {event.object_ref}".strip() or "-"

    @admin.display(description=_("subject"))
    def short_subject_hash(self, event: AuditEvent) -> str:
        return event.subject_hash[:12] or "-"
