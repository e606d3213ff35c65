"""The DPO logs in with a real TOTP code, finds a confirmed request in the queue, extends
it with a justification, and the person's tracker shows the new deadline and the reason."""

from __future__ import annotations

import contextlib

import pytest
from django.core.cache import cache
from django.utils import timezone
from django_otp.oath import totp

from rights import services
from rights.models import DataSubjectRequest, LinkPurpose, SecretLink

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def dpo(django_user_model):
    """bob, in a DPO group with its permissions, made here: after another transactional
    test, the rows the migrations created are not always back when Playwright's fixtures
    are in play (the serialised rollback), so this test does not rely on them."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    group, _ = Group.objects.get_or_create(name="DPO")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="rights", codename__startswith="view_")
    )
    user = django_user_model.objects.create_user(
        "bob", "bob@okasio.fr", "bob-password-123", is_staff=True
    )
    user.groups.add(group)
    return user


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

    page.goto(live_server.url + "/admin/")
    # django-otp lists a user's devices once it knows the user: password first...
    page.locator("input[name=username]").fill("bob")
    page.locator("input[name=password]").fill("bob-password-123")
    page.locator("input[type=submit]").first.click()
    page.wait_for_load_state()
    # ...then the device and the code it shows now.
    page.locator("select[name=otp_device]").select_option(device.persistent_id)
    page.locator("input[name=password]").fill("bob-password-123")
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.locator("input[name=otp_token]").fill(f"{code:06d}")
    page.locator("input[type=submit]").first.click()
    page.wait_for_url(live_server.url + "/admin/")

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
