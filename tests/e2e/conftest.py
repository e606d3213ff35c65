"""The back office in Chromium: the DPO, and a real password + TOTP sign-in."""

from __future__ import annotations

import pytest
from django_otp.oath import totp


@pytest.fixture
def dpo(fresh_dpo):
    return fresh_dpo


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
