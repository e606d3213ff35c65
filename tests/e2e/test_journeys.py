"""Every right end to end in Chromium (issue 8): the person files the form and confirms it
from the email, the DPO signs in with TOTP and does the right's work on the request page,
and the person finds the outcome on their tracker and in the final email.

In French, the default; the restriction in English. Access is `test_access_journey.py`.
"""

from __future__ import annotations

import contextlib
import json
import re
import zipfile
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta
from django.core.cache import cache
from django.utils import formats, timezone, translation
from playwright.sync_api import expect

from consent.services import is_opposed
from people.models import Person
from rights.models import DataSubjectRequest, RequestStatus, Restriction
from tests.e2e.conftest import act, emails_to, file_request, link_in, log_in, open_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The remedies every refusal, in whole or in part, gives (GDPR 12(4); A7).
REMEDIES_FR = ["CNIL", "tribunal compétent"]
REMEDIES_EN = ["CNIL", "competent court"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    with contextlib.suppress(Exception):
        cache.clear()


@pytest.fixture
def signed_in_dpo(live_server, dpo, make_totp_device, page):
    """Return a function signing the DPO in, password then TOTP code, when the journey
    reaches the back office."""
    return lambda: log_in(page, live_server, make_totp_device(dpo))


def _status(dsr: DataSubjectRequest) -> str:
    return DataSubjectRequest.objects.get(pk=dsr.pk).status


def _french_date(day) -> str:
    with translation.override("fr"):
        return formats.date_format(day, "j F Y")


def test_it_applies_the_corrections_the_person_proposed(
    live_server, page, signed_in_dpo, make_person
):
    email = "alice.rectification@example.fr"
    person = make_person(email=email, last_name="Martin", city="Lile")

    def fill(page):
        page.get_by_label("Ce qui est inexact ou incomplet").fill("Mon nom et ma ville.")
        page.get_by_label(re.compile(r"^Nom\b")).fill("Martin-Dupont")
        page.get_by_label(re.compile(r"^Ville\b")).fill("Lille")

    dsr, tracker_url = file_request(page, live_server, "rectification", email=email, fill=fill)

    signed_in_dpo()
    open_request(page, live_server, dsr)
    diff = page.locator("#rectification-diff")
    expect(diff.locator("tr[data-field=last_name] ins")).to_have_text("Martin-Dupont")
    expect(diff.locator("tr[data-field=city] del")).to_have_text("Lile")
    act(page, "rectify")  # every proposed correction ticked: accept them all

    person.refresh_from_db()
    assert (person.last_name, person.city) == ("Martin-Dupont", "Lille")
    assert _status(dsr) == RequestStatus.COMPLETED

    page.goto(tracker_url)
    expect(page.locator("[data-field=status]")).to_have_text("Traitée")
    expect(page.locator("[data-step=completed]")).to_contain_text("Demande traitée")
    expect(page.locator("#recipients")).to_contain_text("Qui nous prévenons de la modification")
    final = emails_to(email)[-1]
    assert final.subject == "Votre demande a été traitée : Droit de rectification (art. 16 du RGPD)"
    assert "Nous avons traité votre demande" in final.body


def test_it_erases_and_tells_what_the_law_keeps_until_when_and_why(
    live_server, page, signed_in_dpo, make_person, make_purchase
):
    email = "alice.erasure@example.fr"
    person = make_person(email=email)
    today = timezone.localdate()
    recent = make_purchase(person=person, debited_on=today - relativedelta(months=2))
    old = make_purchase(person=person, debited_on=today - relativedelta(years=3))

    dsr, tracker_url = file_request(
        page,
        live_server,
        "erasure",
        email=email,
        fill=lambda page: page.get_by_label("Tout ce que vous détenez sur moi").check(),
    )

    signed_in_dpo()
    open_request(page, live_server, dsr)
    plan = page.locator("#erasure-plan")
    expect(plan.locator("tr[data-action=delete]").first).to_be_visible()
    undated = plan.locator("tr[data-action=keep]:not([data-until])")
    expect(undated.first).to_contain_text("Aussi longtemps que nécessaire")
    kept = [
        (row.get_attribute("data-until"), row.locator("td").last.inner_text())
        for row in plan.locator("tr[data-action=keep]").all()
    ]
    # Both invoices for 10 years from the close of their year, the recent card evidence for
    # 13 months from the debit (the old one is past it: deleted); the proof of the requests
    # for as long as it is needed.
    assert {until for until, _ in kept} == {
        (date(recent.debited_on.year, 12, 31) + relativedelta(years=10)).isoformat(),
        (date(old.debited_on.year, 12, 31) + relativedelta(years=10)).isoformat(),
        (recent.debited_on + relativedelta(months=13)).isoformat(),
        None,
    }
    act(page, "erase")

    assert not Person.objects.filter(email=email).exists()
    assert _status(dsr) == RequestStatus.PARTIALLY_COMPLETED

    page.goto(tracker_url)
    expect(page.locator("[data-field=status]")).to_have_text("Traitée en partie")
    step = page.locator("[data-step=partially_completed]")
    expect(step).to_contain_text("Ce que la loi nous oblige à conserver")
    final = emails_to(email)[-1]
    assert final.subject == "Nous avons effacé vos données"
    assert "Ce que la loi nous oblige à conserver, jusqu’à quand et pourquoi" in final.body
    lines = final.body.splitlines()
    for until, why in kept:  # what the DPO saw kept is what the person is told, and why
        period = f"jusqu’au {_french_date(date.fromisoformat(until))}" if until else "aussi"
        assert any(period in line and why in line for line in lines), (period, why)
    for remedy in REMEDIES_FR:
        assert remedy in final.body


def test_it_restricts_in_english_then_lifts_with_notice(
    live_server, page, signed_in_dpo, make_person
):
    email = "alice.restriction@example.fr"
    person = make_person(email=email)

    def fill(page):
        page.get_by_label("I contest the accuracy of my data, while you check it").check()
        page.get_by_label("Anything that helps us").fill("My purchase history is wrong.")

    dsr, tracker_url = file_request(
        page, live_server, "restriction", email=email, language="en", fill=fill
    )
    assert "/en/suivi/" in tracker_url
    acknowledged = emails_to(email)[-1]
    assert acknowledged.subject == "We received your request: Restriction (Art. 18)"

    signed_in_dpo()
    open_request(page, live_server, dsr)
    act(page, "restrict")  # the case the person chose, offered first
    restriction = Restriction.objects.get(person=person)
    assert restriction.case == "accuracy" and restriction.is_active
    completed = emails_to(email)[-1]
    assert completed.subject == "Your request is completed: Restriction (Art. 18)"
    for remedy in REMEDIES_EN:
        assert remedy in completed.body

    act(page, "lift")
    restriction.refresh_from_db()
    assert not restriction.is_active

    page.goto(tracker_url)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("[data-field=status]")).to_have_text("Completed")
    expect(page.locator("[data-step=completed]")).to_contain_text("Request completed")
    final = emails_to(email)[-1]
    assert final.subject == "We are lifting the restriction on your data"
    assert "GDPR article 18(3)" in final.body
    assert "I contest the accuracy of my data" in final.body


