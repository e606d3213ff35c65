"""Every public page in Chromium, in French and English: no CSP violation, no serious or
critical accessibility problem (axe-core), a screenshot of each; and the request form sent
with the keyboard alone.

Screenshots go to test-artifacts/screenshots/<language>-<page>.png (git-ignored), the cookie
banner taken off (<language>-cookie-banner.png shows it over the home page). axe-core
comes from tests/e2e/node_modules (`make test` runs `npm ci --prefix tests/e2e`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pages import STATUS, make_public_pages, space_session

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LANGUAGES = {"fr": "", "en": "/en"}

# Records what the browser refused, whatever it prints on the console.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile);
});
"""


@pytest.fixture
def site(live_server, settings):
    """Every public page's path, and a browser cookie holding a privacy-space session."""
    settings.RIGHTS_RATE_LIMIT_PER_IP = "100000/h"
    settings.RIGHTS_RATE_LIMIT_TRACKER_PER_IP = "100000/h"
    pages = make_public_pages()
    host = live_server.url.split("//", 1)[1].split(":")[0]
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": space_session(), "path": "/"}
    cookie["domain"] = host
    return live_server.url, pages, cookie


# axe-core's serious and critical findings on the page, as "rule (impact): elements".
AXE_SERIOUS = """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => v.id + " (" + v.impact + "): " + v.nodes.map(n => n.target.join(" ")).join(", "))"""


def _visit(page, url: str, name: str) -> None:
    response = page.goto(url)
    assert response.status == STATUS.get(name, 200), (url, response.status)
    # banner.js asked the API and drew the cookie banner: the page's scripts have run.
    page.locator("#okasio-consent").wait_for()


def test_every_public_page_keeps_the_csp_and_is_accessible(site, page):
    """One visit per page and language: CSP violations, axe-core's serious and critical
    findings, a screenshot. axe-core is added as an init script (Playwright's, which the
    page's CSP does not govern), so the pages are checked with their policy in force."""
    base, pages, cookie = site
    page.context.add_cookies([cookie])
    page.add_init_script(RECORD_VIOLATIONS)
    page.add_init_script(path=AXE)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    csp_problems, a11y_problems = {}, {}
    for language, prefix in LANGUAGES.items():
        for name, path in pages.items():
            where = f"{language} {name}"
            _visit(page, base + prefix + path, name)
            assert page.locator("html").get_attribute("lang") == language
            a11y = page.evaluate(AXE_SERIOUS)
            if a11y:
                a11y_problems[where] = a11y
            violations = page.evaluate("window.cspViolations")
            csp_messages = [m for m in console if "Content Security Policy" in m]
            if violations or csp_messages or errors:
                csp_problems[where] = (violations, csp_messages, list(errors))
            console.clear()
            errors.clear()
            if name == "home":  # the banner as a first visit shows it; elsewhere, the page
                page.screenshot(path=SCREENSHOTS / f"{language}-cookie-banner.png")
            page.locator("#okasio-consent").evaluate("banner => banner.remove()")
            page.screenshot(path=SCREENSHOTS / f"{language}-{name}.png", full_page=True)
    assert csp_problems == {}
    assert a11y_problems == {}


def test_the_request_form_works_with_the_keyboard_alone(site, page):
    from rights.models import DataSubjectRequest

    base, _, _ = site
    page.goto(base + "/en/demande/restriction/")

    def focused() -> str:
        return page.evaluate(
            "() => { const e = document.activeElement;"
            " return e.name || e.textContent.trim() || e.tagName; }"
        )

    def tab_to(expected: str) -> None:
        """Press Tab until `expected` (a field's name, a button's text) has the focus."""
        for _ in range(10):
            page.keyboard.press("Tab")
            if focused() == expected:
                return
        pytest.fail(f"Tab did not reach {expected!r} (stopped on {focused()!r})")

    # Fields in the page's order; the language select keeps "English" (the page's language).
    tab_to("email")
    page.keyboard.type("keyboard@example.fr")
    tab_to("name")
    page.keyboard.type("Kim Keyboard")
    tab_to("case")  # the first radio of "Your situation": Space picks it
    page.keyboard.press("Space")
    assert page.locator("input[name=case]:checked").count() == 1
    tab_to("explanation")
    page.keyboard.type("I think my city is wrong.")
    tab_to("Send my request")
    page.keyboard.press("Enter")
    page.wait_for_url("**/en/demande/envoyee/")
    dsr = DataSubjectRequest.objects.get(email="keyboard@example.fr")
    assert (dsr.kind, dsr.name, dsr.language) == ("restriction", "Kim Keyboard", "en")
