"""Shared fixtures: settings for tests, personas, factories, and the real parts (Chromium).

Personas (STYLE 21): `alice` is a data subject, `bob` the privacy officer (DPO group),
`charlie` a staff member outside it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def _test_settings(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def make_person(db):
    from people.models import Person

    def make(**kwargs) -> Person:
        kwargs.setdefault("email", "alice@example.fr")
        kwargs.setdefault("first_name", "Alice")
        kwargs.setdefault("last_name", "Martin")
        kwargs.setdefault("collected_at", NOW)
        return Person.objects.create(**kwargs)

    return make


@pytest.fixture
def alice(make_person):
    return make_person()


@pytest.fixture
def bob(db, django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        "bob", "bob@okasio.fr", "bob-password-123", is_staff=True
    )
    user.groups.add(Group.objects.get(name="DPO"))
    return user


@pytest.fixture
def charlie(db, django_user_model):
    return django_user_model.objects.create_user(
        "charlie", "charlie@okasio.fr", "charlie-password-123", is_staff=True
    )


# --- Chromium through Playwright (pytest-playwright's fixtures) ---------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        "args": CHROMIUM_ARGS,
    }
