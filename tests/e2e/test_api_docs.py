"""The API docs (Swagger UI from drf-spectacular-sidecar) render under the portal's CSP."""

from __future__ import annotations

import pytest

# serialized_rollback: the flush after a live_server test would otherwise drop the rows
# migrations create (the DPO group) for the tests that follow.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Records what the browser refused, whatever it prints on the console.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_it_renders_the_api_docs_without_csp_violations(live_server, page):
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else outside.append(request.url)
        ),
    )
    page.add_init_script(RECORD_VIOLATIONS)

    response = page.goto(live_server.url + "/api/docs/")
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp
    # Swagger UI fetched the schema and drew the operations, ours among them.
    page.locator(".opblock").first.wait_for(timeout=10_000)
    assert page.locator("#operations-requests-requests_submit").is_visible()
    assert page.locator("#operations-requests-requests_track").is_visible()

    violations = page.evaluate("window.cspViolations")
    csp_messages = [m for m in console if "Content Security Policy" in m]
    assert violations == [] and csp_messages == [], (violations, csp_messages)
    assert errors == []
    assert outside == []  # every asset is served locally (sidecar)
