"""The DPO's back office for requests (issue 4).

- The queue: what needs work first (confirmed and in progress), soonest due first, the days
  left as a coloured badge; filters and search by reference or email.
- The request page: the request, a summary of what Okasio holds about the address, the
  timeline from the audit log, and the actions. Each action is a small POST form to a
  custom admin URL that calls one service; the model methods behind them set the status,
  write the steps and the audit events, and refuse what the law refuses (ActionRefused).
- The dashboard (A11) and the register of requests as CSV.
- Logging a request that came by email or post (A1).

Read-mostly (STYLE 15): no bulk actions, no deletion, no field edited by hand. Every page
and action beyond the changelist is for the DPO group only (403 for other staff).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from audit.hashing import normalise_email
from audit.models import AuditEvent
from audit.services import record_event
from people import inventory
from people.views import is_dpo
from rights import accountability, deadlines, directives, fulfilment, services
from rights import forms as action_forms
from rights.models import (
    ACTIVE_STATUSES,
    NEEDS_WORK_STATUSES,
    OBJECT_TYPE,
    ActionRefused,
    Channel,
    DataSubjectRequest,
    ErasureLedger,
    Export,
    ObjectionDecision,
    ObjectionTarget,
    OutgoingEmail,
    PostMortemDirective,
    RecipientNotification,
    RequestKind,
    RequestPause,
    RequestStatus,
    RequestStep,
    Restriction,
    RestrictionCase,
    StepKind,
    validate_details,
)


def legal_today() -> date:
    """Today in the legal time zone (Paris): what deadlines are compared with."""
    return deadlines.received_on(timezone.now())


class LogReceivedRequestForm(forms.ModelForm):
    """A request received outside the portal, with the date it reached us."""

    channel = forms.ChoiceField(
        label=_("channel"), choices=[(c.value, c.label) for c in (Channel.EMAIL, Channel.POST)]
    )

    class Meta:
        model = DataSubjectRequest
        fields = [
            "kind",
            "channel",
            "email",
            "name",
            "language",
            "received_at",
            "details",
            "deceased_email",
        ]
        help_texts = {
            "deceased_email": _(
                "Only for a request about someone who died, from the person their post-mortem "
                "directive names (or an heir): the deceased's address. Their records are "
                "searched and acted on; the emails go to the requester."
            ),
            "received_at": _(
                "When the email or letter reached Okasio, Paris time (not now, unless it "
                "arrived now): the legal clock runs from it."
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
        if (
            kind
            and email
            # One waiting for confirmation gives way (services.log_received_request).
            and DataSubjectRequest.objects.active().for_email(email).filter(kind=kind).exists()
        ):
            raise ValidationError(_("This address already has an open request of this kind."))
        if kind and email and cleaned.get("deceased_email"):
            try:
                directives.check_request_about_deceased(
                    kind=kind, requester=email, deceased_email=cleaned["deceased_email"]
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    self.add_error(field, errors)
        return cleaned


class RequestStepInline(admin.TabularInline):
    model = RequestStep
    fields = ["at", "kind", "shown_message"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("message"))
    def shown_message(self, step: RequestStep) -> str:
        if step.kind == StepKind.JOINED and step.message:
            return format_html(
                "<em>{}</em><br>{}",
                _("Sent from the form, not confirmed: anyone who knows the address can send it."),
                linebreaksbr(step.message),
            )
        return step.message


class RequestPauseInline(admin.TabularInline):
    model = RequestPause
    fields = ["reason", "asked_at", "paused_from", "paused_until", "decided_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- The queue's filters --------------------------------------------------------------------


class StatusFilter(admin.SimpleListFilter):
    """Opens on what needs work (confirmed and in progress); every status one click away."""

    title = _("status")
    parameter_name = "status"
    NEEDS_WORK = "todo"
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            (self.NEEDS_WORK, _("Needs work (confirmed, in progress)")),
            *RequestStatus.choices,
            (self.ALL, _("All")),
        ]

    def value(self) -> str:
        return super().value() or self.NEEDS_WORK

    def choices(self, changelist: Any):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value == self.NEEDS_WORK:
            return queryset.filter(status__in=NEEDS_WORK_STATUSES)
        if value in RequestStatus.values:
            return queryset.filter(status=value)
        return queryset


class DeadlineFilter(admin.SimpleListFilter):
    title = _("deadline")
    parameter_name = "deadline"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        days = _due_soon_days()
        return [
            ("overdue", _("Overdue")),
            ("week", _("Due this week")),
            (
                "soon",
                ngettext("Due within %(days)d day", "Due within %(days)d days", days)
                % {"days": days},
            ),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        today = legal_today()
        if self.value() == "overdue":
            return queryset.overdue(today)
        if self.value() == "week":
            sunday = today + timedelta(days=6 - today.weekday())
            return queryset.due_within(today, (sunday - today).days)
        if self.value() == "soon":
            return queryset.due_within(today, _due_soon_days())
        return queryset


class ExtendedFilter(admin.SimpleListFilter):
    title = _("extended")
    parameter_name = "extended"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("Extended")), ("no", _("Not extended"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(extended_at__isnull=self.value() == "no")
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("me", _("Assigned to me")), ("nobody", _("Nobody"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "nobody":
            return queryset.filter(assignee__isnull=True)
        return queryset


def _due_soon_days() -> int:
    return settings.RIGHTS_DUE_SOON_DAYS


# --- The actions on a request -------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One button on the request page: a form, the service it calls, what it says after."""

    label: Any
    form: type[forms.Form]
    run: Callable[..., Any]
    done: Any
    # Statuses in which the action is offered (the model method has the final word).
    statuses: tuple[str, ...] = tuple(ACTIVE_STATUSES)
    danger: bool = False
    # The rights it applies to (all when empty), and whether this request needs it now.
    kinds: tuple[str, ...] = ()
    offered: Callable[[DataSubjectRequest], bool] = lambda dsr: True
    # Shown in the actions list (False: a button elsewhere on the page).
    listed: bool = True

    def applies_to(self, dsr: DataSubjectRequest) -> bool:
        return (not self.kinds or dsr.kind in self.kinds) and dsr.status in self.statuses


