"""The public page "The data we process" (REQUIREMENTS B13, B16, C7, D2)."""

from __future__ import annotations

from django.utils import translation


def test_it_lists_recipients_with_their_countries_and_transfer_bases(client):
    response = client.get("/en/donnees/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>The data we process</h1>" in page
    for text in [
        "Google LLC",
        "United States",
        "EU adequacy decision (EU-US Data Privacy Framework)",
        "OVH SAS",
        "Stripe Payments Europe Ltd",
        "Ireland",
        "Belgium",
        "[à confirmer",
    ]:
        assert text in page


def test_it_serves_the_page_in_french_at_the_root(client):
    response = client.get("/donnees/")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="fr">' in page
    assert "Google LLC" in page
    assert "Stripe Payments Europe Ltd" in page


def test_it_names_the_controller_and_the_cnil(client, settings):
    # B13, B16, D3: controller identity and contact; complaint to the CNIL or another authority.
    page = client.get("/en/donnees/").content.decode()
    assert settings.CONTROLLER["name"] in page
    assert settings.CONTROLLER["privacy_email"] in page
    assert "cnil.fr" in page
    assert "where you live, work" in page


def test_it_shows_a_dpo_only_when_one_is_designated(client, settings):
    assert "Data protection officer:" not in client.get("/en/donnees/").content.decode()
    settings.CONTROLLER = {**settings.CONTROLLER, "dpo_email": "dpo@okasio.fr"}
    assert "dpo@okasio.fr" in client.get("/en/donnees/").content.decode()


def test_it_shows_the_retention_periods_from_settings(client, settings):
    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, "card_evidence_deferred_debit": 17}
    page = client.get("/en/donnees/").content.decode()
    assert "Deferred-debit cards: 17 months after the debit date" in page
    assert "10 years after the close of the financial year of the invoice" in page


def test_it_lists_the_fields_by_their_human_names(client):
    with translation.override("en"):
        page = client.get("/en/donnees/").content.decode()
    assert "Email address" in page
    assert "IP address" in page
    assert "stripe_customer_id" not in page
