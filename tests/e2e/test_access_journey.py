"""An access request end to end: the DPO signs in with TOTP and prepares the export, which
completes the request; the person opens their tracker, asks for a download link, opens it
from the email, downloads the ZIP and finds the Art. 15 information and their purchases."""

from __future__ import annotations

import contextlib
import json
import re
import zipfile

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from rights import services
from rights.models import DataSubjectRequest, LinkPurpose, RequestStatus, SecretLink
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

EMAIL = "alice.journey@example.fr"
ART_15_SECTIONS = ["art15-a", "art15-b", "art15-c", "art15-d", "art15-e", "art15-f"]
ART_15_SECTIONS += ["art15-g", "art15-h", "art15-2"]


def test_the_dpo_answers_an_access_request_and_the_person_downloads_it(
    live_server, dpo, make_totp_device, make_person, make_purchase, page, settings, tmp_path
):
    with contextlib.suppress(Exception):
        cache.clear()  # fresh rate-limit counters
    settings.MEDIA_ROOT = tmp_path  # the live server runs in this process: same storage
    person = make_person(email=EMAIL)
    purchase = make_purchase(person=person, description="Escape game à Lille")
    now = timezone.now()
    dsr = services.submit_request(
        kind="access", email=EMAIL, name="Alice Martin", language="en", details={}, now=now
    )
    _, confirm = SecretLink.issue(
        purpose=LinkPurpose.CONFIRM, request=dsr, expires_at=dsr.confirmation_expires_at(), now=now
    )
    _, dsr, tracker_token = services.confirm_request(token=confirm, now=now)

    # The DPO: signs in, opens the request from the queue, prepares the export.
    log_in(page, live_server, make_totp_device(dpo))
    page.goto(live_server.url + "/admin/rights/datasubjectrequest/")
    page.locator("#result_list tbody tr", has_text=dsr.reference).get_by_role(
        "link", name=dsr.reference
    ).click()
    page.wait_for_url("**/change/")
    page.locator("#action-prepare-export summary").click()
    page.locator("#action-prepare-export button[type=submit]").click()
    page.wait_for_url("**/change/")
    assert page.locator(".messagelist .success").count() == 1
    assert DataSubjectRequest.objects.get(pk=dsr.pk).status == RequestStatus.COMPLETED
    assert page.locator("#fulfilment [data-export]").count() == 1  # built, on the page

    # The person: the tracker says it is done and offers a download link by email.
    page.goto(f"{live_server.url}/en/suivi/{tracker_token}/")
    assert page.locator("[data-step=completed]").count() == 1
    sent_before = len(mail.outbox)
    page.locator("#send-download-link").click()
    page.wait_for_load_state()
    [email] = [m for m in mail.outbox[sent_before:] if m.to == [EMAIL]]
    download_path = re.search(r"https?://[^/\s]+(/\S*/telecharger/\S+/)", email.body).group(1)

    page.goto(live_server.url + download_path)
    with page.expect_download() as download_info:
        page.locator("#download").click()
    archive = tmp_path / "download.zip"
    download_info.value.save_as(archive)

    with zipfile.ZipFile(archive) as zf:
        summary = zf.read("summary.html").decode()
        purchases = json.loads(zf.read("purchases.json"))
    for section in ART_15_SECTIONS:
        assert f'id="{section}"' in summary
    assert "CNIL" in summary
    records = [r for r in purchases["records"] if r["record"] == "purchase"]
    assert [(r["invoice_number"], r["description"]) for r in records] == [
        (purchase.invoice_number, "Escape game à Lille")
    ]