def _assign(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    services.assign_request(dsr=dsr, assignee=data["assignee"], by=by, now=now)


def _assign_me(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    services.assign_request(dsr=dsr, assignee=by, by=by, now=now)


def _start(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    services.start_request(dsr=dsr, by=by, now=now)


def _ask(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    services.ask_person(dsr=dsr, by=by, now=now, **data)


def _identity(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    services.record_identity_check(dsr=dsr, method=data["method"], by=by, now=now)


def _extend(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    services.extend_request(dsr=dsr, by=by, now=now, **data)


def _message(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    services.send_message(dsr=dsr, message=data["message"], by=by, now=now)


def _complete(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    services.complete_request(dsr=dsr, by=by, now=now)


def _partial(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    services.partially_complete_request(dsr=dsr, by=by, now=now, **data)


def _refuse(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    services.refuse_request(dsr=dsr, by=by, now=now, **data)


def _prepare_export(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    fulfilment.prepare_export(dsr=dsr, by=by, now=now)


def _rectify(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    fulfilment.rectify(dsr=dsr, by=by, now=now, **data)


def _erase(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    fulfilment.erase(dsr=dsr, by=by, now=now)


def _restrict(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    fulfilment.restrict(dsr=dsr, case=data["case"], by=by, now=now)


def _lift(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    fulfilment.lift_request_restrictions(dsr=dsr, by=by, now=now)


def _stop_marketing(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    fulfilment.stop_marketing(dsr=dsr, by=by, now=now)


def _suspend(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    fulfilment.suspend_objected_processing(dsr=dsr, by=by, now=now)


def _decide(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    fulfilment.decide_objection_request(
        dsr=dsr,
        upheld=data["decision"] == "upheld",
        compelling_grounds=data["compelling_grounds"],
        by=by,
        now=now,
    )


def _notified(*, dsr: DataSubjectRequest, data: dict, by: Any, now: Any) -> None:
    fulfilment.mark_recipient_notified(
        dsr=dsr, notification_id=data["notification"], by=by, now=now
    )


def _objection_target(dsr: DataSubjectRequest) -> str:
    return (dsr.details or {}).get("target", "")


def _not_suspended(dsr: DataSubjectRequest) -> bool:
    return _objection_target(dsr) != ObjectionTarget.MARKETING and not dsr.restrictions.exists()


EVERY_STATUS = tuple(RequestStatus.values)
WORKING = (RequestStatus.OPEN, RequestStatus.IN_PROGRESS)

ACTIONS: dict[str, Action] = {
    "assign-me": Action(_("Assign to me"), action_forms.ConfirmForm, _assign_me, _("Assigned.")),
    "assign": Action(_("Assign"), action_forms.AssignForm, _assign, _("Assigned.")),
    "start": Action(
        _("Start work"),
        action_forms.ConfirmForm,
        _start,
        _("Work started; the person was told."),
        statuses=(RequestStatus.OPEN,),
    ),
    "ask": Action(
        _("Ask the person"),
        action_forms.AskForm,
        _ask,
        _("Question sent to the person."),
        statuses=(RequestStatus.OPEN, RequestStatus.IN_PROGRESS),
    ),
    "identity": Action(
        _("Record the identity check"),
        action_forms.IdentityCheckForm,
        _identity,
        _("Identity check recorded."),
    ),
    "extend": Action(
        _("Extend by two months"),
        action_forms.ExtendForm,
        _extend,
        _("Extended; the person was told the reasons and the new deadline."),
    ),
    "message": Action(_("Send a message"), action_forms.MessageForm, _message, _("Message sent.")),
    # Each right's own work (rights.fulfilment); each answers the request.
    "prepare-export": Action(
        _("Prepare the export"),
        action_forms.ConfirmForm,
        _prepare_export,
        _(
            "The export is being built. When it is ready, the person is emailed a download "
            "link and the request is completed."
        ),
        statuses=WORKING,
        kinds=(RequestKind.ACCESS, RequestKind.PORTABILITY),
    ),
    "rectify": Action(
        _("Apply the corrections"),
        action_forms.RectifyForm,
        _rectify,
        _("Corrections applied; the request is closed and the person was told."),
        kinds=(RequestKind.RECTIFICATION,),
        offered=lambda dsr: bool(fulfilment.rectification_diff(dsr=dsr)),
    ),
    "erase": Action(
        _("Execute the erasure"),
        action_forms.ConfirmForm,
        _erase,
        _("Erasure executed; the person was told what was erased and what is kept."),
        danger=True,
        kinds=(RequestKind.ERASURE,),
    ),
    "restrict": Action(
        _("Restrict the processing"),
        action_forms.RestrictForm,
        _restrict,
        _("The person's data are restricted; the request is completed and the person was told."),
        kinds=(RequestKind.RESTRICTION,),
    ),
    "stop-marketing": Action(
        _("Stop the marketing"),
        action_forms.ConfirmForm,
        _stop_marketing,
        _("Marketing stopped; the request is completed and the person was told."),
        kinds=(RequestKind.OBJECTION,),
        offered=lambda dsr: _objection_target(dsr) == ObjectionTarget.MARKETING,
    ),
    "suspend": Action(
        _("Suspend the processing while we examine the objection"),
        action_forms.ConfirmForm,
        _suspend,
        _("Processing suspended (GDPR 18(1)(d)) while the objection is examined."),
        kinds=(RequestKind.OBJECTION,),
        offered=_not_suspended,
    ),
    "decide": Action(
        _("Decide on the objection"),
        action_forms.DecideObjectionForm,
        _decide,
        _("Objection decided; the person was told."),
        kinds=(RequestKind.OBJECTION,),
        offered=lambda dsr: _objection_target(dsr) != ObjectionTarget.MARKETING,
    ),
    "lift": Action(
        _("Lift the restriction (the person is told first)"),
        action_forms.ConfirmForm,
        _lift,
        _("The person was told, then the restriction was lifted."),
        statuses=EVERY_STATUS,
        danger=True,
        offered=lambda dsr: dsr.restrictions.active().exists(),
    ),
    "notified": Action(
        _("Mark as told"),
        action_forms.NotifiedForm,
        _notified,
        _("Recipient marked as told."),
        statuses=EVERY_STATUS,
        listed=False,
    ),
    # Closing by hand: only what the actions above do not cover (services._require_work_done).
    "complete": Action(
        _("Complete"),
        action_forms.ConfirmForm,
        _complete,
        _("Request completed; the person was told."),
        kinds=(RequestKind.RECTIFICATION,),
        offered=lambda dsr: not fulfilment.work_left(dsr),
    ),
    "partial": Action(
        _("Partially complete"),
        action_forms.OutcomeForm,
        _partial,
        _("Request partially completed; the person was told the reasons and remedies."),
        danger=True,
        kinds=(RequestKind.RECTIFICATION,),
        offered=lambda dsr: not fulfilment.work_left(dsr),
    ),
    "refuse": Action(
        _("Refuse"),
        action_forms.OutcomeForm,
        _refuse,
        _("Request refused; the person was told the reasons and remedies."),
        danger=True,
    ),
}


# --- The request admin --------------------------------------------------------------------


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "kind",
        "received_on",
        "due",
        "status",
        "assignee",
        "marks",
    ]
    list_display_links = ["reference"]
    list_filter = [
        StatusFilter,
        "kind",
        DeadlineFilter,
        ExtendedFilter,
        AssigneeFilter,
        "channel",
    ]
    search_fields = ["email"]
    search_help_text = _("A request reference (from the tracker) or an email address.")
    list_select_related = ["assignee"]
    ordering = ["current_due_on", "received_at"]
    list_per_page = 50
    show_full_result_count = False  # one COUNT fewer on every page of the queue
    actions = None  # no bulk delete, no bulk status change
    inlines = [RequestStepInline, RequestPauseInline]
    change_form_template = "admin/rights/datasubjectrequest/change_form.html"
    change_list_template = "admin/rights/datasubjectrequest/change_list.html"
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
        "current_due_on",
        "paused_since",
        "assignee",
        "identity_doubt_reason",
        "identity_method_asked",
        "identity_checked_at",
        "identity_check_method",
        "outcome_ground",
        "outcome_reasons",
        "outcome_facts",
        "confirmed_at",
        "reminded_at",
        "closed_at",
        "days_taken",
        "logged_by",
    ]

    class Media:
        css = {"all": ["rights/backoffice.css"]}

    # --- The queue

    @admin.display(description=_("reference"), ordering="code")
    def reference(self, dsr: DataSubjectRequest) -> str:
        return format_html('<span title="{}">{}</span>', dsr.code, dsr.reference)

    @admin.display(description=_("deadline"), ordering="current_due_on")
    def due(self, dsr: DataSubjectRequest) -> str:
        date_text = f"{dsr.current_due_on:%Y-%m-%d}"
        if not dsr.is_active:
            return date_text
        if dsr.paused_since:
            return format_html(
                '{} <span class="due-badge due-paused">{}</span>', date_text, gettext("paused")
            )
        left = dsr.days_left(legal_today())
        if left < 0:
            css, text = "overdue", ngettext("%(n)d day late", "%(n)d days late", -left)
        elif left <= _due_soon_days():
            css, text = "soon", ngettext("%(n)d day left", "%(n)d days left", left)
        else:
            css, text = "ok", ngettext("%(n)d day left", "%(n)d days left", left)
        return format_html(
            '{} <span class="due-badge due-{}" data-days="{}">{}</span>',
            date_text,
            css,
            left,
            text % {"n": abs(left)},
        )

    @admin.display(description=_("marks"))
    def marks(self, dsr: DataSubjectRequest) -> str:
        marks = []
        if dsr.is_extended:
            marks.append(format_html('<span class="mark mark-extended">{}</span>', _("extended")))
        if dsr.paused_since:
            marks.append(format_html('<span class="mark mark-paused">{}</span>', _("paused")))
        if dsr.identity_checked_at:
            marks.append(format_html('<span class="mark">{}</span>', _("identity checked")))
        return format_html(" ".join(["{}"] * len(marks)), *marks) if marks else ""

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """A reference (the start of the code, as the tracker shows it) or an address."""
        term = search_term.strip()
        if "@" in term:
            return queryset.filter(email=normalise_email(term)), False
        compact = term.replace("-", "").lower()
        if re.fullmatch(r"[0-9a-f]{4,32}", compact):
            prefix = _uuid_prefix(compact)
            return queryset.filter(Q(code__istartswith=prefix) | Q(email__icontains=term)), False
        return super().get_search_results(request, queryset, search_term)

    # --- Logging a request that came by email or post (A1)

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
            deceased_email=form.cleaned_data.get("deceased_email", ""),
            by=request.user,
            now=timezone.now(),
        )
        # The admin goes on with `obj` (message, redirect): make it the logged request.
        obj.__dict__.update(dsr.__dict__)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # --- The request page: the person's request, what we hold, the timeline, the actions

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        dsr = self.get_object(request, unquote(object_id))
        if dsr is not None and self.has_view_permission(request, dsr):
            extra_context = {**(extra_context or {}), **self._request_page(request, dsr)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _request_page(self, request: HttpRequest, dsr: DataSubjectRequest) -> dict[str, Any]:
        today = legal_today()
        email_codes = [str(code) for code in dsr.emails.values_list("code", flat=True)]
        timeline = (
            AuditEvent.objects.filter(
                Q(object_type=OBJECT_TYPE, object_ref=str(dsr.code))
                | Q(object_type="rights.OutgoingEmail", object_ref__in=email_codes)
            )
            .select_related("actor_user")
            .order_by("id")
        )
        can_act = is_dpo(request.user)
        actions = []
        if can_act:
            for slug, action in ACTIONS.items():
                if not (action.listed and action.applies_to(dsr) and action.offered(dsr)):
                    continue
                form = action.form(
                    prefix=slug,
                    initial=self._initial(slug, dsr, request),
                    **self._form_kwargs(slug, dsr),
                )
                actions.append(
                    {
                        "slug": slug,
                        "action": action,
                        "form": form,
                        "url": _action_url(dsr, slug),
                    }
                )
        return {
            "dsr": dsr,
            "details": action_forms.describe_details(dsr.kind, dsr.details),
            "today": today,
            "days_left": dsr.days_left(today),
            "paused_days": dsr.paused_days,
            "holdings": inventory.holdings_for(dsr.subject_email),
            "directive": directives.directive_for(dsr.subject_email),
            "other_requests": DataSubjectRequest.objects.for_email(dsr.email)
            .exclude(pk=dsr.pk)
            .count(),
            "timeline": timeline,
            "notifications": dsr.recipient_notifications.all(),
            "request_actions": actions,
            "extension_closed": dsr.is_active and not dsr.is_extended and today > dsr.due_on,
            "fulfilment": self._fulfilment(dsr),
            "pending_notifications": dsr.recipient_notifications.pending().count(),
            "notified_url": _action_url(dsr, "notified") if can_act else "",
        }

    def _fulfilment(self, dsr: DataSubjectRequest) -> dict[str, Any]:
        """What the request's right needs, for the page: the export, the corrections, the
        erasure plan, the restriction, the objection."""
        now = timezone.now()
        info: dict[str, Any] = {"kind": dsr.kind}
        if dsr.kind in (RequestKind.ACCESS, RequestKind.PORTABILITY):
            info["exports"] = dsr.exports.order_by("-created_at")
        elif dsr.kind == RequestKind.RECTIFICATION:
            info["changes"] = fulfilment.rectification_diff(dsr=dsr)
        elif dsr.kind == RequestKind.ERASURE:
            info["ledger"] = ErasureLedger.objects.filter(request_code=dsr.code).first()
            person = fulfilment.person_of(dsr)
            if dsr.is_active and person is not None:
                info["plan"] = fulfilment.erasure_plan(person=person, now=now)
                info["legal_hold"] = person.legal_holds.not_ended(now=now).exists()
        elif dsr.kind == RequestKind.RESTRICTION:
            case = fulfilment.requested_restriction_case(dsr)
            info["requested_case"] = RestrictionCase(case).label if case else ""
        elif dsr.kind == RequestKind.OBJECTION:
            target = _objection_target(dsr)
            info["target"] = ObjectionTarget(target).label if target else ""
            info["decision"] = getattr(dsr, "objection_decision", None)
        info["restrictions"] = dsr.restrictions.all()
        return info

    def _form_kwargs(self, slug: str, dsr: DataSubjectRequest) -> dict[str, Any]:
        if slug == "rectify":
            return {"changes": fulfilment.rectification_diff(dsr=dsr)}
        return {}

    def _initial(self, slug: str, dsr: DataSubjectRequest, request: HttpRequest) -> dict:
        if slug == "assign":
            return {"assignee": dsr.assignee_id}
        if slug == "ask":
            return {"pause_clock": True}
        if slug == "restrict":
            return {"case": fulfilment.requested_restriction_case(dsr)}
        return {}

    # --- Custom URLs: actions (POST), the dashboard, the register (DPO only)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path(
                "dashboard/",
                view(self.dashboard_view),
                name="rights_datasubjectrequest_dashboard",
            ),
            path(
                "register.csv",
                view(self.register_view),
                name="rights_datasubjectrequest_register",
            ),
            path(
                "<path:object_id>/act/<slug:action>/",
                view(self.action_view),
                name="rights_datasubjectrequest_action",
            ),
            *super().get_urls(),
        ]

    def _require_dpo(self, request: HttpRequest) -> None:
        if not is_dpo(request.user):
            raise PermissionDenied

    def action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        """One action on one request: validate the small form, call the service, redirect."""
        self._require_dpo(request)
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        spec = ACTIONS.get(action)
        dsr = self.get_object(request, unquote(object_id))
        if spec is None or dsr is None:
            raise Http404
        form = spec.form(request.POST, prefix=action, **self._form_kwargs(action, dsr))
        if not spec.applies_to(dsr):
            messages.error(request, _("This action does not apply to this request."))
        elif not form.is_valid():
            messages.error(request, _("Check the form: %(errors)s") % {"errors": _errors(form)})
        else:
            try:
                spec.run(dsr=dsr, data=form.cleaned_data, by=request.user, now=timezone.now())
            except ActionRefused as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, spec.done)
                _warn_pending_notifications(request, dsr)
        return redirect("admin:rights_datasubjectrequest_change", dsr.pk)

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """Open, due soon, overdue; answered within one and three months; median (A11)."""
        self._require_dpo(request)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Requests: accountability"),
            "opts": self.model._meta,
            "dashboard": accountability.dashboard(today=legal_today()),
        }
        return TemplateResponse(request, "admin/rights/dashboard.html", context)

    def register_view(self, request: HttpRequest) -> HttpResponse:
        """The register of requests, streamed as CSV (A11); the export itself is audited."""
        self._require_dpo(request)
        now = timezone.now()
        record_event(
            action="requests.register_exported",
            actor_type="staff",
            actor_user=request.user,
            now=now,
        )

        class Echo:
            def write(self, value: str) -> str:
                return value

        writer = csv.writer(Echo())
        rows = (writer.writerow(row) for row in accountability.register_rows())
        header = ["\ufeff" + writer.writerow(accountability.REGISTER_COLUMNS)]
        filename = f"okasio-register-of-requests-{now:%Y-%m-%d}.csv"
        return StreamingHttpResponse(
            _chain(header, rows),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


def _action_url(dsr: DataSubjectRequest, slug: str) -> str:
    return reverse("admin:rights_datasubjectrequest_action", args=[dsr.pk, slug])


def _warn_pending_notifications(request: HttpRequest, dsr: DataSubjectRequest) -> None:
    """A closed request whose recipients are not all told yet (GDPR 19; B6): say so."""
    dsr.refresh_from_db(fields=["status"])
    pending = dsr.recipient_notifications.pending().count()
    if pending and not dsr.is_active:
        messages.warning(
            request,
            ngettext(
                "The request is closed, but %(n)d recipient is still to be told of the change "
                "(GDPR 19): mark it as told once done.",
                "The request is closed, but %(n)d recipients are still to be told of the "
                "change (GDPR 19): mark each as told once done.",
                pending,
            )
            % {"n": pending},
        )


def _uuid_prefix(compact: str) -> str:
    """The start of a UUID with its hyphens (PostgreSQL compares the uuid's text form;
    Django drops the hyphens again on databases without a uuid type)."""
    parts, start = [], 0
    for end in (8, 12, 16, 20, 32):
        if start < len(compact):
            parts.append(compact[start:end])
        start = end
    return "-".join(parts)


def _chain(*iterables: Any):
    for iterable in iterables:
        yield from iterable


def _errors(form: forms.Form) -> str:
    return "; ".join(str(message) for errors in form.errors.values() for message in errors)


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


# --- What fulfilment produced: read-only lists for the DPO group ----------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written only by the request's actions: no add, no change, no delete (STYLE 15)."""

    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Export)
class ExportAdmin(ReadOnlyAdmin):
    list_display = ["code", "request", "kind", "size", "created_at", "expires_at", "downloaded_at"]
    list_filter = ["kind"]
    list_select_related = ["request"]
    search_fields = ["=code", "request__email"]
    raw_id_fields = ["request"]
    exclude = ["file_path"]  # never a path to the person's file on screen

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for name in super().get_readonly_fields(request, obj) if name != "file_path"]


@admin.register(ErasureLedger)
class ErasureLedgerAdmin(ReadOnlyAdmin):
    list_display = [
        "request_code",
        "executed_at",
        "last_reapplied_at",
        "final_notice_due_on",
        "final_notice_sent_at",
    ]
    search_fields = ["=request_code", "=subject_hash"]
    date_hierarchy = "executed_at"


@admin.register(Restriction)
class RestrictionAdmin(ReadOnlyAdmin):
    list_display = [
        "code",
        "person",
        "case",
        "request",
        "started_at",
        "lift_notice_at",
        "lifted_at",
    ]
    list_filter = ["case", ("lifted_at", admin.EmptyFieldListFilter)]
    list_select_related = ["person", "request"]
    search_fields = ["=code", "person__email"]
    raw_id_fields = ["person", "request"]


@admin.register(ObjectionDecision)
class ObjectionDecisionAdmin(ReadOnlyAdmin):
    list_display = ["request", "upheld", "decided_at", "decided_by"]
    list_filter = ["upheld"]
    list_select_related = ["request", "decided_by"]
    search_fields = ["request__email"]
    raw_id_fields = ["request"]


class CarriedOutForm(forms.ModelForm):
    class Meta:
        model = PostMortemDirective
        fields = ["carried_out_note"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        try:
            cleaned["carried_out_note"] = directives.checked_note(
                cleaned.get("carried_out_note", "")
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        return cleaned


@admin.register(PostMortemDirective)
class PostMortemDirectiveAdmin(admin.ModelAdmin):
    """Found by the deceased's address (B14). The person writes it in their privacy space;
    the DPO only records how it was carried out, once (rights.directives)."""

    actions = None
    form = CarriedOutForm
    list_display = ["email", "instruction", "executor_name", "changed_at", "carried_out_at"]
    list_filter = ["instruction"]
    search_fields = ["email", "=code"]
    fields = [
        "code",
        "email",
        "instruction",
        "executor_name",
        "executor_email",
        "wishes",
        "recorded_at",
        "changed_at",
        "carried_out_at",
        "carried_out_by",
        "carried_out_note",
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        written_by_the_person = [name for name in self.fields if name != "carried_out_note"]
        if obj is not None and obj.carried_out_at:
            return self.fields
        return written_by_the_person

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if "carried_out_note" in form.changed_data:
            directives.record_carried_out(
                directive=obj,
                note=form.cleaned_data["carried_out_note"],
                by=request.user,
                now=timezone.now(),
            )
