"""The cookie banner in Chromium (REQUIREMENTS C1, C2, C3, C5, B12).

No request leaves the machine: Google's hosts are routed to a local stub (or aborted), and
what counts is when the page *attempted* them: never before audience-measurement consent.
"""

from __future__ import annotations

import time

import pytest
import time_machine
from dateutil.relativedelta import relativedelta

from tests.conftest import NOW

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GA_ID = "G-E2ETEST01"
GOOGLE_HOSTS = ("google-analytics.com", "googletagmanager.com", "analytics.google.com")
# Stands in for gtag.js: sets the cookie the real one would, so the cookie check means something.
GTAG_STUB = "document.cookie = '_ga=GA1.1.123.456; Max-Age=33696000; Path=/';"
THIRTEEN_MONTHS = (NOW + relativedelta(months=13) - NOW).total_seconds()


@pytest.fixture
def ga_settings(settings):
    from csp.constants import NONCE, SELF

    settings.GA_MEASUREMENT_ID = GA_ID
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    settings.CONTENT_SECURITY_POLICY = {
        "DIRECTIVES": {
            **directives,
            "script-src": [SELF, NONCE, "https://www.googletagmanager.com"],
            "connect-src": [SELF, "https://*.google-analytics.com"],
        }
    }


@pytest.fixture
def google(page):
    """Record every request to Google's hosts; fulfil gtag.js with the stub, abort the rest."""
    attempts: list[str] = []
    page.on(
        "request",
        lambda request: (
            attempts.append(request.url)
            if any(host in request.url for host in GOOGLE_HOSTS)
            else None
        ),
    )

    def handle(route):
        if "googletagmanager.com/gtag/js" in route.request.url:
            route.fulfill(status=200, content_type="application/javascript", body=GTAG_STUB)
        else:
            route.abort()

    page.route("**/*google*/**", handle)
    return attempts


def _banner(page):
    return page.locator("#okasio-consent")


def _ga_cookies(page):
    return [c for c in page.context.cookies() if c["name"].startswith("_ga")]


def test_it_runs_nothing_before_consent_then_google_analytics_after(
    live_server, page, ga_settings, google
):
    # C1: load, scroll, click through three pages: no _ga cookie, no request to Google.
    page.goto(live_server.url + "/")
    _banner(page).wait_for()
    page.mouse.wheel(0, 2000)
    page.get_by_role("link", name="Les données que nous traitons").first.click()
    page.wait_for_url("**/donnees/")
    page.mouse.wheel(0, 4000)
    page.locator('footer a[href="/politique-de-confidentialite/"]').click()
    page.wait_for_url("**/politique-de-confidentialite/")
    page.get_by_role("link", name="Vos droits").first.click()
    page.wait_for_url(live_server.url + "/")
    _banner(page).wait_for()
    page.wait_for_timeout(300)
    assert google == []
    assert _ga_cookies(page) == []

    # Then the visitor accepts: Google Analytics is loaded, and only now.
    _banner(page).locator('[data-okc="accept"]').click()
    _banner(page).wait_for(state="detached")
    page.wait_for_function("() => document.cookie.includes('_ga=')")
    assert any("googletagmanager.com/gtag/js?id=" + GA_ID in url for url in google)
    assert _ga_cookies(page)
    config = page.evaluate(
        "() => Array.from(window.dataLayer).map(a => Array.from(a)).find(a => a[0] === 'config')"
    )
    assert config[1] == GA_ID
    assert config[2]["cookie_expires"] <= THIRTEEN_MONTHS and config[2]["cookie_update"] is False

    # On the next page the choice holds: no banner, and GA loads straight away.
    google.clear()
    page.goto(live_server.url + "/donnees/")
    page.wait_for_function("() => window.dataLayer !== undefined")
    assert _banner(page).count() == 0


def test_it_keeps_every_cookie_under_13_months(live_server, page, ga_settings, google):
    # C5: inspect the cookie jar after a visit, a choice and the language switch.
    page.goto(live_server.url + "/")
    _banner(page).locator('[data-okc="accept"]').click()
    _banner(page).wait_for(state="detached")
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/en/")
    now = time.time()
    cookies = page.context.cookies()
    assert {c["name"] for c in cookies} >= {"okasio_consent", "csrftoken"}
    for cookie in cookies:
        if cookie["expires"] != -1:  # -1: a session cookie
            assert cookie["expires"] - now <= THIRTEEN_MONTHS + 60, cookie["name"]
    consent = next(c for c in cookies if c["name"] == "okasio_consent")
    assert consent["expires"] - now <= (NOW + relativedelta(months=6) - NOW).total_seconds() + 60


def test_it_gives_refuse_and_accept_the_same_size_and_style(live_server, page):
    # C2: same size, same style, one click each; "Customise" ("Personnaliser") too.
    page.goto(live_server.url + "/en/")
    buttons = [
        _banner(page).locator(f'[data-okc="{name}"]') for name in ["accept", "refuse", "customise"]
    ]
    assert [b.inner_text() for b in buttons] == ["Accept all", "Refuse all", "Customise"]
    styles = [
        b.evaluate(
            """el => { const s = getComputedStyle(el); const r = el.getBoundingClientRect();
            return {width: Math.round(r.width), height: Math.round(r.height), color: s.color,
              background: s.backgroundColor, border: s.border, font: s.font,
              padding: s.padding, radius: s.borderRadius}; }"""
        )
        for b in buttons
    ]
    assert styles[0] == styles[1] == styles[2]


def test_it_offers_each_purpose_off_by_default_with_its_third_parties(live_server, page):
    # C3
    page.goto(live_server.url + "/en/")
    _banner(page).locator('[data-okc="customise"]').click()
    switches = _banner(page).get_by_role("switch")
    assert switches.count() == 3
    assert [switches.nth(i).is_checked() for i in range(3)] == [False, False, False]
    assert "Google LLC (Google Analytics) (United States)" in _banner(page).inner_text()


def test_it_reopens_the_choices_from_the_footer_to_withdraw(live_server, page, ga_settings, google):
    # B12: withdrawing is as easy as giving, from a link on every page.
    page.goto(live_server.url + "/en/")
    _banner(page).locator('[data-okc="accept"]').click()
    _banner(page).wait_for(state="detached")
    page.wait_for_function("() => document.cookie.includes('_ga=')")
    page.locator("footer [data-okasio-consent-open]").click()
    audience = _banner(page).get_by_role("switch", name="Audience measurement")
    assert audience.is_checked()
    _banner(page).locator('[data-okc="refuse"]').click()
    _banner(page).wait_for(state="detached")
    assert _ga_cookies(page) == []
    page.reload()
    page.wait_for_load_state("networkidle")
    assert _banner(page).count() == 0  # the refusal is remembered


def test_it_asks_again_after_6_months_not_before(live_server, page):
    # C5: refuse; 5 months 29 days later, no banner; 6 months and a day later, the banner.
    # The server's clock is moved (time-machine); the browser keeps the same cookie.
    with time_machine.travel(NOW, tick=True):
        page.goto(live_server.url + "/")
        _banner(page).locator('[data-okc="refuse"]').click()
        _banner(page).wait_for(state="detached")
    with time_machine.travel(NOW + relativedelta(months=5, days=29), tick=True):
        page.goto(live_server.url + "/donnees/")
        page.wait_for_load_state("networkidle")
        assert _banner(page).count() == 0
    with time_machine.travel(NOW + relativedelta(months=6, days=1), tick=True):
        page.goto(live_server.url + "/donnees/")
        _banner(page).wait_for()
