"""PostgreSQL restarted under load: while it is down the portal answers a clear 503 (a page,
JSON under /api/), never a raw 500; once it is back, requests succeed again and nothing is
half-written (okasio_privacy.views.server_error; every intake is one transaction)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from django.db import connection
from django.test import Client

from audit.models import AuditEvent
from audit.services import verify_chain
from rights.models import DataSubjectRequest, OutgoingEmail, StepKind
from tests.faults.conftest import Load, needs_services, pg_ctl, wait_for

pytestmark = [needs_services, pytest.mark.django_db(transaction=True)]


def _post(url: str, email: str) -> tuple[int, str, dict]:
    body = json.dumps({"kind": "access", "email": email, "language": "en"}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, email, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, email, dict(error.headers)


def test_it_answers_503_while_postgres_restarts_and_loses_nothing(
    live_server, settings, monkeypatch
):
    settings.RIGHTS_RATE_LIMIT_PER_IP = "100000/h"
    # The emails stay in the outbox (the relay's job, tested with Redis down): sending them
    # eagerly from the server's threads at once would trip Celery's global join guard.
    monkeypatch.setattr("rights.services.enqueue_email", lambda email_id: None)
    url = f"{live_server.url}/api/v1/requests/"

    with Load(lambda i: _post(url, f"load{i}@example.fr"), threads=3) as load:
        wait_for(lambda: len(load.results) >= 10, timeout=30, what="requests before")
        pg_ctl("stop")
        try:
            wait_for(
                lambda: any(status == 503 for status, *_ in load.results[-5:]),
                timeout=30,
                what="503s while PostgreSQL is down",
            )
            # A person on the pages gets a page that says what happened, not a traceback.
            client = Client(raise_request_exception=False)  # as a server would answer
            page = client.post("/en/demande/access/", {"email": "x@example.fr", "language": "en"})
            assert page.status_code == 503
            assert page["Retry-After"] == "60"
            text = page.content.decode()
            assert "briefly unavailable" in text and "not recorded" in text
            assert "Traceback" not in text and "OperationalError" not in text
        finally:
            pg_ctl("start")
        connection.close()  # this thread's connection died with the server
        down_until = len(load.results)
        wait_for(
            lambda: sum(status == 202 for status, *_ in load.results[down_until:]) >= 10,
            timeout=60,
            what="requests accepted again",
        )
        time.sleep(0.2)

    statuses = {status for status, *_ in load.results}
    assert statuses <= {202, 503}, statuses  # never a 500
    answered_503 = [headers for status, _, headers in load.results if status == 503]
    assert all(headers.get("Retry-After") == "60" for headers in answered_503)

    # Every accepted request is there, whole; no request is there half-written.
    accepted = {email for status, email, _ in load.results if status == 202}
    filed = set(DataSubjectRequest.objects.values_list("email", flat=True))
    assert accepted <= filed
    for dsr in DataSubjectRequest.objects.all():
        assert dsr.steps.filter(kind=StepKind.RECEIVED).count() == 1
        # Its confirmation email, whose sender issues the link (rights.services.queue_link_email).
        assert OutgoingEmail.objects.filter(request=dsr, link="confirm").count() == 1
    assert AuditEvent.objects.filter(action="request.submitted").count() == len(filed)
    assert verify_chain().ok
