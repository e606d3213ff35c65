"""Factories and helpers for the rights tests."""

from __future__ import annotations

import contextlib
import re

import pytest
from django.core import mail
from django.core.cache import cache

from tests.conftest import NOW


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the shared cache (Redis in `make test`): start from zero."""
    with contextlib.suppress(Exception):  # Redis down: the fault test restarts it itself
        cache.clear()


@pytest.fixture
def make_dsr(db):
    """A request through the real intake service (portal, unconfirmed unless confirm=True)."""
    from rights import services

    def make(*, confirm: bool = False, now=NOW, **kwargs):
        kwargs.setdefault("kind", "access")
        kwargs.setdefault("email", "alice@example.fr")
        kwargs.setdefault("name", "Alice Martin")
        kwargs.setdefault("language", "en")
        kwargs.setdefault("details", {})
        dsr = services.submit_request(now=now, **kwargs)
        if confirm:
            token = issue_confirm_token(dsr, now=now)
            state, dsr, tracker = services.confirm_request(token=token, now=now)
            dsr.tracker_token = tracker
        return dsr

    return make


def issue_confirm_token(dsr, *, now=NOW) -> str:
    from rights.models import LinkPurpose, SecretLink

    _, token = SecretLink.issue(
        purpose=LinkPurpose.CONFIRM, request=dsr, expires_at=dsr.confirmation_expires_at(), now=now
    )
    return token


def link_in(body: str, fragment: str) -> str:
    """The path of the first link containing `fragment` in an email body."""
    paths = [p for p in re.findall(r"https?://[^/\s]+(/\S*)", body) if fragment in p]
    assert paths, f"no {fragment} link in {body!r}"
    return paths[0]


def sent_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]
