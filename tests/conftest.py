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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """In CI every real part exists (PostgreSQL, Redis, Chromium): a skip there would hide a
    test that silently stopped running, so it fails instead."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where it must run: {report.longrepr}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every transactional test (live_server, the real worker, threads) rolls back serialised.

    A plain flush would drop the rows migrations create (the DPO group) and recreate content
    types with new ids, which breaks the tests that follow; serialised rollback restores them.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if (
            {"transactional_db", "live_server", "celery_worker"} & set(item.fixturenames)
            or (marker is not None and marker.kwargs.get("transaction"))
        ) and not (marker is not None and marker.kwargs.get("serialized_rollback")):
            item.add_marker(
                pytest.mark.django_db(transaction=True, serialized_rollback=True), append=False
            )


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
def _no_stored_banner_versions():
    """Each test's database starts without banner texts; so does the process's memory of them
    (consent.services), which a committed test would otherwise carry into the next one."""
    from consent import services

    services.STORED_BANNER_VERSIONS.clear()


@pytest.fixture(autouse=True)
def _default_language(settings):
    """Every test starts in the site's default language (French), whatever the last request
    activated: LocaleMiddleware leaves its language active in the thread after a response."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def in_english():
    """For tests that read messages outside a request (services, inventory) in English."""
    from django.utils import translation

    with translation.override("en"):
        yield


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
def fresh_dpo(db, django_user_model):
    """bob, in a DPO group with its permissions, all made here: for transactional tests (a
    live server, the real worker), where the rows the migrations created are not always
    back after another transactional test (the serialised rollback under Playwright)."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    group, _ = Group.objects.get_or_create(name="DPO")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="rights", codename__startswith="view_")
    )
    user = django_user_model.objects.create_user(
        "bob", "bob@okasio.fr", "bob-password-123", is_staff=True
    )
    user.groups.add(group)
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


# --- people: more factories (STYLE 21: setdefault) ------------------------------------------


@pytest.fixture
def make_purchase(db):
    """A one-off purchase with its invoice and the card used (dispute evidence, C10)."""
    from people.models import Purchase, PurchaseKind

    counter = iter(range(1, 1_000_000))

    def make(**kwargs) -> Purchase:
        n = next(counter)
        kwargs.setdefault("stripe_charge_id", f"ch_test{n:06d}")
        kwargs.setdefault("kind", PurchaseKind.ONE_OFF)
        kwargs.setdefault("description", "Escape game")
        kwargs.setdefault("amount_cents", 2500)
        kwargs.setdefault("debited_on", NOW.date())
        kwargs.setdefault("invoice_number", f"F-TEST-{n:06d}")
        kwargs.setdefault("invoiced_on", kwargs["debited_on"])
        kwargs.setdefault("billing_name", "Alice Martin")
        kwargs.setdefault("card_brand", "visa")
        kwargs.setdefault("card_last4", "4242")
        kwargs.setdefault("card_exp_month", 4)
        kwargs.setdefault("card_exp_year", NOW.year + 2)
        return Purchase.objects.create(**kwargs)

    return make


# --- Staff in the admin: password + TOTP --------------------------------------------------


@pytest.fixture
def make_totp_device(db):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def make(user) -> TOTPDevice:
        return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)

    return make


@pytest.fixture
def staff_client(client, make_totp_device):
    """Return a function logging a staff user in with a verified second factor."""
    from django_otp import DEVICE_ID_SESSION_KEY

    def login(user):
        device = make_totp_device(user)
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return login


@pytest.fixture
def admin_client(staff_client, admin_user):
    """pytest-django's admin_client, with its second factor verified like every staff login."""
    return staff_client(admin_user)


# --- Stripe: the real stripe-python client against localstripe on 127.0.0.1 ----------------


@pytest.fixture(scope="session")
def stripe_server():
    """Start `localstripe` once per session on a free loopback port; yield its base URL."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    executable = Path(sys.executable).with_name("localstripe")
    server = subprocess.Popen(
        [str(executable), "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/v1/customers", timeout=1)
                break
            except OSError as error:
                if getattr(error, "code", None):  # an HTTP error: it answers
                    break
                time.sleep(0.1)
        else:
            pytest.fail("localstripe did not start")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def stripe_api(stripe_server, settings):
    """Point people/stripe.py at localstripe; return its configured client."""
    settings.STRIPE_API_BASE = stripe_server
    settings.STRIPE_SECRET_KEY = "sk_test_okasio"
    from people import stripe as people_stripe

    return people_stripe.client()


@pytest.fixture
def attached_method(stripe_api, alice) -> str:
    """A card attached at Stripe (localstripe) to Alice's customer, not kept yet; its id."""
    customer = stripe_api.v1.customers.create(params={"email": alice.email})
    method = stripe_api.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4242424242424242", "exp_month": 4, "exp_year": 2030, "cvc": "123"},
        }
    )
    stripe_api.v1.payment_methods.attach(method.id, params={"customer": customer.id})
    assert stripe_api.v1.payment_methods.retrieve(method.id).customer == customer.id
    return method.id
