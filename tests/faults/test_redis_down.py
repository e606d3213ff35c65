"""Redis (broker and cache) down during intake: every request is accepted and kept, and each
email leaves exactly once when it is back (the outbox relay; rights.services)."""

from __future__ import annotations

import time

import pytest
from django.core import mail

from audit.services import verify_chain
from rights import services
from rights.models import DataSubjectRequest, EmailStatus, OutgoingEmail
from tests.conftest import NOW
from tests.faults.conftest import needs_services, redis_down

pytestmark = needs_services


@pytest.fixture(autouse=True)
def _through_the_broker():
    """Queue through Redis, as in production (the suite runs tasks in-process otherwise)."""
    from okasio_privacy.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def test_it_files_requests_while_redis_is_down_and_sends_each_email_once_after(
    client, db, django_capture_on_commit_callbacks, caplog
):
    with redis_down(), django_capture_on_commit_callbacks(execute=True):
        started = time.monotonic()
        for i in range(3):
            page = client.post(
                "/demande/access/", {"email": f"p{i}@example.fr", "name": "", "language": "fr"}
            )
            assert page.status_code == 302
            assert page["Location"] == "/demande/envoyee/"
        assert client.get(page["Location"]).status_code == 200
        for i in range(3, 5):
            api = client.post(
                "/api/v1/requests/",
                {
                    "kind": "erasure",
                    "email": f"p{i}@example.fr",
                    "language": "en",
                    "details": {"scope": "everything"},
                },
                content_type="application/json",
            )
            assert api.status_code == 202
        # Promptly: no request waits on Redis (the result backend's retries, the publisher's).
        assert time.monotonic() - started < 10

    # Nothing lost: five requests, five emails waiting; no address in the logs.
    assert DataSubjectRequest.objects.count() == 5
    assert OutgoingEmail.objects.pending().filter(attempts=0).count() == 5
    assert "relay will send it" in caplog.text and "failing open" in caplog.text
    assert "@example.fr" not in caplog.text

    # Redis is back: the relay sends each one, once.
    assert services.relay_pending_emails(now=NOW) == 5
    assert services.relay_pending_emails(now=NOW) == 0
    assert sorted(m.to[0] for m in mail.outbox) == [f"p{i}@example.fr" for i in range(5)]
    assert OutgoingEmail.objects.filter(status=EmailStatus.SENT, attempts=1).count() == 5
    assert verify_chain().ok
