"""A post-mortem directive end to end in Chromium (LIL art. 85; REQUIREMENTS B14), in French.

Alice records, in her privacy space, that her data are to be erased after her death and
names Chloé to see to it. Later Chloé writes to Okasio; the DPO logs her letter in the back
office as a request about the deceased, sees the directive on the request page, and erases.
Alice's records are gone, and Chloé is told, in words about the person who died.
"""

from __future__ import annotations

import contextlib

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from people.models import Person
from rights.models import DataSubjectRequest, PostMortemDirective, RequestStatus
from tests.e2e.conftest import act, emails_to, link_in, log_in, open_request

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ALICE = "alice.directive@example.fr"
CHLOE = "chloe.directive@example.fr"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    with contextlib.suppress(Exception):
        cache.clear()


def test_the_person_a_directive_names_has_the_deceased_data_erased(
    live_server, page, dpo, make_totp_device, make_person
):
    make_person(email=ALICE)

    # Alice signs in to her privacy space with an emailed link and records her directive.
    page.goto(live_server.url + "/espace/connexion/")
    page.get_by_label("Votre adresse e-mail").fill(ALICE)
    page.get_by_role("button", name="Recevoir un lien par e-mail").click()
    page.wait_for_url("**/espace/connexion/envoyee/")
    page.goto(live_server.url + link_in(emails_to(ALICE)[-1], "connexion"))
    page.locator("#enter").click()
    page.wait_for_url("**/espace/")
    page.goto(live_server.url + "/espace/directives/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vos données après votre décès")
    page.get_by_label("Effacer mes données").check()
    page.get_by_label("Personne que je désigne pour les exécuter (facultatif)").fill("Chloé Martin")
    page.get_by_label("Son adresse e-mail").fill(CHLOE)
    page.get_by_role("button", name="Enregistrer mes directives").click()
    expect(page.get_by_role("status")).to_contain_text("Vos directives sont enregistrées")
    directive = PostMortemDirective.objects.get()
    assert (directive.instruction, directive.executor_email) == ("erase", CHLOE)

    # Chloé's letter reaches Okasio; the DPO logs it as a request about the deceased.
    dpo.user_permissions.add(Permission.objects.get(codename="add_datasubjectrequest"))
    log_in(page, live_server, make_totp_device(dpo))
    page.goto(live_server.url + "/admin/rights/datasubjectrequest/add/")
    page.locator("#id_kind").select_option("erasure")
    page.locator("#id_channel").select_option("post")
    page.locator("#id_email").fill(CHLOE)
    page.locator("#id_name").fill("Chloé Martin")
    page.locator("#id_language").select_option("fr")
    received = timezone.localtime()
    page.locator("#id_received_at_0").fill(received.strftime("%d/%m/%Y"))
    page.locator("#id_received_at_1").fill("09:00:00")
    page.locator("#id_details").fill('{"scope": "everything"}')
    page.locator("#id_deceased_email").fill(ALICE)
    with page.expect_navigation():
        page.locator("input[name=_save]").click()
    dsr = DataSubjectRequest.objects.get(email=CHLOE)
    assert (dsr.deceased_email, dsr.status) == (ALICE, RequestStatus.OPEN)

    # The request page says whose data it is about and shows the directive; the DPO erases.
    open_request(page, live_server, dsr)
    expect(page.locator("#deceased")).to_contain_text(ALICE)
    expect(page.locator("#directive")).to_contain_text("Effacer mes données")
    act(page, "erase")

    assert not Person.objects.filter(email=ALICE).exists()
    final = emails_to(CHLOE)[-1]
    assert final.subject == "Nous avons effacé les données de la personne décédée"
    assert "pour la personne décédée, comme le prévoient ses directives" in final.body
    assert "Son adresse figure désormais sur notre liste d’opposition" in final.body
    assert not [m for m in emails_to(ALICE) if "effacé" in m.subject]  # nothing to her address
