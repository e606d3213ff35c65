"""The queue: the request changelist in the back office (rights.admin)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rights import exports, services
from rights.models import DataSubjectRequest, ExtensionReason, RequestKind, RequestStatus
from tests.conftest import NOW

URL = "/admin/rights/datasubjectrequest/"


def bulk_requests(n: int, *, assignee=None) -> None:
    """n confirmed requests, mixed kinds, statuses and deadlines, in one INSERT."""
    kinds = list(RequestKind.values)
    rows = []
    for i in range(n):
        dsr = DataSubjectRequest(
            kind=kinds[i % len(kinds)],
            email=f"person{i}@example.fr",
            status=RequestStatus.OPEN if i % 2 else RequestStatus.IN_PROGRESS,
            assignee=assignee if i % 3 == 0 else None,
        )
        dsr.set_clock(NOW - timedelta(days=i % 45))
        if i % 5 == 0:
            dsr.extended_at = NOW
            dsr.extension_reason = ExtensionReason.COMPLEXITY
            dsr.extension_justification = "Complex"
            dsr.extended_due_on = dsr.latest_due_on
            dsr.current_due_on = dsr.latest_due_on
        rows.append(dsr)
    DataSubjectRequest.objects.bulk_create(rows)


def refs(response) -> list[str]:
    return [dsr.reference for dsr in response.context["cl"].result_list]


@time_machine.travel(NOW + timedelta(days=25), tick=False)  # Mon 9 Feb 2026
def test_it_opens_on_the_work_to_do_soonest_due_first(
    staff_client, bob, make_dsr, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    later = make_dsr(confirm=True, email="later@example.fr", now=NOW + timedelta(days=5))
    sooner = make_dsr(confirm=True, email="sooner@example.fr")  # due 16 Feb
    services.start_request(dsr=later, by=bob, now=NOW)
    waiting = make_dsr(email="unconfirmed@example.fr")  # never confirmed: not in the queue
    done = make_dsr(confirm=True, email="done@example.fr")
    exports.build_export(dsr=done, now=NOW)  # the export answers the request

    response = staff_client(bob).get(URL)

    assert response.status_code == 200
    assert refs(response) == [sooner.reference, later.reference]
    html = response.content.decode()
    assert 'class="due-badge due-soon" data-days="7"' in html
    assert "7\u00a0jours restants" in html  # the admin renders in French
    assert waiting.reference not in html and done.reference not in html
    assert "delete_selected" not in html
    everything = staff_client(bob).get(URL + "?status=all")
    assert len(refs(everything)) == 4


@time_machine.travel(NOW + timedelta(days=40), tick=False)
def test_it_marks_overdue_in_red_and_filters_them(staff_client, bob, make_dsr):
    late = make_dsr(confirm=True, email="late@example.fr")  # due 16 Feb
    fresh = make_dsr(confirm=True, email="fresh@example.fr", now=NOW + timedelta(days=39))

    client = staff_client(bob)
    html = client.get(URL).content.decode()
    assert "due-badge due-overdue" in html and "8\u00a0jours de retard" in html
    assert refs(client.get(URL + "?deadline=overdue")) == [late.reference]
    assert refs(client.get(URL + "?deadline=soon")) == []
    assert fresh.reference in refs(client.get(URL))


def test_it_filters_extended_assigned_to_me_kind_and_channel(staff_client, bob, make_dsr):
    mine = make_dsr(confirm=True, email="mine@example.fr")
    services.assign_request(dsr=mine, assignee=bob, by=bob, now=NOW)
    extended = make_dsr(confirm=True, email="ext@example.fr", kind="portability")
    services.extend_request(
        dsr=extended, reason=ExtensionReason.COMPLEXITY, justification="x", by=bob, now=NOW
    )
    client = staff_client(bob)

    assert refs(client.get(URL + "?assigned=me")) == [mine.reference]
    assert refs(client.get(URL + "?extended=yes")) == [extended.reference]
    assert refs(client.get(URL + "?kind=portability")) == [extended.reference]
    assert len(refs(client.get(URL + "?channel=portal"))) == 2
    assert "mark-extended" in client.get(URL).content.decode()


def test_it_finds_a_request_by_tracker_reference_or_email(staff_client, bob, make_dsr):
    dsr = make_dsr(confirm=True, email="Findme@Example.fr")
    make_dsr(confirm=True, email="other@example.fr")
    client = staff_client(bob)

    assert refs(client.get(URL, {"q": dsr.reference})) == [dsr.reference]
    assert refs(client.get(URL, {"q": dsr.reference.lower()})) == [dsr.reference]
    assert refs(client.get(URL, {"q": " findme@example.fr "})) == [dsr.reference]
    assert refs(client.get(URL, {"q": str(dsr.code)})) == [dsr.reference]
    assert refs(client.get(URL, {"q": str(dsr.code)[:13]})) == [dsr.reference]
    assert refs(client.get(URL, {"q": str(dsr.code).replace("-", "")[:12]})) == [dsr.reference]


def _changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(URL + "?status=all").status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_it_lists_5_or_500_requests_in_the_same_number_of_queries(
    staff_client, bob, django_assert_max_num_queries
):
    client = staff_client(bob)
    bulk_requests(5, assignee=bob)
    with django_assert_max_num_queries(15):
        assert client.get(URL).status_code == 200
    few = _changelist_queries(client)

    DataSubjectRequest.objects.all().delete()
    bulk_requests(500, assignee=bob)
    many = _changelist_queries(client)

    assert few == many <= 15
