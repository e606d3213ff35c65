"""The person's consents in the privacy space (B12): seen and changed in one click."""

from __future__ import annotations

from consent import services
from consent.models import Action, ConsentRecord, ConsentSource, OppositionEntry
from tests.conftest import NOW


def test_it_needs_the_privacy_space_session(client, db):
    response = client.get("/vie-privee/consentements/")
    assert response.status_code == 302 and response["Location"] == "/espace/connexion/"
    response = client.post("/vie-privee/consentements/marketing/", {"marketing": "on"})
    assert response.status_code == 302
    assert not ConsentRecord.objects.exists()


def test_it_is_linked_from_the_privacy_space(privacy_client, db):
    page = privacy_client().get("/espace/").content.decode()
    assert 'href="/vie-privee/consentements/"' in page


def test_it_shows_the_marketing_box_unticked_by_default(privacy_client, db):
    page = privacy_client().get("/en/vie-privee/consentements/").content.decode()
    assert 'name="marketing" value="on">' in page  # no "checked"
    assert "We keep no card for you." in page
    assert "data-okasio-consent-open" in page


def test_it_grants_then_withdraws_marketing(privacy_client, db):
    client = privacy_client()
    client.post("/vie-privee/consentements/marketing/", {"marketing": "on", "shown": "off"})
    assert services.may_send_marketing(email="alice@example.fr", now=NOW.replace(year=2099))
    page = client.get("/vie-privee/consentements/").content.decode()
    assert 'value="on" checked' in page
    client.post("/vie-privee/consentements/marketing/", {"shown": "on"})
    actions = list(ConsentRecord.objects.order_by("id").values_list("action", "source"))
    assert actions == [
        (Action.GRANTED, ConsentSource.PRIVACY_SPACE),
        (Action.WITHDRAWN, ConsentSource.PRIVACY_SPACE),
    ]
    assert OppositionEntry.objects.count() == 1


def test_it_ticks_the_box_of_a_client_who_receives_newsletters_without_a_record(
    privacy_client, make_person
):
    # Soft opt-in (CPCE L34-5): a client with no record is mailed, so the box must say so
    # (B10, B12); it showed unticked while the newsletters kept coming.
    make_person(is_client=True)
    page = privacy_client().get("/en/vie-privee/consentements/").content.decode()
    assert 'name="marketing" value="on" checked>' in page
    assert "You receive them as an Okasio client" in page
    page = privacy_client().get("/vie-privee/consentements/").content.decode()
    assert "Vous les recevez en tant que client d’Okasio\u00a0:" in page


def test_unticking_the_client_box_withdraws_and_objects(privacy_client, make_person):
    make_person(is_client=True)
    client = privacy_client()

    client.post("/vie-privee/consentements/marketing/", {"shown": "on"})

    record = ConsentRecord.objects.get()
    assert (record.action, record.source) == (Action.WITHDRAWN, ConsentSource.PRIVACY_SPACE)
    assert OppositionEntry.objects.count() == 1
    assert not services.may_send_marketing(email="alice@example.fr", now=NOW.replace(year=2099))
    page = client.get("/en/vie-privee/consentements/").content.decode()
    assert 'name="marketing" value="on">' in page  # no "checked"
    assert "You receive them as an Okasio client" not in page


def test_saving_the_box_as_shown_records_nothing(privacy_client, make_person):
    """B10: a box the soft opt-in shows ticked, saved unchanged, is no consent (a consent
    never comes from a pre-ticked box); likewise, saving an unticked box unchanged is no
    withdrawal."""
    make_person(is_client=True)
    client = privacy_client()
    assert 'name="shown" value="on"' in client.get("/vie-privee/consentements/").content.decode()

    client.post("/vie-privee/consentements/marketing/", {"marketing": "on", "shown": "on"})
    client.post("/vie-privee/consentements/marketing/", {"shown": "off"})

    assert not ConsentRecord.objects.exists()
    assert not OppositionEntry.objects.exists()
