"""The back office in Chromium: a DPO made here, and a real password + TOTP sign-in."""

from __future__ import annotations

import pytest
from django_otp.oath import totp


@pytest.fixture
def dpo(django_user_model):
    """bob, in a DPO group with its permissions, made here: after another transactional
    test, the rows the migrations created are not always back when Playwright's fixtures
    are in play (the serialised rollback), so these tests do not rely on them."""
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


def log_in(page, live_server, device, *, username: str = "bob", password: str = "bob-password-123"):
    """Sign in at /admin/ like a person does: the password, then the device and its code."""
    page.goto(live_server.url + "/admin/")
    # django-otp lists a user's devices once it knows the user: password first...
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("input[type=submit]").first.click()
    page.wait_for_load_state()
    # ...then the device and the code it shows now.
    page.locator("select[name=otp_device]").select_option(device.persistent_id)
    page.locator("input[name=password]").fill(password)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    page.locator("input[name=otp_token]").fill(f"{code:06d}")
    page.locator("input[type=submit]").first.click()
    page.wait_for_url(live_server.url + "/admin/")
