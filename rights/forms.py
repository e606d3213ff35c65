"""The person's forms: one per right, on a common base. They validate; services act (STYLE 11).

No "reason" field (REQUIREMENTS A1) and no identity document (A5): the emailed link is the
identity check.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from audit.hashing import normalise_email
from people.models import Person
from rights.models import (
    COPY_NEEDS_AN_ADDRESS,
    DETAILS_MAX_LENGTH,
    PROPOSED_MAX_LENGTH,
    RECTIFIABLE_FIELDS,
    DirectiveInstruction,
    ErasureScope,
    ExtensionReason,
    IdentityMethod,
    ObjectionTarget,
    OutcomeGround,
    PauseReason,
    RequestKind,
    RestrictionCase,
    validate_details,
)

# The email columns' length (Django's EmailField default, RFC 5321's path limit).
EMAIL_MAX_LENGTH = 254


def stored_address(email: str) -> str | None:
    """An address as we store it (normalised), or None when it no longer fits our columns
    once normalised (lower-casing can lengthen some characters). The forms and the API."""
    email = normalise_email(email)
    return email if len(email) <= EMAIL_MAX_LENGTH else None


class AddressField(forms.EmailField):
    """An email address field whose value is `stored_address`'s."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=EMAIL_MAX_LENGTH, **kwargs)

    def clean(self, value: Any) -> str:
        email = super().clean(value)
        if not email:
            return email
        stored = stored_address(email)
        if stored is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return stored


