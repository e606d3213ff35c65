"""The erasure's kept parts reach their date: swept, then one final notice (B4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.hashing import subject_hash
from audit.models import AuditEvent
from people.models import Purchase
from retention.sweeps import purge_accounting, send_erasure_final_notices
from rights import fulfilment
from rights.models import ErasureKeptRow, ErasureLedger, OutgoingEmail
from tests.conftest import NOW

# holdings: invoices of 2023 and 2025, kept until 31 December 2033 and 2035 (C9).
LAST_DATE = date(2035, 12, 31)


def _on(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, tzinfo=UTC)


@pytest.fixture
def erased(holdings, make_dsr, bob, monkeypatch):
    """Alice, erased at NOW at her English request; Stripe recorded, not called."""
    monkeypatch.setattr(fulfilment, "stripe_detach_payment_method", lambda **kwargs: None)
    monkeypatch.setattr(fulfilment, "stripe_delete_customer", lambda **kwargs: None)
    dsr = make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})
    fulfilment.execute_erasure(dsr=dsr, person=holdings["person"], by=bob, now=NOW)
    return ErasureLedger.objects.get()


def test_the_erasure_keeps_the_address_and_the_last_date_for_the_notice(erased):
    assert erased.notice_email == "alice@example.fr" and erased.notice_language == "en"
    assert erased.final_notice_due_on == LAST_DATE
    assert set(ErasureKeptRow.objects.values_list("keep_until", flat=True)) == {
        date(2033, 12, 31),
        LAST_DATE,
    }
    email = OutgoingEmail.objects.get(template="erasure_done")
    assert "We will write to you once more when it is deleted." in email.body_text


def test_it_tells_the_person_once_the_kept_rows_are_swept(erased):
    assert send_erasure_final_notices(now=_on(LAST_DATE + timedelta(days=1))).affected == 0

    purge_accounting(now=_on(LAST_DATE + timedelta(days=1)))  # the invoices go
    assert not Purchase.objects.exists()
    result = send_erasure_final_notices(now=_on(LAST_DATE + timedelta(days=1)))

    assert result.details == {"notified": 1}
    notice = OutgoingEmail.objects.get(template="erasure_final")
    assert notice.to == "alice@example.fr" and notice.language == "en"
    assert "now deleted" in notice.subject
    assert "We no longer hold any data about you" in notice.body_text
    erased.refresh_from_db()
    assert (erased.notice_email, erased.notice_language) == ("", "")
    assert erased.final_notice_sent_at == _on(LAST_DATE + timedelta(days=1))
    assert not ErasureKeptRow.objects.exists()
    event = AuditEvent.objects.get(action="erasure.final_notice_sent")
    assert event.subject_hash == subject_hash("alice@example.fr")
    # Once only.
    assert send_erasure_final_notices(now=_on(LAST_DATE + timedelta(days=2))).affected == 0
    assert OutgoingEmail.objects.filter(template="erasure_final").count() == 1


def test_it_waits_until_the_day_after_the_last_date(erased):
    Purchase.objects.all().delete()  # however the rows went

    assert send_erasure_final_notices(now=_on(LAST_DATE)).affected == 0
    assert send_erasure_final_notices(now=_on(LAST_DATE + timedelta(days=1))).affected == 1


def test_it_waits_while_a_kept_row_is_still_there(erased):
    Purchase.objects.filter(invoiced_on__year=2023).delete()
    assert send_erasure_final_notices(now=_on(LAST_DATE + timedelta(days=1))).affected == 0


def test_it_keeps_no_address_when_nothing_was_kept_with_a_date(make_dsr, alice, bob):
    dsr = make_dsr(confirm=True, kind="erasure", details={"scope": "everything"})
    fulfilment.execute_erasure(dsr=dsr, person=alice, by=bob, now=NOW)

    ledger = ErasureLedger.objects.get()
    assert (ledger.notice_email, ledger.final_notice_due_on) == ("", None)
    email = OutgoingEmail.objects.get(template="erasure_done")
    assert "once more" not in email.body_text


def test_it_respects_a_legal_hold_on_the_address(erased, make_person, make_hold):
    Purchase.objects.all().delete()
    make_hold(make_person(email="alice@example.fr"))  # she came back, and a dispute began

    result = send_erasure_final_notices(now=_on(LAST_DATE + timedelta(days=1)))

    assert (result.held, result.affected) == (1, 0)
    assert not OutgoingEmail.objects.filter(template="erasure_final").exists()


def test_it_sends_nothing_in_a_dry_run(erased):
    Purchase.objects.all().delete()
    result = send_erasure_final_notices(now=_on(LAST_DATE + timedelta(days=1)), dry_run=True)
    assert result.affected == 1
    assert not OutgoingEmail.objects.filter(template="erasure_final").exists()


def _ledgers(count: int, prefix: str) -> None:
    for i in range(count):
        ErasureLedger.objects.create(
            subject_hash=subject_hash(f"{prefix}{i}@example.fr"),
            request_code=f"00000000-0000-4000-8000-{len(prefix):04d}{i:08d}",
            executed_at=NOW,
            notice_email=f"{prefix}{i}@example.fr",
            notice_language="fr",
            final_notice_due_on=NOW.date(),
        )


def test_it_costs_a_bounded_number_of_queries_per_notice(db):
    """One email and one audit event each (the outbox, the chain); the rest per batch."""
    counts = []
    for size, prefix in [(1, "small"), (3, "larger")]:
        _ledgers(size, prefix)
        with CaptureQueriesContext(connection) as queries:
            assert send_erasure_final_notices(now=NOW + timedelta(days=2)).affected == size
        counts.append(len(queries))
    # The email (insert) and the audit event (savepoint, lock on PostgreSQL, last hash,
    # insert, release).
    assert (counts[1] - counts[0]) / 2 <= 6
