"""The cookie banner: its purposes, third parties and texts, its version, its cookie.

The version is derived, never maintained by hand: the SHA-256 of the banner's content (purposes,
third parties, every text, in every language). Change a purpose, a third party or a word and
the version changes, so everyone is asked again (REQUIREMENTS C3, C5) and the new text is
stored as proof (C4).

The choice cookie, written by banner.js on whichever site shows the banner, holds
`1.<browser id>.<version>.<chosen at, epoch seconds>.<one bit per purpose>`. Nothing in it
is secret: it is the visitor's own choice, proved on our side by the consent records.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .models import COOKIE_PURPOSES, Purpose

COOKIE_NAME = "okasio_consent"
COOKIE_FORMAT = "1"

# The longest a tracker the portal places may live, set once, never extended (C5, C6).
# 13 months counted short (30-day months), so no calendar makes it longer (C5, C6).
MAX_COOKIE_MONTHS = 13
MAX_COOKIE_SECONDS = MAX_COOKIE_MONTHS * 30 * 24 * 60 * 60


@dataclass(frozen=True)
class ThirdParty:
    name: str
    country: str
    transfer: str
    cookies: str


@dataclass(frozen=True)
class CookiePurpose:
    purpose: Purpose
    description: str
    third_parties: tuple[ThirdParty, ...]


GOOGLE_ANALYTICS = ThirdParty(
    name="Google LLC (Google Analytics)",
    country=_("United States"),
    transfer=_("EU adequacy decision (EU-US Data Privacy Framework)"),
    cookies=_("_ga and _ga_<id>, 13 months at most, not extended on later visits"),
)

# Charter section 15 names three purposes (C3). It names no advertising or social-network
# partner: none is loaded, and the banner says so. Adding one here changes the version.
COOKIE_PURPOSE_DEFINITIONS: tuple[CookiePurpose, ...] = (
    CookiePurpose(
        Purpose.AUDIENCE,
        _("Count visits and see which pages are read, to improve the site."),
        (GOOGLE_ANALYTICS,),
    ),
    CookiePurpose(
        Purpose.ADVERTISING,
        _("Show you advertising for our activities on other sites."),
        (),
    ),
    CookiePurpose(
        Purpose.SOCIAL,
        _("Let you share our pages on social networks."),
        (),
    ),
)
assert tuple(p.purpose for p in COOKIE_PURPOSE_DEFINITIONS) == COOKIE_PURPOSES

TEXTS = {
    "title": _("Cookies on Okasio"),
    "intro": _(
        "With your consent, we and the partners listed below use cookies for audience "
        "measurement, advertising and social networks. Refusing has no effect on your use "
        "of the site. Your choice is kept for %(months)d months; you can change it at any "
        "time with the “Cookies” link at the bottom of every page."
    ),
    "accept_all": _("Accept all"),
    "refuse_all": _("Refuse all"),
    "customise": _("Customise"),
    "save": _("Save my choices"),
    "third_parties": _("Third parties:"),
    "no_third_party": _("None at present: nothing is loaded for this purpose."),
    "policy": _("Privacy policy"),
    "on": _("On"),
    "off": _("Off"),
}


def choice_months() -> int:
    return settings.CONSENT_CHOICE_MONTHS


def snapshot(language: str) -> dict[str, Any]:
    """Return everything the banner shows, in one language, as plain JSON data."""
    return _snapshot(language, choice_months())


@lru_cache(maxsize=16)
def _snapshot(language: str, months: int) -> dict[str, Any]:
    with translation.override(language):
        texts = {key: str(text) for key, text in TEXTS.items()}
        texts["intro"] = texts["intro"] % {"months": months}
        return {
            "language": language,
            "texts": texts,
            "policy_url": reverse("consent:policy") + "#cookies",
            "purposes": [
                {
                    "key": p.purpose.value,
                    "label": str(p.purpose.label),
                    "description": str(p.description),
                    "third_parties": [
                        {
                            "name": str(t.name),
                            "country": str(t.country),
                            "transfer": str(t.transfer),
                            "cookies": str(t.cookies),
                        }
                        for t in p.third_parties
                    ],
                }
                for p in COOKIE_PURPOSE_DEFINITIONS
            ],
        }


def snapshot_json(language: str) -> str:
    """The banner in one language, as JSON text (what the API sends every visitor)."""
    return _snapshot_json(language, choice_months())


@lru_cache(maxsize=16)
def _snapshot_json(language: str, months: int) -> str:
    return json.dumps(_snapshot(language, months), ensure_ascii=False)


def full_snapshot() -> dict[str, Any]:
    """The banner in every language: what a version stands for (C4)."""
    return {code: snapshot(code) for code, _name in settings.LANGUAGES}


def version() -> str:
    return _version(choice_months())


@lru_cache(maxsize=4)
def _version(months: int) -> str:
    return content_hash(full_snapshot())


def content_hash(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- The choice cookie ------------------------------------------------------------------


@dataclass(frozen=True)
class StoredChoice:
    browser_id: uuid.UUID
    version: str
    chosen_at: datetime
    choices: dict[str, bool]

    def expires_at(self) -> datetime:
        return self.chosen_at + relativedelta(months=choice_months())

    def is_current(self, *, now: datetime) -> bool:
        """Whether the choice still holds: same banner version, less than 6 months old (C5)."""
        return self.version == version() and self.chosen_at <= now < self.expires_at()

    def cookie_value(self) -> str:
        bits = "".join("1" if self.choices.get(p.value) else "0" for p in COOKIE_PURPOSES)
        stamp = int(self.chosen_at.timestamp())
        return f"{COOKIE_FORMAT}.{self.browser_id.hex}.{self.version}.{stamp}.{bits}"

    def max_age(self) -> int:
        """Seconds the cookie lives: CONSENT_CHOICE_MONTHS from the choice (C5)."""
        return int((self.expires_at() - self.chosen_at).total_seconds())


def parse_cookie(value: str | None) -> StoredChoice | None:
    """Return the choice a cookie holds, or None for a missing or malformed cookie."""
    if not value:
        return None
    parts = value.split(".")
    if len(parts) != 5 or parts[0] != COOKIE_FORMAT or len(parts[4]) != len(COOKIE_PURPOSES):
        return None
    try:
        browser_id = uuid.UUID(hex=parts[1])
        chosen_at = datetime.fromtimestamp(int(parts[3]), tz=UTC)
    except (ValueError, OverflowError):
        return None
    if set(parts[4]) - {"0", "1"}:
        return None
    choices = {p.value: bit == "1" for p, bit in zip(COOKIE_PURPOSES, parts[4], strict=True)}
    return StoredChoice(browser_id, parts[2], chosen_at, choices)