def _textarea(label: str, *, required: bool = True, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        max_length=DETAILS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class RequestForm(forms.Form):
    """What every request needs: who to answer, and in which language."""

    kind: RequestKind
    detail_fields: tuple[str, ...] = ()

    email = AddressField(
        label=_("Your email address"),
        help_text=_("We send you a link to confirm the request, then our answer."),
    )
    name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        required=False,
        help_text=_("Optional: it helps us find your records."),
    )
    language = forms.ChoiceField(label=_("Language of our answers"), choices=settings.LANGUAGES)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = (get_language() or settings.LANGUAGE_CODE)[:2]
        if current in dict(settings.LANGUAGES):
            self.fields["language"].initial = current

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            try:
                cleaned["details"] = validate_details(self.kind, self.raw_details(cleaned))
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned

    def raw_details(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        """The right-specific answers before validation."""
        return {f: cleaned.get(f, "") for f in self.detail_fields}

    @property
    def details(self) -> dict[str, Any]:
        """The right-specific answers, as stored in DataSubjectRequest.details."""
        return self.cleaned_data["details"]


class AccessForm(RequestForm):
    kind = RequestKind.ACCESS


class PortabilityForm(RequestForm):
    kind = RequestKind.PORTABILITY


class RectificationForm(RequestForm):
    kind = RequestKind.RECTIFICATION
    detail_fields = ("what_is_wrong", "correction")

    what_is_wrong = _textarea(_("What is wrong or incomplete"), required=False)
    correction = _textarea(_("What it should say"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Optional corrections of the contact record, field by field, labelled as the
        # record is (the inventory's labels); the free text above covers anything else.
        for name in RECTIFIABLE_FIELDS:
            self.fields[f"new_{name}"] = forms.CharField(
                label=capfirst(Person._meta.get_field(name).verbose_name),
                required=False,
                max_length=PROPOSED_MAX_LENGTH,
                help_text=_("Optional: the correct value, if this is what is wrong.")
                if name == RECTIFIABLE_FIELDS[0]
                else "",
            )

    def raw_details(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        proposed = {name: cleaned.get(f"new_{name}", "") for name in RECTIFIABLE_FIELDS}
        return {**super().raw_details(cleaned), "proposed": proposed}


class ErasureForm(RequestForm):
    kind = RequestKind.ERASURE
    detail_fields = ("scope", "part")

    scope = forms.ChoiceField(
        label=_("What should we delete?"),
        choices=ErasureScope.choices,
        widget=forms.RadioSelect,
        initial=ErasureScope.EVERYTHING,
    )
    part = _textarea(
        _("Which part"), required=False, help_text=_("Only if you chose part of your data.")
    )


class RestrictionForm(RequestForm):
    kind = RequestKind.RESTRICTION
    detail_fields = ("case", "explanation")

    case = forms.ChoiceField(
        label=_("Your situation (GDPR Art. 18(1))"),
        choices=RestrictionCase.choices,
        widget=forms.RadioSelect,
    )
    explanation = _textarea(_("Anything that helps us (optional)"), required=False)


class ObjectionForm(RequestForm):
    kind = RequestKind.OBJECTION
    detail_fields = ("target", "grounds")

    target = forms.ChoiceField(
        label=_("What do you object to?"),
        choices=ObjectionTarget.choices,
        widget=forms.RadioSelect,
        initial=ObjectionTarget.MARKETING,
    )
    grounds = _textarea(
        _("Your particular situation"),
        required=False,
        help_text=_("Only for uses other than marketing (GDPR Art. 21(1))."),
    )


FORMS: dict[str, type[RequestForm]] = {
    form.kind: form
    for form in (
        AccessForm,
        RectificationForm,
        ErasureForm,
        RestrictionForm,
        PortabilityForm,
        ObjectionForm,
    )
}


def describe_details(kind: str, details: dict[str, Any]) -> list[tuple[str, str]]:
    """The person's answers as their form asked them, for the DPO's page: (question,
    answer) pairs, choices by their label, proposed corrections by the record's labels."""
    form = FORMS[kind]()
    described = []
    for name in form.detail_fields:
        if details.get(name):
            field = form.fields[name]
            answer = dict(getattr(field, "choices", ())).get(details[name], details[name])
            described.append((str(field.label), str(answer)))
    for name, value in details.get("proposed", {}).items():
        field = form.fields[f"new_{name}"]
        described.append((gettext("%(field)s (proposed)") % {"field": field.label}, value))
    return described


class DirectiveForm(forms.Form):
    """A post-mortem directive, in the privacy space (LIL art. 85; B14)."""

    instruction = forms.ChoiceField(
        label=_("After my death, what should Okasio do with my data?"),
        choices=DirectiveInstruction.choices,
        widget=forms.RadioSelect,
    )
    executor_name = forms.CharField(
        label=_("Person I name to carry this out (optional)"),
        max_length=200,
        required=False,
        help_text=_("If you name nobody, your heirs can ask us."),
    )
    executor_email = AddressField(
        label=_("Their email address"),
        required=False,
        help_text=_("Needed if they are to receive a copy of your data."),
    )
    wishes = _textarea(_("Anything more precise (optional)"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("instruction") == DirectiveInstruction.COMMUNICATE and not cleaned.get(
            "executor_email"
        ):
            self.add_error("executor_email", COPY_NEEDS_AN_ADDRESS)
        return cleaned


class SignInForm(forms.Form):
    email = AddressField(label=_("Your email address"))


class AnswerForm(forms.Form):
    """The person's answer to our question, from their tracker (REQUIREMENTS A6)."""

    answer = _textarea(_("Your answer"))


# --- The DPO's actions on a request (rights/admin.py). The rules (one extension, reasons
# required, a pause only without undue delay...) live in the model methods, which refuse
# with a clear message; these forms only shape the input. ------------------------------


def _optional_choice(label: str, choices: Any, **kwargs: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=[("", "---------"), *choices], required=False, **kwargs
    )


def _optional_text(label: str, *, help_text: str = "") -> forms.CharField:
    return _textarea(label, required=False, help_text=help_text)


class ConfirmForm(forms.Form):
    """Actions without input (start, complete, assign to me)."""


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assign to"), queryset=None, required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from people.dpo_permissions import dpo_members

        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = dpo_members().order_by("username")


class AskForm(forms.Form):
    reason = forms.ChoiceField(label=_("What we need"), choices=PauseReason.choices)
    message = _optional_text(_("Question to the person"))
    pause_clock = forms.BooleanField(
        label=_("Pause the clock until the person answers"),
        required=False,
        initial=True,
        help_text=_("Allowed only if we ask without undue delay after receipt (EDPB § 159)."),
    )
    doubt_reason = _optional_text(
        _("Reason for a reasonable doubt about the identity"),
        help_text=_("Required to ask for proof of identity (GDPR 12(6))."),
    )
    identity_method = _optional_choice(
        _("Method, least intrusive first"),
        IdentityMethod.choices,
        help_text=_("Never a full ID document: a redacted one, and only if the others fail."),
    )


class IdentityCheckForm(forms.Form):
    method = _optional_choice(_("Identity checked by"), IdentityMethod.choices)


class ExtendForm(forms.Form):
    reason = _optional_choice(_("Reason"), ExtensionReason.choices)
    justification = _optional_text(
        _("Justification, sent to the person"),
        help_text=_("Why this request needs more time. The new deadline is set by law."),
    )


class MessageForm(forms.Form):
    message = _optional_text(_("Message to the person"))


class OutcomeForm(forms.Form):
    ground = _optional_choice(_("Ground"), OutcomeGround.choices)
    reasons = _optional_text(_("Reasons, sent to the person"))
    facts = _optional_text(
        _("Documented facts"),
        help_text=_("Required for a manifestly unfounded or excessive request (GDPR 12(5))."),
    )


# --- The right-specific actions (rights.fulfilment, "The request page") -----------------


class RectifyForm(forms.Form):
    """One checkbox per proposed correction (all ticked): untick to reject one, with reasons."""

    accepted = forms.MultipleChoiceField(
        label=_("Corrections to apply"),
        choices=[(name, name) for name in RECTIFIABLE_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    ground = _optional_choice(
        _("Ground for the corrections rejected"),
        OutcomeGround.choices,
        help_text=_("Required when you reject a correction."),
    )
    reasons = _optional_text(
        _("Reasons for the corrections rejected, sent to the person"),
        help_text=_("Required when you reject a correction (GDPR 12(4))."),
    )

    def __init__(self, *args: Any, changes: list | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if changes is not None:
            self.fields["accepted"].choices = [
                (c.field, f"{c.label}: {c.current or '—'} → {c.proposed}") for c in changes
            ]
            self.fields["accepted"].initial = [c.field for c in changes]


class RestrictForm(forms.Form):
    case = _optional_choice(_("Case of GDPR 18(1)"), RestrictionCase.choices)


class DecideObjectionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("upheld", _("Uphold the objection")), ("refused", _("Refuse the objection"))],
        widget=forms.RadioSelect,
    )
    compelling_grounds = _optional_text(
        _("Compelling legitimate grounds, sent to the person"),
        help_text=_(
            "Required to refuse: the grounds that override the person's interests, rights "
            "and freedoms, or the legal claims (GDPR 21(1)). The burden of proof is ours."
        ),
    )


class NotifiedForm(forms.Form):
    notification = forms.IntegerField(widget=forms.HiddenInput)
