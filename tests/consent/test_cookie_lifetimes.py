"""No cookie the portal sets lives longer than 13 months (C5)."""

from __future__ import annotations

import uuid

from dateutil.relativedelta import relativedelta
from django.conf import settings as django_settings

from consent import banner
from tests.conftest import NOW

THIRTEEN_MONTHS = int((NOW + relativedelta(months=13) - NOW).total_seconds())


def test_it_keeps_every_django_cookie_under_13_months():
    for name in ["SESSION_COOKIE_AGE", "CSRF_COOKIE_AGE", "LANGUAGE_COOKIE_AGE"]:
        age = getattr(django_settings, name)
        assert age is None or age <= THIRTEEN_MONTHS, name


def test_it_keeps_the_consent_cookie_for_the_choice_period_only(settings):
    choice = banner.StoredChoice(browser_id=uuid.uuid4(), version="v", chosen_at=NOW, choices={})
    assert choice.max_age() <= THIRTEEN_MONTHS
    assert banner.MAX_COOKIE_SECONDS <= THIRTEEN_MONTHS
    settings.CONSENT_CHOICE_MONTHS = 6
    assert choice.expires_at() == NOW + relativedelta(months=6)
