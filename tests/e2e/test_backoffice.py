"""The DPO logs in with a real TOTP code, finds a confirmed request in the queue, extends
it with a justification, and the person's tracker shows the new deadline and the reason."""

from __future__ import annotations

import contextlib

import pytest
from django.core.cache import cache
from django.utils import timezone

from rights import services
from rights.models import DataSubjectRequest, LinkPurpose, SecretLink
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_it_extends_a_request_from_the_queue(live_server, dpo, make_totp_device, page):
    with contextlib.suppress(Exception):
        cache.clear()  # fresh rate-limit counters
    device = make_totp_device(dpo)
    now = timezone.now()
    dsr = services.submit_request(
        kind="access",
        email="alice.queue@example.fr",
        name="Alice Martin",
        language="en",
        details={},
        now=now,
    )
    _, confirm = SecretLink.issue(
        purpose=LinkPurpose.CONFIRM, request=dsr, expires_at=dsr.confirmation_expires_at(), now=now
    )
    _, dsr, tracker_token = services.confirm_request(token=confirm, now=now)

    log_in(page, live_server, device)

    page.goto(live_server.url + "/admin/rights/datasubjectrequest/")
    row = page.locator("#result_list tbody tr", has_text=dsr.reference)
    assert row.locator(".due-badge").count() == 1
    row.get_by_role("link", name=dsr.reference).click()
    page.wait_for_url("**/change/")

    page.locator("#action-extend summary").click()
    page.locator("select[name=extend-reason]").select_option("complexity")
    page.locator("textarea[name=extend-justification]").fill(
        "Your bookings span three booking systems."
    )
    page.locator("#action-extend button[type=submit]").click()
    page.wait_for_url("**/change/")
    assert page.locator(".messagelist .success").count() == 1

    dsr = DataSubjectRequest.objects.get(pk=dsr.pk)
    assert dsr.extended_due_on is not None
    page.goto(f"{live_server.url}/en/suivi/{tracker_token}/")
    extended = page.locator("[data-field=extended_due_on]")
    assert extended.get_attribute("data-date") == dsr.extended_due_on.isoformat()
    assert "Your bookings span three booking systems." in extended.inner_text()
    assert page.locator("[data-step=extended]").count() == 1
