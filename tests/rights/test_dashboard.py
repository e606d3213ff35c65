"""Accountability (A11): the DPO's dashboard and the register of requests."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from rights import accountability, exports, fulfilment, services
from rights.models import ExtensionReason, OutcomeGround
from tests.conftest import NOW

TODAY = date(2026, 2, 20)
DASHBOARD = "/admin/rights/datasubjectrequest/dashboard/"
REGISTER = "/admin/rights/datasubjectrequest/register.csv"

# Messages read outside a request, in English (the admin pages render in French).
pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, tzinfo=UTC)


def known_set(make_dsr, bob) -> dict:
    """Received 15 Jan 2026 (due 16 Feb, latest 15 Apr) unless said otherwise."""
    a = make_dsr(confirm=True, email="a@example.fr")
    exports.build_export(dsr=a, now=at(date(2026, 2, 10)))  # 26 days: the export answers
    b = make_dsr(confirm=True, email="b@example.fr")
    services.extend_request(
        dsr=b, reason=ExtensionReason.COMPLEXITY, justification="x", by=bob, now=NOW
    )
    exports.build_export(dsr=b, now=at(date(2026, 3, 20)))  # 64 days
    c = make_dsr(
        confirm=True, email="c@example.fr", kind="erasure", details={"scope": "everything"}
    )
    services.refuse_request(
        dsr=c, ground=OutcomeGround.LEGAL_EXCEPTION, reasons="r", by=bob, now=at(date(2026, 2, 16))
    )  # 32 days, on the due date
    d = make_dsr(
        confirm=True, email="d@example.fr", kind="erasure", details={"scope": "everything"}
    )
    fulfilment.erase(dsr=d, by=bob, now=at(date(2026, 5, 1)))  # 106 days, too late
    e = make_dsr(confirm=True, email="e@example.fr", kind="portability")  # open, overdue
    services.start_request(dsr=e, by=bob, now=NOW)
    make_dsr(confirm=True, email="h@example.fr", now=at(date(2026, 2, 10)))  # due 10 Mar
    make_dsr(confirm=True, email="i@example.fr", now=at(date(2026, 1, 25)))  # due 25 Feb: soon
    make_dsr(email="never@example.fr")  # never confirmed: left out
    g = make_dsr(
        confirm=True, email="g@example.fr", kind="objection", details={"target": "marketing"}
    )
    services.withdraw_request(dsr=g, now=NOW + timedelta(days=1))  # received, not answered
    return {"a": a, "b": b}


def test_it_computes_the_figures_on_a_known_set(make_dsr, bob, django_assert_max_num_queries):
    known_set(make_dsr, bob)

    with django_assert_max_num_queries(5):
        board = accountability.dashboard(today=TODAY)

    assert (board.open, board.due_soon, board.overdue) == (3, 1, 1)
    total = board.total
    assert (total.received, total.answered) == (8, 4)
    assert (total.within_one_month, total.within_three_months) == (2, 3)
    assert (total.share_one_month, total.share_three_months) == (50.0, 75.0)
    assert total.median_days == 48.0  # 26, 32, 64, 106
    kinds = {f.label: f for f in board.by_kind}
    assert kinds["Access (Art. 15)"].median_days == 45.0  # 26, 64
    assert kinds["Access (Art. 15)"].received == 4
    assert kinds["Erasure (Art. 17)"].median_days == 69.0  # 32, 106
    assert kinds["Erasure (Art. 17)"].share_one_month == 50.0
    assert kinds["Portability (Art. 20)"].median_days is None
    months = {f.label: f for f in board.by_month}
    assert months["2026-01"].received == 7 and months["2026-02"].received == 1


def test_it_shows_the_dashboard_to_the_dpo(staff_client, bob, make_dsr):
    known_set(make_dsr, bob)

    response = staff_client(bob).get(DASHBOARD)

    assert response.status_code == 200
    assert response.context["dashboard"].total.share_one_month == 50.0
    html = response.content.decode()  # the admin speaks French: "50,0 %"
    assert '<span class="number" data-figure="open">3</span>' in html
    assert "50,0 % (2)" in html and "75,0 % (3)" in html
    assert "48,0" in html


def test_it_exports_the_register_as_csv(staff_client, bob, make_dsr):
    requests = known_set(make_dsr, bob)

    response = staff_client(bob).get(REGISTER)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 8  # the unconfirmed one is not a request we could act on
    assert list(rows[0]) == accountability.REGISTER_COLUMNS
    b = next(r for r in rows if r["reference"] == str(requests["b"].code))
    assert b == {
        "reference": str(requests["b"].code),
        "kind": "access",
        "channel": "portal",
        "received": "2026-01-15",
        "due": "2026-02-16",
        "extended": "2026-04-15",
        "closed": "2026-03-20",
        "outcome": "completed",
        "days_taken": "64",
    }
    assert "@" not in text  # no addresses in the register


def test_it_keeps_the_dashboard_queries_bounded(
    staff_client, bob, make_dsr, django_assert_max_num_queries
):
    known_set(make_dsr, bob)
    client = staff_client(bob)
    with django_assert_max_num_queries(12):
        assert client.get(DASHBOARD).status_code == 200
