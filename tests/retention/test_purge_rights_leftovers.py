"""What the rights app leaves behind: sent emails, sign-in links, expired exports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from people import stripe as people_stripe
from retention.sweeps import purge_exports, purge_sent_emails, purge_sign_in_links
from rights import exports, services
from rights.models import EmailStatus, Export, OutgoingEmail, SecretLink
from tests.conftest import NOW

# --- sent_emails: RIGHTS_SENT_EMAIL_RETENTION_DAYS (30) after sending ----------------------


def _sent(make_dsr, count=1, prefix="s"):
    for i in range(count):
        make_dsr(email=f"{prefix}{i}@example.fr")
    services.relay_pending_emails(now=NOW)


def test_it_deletes_a_sent_email_a_day_after_its_period(make_dsr):
    _sent(make_dsr)

    assert purge_sent_emails(now=NOW + timedelta(days=29)).affected == 0
    result = purge_sent_emails(now=NOW + timedelta(days=31))

    assert result.details == {"deleted": 1}
    assert not OutgoingEmail.objects.exists()


def test_it_deletes_failed_emails_by_their_queue_date_and_keeps_pending_ones(make_dsr):
    make_dsr(email="failed@example.fr")
    make_dsr(email="pending@example.fr")
    OutgoingEmail.objects.filter(to="failed@example.fr").update(status=EmailStatus.FAILED)

    purge_sent_emails(now=NOW + timedelta(days=31))

    assert list(OutgoingEmail.objects.values_list("to", flat=True)) == ["pending@example.fr"]


def test_it_keeps_the_emails_of_a_held_address(make_dsr, make_person, make_hold):
    _sent(make_dsr)
    make_hold(make_person(email="s0@example.fr"))
    result = purge_sent_emails(now=NOW + timedelta(days=31))
    assert (result.held, result.affected) == (1, 0)


def test_it_counts_sent_emails_without_deleting_them_in_a_dry_run(make_dsr):
    _sent(make_dsr, 2)
    assert purge_sent_emails(now=NOW + timedelta(days=31), dry_run=True).affected == 2
    assert OutgoingEmail.objects.count() == 2


def test_it_deletes_emails_with_no_query_per_row(make_dsr):
    counts = []
    for size, prefix in [(2, "small"), (8, "large")]:
        _sent(make_dsr, size, prefix)
        with CaptureQueriesContext(connection) as queries:
            assert purge_sent_emails(now=NOW + timedelta(days=31)).affected == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- sign_in_links: at their expiry (RIGHTS_SIGN_IN_LINK_MINUTES) ---------------------------


def test_it_deletes_sign_in_links_once_expired(db):
    services.request_sign_in_link(email="alice@example.fr", language="fr", now=NOW)
    expiry = NOW + timedelta(minutes=30)

    assert purge_sign_in_links(now=expiry - timedelta(minutes=1)).affected == 0
    assert purge_sign_in_links(now=expiry + timedelta(minutes=1)).affected == 1
    assert not SecretLink.objects.exists()


def test_it_keeps_the_sign_in_links_of_a_held_address(make_person, make_hold):
    make_hold(make_person(email="alice@example.fr"))
    services.request_sign_in_link(email="alice@example.fr", language="fr", now=NOW)
    result = purge_sign_in_links(now=NOW + timedelta(days=1))
    assert (result.held, result.affected) == (1, 0)


def test_it_deletes_sign_in_links_with_no_query_per_row(db):
    counts = []
    for size in (2, 8):
        for i in range(size):
            services.request_sign_in_link(email=f"{size}-{i}@example.fr", language="fr", now=NOW)
        with CaptureQueriesContext(connection) as queries:
            assert purge_sign_in_links(now=NOW + timedelta(days=1)).affected == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- exports: file and row, when the link expires (RIGHTS_EXPORT_LINK_DAYS) -----------------


@pytest.fixture
def holdings(holdings, settings, tmp_path, monkeypatch):
    """Alice's data, exports in a private media root, Stripe knowing no one."""
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(people_stripe, "customer_data", lambda customer_id: None)
    return holdings


def test_it_deletes_an_export_file_and_row_once_expired(holdings, make_dsr):
    dsr = make_dsr(confirm=True)
    export = exports.build_export(dsr=dsr, now=NOW)
    path = exports.export_path(export)

    assert purge_exports(now=NOW + timedelta(days=6)).affected == 0
    assert path.exists()
    result = purge_exports(now=NOW + timedelta(days=8))

    assert result.details == {"deleted": 1}
    assert not path.exists() and not Export.objects.exists()
    event = AuditEvent.objects.get(action="export.deleted")
    assert event.object_ref == str(dsr.code)  # on the request's timeline


def test_it_keeps_the_export_of_a_held_address(holdings, make_dsr, make_hold):
    dsr = make_dsr(confirm=True)
    export = exports.build_export(dsr=dsr, now=NOW)
    make_hold(holdings["person"])

    result = purge_exports(now=NOW + timedelta(days=8))

    assert (result.held, result.affected) == (1, 0)
    assert exports.export_path(export).exists()


def test_it_deletes_exports_with_a_bounded_number_of_queries_per_export(holdings, make_dsr):
    """One audit event per export (the request's timeline); the rest is per batch."""
    counts = []
    for size, prefix in [(1, "small"), (3, "large")]:
        for i in range(size):
            exports.build_export(
                dsr=make_dsr(confirm=True, email=f"{prefix}{i}@example.fr"), now=NOW
            )
        with CaptureQueriesContext(connection) as queries:
            assert purge_exports(now=NOW + timedelta(days=8)).affected == size
        counts.append(len(queries))
    per_export = (counts[1] - counts[0]) / 2
    # The audit event: savepoint, lock (PostgreSQL), last hash, insert, release.
    assert per_export <= 5
