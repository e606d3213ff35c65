"""Chromium: the DPO and a real password + TOTP sign-in, and the steps every journey shares
(the person files and confirms a request; the DPO opens it and acts)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django_otp.oath import totp
from playwright.sync_api import Locator, Page, expect


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


# --- Journeys: the person's form, the emailed links, the DPO on the request page ----------

# What the person reads on the form and the confirmation page, per language: the tests
# read the words on the page, so an untranslated label fails them.
WORDS = {
    "fr": {
        "email": "Votre adresse e-mail",
        "name": "Vos prénom et nom",
        "send": "Envoyer ma demande",
        "confirm": "Confirmer ma demande",
        "due": "Nous devons répondre au plus tard le",
    },
    "en": {
        "email": "Your email address",
        "name": "Your name",
        "send": "Send my request",
        "confirm": "Confirm my request",
        "due": "We must answer by",
    },
}


def emails_to(address: str) -> list:
    """What the outbox sent to `address`, oldest first (the relay runs eagerly in tests)."""
    from django.core import mail

    return [m for m in mail.outbox if m.to == [address]]


def link_in(message, route: str) -> str:
    """The path of the first link to `route` ("confirmer", "suivi", "telecharger") in an
    email's text."""
    return re.search(rf"https?://[^/\s]+(/\S*{route}/\S+/)", message.body).group(1)


def file_request(
    page: Page,
    live_server,
    kind: str,
    *,
    email: str,
    name: str = "Alice Martin",
    language: str = "fr",
    fill: Callable[[Page], None] | None = None,
):
    """The person fills the form of `kind` in `language` (`fill` answers the right's own
    questions), sends it, opens the confirmation link from the email and confirms. Check
    the tracker shows the legal deadline; return the request and the tracker's URL."""
    from rights.models import DataSubjectRequest

    words = WORDS[language]
    prefix = "" if language == "fr" else f"/{language}"
    page.goto(f"{live_server.url}{prefix}/demande/{kind}/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.get_by_label(words["email"]).fill(email)
    page.get_by_label(words["name"]).fill(name)
    if fill is not None:
        fill(page)
    page.get_by_role("button", name=words["send"]).click()
    page.wait_for_url("**/demande/envoyee/")

    [confirmation] = emails_to(email)
    page.goto(live_server.url + link_in(confirmation, "confirmer"))
    page.get_by_role("button", name=words["confirm"]).click()
    page.wait_for_url("**/suivi/**")
    dsr = DataSubjectRequest.objects.get(email=email, kind=kind)
    due = page.locator("[data-field=due_on]")
    expect(due).to_have_attribute("data-date", dsr.due_on.isoformat())
    expect(page.get_by_text(words["due"])).to_be_visible()
    return dsr, page.url


def open_request(page: Page, live_server, dsr) -> None:
    """The DPO (signed in) opens the request from the queue."""
    page.goto(live_server.url + "/admin/rights/datasubjectrequest/")
    row = page.locator("#result_list tbody tr", has_text=dsr.reference)
    row.get_by_role("link", name=dsr.reference).click()
    page.wait_for_url("**/change/")
    expect(page.locator("#fulfilment h2")).to_have_text("Mise en œuvre du droit")  # in French


def act(page: Page, slug: str, fill: Callable[[Locator], None] | None = None) -> None:
    """The DPO opens the action `slug` on the request page, fills its form and sends it;
    the page comes back with the action's success message."""
    action = page.locator(f"#action-{slug}")
    action.locator("summary").click()
    if fill is not None:
        fill(action)
    with page.expect_navigation():
        action.get_by_role("button").click()
    expect(page.locator(".messagelist .success")).to_have_count(1)
