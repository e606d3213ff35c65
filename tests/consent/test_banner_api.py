"""The banner's JSON API: state, choices, version, the 6-month memory (C1-C5, B12)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from dateutil.relativedelta import relativedelta

from consent import banner, services
from consent.models import Action, ConsentRecord, ConsentSource, ConsentText, TextKind
from tests.conftest import NOW

API = "/api/v1/consent/"


def _choose(client, **choices):
    state = client.get(API).json()
    response = client.post(
        API,
        {"version": state["version"], "choices": choices, "browser_id": state["browser_id"]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    saved = response.json()
    client.cookies[saved["cookie_name"]] = saved["cookie"]
    return saved


def test_it_asks_a_new_visitor_with_everything_off(client, db):
    state = client.get(API + "?lang=fr").json()
    assert state["ask"] is True
    assert state["choices"] is None
    assert [p["key"] for p in state["banner"]["purposes"]] == ["audience", "advertising", "social"]
    texts = state["banner"]["texts"]
    assert {"accept_all", "refuse_all", "customise"} <= texts.keys()
    assert state["banner"]["policy_url"] == "/politique-de-confidentialite/#cookies"


def test_it_lists_the_third_parties_of_each_purpose(client, db):
    purposes = client.get(API + "?lang=en").json()["banner"]["purposes"]
    audience = purposes[0]
    assert audience["third_parties"][0]["name"] == "Google LLC (Google Analytics)"
    assert audience["third_parties"][0]["country"] == "United States"
    assert "Data Privacy Framework" in audience["third_parties"][0]["transfer"]


def test_it_serves_the_texts_in_the_asked_language(client, db):
    en = client.get(API + "?lang=en").json()["banner"]["texts"]
    assert en["refuse_all"] == "Refuse all"
    assert "6 months" in en["intro"]


def test_it_derives_the_version_from_the_content(settings, db):
    before = banner.version()
    assert before == banner.content_hash(banner.full_snapshot())
    settings.CONSENT_CHOICE_MONTHS = 5  # the intro text changes, so the version does
    assert banner.version() != before


def test_it_records_one_append_only_record_per_purpose_with_the_text_shown(client, db):
    saved = _choose(client, audience=True, advertising=False, social=False)
    records = ConsentRecord.objects.filter(browser_id=saved["browser_id"])
    assert {(r.purpose, r.action) for r in records} == {
        ("audience", Action.GRANTED),
        ("advertising", Action.REFUSED),
        ("social", Action.REFUSED),
    }
    assert {r.source for r in records} == {ConsentSource.BANNER}
    text = ConsentText.objects.get(hash=saved["version"])
    assert text.kind == TextKind.BANNER
    assert text.snapshot["fr"]["purposes"][0]["key"] == "audience"
    assert text.snapshot["en"]["texts"]["accept_all"] == "Accept all"


def test_it_looks_the_text_up_only_until_it_knows_it_is_stored(
    db, django_capture_on_commit_callbacks, django_assert_num_queries
):
    def choose():
        services.record_cookie_choice(
            browser_id=None, version=banner.version(), choices={"audience": True}, now=NOW
        )

    with django_capture_on_commit_callbacks(execute=True):
        choose()  # stores the text, and remembers it once that commits
    with django_assert_num_queries(1):  # the records' INSERT alone
        choose()
    assert ConsentText.objects.count() == 1
    assert ConsentRecord.objects.filter(text_id=banner.version()).count() == 6


@pytest.mark.django_db(transaction=True)
def test_it_stores_the_text_again_if_it_vanished(db):
    """A backup restored under a running process: one choice fails, the next heals."""
    from django.db import IntegrityError

    def choose():
        services.record_cookie_choice(
            browser_id=None, version=banner.version(), choices={}, now=NOW
        )

    choose()
    ConsentRecord.objects.all().delete()
    ConsentText.objects.all().delete()
    with pytest.raises(IntegrityError):
        choose()
    choose()
    assert ConsentText.objects.filter(hash=banner.version()).exists()
    assert ConsentRecord.objects.count() == 3


def test_it_remembers_the_choice_and_records_a_withdrawal(client, db):
    first = _choose(client, audience=True, advertising=True, social=True)
    state = client.get(API).json()
    assert state["ask"] is False
    assert state["choices"] == {"audience": True, "advertising": True, "social": True}
    second = _choose(client, audience=False, advertising=False, social=False)
    assert second["browser_id"] == first["browser_id"]
    latest = ConsentRecord.objects.for_browser(first["browser_id"]).current()
    assert {r.action for r in latest.values()} == {Action.WITHDRAWN}


def test_it_reads_the_choice_from_the_state_parameter_for_embedding_sites(client, db):
    saved = _choose(client, audience=False, advertising=False, social=False)
    client.cookies.clear()
    assert client.get(API).json()["ask"] is True
    assert client.get(API, {"state": saved["cookie"]}).json()["ask"] is False


def test_it_refuses_a_choice_made_on_an_old_banner(client, db):
    response = client.post(
        API, {"version": "0" * 64, "choices": {"audience": True}}, content_type="application/json"
    )
    assert response.status_code == 409
    assert not ConsentRecord.objects.exists()


def test_it_refuses_unknown_purposes(client, db):
    version = client.get(API).json()["version"]
    response = client.post(
        API, {"version": version, "choices": {"tracking": True}}, content_type="application/json"
    )
    assert response.status_code == 400


def test_it_asks_again_at_once_when_the_banner_changes(client, db, settings):
    _choose(client, audience=False, advertising=False, social=False)
    settings.CONSENT_CHOICE_MONTHS = 4
    assert client.get(API).json()["ask"] is True


def test_it_keeps_a_refusal_5_months_29_days_and_asks_again_after_6_months(client, db):
    # C5: the choice holds for CONSENT_CHOICE_MONTHS, then the banner asks again.
    with time_machine.travel(NOW, tick=False):
        saved = _choose(client, audience=False, advertising=False, social=False)
    assert saved["max_age"] == int(timedelta(days=181).total_seconds())  # 15 Jan -> 15 Jul
    with time_machine.travel(NOW + relativedelta(months=5, days=29), tick=False):
        assert client.get(API).json()["ask"] is False
    with time_machine.travel(NOW + relativedelta(months=6, days=1), tick=False):
        assert client.get(API).json()["ask"] is True


def test_it_keeps_an_acceptance_for_6_months_too(client, db):
    with time_machine.travel(NOW, tick=False):
        _choose(client, audience=True, advertising=True, social=True)
    with time_machine.travel(NOW + relativedelta(months=5, days=29), tick=False):
        assert client.get(API).json()["choices"]["audience"] is True
    with time_machine.travel(NOW + relativedelta(months=6, days=1), tick=False):
        assert client.get(API).json()["choices"] is None


def test_it_ignores_a_malformed_cookie(client, db):
    for value in ["", "garbage", "1.x.y.z.000", "1." + "a" * 32 + ".v.notanumber.000"]:
        assert client.get(API, {"state": value}).json()["ask"] is True


def test_it_lets_the_embedding_sites_call_it_and_no_one_else(client, db):
    allowed = client.get(API, headers={"Origin": "https://www.okasio.co"})
    assert allowed["Access-Control-Allow-Origin"] == "https://www.okasio.co"
    other = client.get(API, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other
    preflight = client.options(API, headers={"Origin": "https://www.okasio.co"})
    assert preflight.status_code == 204
    assert "POST" in preflight["Access-Control-Allow-Methods"]


def test_it_gives_google_analytics_settings_only_when_configured(client, db, settings):
    assert client.get(API).json()["analytics"] is None
    settings.GA_MEASUREMENT_ID = "G-TEST123"
    analytics = client.get(API).json()["analytics"]
    assert analytics["measurement_id"] == "G-TEST123"
    assert analytics["cookie_expires"] <= 13 * 31 * 24 * 3600  # C5
    assert analytics["cookie_update"] is False  # not extended on later visits (C5, C6)


def test_it_answers_from_the_cookie_without_touching_the_database(
    client, db, django_assert_num_queries
):
    # The busiest endpoint: every page view of every visitor calls it.
    saved = _choose(client, audience=False, advertising=False, social=False)
    with django_assert_num_queries(0):
        assert client.get(API, {"state": saved["cookie"]}).json()["ask"] is False
