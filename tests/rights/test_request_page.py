"""The request page in the back office: what we hold, the timeline, the action buttons."""

from __future__ import annotations

import time_machine
from django.contrib.messages import get_messages
from django.test import Client

from rights.models import DataSubjectRequest, RequestStatus
from tests.conftest import NOW


def page_url(dsr) -> str:
    return f"/admin/rights/datasubjectrequest/{dsr.pk}/change/"


def action_url(dsr, action: str) -> str:
    return f"/admin/rights/datasubjectrequest/{dsr.pk}/act/{action}/"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@time_machine.travel(NOW, tick=False)
def test_it_shows_the_request_what_we_hold_and_the_timeline(
    staff_client, bob, make_dsr, make_person, make_purchase
):
    person = make_person(email="alice@example.fr")
    make_purchase(person=person)
    make_purchase(person=person)
    dsr = make_dsr(confirm=True)

    response = staff_client(bob).get(page_url(dsr))

    assert response.status_code == 200
    html = response.content.decode()
    holdings = {h.model_label: h.count for h in response.context["holdings"]}
    assert holdings == {"people.Person": 1, "people.Purchase": 2}
    assert 'data-count="2"' in html
    actions = [e.action for e in response.context["timeline"]]
    assert actions[:3] == ["request.submitted", "request.confirmed", "request.acknowledged"]
    assert 'data-action="request.confirmed"' in html
    for slug in ("start", "ask", "extend", "refuse", "prepare-export", "assign-me"):
        assert f'id="action-{slug}"' in html
    assert "delete" not in response.context["adminform"].form.fields


@time_machine.travel(NOW, tick=False)
def test_it_shows_what_an_address_without_a_customer_record_holds(staff_client, bob, make_dsr):
    """Found by the address's keyed hash, as the export and the erasure plan find them."""
    from consent import services as consent_services
    from consent.models import OppositionChannel

    consent_services.add_to_opposition_list(
        email="Carla@Example.fr", channel=OppositionChannel.EMAIL, now=NOW
    )
    dsr = make_dsr(email="carla@example.fr", confirm=True)

    response = staff_client(bob).get(page_url(dsr))

    holdings = {h.model_label: h.count for h in response.context["holdings"]}
    assert holdings == {"consent.OppositionEntry": 1}  # the requests are shown on their own
    assert "No customer record under this address." not in response.content.decode()


@time_machine.travel(NOW, tick=False)
def test_it_extends_from_the_request_page(staff_client, bob, make_dsr):
    dsr = make_dsr(confirm=True)
    client = staff_client(bob)

    response = client.post(
        action_url(dsr, "extend"),
        {"extend-reason": "complexity", "extend-justification": "Three systems to search"},
    )

    assert response.status_code == 302 and response["Location"].endswith(page_url(dsr))
    dsr.refresh_from_db()
    assert dsr.extended_due_on is not None
    assert any("Délai prolongé" in m for m in messages_of(response))  # admin in French


@time_machine.travel(NOW, tick=False)
def test_it_says_why_an_action_is_refused(staff_client, bob, make_dsr):
    dsr = make_dsr(confirm=True)
    client = staff_client(bob)

    response = client.post(action_url(dsr, "extend"), {"extend-reason": "complexity"})

    assert response.status_code == 302
    assert any("justification écrite" in m for m in messages_of(response))
    dsr.refresh_from_db()
    assert dsr.extended_at is None


@time_machine.travel(NOW, tick=False)
def test_it_runs_each_action_through_its_service(staff_client, bob, make_dsr):
    dsr = make_dsr(confirm=True)
    client = staff_client(bob)

    client.post(action_url(dsr, "assign-me"))
    client.post(action_url(dsr, "start"))
    client.post(action_url(dsr, "message"), {"message-message": "Nearly there."})
    client.post(action_url(dsr, "identity"), {"identity-method": "known_channel"})
    client.post(
        action_url(dsr, "refuse"),
        {"refuse-ground": "legal_exception", "refuse-reasons": "Kept by law."},
    )

    dsr.refresh_from_db()
    assert dsr.assignee == bob
    assert dsr.identity_check_method == "known_channel"
    assert dsr.status == RequestStatus.REFUSED
    assert dsr.outcome_reasons == "Kept by law."


def test_it_accepts_actions_by_post_only_with_csrf(bob, make_dsr, make_totp_device):
    from django_otp import DEVICE_ID_SESSION_KEY

    dsr = make_dsr(confirm=True)
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = make_totp_device(bob).persistent_id
    session.save()

    assert client.get(action_url(dsr, "start")).status_code == 405
    assert client.post(action_url(dsr, "start")).status_code == 403  # no CSRF token
    assert DataSubjectRequest.objects.get(pk=dsr.pk).status == RequestStatus.OPEN


def test_it_404s_an_unknown_action(staff_client, bob, make_dsr):
    dsr = make_dsr(confirm=True)
    assert staff_client(bob).post(action_url(dsr, "delete")).status_code == 404


def test_it_offers_no_action_on_a_closed_request(staff_client, bob, make_dsr):
    dsr = make_dsr(confirm=True)
    client = staff_client(bob)
    client.post(
        action_url(dsr, "refuse"), {"refuse-ground": "not_applicable", "refuse-reasons": "No."}
    )

    response = client.get(page_url(dsr))

    assert response.context["request_actions"] == []


@time_machine.travel(NOW, tick=False)
def test_it_shows_what_the_person_asked_as_their_form_asked_it(staff_client, bob, make_dsr):
    """The DPO reads questions and answers in French, not the stored keys and codes."""
    erasure = make_dsr(kind="erasure", details={"scope": "part", "part": "Mes avis"}, confirm=True)
    rectification = make_dsr(
        kind="rectification",
        details={"what_is_wrong": "Ma ville", "proposed": {"city": "Roubaix"}},
        confirm=True,
    )

    erasure_page = staff_client(bob).get(page_url(erasure))
    rectification_page = staff_client(bob).get(page_url(rectification))

    assert erasure_page.context["details"] == [
        ("Que devons-nous effacer\u00a0?", "Une partie seulement"),
        ("Quelles données", "Mes avis"),
    ]
    assert "scope" not in erasure_page.content.decode().split('id="details"')[1][:300]
    assert rectification_page.context["details"] == [
        ("Ce qui est inexact ou incomplet", "Ma ville"),
        ("Ville (valeur proposée)", "Roubaix"),
    ]
