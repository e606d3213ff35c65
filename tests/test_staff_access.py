"""Staff access to the back office: two factors, lockout, 8-hour sessions, DPO-only data."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib import admin
from django.urls import reverse
from django_otp.oath import totp

from tests.conftest import NOW

LOGIN = "/admin/login/?next=/admin/"


def current_code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def post_login(client, *, username: str, password: str, device=None, token: str = ""):
    data = {"username": username, "password": password, "otp_token": token}
    if device is not None:
        data["otp_device"] = device.persistent_id
    return client.post(LOGIN, data)


def test_it_refuses_a_password_without_a_totp_code(client, bob, make_totp_device):
    make_totp_device(bob)

    response = post_login(client, username="bob", password="bob-password-123")

    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session


def test_it_refuses_a_wrong_totp_code(client, bob, make_totp_device):
    device = make_totp_device(bob)
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"

    post_login(client, username="bob", password="bob-password-123", device=device, token=wrong)

    assert "_auth_user_id" not in client.session


def test_it_lets_staff_in_with_password_and_totp(client, bob, make_totp_device):
    device = make_totp_device(bob)

    response = post_login(
        client,
        username="bob",
        password="bob-password-123",
        device=device,
        token=current_code(device),
    )

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_it_needs_no_device_choice_for_staff_with_one_device(client, bob, make_totp_device):
    device = make_totp_device(bob)
    token = current_code(device)

    response = post_login(client, username="bob", password="bob-password-123", token=token)

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_it_asks_which_device_when_there_are_several(client, bob, make_totp_device):
    device = make_totp_device(bob)
    make_totp_device(bob)
    token = current_code(device)

    post_login(client, username="bob", password="bob-password-123", token=token)

    assert "_auth_user_id" not in client.session


def test_it_locks_out_after_five_failed_logins(client, bob, make_totp_device, settings):
    device = make_totp_device(bob)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, username="bob", password="wrong-password")

    response = post_login(
        client,
        username="bob",
        password="bob-password-123",
        device=device,
        token=current_code(device),
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_ends_staff_sessions_after_eight_hours(staff_client, bob):
    with time_machine.travel(NOW, tick=False):
        client = staff_client(bob)
        assert client.get("/admin/").status_code == 200
    with time_machine.travel(NOW + timedelta(hours=8, minutes=1), tick=False):
        response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def _admin_changelists() -> list[str]:
    return sorted(
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label in {"people", "audit", "rights", "consent", "retention"}
    )


@pytest.mark.parametrize("url", _admin_changelists())
def test_it_shows_personal_data_to_the_dpo_group_only(url, staff_client, bob, charlie):
    assert staff_client(charlie).get(url).status_code == 403
    assert staff_client(bob).get(url).status_code == 200


def test_it_lists_every_app_in_the_permission_matrix():
    assert any("/admin/people/" in url for url in _admin_changelists())
    assert any("/admin/audit/" in url for url in _admin_changelists())


BACK_OFFICE_PAGES = [
    "/admin/rights/datasubjectrequest/dashboard/",
    "/admin/rights/datasubjectrequest/register.csv",
]


@pytest.mark.parametrize("url", BACK_OFFICE_PAGES)
def test_it_shows_the_back_office_pages_to_the_dpo_group_only(url, staff_client, bob, charlie):
    assert staff_client(charlie).get(url).status_code == 403
    assert staff_client(bob).get(url).status_code == 200


def test_it_shows_a_request_page_to_the_dpo_group_only(staff_client, bob, charlie):
    dsr = _logged_request(bob)
    url = f"/admin/rights/datasubjectrequest/{dsr.pk}/change/"
    assert staff_client(charlie).get(url).status_code == 403
    assert staff_client(bob).get(url).status_code == 200


@pytest.mark.parametrize(
    "action",
    ["assign-me", "assign", "start", "ask", "identity", "extend", "message"]
    + ["complete", "partial", "refuse"],
)
def test_it_lets_only_the_dpo_group_act_on_a_request(action, staff_client, bob, charlie):
    from rights.models import DataSubjectRequest

    dsr = _logged_request(bob)
    url = f"/admin/rights/datasubjectrequest/{dsr.pk}/act/{action}/"
    before = list(DataSubjectRequest.objects.values())

    assert staff_client(charlie).post(url).status_code == 403
    assert list(DataSubjectRequest.objects.values()) == before
    assert staff_client(bob).post(url).status_code == 302


def _logged_request(by):
    from rights import services

    return services.log_received_request(
        kind="access",
        email="matrix@example.fr",
        name="",
        language="fr",
        channel="email",
        received_at=NOW,
        by=by,
        now=NOW,
    )
