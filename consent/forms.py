"""Validation of what comes in from outside the portal's pages: a prospect list's rows."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rights.forms import AddressField


class ProspectRowForm(forms.Form):
    """One row of `manage.py import_prospects`: normalised, never acted on here."""

    email = AddressField()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    company = forms.CharField(max_length=200, required=False)
    phone = forms.CharField(max_length=40, required=False)
    collected_at = forms.DateTimeField(required=False)
    # Where the list came from (a fair, a partner): a label, counted in the report.
    source = forms.CharField(
        max_length=50,
        required=False,
        validators=[RegexValidator(r"^[\w .:/-]*$", _("Letters, digits, spaces and .:/- only."))],
    )

    def clean_collected_at(self) -> datetime | None:
        collected_at = self.cleaned_data["collected_at"]
        if collected_at is not None and collected_at > timezone.now():
            raise forms.ValidationError(_("This date is in the future."))
        return collected_at
