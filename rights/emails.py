"""Rendering the emails to the person: one folder per email under templates/emails/.

Each folder holds `subject.txt`, `body.txt` and `body.html`, written with English msgids and
rendered in the person's language (French by default).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation


def render(template: str, *, context: dict[str, Any], language: str) -> tuple[str, str, str]:
    """Return (subject, text body, HTML body) of `emails/<template>/` in `language`."""
    with translation.override(language):
        context = {**context, "LANGUAGE_CODE": language}
        subject = render_to_string(f"emails/{template}/subject.txt", context)
        text = render_to_string(f"emails/{template}/body.txt", context)
        html = render_to_string(f"emails/{template}/body.html", context)
    # One line, whatever the template's whitespace (a newline would break the header).
    return " ".join(subject.split()), text.strip() + "\n", html


def absolute_url(view_name: str, *, language: str, **kwargs: Any) -> str:
    """An absolute link for an email, in the person's language (French at /, English at /en/)."""
    with translation.override(language):
        return settings.SITE_URL.rstrip("/") + reverse(view_name, kwargs=kwargs)
