"""A person files an access request in French, confirms it from the email, sees the tracker."""

from __future__ import annotations

import contextlib
import re

import pytest
from django.core import mail
from django.core.cache import cache

from rights.models import DataSubjectRequest

# serialized_rollback: the flush after a live_server test would otherwise drop the rows
# the migrations created (the DPO group) and break the next serialized test.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_it_files_confirms_and_tracks_an_access_request(live_server, page):
    with contextlib.suppress(Exception):
        cache.clear()  # fresh rate-limit counters
    page.goto(live_server.url + "/")
    page.locator("a.request-link[href='/demande/access/']").click()
    page.wait_for_url("**/demande/access/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.locator("input[name=email]").fill("alice.e2e@example.fr")
    page.locator("input[name=name]").fill("Alice Martin")
    assert page.locator("select[name=language]").input_value() == "fr"
    assert page.locator("input[type=file]").count() == 0  # no ID upload (A5)
    page.locator("form.request-form button[type=submit]").click()
    page.wait_for_url("**/demande/envoyee/")

    dsr = DataSubjectRequest.objects.get(email="alice.e2e@example.fr")
    assert dsr.status == "submitted"
    [email] = [m for m in mail.outbox if m.to == ["alice.e2e@example.fr"]]
    confirm_path = re.search(r"https?://[^/\s]+(/confirmer/\S+/)", email.body).group(1)

    page.goto(live_server.url + confirm_path)
    page.locator("#confirm").click()
    page.wait_for_url("**/suivi/**")
    due = page.locator("[data-field=due_on]")
    assert due.get_attribute("data-date") == dsr.due_on.isoformat()
    received = page.locator("[data-field=received_on]")
    assert received.get_attribute("data-date") == dsr.received_on.isoformat()
    assert page.locator("[data-step=confirmed]").count() == 1
    assert page.locator("#withdraw").is_visible()
    dsr.refresh_from_db()
    assert dsr.status == "open"
