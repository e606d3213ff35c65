"""The DPO's view of what Okasio holds: read-mostly (STYLE 15).

Nothing is deleted from here: erasure is a workflow (Stripe, the opposition list, the audit
log, what the law keeps), so it goes through the rights app, never the delete button.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from .models import (
    Activity,
    ActivityParticipation,
    ContactRequest,
    Person,
    Purchase,
    Review,
    SavedCard,
    StripeEvent,
    TechnicalTrace,
)

PERSON_SEARCH = ["=person__code", "person__email"]


class NoDeleteMixin:
    actions = None

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ReadOnlyMixin(NoDeleteMixin):
    """Records that come from Stripe or from the site itself: nobody edits them by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class PurchaseInline(ReadOnlyMixin, admin.TabularInline):
    model = Purchase
    fields = ["invoice_number", "debited_on", "description", "amount", "card"]
    readonly_fields = fields
    extra = 0
    show_change_link = True

    @admin.display(description=_("amount"))
    def amount(self, purchase: Purchase) -> str:
        return _amount(purchase)

    @admin.display(description=_("card"))
    def card(self, purchase: Purchase) -> str:
        return f"{purchase.card_brand} •••• {purchase.card_last4}" if purchase.card_last4 else "—"


class SavedCardInline(ReadOnlyMixin, admin.TabularInline):
    model = SavedCard
    fields = ["brand", "last4", "exp_month", "exp_year", "consent_given_at"]
    readonly_fields = fields
    extra = 0


class ContactRequestInline(ReadOnlyMixin, admin.TabularInline):
    model = ContactRequest
    fields = ["subject", "created_at", "last_exchange_at"]
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(Person)
class PersonAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = [
        "email",
        "full_name",
        "roles_display",
        "collected_at",
        "last_contact_initiated_at",
    ]
    list_filter = ["is_user", "is_client", "is_prospect"]
    search_fields = ["=code", "email"]
    search_help_text = _("A customer reference or an email address.")
    date_hierarchy = "collected_at"
    readonly_fields = [
        "code",
        "collected_at",
        "last_contact_initiated_at",
        "client_relationship_ended_at",
        "stripe_customer_id",
    ]
    fieldsets = [
        (None, {"fields": ["code", "email", "first_name", "last_name", "company", "photo"]}),
        (_("Contact"), {"fields": ["phone", "street", "postal_code", "city", "country"]}),
        (
            _("Relationship"),
            {
                "fields": [
                    "is_user",
                    "is_client",
                    "is_prospect",
                    "collected_at",
                    "last_contact_initiated_at",
                    "client_relationship_ended_at",
                    "stripe_customer_id",
                ]
            },
        ),
    ]
    inlines = [PurchaseInline, SavedCardInline, ContactRequestInline]

    def has_change_permission(self, request: HttpRequest, obj: Person | None = None) -> bool:
        # GDPR 18(2), B5: a restricted person's data are stored, not edited. Corrections go
        # through a rectification request, whose work the restriction is waiting for.
        if obj is not None and obj.is_restricted:
            return False
        return super().has_change_permission(request, obj)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        person = self.get_object(request, object_id)
        if person is not None and person.is_restricted and request.method == "GET":
            messages.warning(
                request,
                _(
                    "This person's data are restricted (GDPR 18): stored, not used or edited, "
                    "until the restriction is lifted."
                ),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description=_("name"), ordering="last_name")
    def full_name(self, person: Person) -> str:
        return f"{person.first_name} {person.last_name}".strip()

    @admin.display(description=_("roles"))
    def roles_display(self, person: Person) -> str:
        return ", ".join(str(role.label) for role in person.roles)


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["invoice_number", "person", "kind", "amount", "debited_on", "card_evidence"]
    list_filter = ["kind", "is_deferred_debit", "debited_on"]
    search_fields = PERSON_SEARCH
    list_select_related = ["person"]
    raw_id_fields = ["person"]

    @admin.display(description=_("amount"), ordering="amount_cents")
    def amount(self, purchase: Purchase) -> str:
        return _amount(purchase)

    @admin.display(description=_("card evidence"), boolean=True)
    def card_evidence(self, purchase: Purchase) -> bool:
        return bool(purchase.card_last4)


@admin.register(SavedCard)
class SavedCardAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "person", "exp_month", "exp_year", "consent_given_at"]
    search_fields = PERSON_SEARCH
    list_select_related = ["person"]
    raw_id_fields = ["person"]


@admin.register(Review)
class ReviewAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["__str__", "person", "activity", "rating", "created_at"]
    list_filter = ["rating"]
    search_fields = PERSON_SEARCH
    list_select_related = ["person", "activity"]
    raw_id_fields = ["person", "activity"]
    readonly_fields = ["created_at"]


@admin.register(ContactRequest)
class ContactRequestAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["__str__", "person", "subject", "created_at", "last_exchange_at"]
    search_fields = PERSON_SEARCH
    list_select_related = ["person"]
    raw_id_fields = ["person"]
    readonly_fields = ["created_at"]


@admin.register(Activity)
class ActivityAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["title", "organiser", "is_private", "starts_at", "created_at"]
    list_filter = ["is_private"]
    search_fields = ["=organiser__code", "organiser__email"]
    list_select_related = ["organiser"]
    raw_id_fields = ["organiser"]
    readonly_fields = ["created_at"]


@admin.register(ActivityParticipation)
class ActivityParticipationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "person", "activity", "joined_at"]
    search_fields = PERSON_SEARCH
    list_select_related = ["person", "activity"]
    raw_id_fields = ["person", "activity"]


@admin.register(TechnicalTrace)
class TechnicalTraceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "person", "browser", "operating_system", "seen_at"]
    list_filter = ["browser", "operating_system"]
    search_fields = PERSON_SEARCH
    list_select_related = ["person"]
    raw_id_fields = ["person"]


def _amount(purchase: Purchase) -> str:
    return f"{purchase.amount_cents / 100:.2f} {purchase.currency}"


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The webhook events handled, once each: their Stripe id and type, never their content."""

    list_display = ["stripe_event_id", "type", "received_at"]
    list_filter = ["type"]
    search_fields = ["=stripe_event_id"]
    date_hierarchy = "received_at"
