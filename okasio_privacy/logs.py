"""Keeping link secrets and addresses out of the logs (STYLE: no personal data in logs).

The links we email carry a secret in their path (tracker, confirmation, download, sign-in,
unsubscribe, keep in touch), a search in the back office puts an address in the query
string, and a page's address comes back as the Referer of its stylesheets. Two logs see
URLs: gunicorn's access log (`AccessLogger`, set in gunicorn.conf.py) and Django's request
warnings, "Bad Request: <path>" (`RedactURLs`, on the console handler in settings.LOGGING).
Both write `redact_url`'s version: the path with its token-like segments replaced, and no
query string.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger

# A path segment of 16 or more URL-safe characters without a dot (a host name has one),
# with a digit or a capital in it (a long model name in an admin URL has neither): our
# tokens are 43 characters (secrets.token_urlsafe(32)) or signed values.
TOKEN = re.compile(r"(?<=/)(?=[^/]*[A-Z0-9])[\w\-:~%]{16,}(?=/|$)")


def redact_url(url: str) -> str:
    """`url` (a path, or a whole URL) without its secrets: token-like path segments become
    "<token>", and a query string becomes "?…"."""
    path, query, _ = url.partition("?")
    return TOKEN.sub("<token>", path) + ("?…" if query else "")


class RedactURLs(logging.Filter):
    """Redact the URL arguments of a log record (Django's "%s: %s", reason, request.path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(arg) if isinstance(arg, str) and arg.startswith("/") else arg
                for arg in record.args
            )
        return True


class AccessLogger(Logger):
    """gunicorn's logger, whose access log line has the request line, path, query and
    referer redacted; every other atom is gunicorn's."""

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        url = redact_url(environ.get("RAW_URI") or "")
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {url} {environ.get('SERVER_PROTOCOL')}"
        atoms["U"] = redact_url(environ.get("PATH_INFO") or "")
        atoms["q"] = ""
        referer = redact_url(environ.get("HTTP_REFERER") or "") or "-"
        atoms["f"] = atoms["{referer}i"] = referer
        return atoms
