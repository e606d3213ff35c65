"""No link secret nor searched address in the logs (okasio_privacy/logs.py; STYLE: no
personal data in logs)."""

from __future__ import annotations

import io
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from okasio_privacy.logs import AccessLogger, RedactURLs, redact_url
from tests.conftest import NOW

TRACKER = "vGhV7-3kq_0pZr8ysQw2Lx5nT1bYc9dEfHaJuMoNiKl"  # the shape of token_urlsafe(32)


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        (f"/en/suivi/{TRACKER}/repondre/", "/en/suivi/<token>/repondre/"),
        (
            "/admin/rights/datasubjectrequest/?q=dora%40example.fr",
            "/admin/rights/datasubjectrequest/?…",
        ),
        (
            f"https://privacy.okasio.fr/en/suivi/{TRACKER}/",
            "https://privacy.okasio.fr/en/suivi/<token>/",
        ),
        ("/en/demande/access/", "/en/demande/access/"),
        (
            "/admin/rights/datasubjectrequest/12/change/",
            "/admin/rights/datasubjectrequest/12/change/",
        ),
        ("/static/consent/banner.4f1c2a9e7b.js", "/static/consent/banner.4f1c2a9e7b.js"),
    ],
)
def test_it_redacts_secrets_and_queries_and_nothing_else(url, logged):
    assert redact_url(url) == logged


def test_it_redacts_every_link_we_email(db, make_dsr):
    """The real links, as our services make them: tracker, confirmation, sign-in, download
    (token_urlsafe), unsubscribe (signed and compressed: it starts with a dot) and keep in
    touch (signed)."""
    from consent.services import unsubscribe_url
    from people.models import Person
    from retention.models import Repermission
    from retention.services import repermission_token
    from rights.services import new_tracker_link

    dsr = make_dsr(confirm=True)
    _, tracker = new_tracker_link(dsr, now=NOW)  # a whole URL
    person = Person.objects.create(email="p@example.fr", collected_at=NOW)
    keep = repermission_token(Repermission.objects.create(person=person, asked_at=NOW))
    urls = [tracker, f"/fr/garder-contact/{keep}/"]
    urls += [unsubscribe_url(email=f"user{i}@example.com") for i in range(50)]
    for url in urls:
        secret = url.rstrip("/").rsplit("/", 1)[1]
        assert secret not in redact_url(url), url
        assert redact_url(url).endswith("/<token>/")


def test_django_request_warnings_name_no_secret(client, make_dsr):
    """A 400 on the tracker's answer form is logged by django.request with its path."""
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactURLs) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        dsr = make_dsr(confirm=True)
        response = client.post(f"/en/suivi/{dsr.tracker_token}/repondre/", {"answer": ""})
    finally:
        handler.setStream(previous)
    assert response.status_code == 400
    written = stream.getvalue()
    assert "/en/suivi/<token>/repondre/" in written
    assert dsr.tracker_token not in written


def test_gunicorn_access_log_names_no_secret():
    logger = AccessLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/en/suivi/{TRACKER}/?from=email",
        "PATH_INFO": f"/en/suivi/{TRACKER}/",
        "QUERY_STRING": "from=email",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"https://privacy.okasio.fr/en/suivi/{TRACKER}/",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))
    line = logger.cfg.access_log_format % atoms
    assert TRACKER not in line and "from=email" not in line
    assert '"GET /en/suivi/<token>/?… HTTP/1.1" 200 512' in line