def test_it_stops_marketing_on_an_objection(live_server, page, signed_in_dpo):
    email = "alice.marketing@example.fr"
    dsr, tracker_url = file_request(
        page,
        live_server,
        "objection",
        email=email,
        fill=lambda page: page.get_by_label("La prospection commerciale").check(),
    )

    signed_in_dpo()
    open_request(page, live_server, dsr)
    expect(page.locator("#fulfilment")).to_contain_text(
        re.compile(r"Objet de l’opposition\s: La prospection commerciale")
    )
    expect(page.locator("#action-suspend")).to_have_count(0)  # no reason, no examination
    act(page, "stop-marketing")
    assert is_opposed(email=email)

    page.goto(tracker_url)
    expect(page.locator("[data-field=status]")).to_have_text("Traitée")
    final = emails_to(email)[-1]
    assert final.subject == "Votre demande a été traitée : Droit d’opposition (art. 21 du RGPD)"


def test_it_refuses_an_objection_on_compelling_grounds(
    live_server, page, signed_in_dpo, make_person
):
    email = "alice.objection@example.fr"
    person = make_person(email=email)
    grounds = "Nous devons conserver vos réservations pour défendre un litige en cours."

    def fill(page):
        page.get_by_label("Une autre utilisation fondée sur l’intérêt légitime").check()
        page.get_by_label("Votre situation particulière").fill("Je ne veux plus être profilée.")

    dsr, tracker_url = file_request(page, live_server, "objection", email=email, fill=fill)

    signed_in_dpo()
    open_request(page, live_server, dsr)
    act(page, "suspend")
    assert Restriction.objects.get(person=person).is_active
    assert _status(dsr) == RequestStatus.IN_PROGRESS

    def refuse(action):
        action.locator("input[value=refused]").check()
        action.locator("textarea").fill(grounds)

    act(page, "decide", refuse)
    assert not Restriction.objects.get(person=person).is_active
    assert _status(dsr) == RequestStatus.REFUSED

    page.goto(tracker_url)
    expect(page.locator("[data-field=status]")).to_have_text("Refusée")
    expect(page.locator("[data-step=refused]")).to_contain_text(grounds)
    lifted, refused = emails_to(email)[-2:]
    assert lifted.subject == "Nous allons lever le gel de l’utilisation de vos données"
    assert refused.subject == "Votre demande a été refusée : Droit d’opposition (art. 21 du RGPD)"
    assert "Des motifs légitimes et impérieux qui prévalent" in refused.body  # GDPR 21(1)
    assert grounds in refused.body
    for remedy in REMEDIES_FR:
        assert remedy in refused.body


def test_it_exports_portable_data_without_a_pdf(
    live_server, page, signed_in_dpo, make_person, make_purchase, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path  # the live server runs in this process: same storage
    email = "alice.portability@example.fr"
    make_purchase(person=make_person(email=email), description="Escape game à Lille")
    dsr, tracker_url = file_request(page, live_server, "portability", email=email)

    signed_in_dpo()
    open_request(page, live_server, dsr)
    act(page, "prepare-export")
    expect(page.locator("#fulfilment [data-export]")).to_have_count(1)
    assert _status(dsr) == RequestStatus.COMPLETED
    ready = emails_to(email)[-1]
    assert ready.subject == "Vos données sont prêtes à être téléchargées"

    page.goto(tracker_url)
    expect(page.locator("[data-field=status]")).to_have_text("Traitée")
    page.get_by_role("button", name="Recevoir un lien de téléchargement par e-mail").click()
    page.wait_for_url("**/lien/")
    page.goto(live_server.url + link_in(emails_to(email)[-1], "telecharger"))
    with page.expect_download() as download:
        page.get_by_role("button", name="Télécharger mes données").click()
    archive = tmp_path / "portability.zip"
    download.value.save_as(archive)

    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        purchases = json.loads(zf.read("purchases.json"))
    assert {"purchases.json", "purchases.csv"} <= set(names)
    assert "Escape game à Lille" in [r.get("description") for r in purchases["records"]]
    assert not [name for name in names if name.lower().endswith(".pdf")]
