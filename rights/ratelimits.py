"""Rate limits of the public intake, shared by the portal pages and the API.

Counters live in the cache, so with Redis every web worker shares them. A form and the API
count against the same group: a person or a script gets one budget, whichever door it uses.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

from audit.hashing import normalise_email

logger = logging.getLogger(__name__)


def rate_limited(
    request: HttpRequest, group: str, *, email: object = None, per_ip: str = ""
) -> bool:
    """Count this request against the limits of `group`; True when over any of them.

    Always the per-IP limit (`per_ip`, RIGHTS_RATE_LIMIT_PER_IP by default); with `email`
    (whatever the client sent, valid or not) also RIGHTS_RATE_LIMIT_PER_EMAIL for that
    address. django-ratelimit raises when the cache (Redis) is unreachable: then we let the
    request through and log it, rather than refuse every person while Redis is down.
    """
    limits: list[tuple[object, str]] = [("ip", per_ip or settings.RIGHTS_RATE_LIMIT_PER_IP)]
    if email is not None:
        # Input that is not text counts as "no address"; a lone surrogate cannot be encoded
        # into a cache key, so it is escaped rather than mistaken for a cache failure.
        address = normalise_email(email) if isinstance(email, str) else ""
        address = address.encode("utf-8", "backslashreplace").decode()
        limits.append((lambda group, request: address, settings.RIGHTS_RATE_LIMIT_PER_EMAIL))
    try:
        over = [
            is_ratelimited(request, group=group, key=key, rate=rate, increment=True)
            for key, rate in limits
        ]
    except Exception as exc:
        logger.warning(
            "Rate limit not checked for %s (%s): failing open", group, type(exc).__name__
        )
        return False
    return any(over)
