"""The privacy policy, built from the inventory and the settings (B13, B16, C7, D1-D14)."""

from __future__ import annotations

import re


def _page(client, url="/en/politique-de-confidentialite/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_it_serves_the_policy_in_french_and_english(client, db):
    assert '<html lang="fr">' in _page(client, "/politique-de-confidentialite/")
    assert "<h1>Privacy policy</h1>" in _page(client)


def test_it_never_claims_no_transfer_outside_the_eu(client, db, settings):
    # C7, D2: Google Analytics sends data to Google LLC in the United States.
    settings.GA_MEASUREMENT_ID = "G-TEST123"
    page = _page(client)
    for claim in [r"no transfer outside", r"aucun transfert en dehors", r"not transferred outside"]:
        assert not re.search(claim, page, re.IGNORECASE)
    assert "Google LLC" in page and "United States" in page
    assert "EU-US Data Privacy Framework" in page


def test_it_drops_the_continued_browsing_clause(client, db):
    # D1: continued browsing is refusal, never consent.
    page = _page(client)
    assert "Continuing to browse, scrolling or closing the banner is not consent" in page
    assert "using the site is never taken as consent" in page


def test_it_states_the_right_to_object_to_marketing_separately(client, db):
    # B9, D4: clearly and separately from any other information.
    page = _page(client)
    section = page[page.index('id="marketing-objection"') :]
    section = section[: section.index("</section>")]
    assert "without giving a reason" in section and "one-click unsubscribe" in section


def test_it_gives_the_procedure_deadlines_and_cnil_complaint(client, db):
    # D5, D11, B13: one month, +2 months once, the CNIL and Art. 77.
    page = _page(client)
    assert "within one month" in page and "two more months" in page
    assert "cnil.fr" in page
    assert "where you live, work or where the problem took place (GDPR article 77)" in page


def test_it_gives_legal_bases_and_precise_retention_from_settings(client, db, settings):
    settings.RETENTION_MONTHS = {**settings.RETENTION_MONTHS, "opposition_list": 48}
    settings.CONSENT_CHOICE_MONTHS = 5
    page = _page(client)
    assert "Your consent (GDPR 6(1)(a))" in page
    assert "A legal obligation (GDPR 6(1)(c))" in page
    assert "10 years after the close of the financial year of the invoice" in page
    assert "for 48 months" in page
    assert "for 5 months" in page


def test_it_is_linked_from_every_page_with_the_cookie_choices(client, db):
    page = _page(client, "/")
    assert 'href="/politique-de-confidentialite/"' in page
    assert "data-okasio-consent-open" in page
    assert "/static/consent/banner.js" in page
