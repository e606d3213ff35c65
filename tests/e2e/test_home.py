from __future__ import annotations

import pytest

# serialized_rollback: the flush after a live_server test would otherwise drop the rows
# migrations create (the DPO group) for the tests that follow.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_it_shows_the_rights_in_french(live_server, page):
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text() == "Vos données, vos droits"
    page.get_by_role("link", name="Les données que nous traitons").first.click()
    page.wait_for_url("**/donnees/")
    assert page.get_by_role("heading", level=1).is_visible()


def test_it_switches_to_english(live_server, page):
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/en/")
    assert page.get_by_role("heading", level=1).inner_text() == "Your data, your rights"
