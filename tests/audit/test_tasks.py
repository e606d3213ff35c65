from __future__ import annotations

import pytest

from audit.models import ActorType
from audit.services import record_event
from tests.conftest import NOW

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_it_verifies_the_chain_in_a_real_worker_through_redis(celery_worker):
    for action in ("demo.first", "demo.second", "demo.third"):
        record_event(action=action, actor_type=ActorType.SYSTEM, now=NOW)

    from audit.tasks import verify_audit_chain

    result = verify_audit_chain.delay()

    assert result.get(timeout=60) == 3
