from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from people.models import (
    Activity,
    ActivityParticipation,
    ContactRequest,
    Person,
    Purchase,
    Review,
    SavedCard,
    TechnicalTrace,
)
from rights.models import DataSubjectRequest, RequestStatus

MODELS = [
    Person,
    Activity,
    ActivityParticipation,
    Review,
    Purchase,
    SavedCard,
    ContactRequest,
    TechnicalTrace,
]


def _seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", people=40, force=True, stdout=out, **options)
    return out.getvalue()


def _counts() -> list[int]:
    return [model.objects.count() for model in MODELS]


@pytest.mark.django_db
def test_it_creates_a_population_with_work_for_the_sweeps():
    _seed()
    assert Person.objects.count() == 40
    assert Person.objects.filter(is_prospect=True, is_client=False).exists()
    assert Person.objects.filter(client_relationship_ended_at__isnull=False).exists()
    assert Purchase.objects.filter(is_deferred_debit=True).exists()
    assert Activity.objects.filter(is_private=True).exists()
    assert TechnicalTrace.objects.filter(person=None).exists()
    assert all(_counts())
    # The DPO's queue has work: every kind, received by email, one past its deadline.
    requests = DataSubjectRequest.objects.all()
    assert {dsr.kind for dsr in requests} == {
        "access",
        "rectification",
        "erasure",
        "portability",
        "restriction",
        "objection",
    }
    assert all(dsr.status == RequestStatus.OPEN for dsr in requests)
    today = timezone.now().date()
    assert any(dsr.due_on < today for dsr in requests)  # overdue
    assert any(dsr.due_on >= today for dsr in requests)


@pytest.mark.django_db
def test_it_is_idempotent_and_prints_the_dpo_login():
    _seed()
    before = _counts()
    requests = DataSubjectRequest.objects.count()
    output = _seed(password="demo-password-123")
    assert _counts() == before
    assert DataSubjectRequest.objects.count() == requests == 8
    assert "dpo / demo-password-123" in output
    dpo = get_user_model().objects.get(username="dpo")
    assert dpo.is_staff
    assert dpo.groups.filter(name="DPO").exists()
    assert dpo.check_password("demo-password-123")


@pytest.mark.django_db
def test_it_is_deterministic():
    _seed()
    first = sorted(Person.objects.values_list("email", flat=True))
    for model in MODELS:
        model.objects.all().delete()
    _seed()
    assert sorted(Person.objects.values_list("email", flat=True)) == first


@pytest.mark.django_db
def test_it_refuses_to_run_with_debug_off_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", people=1, stdout=StringIO())
    assert not Person.objects.exists()
