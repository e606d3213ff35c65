"""The Content-Security-Policy is enforced on every public page, in both languages.

Each page's response carries the policy, whose script-src allows neither inline code nor
eval; every <script> in the page is a same-origin file or carries the response's nonce, and
nothing relies on what the policy blocks (inline handlers, javascript: URLs, inline styles).
The browser's side (no violation reported by Chromium) is tests/e2e/test_public_pages.py.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.conf import settings

from tests.pages import IN_SPACE, STATUS, make_public_pages, space_session

FORBIDDEN_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "http:")


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


def _check(response, path: str) -> None:
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"{path}: no Content-Security-Policy"
    directives = _directives(policy)
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts and not set(scripts) & set(FORBIDDEN_SOURCES), (path, scripts)
    assert not {"'unsafe-inline'", "'unsafe-eval'"} & set(directives.get("style-src", []))
    assert directives.get("object-src") == ["'none'"] and directives.get("base-uri") == ["'none'"]
    nonces = [s[len("'nonce-") : -1] for s in scripts if s.startswith("'nonce-")]

    parser = Elements()
    parser.feed(response.content.decode())
    for tag, attrs in parser.tags:
        where = f"{path}: <{tag} {attrs}>"
        if tag == "script":
            src = attrs.get("src")
            if src:
                assert src.startswith("/") and not src.startswith("//"), where  # same origin
            else:
                assert attrs.get("nonce") and attrs["nonce"] in nonces, where
        assert not any(name.startswith("on") for name in attrs), where  # inline handlers
        assert "style" not in attrs and tag != "style", where  # style-src 'self' only
        for name in ("href", "src", "action", "formaction"):
            assert not re.match(r"\s*javascript:", attrs.get(name) or "", re.I), where


@pytest.fixture
def pages(db, client, settings):
    settings.RIGHTS_RATE_LIMIT_PER_IP = "100000/h"
    pages = make_public_pages()
    client.cookies[settings.SESSION_COOKIE_NAME] = space_session()
    return pages


@pytest.mark.parametrize("language", ["", "/en"])
def test_every_public_page_enforces_the_csp(client, pages, language):
    for name, path in pages.items():
        response = client.get(language + path)
        assert response.status_code == STATUS.get(name, 200), (name, response.status_code)
        if name in IN_SPACE:
            assert response.status_code == 200  # the session held: the space itself
        _check(response, language + path)


def test_the_pages_after_a_post_enforce_it_too(client, pages, settings):
    posts = {
        "unsubscribed": (pages["unsubscribe"], {}),
        "invalid form": (pages["form-rectification"], {"email": "not-an-address"}),
        "answer refused": (pages["tracker"] + "repondre/", {"answer": ""}),
        "download link sent": (pages["tracker"] + "lien/", {}),
    }
    for name, (path, data) in posts.items():
        response = client.post(path, data)
        assert response.status_code in (200, 400), name
        _check(response, name)
    settings.RIGHTS_RATE_LIMIT_PER_IP = "0/h"
    response = client.post(pages["form-access"], {"email": "p@example.fr"})
    assert response.status_code == 429
    _check(response, "rate limited")


def test_the_policy_has_no_unsafe_source_in_production_settings():
    scripts = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"]
    assert not set(map(str, scripts)) & set(FORBIDDEN_SOURCES)
