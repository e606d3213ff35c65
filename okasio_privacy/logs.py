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

SEGMENT = re.compile(r"(?<=/)[^/]+")
DIGIT_OR_CAPITAL = re.compile(r"[A-Z0-9]")


def _is_secret(segment: str) -> bool:
    """Whether a path segment looks like one of our secrets: a signed value (it holds a
    ":"; compressed, it starts with a dot), or 16 or more URL-safe characters without a
    dot with a digit or a capital in them (secrets.token_urlsafe; a hashed static file has
    a dot, a long model name in an admin URL neither digit nor capital)."""
    if ":" in segment:
        return True
    return len(segment) >= 16 and "." not in segment and bool(DIGIT_OR_CAPITAL.search(segment))


def redact_url(url: str) -> str:
    """`url` (a path, or a whole URL) without its secrets: secret-like path segments become
    "<token>", and a query string becomes "?…"."""
    url, query, _ = url.partition("?")
    origin, path = "", url
    if "://" in url:  # a whole URL (a Referer): its host is not a path segment
        scheme, _, rest = url.partition("://")
        host, slash, path = rest.partition("/")
        origin, path = f"{scheme}://{host}", slash + path
    path = SEGMENT.sub(lambda m: "<token>" if _is_secret(m[0]) else m[0], path)
    return origin + path + ("?…" if query else "")


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
