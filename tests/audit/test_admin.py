from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import ActorType

CHANGELIST = reverse("admin:audit_auditevent_changelist")


@pytest.fixture
def make_staff_event(make_event, django_user_model):
    def make(n: int):
        user = django_user_model.objects.create_user(f"staff{n}", is_staff=True)
        return make_event(
            action="request.triaged",
            actor_type=ActorType.STAFF,
            actor_user=user,
            object_type="rights.DataSubjectRequest",
            object_ref=f"00000000-0000-0000-0000-{n:012d}",
        )

    return make


def test_it_lists_events_for_the_dpo(staff_client, bob, make_staff_event):
    event = make_staff_event(1)
    client = staff_client(bob)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    assert b"staff1" in response.content
    assert event.object_ref.encode() in response.content
    assert b"action-select" not in response.content  # no bulk actions


def test_it_is_read_only_even_for_a_superuser(admin_client, make_event):
    event = make_event()
    change = reverse("admin:audit_auditevent_change", args=[event.pk])
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])

    assert admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert admin_client.get(change).status_code == 200  # a read-only view
    assert admin_client.post(change, {"action": "request.forged"}).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.action == "request.submitted"
    assert b'name="_save"' not in admin_client.get(change).content


def test_it_finds_a_persons_events_by_email_without_storing_it(admin_client, make_event):
    make_event(subject_email="alice@example.fr")
    make_event(subject_email="someone@example.fr", action="request.withdrawn")

    response = admin_client.get(CHANGELIST, {"q": "Alice@Example.fr"})

    assert list(response.context["cl"].result_list.values_list("action", flat=True)) == [
        "request.submitted"
    ]


def test_it_lists_without_a_query_per_row(admin_client, make_staff_event):
    def queries_to_list() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(CHANGELIST).status_code == 200
        return len(ctx.captured_queries)

    make_staff_event(0)
    few = queries_to_list()
    for n in range(1, 20):
        make_staff_event(n)

    assert queries_to_list() == few
