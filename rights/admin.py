"""The back office for requests, simple for now: list, search, read; and log a request that
came by email or post (REQUIREMENTS A1). Status changes never happen here by hand.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rights import services
from rights.models import (
    Channel,
    DataSubjectRequest,
    OutgoingEmail,
    RecipientNotification,
    RequestPause,
    RequestStep,
    validate_details,
)


class LogReceivedRequestForm(forms.ModelForm):
    """A request received outside the portal, with the date it reached us."""

    channel = forms.ChoiceField(
        label=_("channel"), choices=[(c.value, c.label) for c in (Channel.EMAIL, Channel.POST)]
    )

    class Meta:
        model = DataSubjectRequest
        fields = ["kind", "channel", "email", "name", "language", "received_at", "details"]
        help_texts = {
            "received_at": _(
                "When the email or letter reached Okasio (not now, unless it arrived now): "
                "the legal clock runs from it."
            ),
            "details": _("Optional: what the person asked, in the shape of the portal form."),
        }

    def clean_received_at(self) -> Any:
        received_at = self.cleaned_data["received_at"]
        if received_at and received_at > timezone.now():
            raise ValidationError(_("The receipt date cannot be in the future."))
        return received_at

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        kind, email = cleaned.get("kind"), cleaned.get("email")
        if kind:
            try:
                cleaned["details"] = validate_details(
                    kind, cleaned.get("details") or {}, complete=False
                )
            except ValidationError as exc:
                self.add_error("details", exc.messages)
        if kind and email and DataSubjectRequest.objects.open().for_email(email).filter(kind=kind):
            raise ValidationError(_("This address already has an open request of this kind."))
        return cleaned


class RequestStepInline(admin.TabularInline):
    model = RequestStep
    fields = ["at", "kind", "message"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RequestPauseInline(admin.TabularInline):
    model = RequestPause
    fields = ["reason", "asked_at", "paused_from", "paused_until", "decided_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "status", "channel", "received_on", "deadline"]
    list_filter = ["kind", "status", "channel"]
    search_fields = ["=code", "email"]
    search_help_text = _("A request code, or an email address.")
    list_select_related = ["logged_by"]
    date_hierarchy = "received_at"
    actions = None  # no bulk delete, no bulk status change
    inlines = [RequestStepInline, RequestPauseInline]
    readonly_fields = [
        "code",
        "kind",
        "status",
        "channel",
        "email",
        "name",
        "language",
        "details",
        "received_at",
        "received_on",
        "raw_due_on",
        "due_on",
        "extended_at",
        "extension_reason",
        "extension_justification",
        "extended_due_on",
        "confirmed_at",
        "reminded_at",
        "closed_at",
        "logged_by",
    ]

    @admin.display(description=_("deadline"), ordering="due_on")
    def deadline(self, dsr: DataSubjectRequest) -> Any:
        return dsr.current_due_on

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        if obj is None:
            kwargs["form"] = LogReceivedRequestForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return self.readonly_fields if obj is not None else LogReceivedRequestForm.Meta.fields

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list:
        return self.inlines if obj is not None else []

    def save_model(self, request: HttpRequest, obj: DataSubjectRequest, form: Any, change: bool):
        if change:
            return  # read-mostly: changes go through the request's own actions
        dsr = services.log_received_request(
            kind=form.cleaned_data["kind"],
            email=form.cleaned_data["email"],
            name=form.cleaned_data.get("name", ""),
            language=form.cleaned_data["language"],
            channel=form.cleaned_data["channel"],
            received_at=form.cleaned_data["received_at"],
            details=form.cleaned_data.get("details") or {},
            by=request.user,
            now=timezone.now(),
        )
        # The admin goes on with `obj` (message, redirect): make it the logged request.
        obj.__dict__.update(dsr.__dict__)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """The outbox, to see what is stuck. Bodies are not shown: they hold single-use links."""

    list_display = ["code", "template", "language", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "template"]
    search_fields = ["=code", "to"]
    actions = None
    fields = ["code", "request", "template", "to", "language", "status", "attempts"]
    fields += ["created_at", "sent_at"]
    readonly_fields = fields
    raw_id_fields = ["request"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RecipientNotification)
class RecipientNotificationAdmin(admin.ModelAdmin):
    """Who must be told of a rectification, erasure or restriction (GDPR 19), and whether
    they were. The Stripe ones are sent by a task that retries while Stripe is unreachable:
    until it succeeds, the request is waiting on Stripe, with the last error shown here.
    """

    list_display = ["request", "recipient", "status", "delivery", "attempts", "notified_at"]
    list_filter = ["status", "recipient"]
    search_fields = ["=request__code"]
    list_select_related = ["request"]
    actions = None
    fields = ["request", "recipient", "fields", "status", "created_at", "notified_at"]
    fields += ["attempts", "last_attempt_at", "last_error"]
    readonly_fields = fields
    raw_id_fields = ["request"]

    @admin.display(description=_("delivery"))
    def delivery(self, notification: RecipientNotification) -> str:
        if notification.is_waiting:
            return _("Waiting on %(recipient)s (%(attempts)s attempts so far): %(error)s") % {
                "recipient": notification.recipient,
                "attempts": notification.attempts,
                "error": notification.last_error,
            }
        return ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
