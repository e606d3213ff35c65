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


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Let test flushes TRUNCATE the audit log, in the test database only.

    The audit log refuses TRUNCATE (audit migration 0002); `transactional_db` tests
    (live_server, the real worker) end with a flush that needs it.
    """
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_truncate"
            )


@pytest.fixture(autouse=True)
def _test_settings(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _tasks_in_process():
    """Tasks run in-process unless a test asks for the real worker (`celery_worker`).

    Most tests assert on captured on-commit callbacks (STYLE 22); this only keeps stray
    messages out of the shared Redis queue.
    """
    from okasio_privacy.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager


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


# --- A real Celery worker over the private Redis -------------------------------------------


@pytest.fixture
def celery_worker(transactional_db, settings):
    """Start a real `celery worker` process against the test database and the test Redis.

    Yields the Celery app, configured to send through Redis (not eagerly). Needs REDIS_URL,
    which `make test` sets to its private Redis.
    """
    import subprocess
    import sys

    from django.db import connection

    from okasio_privacy.celery import app

    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.fail("REDIS_URL is not set: run the suite through `make test`")
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        if connection.vendor == "postgresql"
        else f"sqlite:///{db['NAME']}"
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "okasio_privacy", "worker", "--pool", "solo"]
        + ["--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        env={**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url},
    )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield app
    finally:
        app.conf.task_always_eager = eager
        worker.terminate()
        worker.wait(timeout=30)
