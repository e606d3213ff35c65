"""Rate limits of the public intake, shared by the portal pages and the API.

Counters live in the cache, so with Redis every web worker shares them. A form and the API
count against the same group: a person or a script gets one budget, whichever door it uses.
A counter starts at its first request and lives for the rate's period; it names the client
by a keyed hash of its IP or address, never in clear.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import weakref

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest

from audit.hashing import normalise_email, subject_hash
from okasio_privacy.proxies import client_ip

logger = logging.getLogger(__name__)

# "20/h", "5/m", "100/10m": requests per period (s, m, h or d, times an optional number).
RATE = re.compile(r"(\d+)/(\d*)([smhd])")
SECONDS = {"s": 1, "m": 60, "h": 60 * 60, "d": 24 * 60 * 60}
# Every counter of a request in one atomic step: SET NX starts a counter with its expiry,
# INCR counts (the cache API would take three round trips each; a MULTI pipeline sends six
# commands and parses six answers). KEYS are the counters, ARGV their lifetimes in seconds.
COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
    redis.call("SET", key, 0, "EX", ARGV[i], "NX")
    counts[i] = redis.call("INCR", key)
end
return counts
"""
# The script, registered once per cache connection (Django's cache builds a client per call).
_SCRIPTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def rate_limited(
    request: HttpRequest, group: str, *, email: object = None, per_ip: str = ""
) -> bool:
    """Count this request against the limits of `group`; True when over any of them.

    Always the per-IP limit (`per_ip`, RIGHTS_RATE_LIMIT_PER_IP by default); with `email`
    (whatever the client sent, valid or not) also RIGHTS_RATE_LIMIT_PER_EMAIL for that
    address. When the cache (Redis) is unreachable we let the request through and log it,
    rather than refuse every person while Redis is down.
    """
    limits = [("ip", _client_ip(request), per_ip or settings.RIGHTS_RATE_LIMIT_PER_IP)]
    if email is not None:
        # Input that is not text counts as "no address"; a lone surrogate cannot be encoded
        # into a cache key, so it is escaped rather than mistaken for a cache failure.
        address = normalise_email(email) if isinstance(email, str) else ""
        address = address.encode("utf-8", "backslashreplace").decode()
        limits.append(("email", address, settings.RIGHTS_RATE_LIMIT_PER_EMAIL))
    counters = []
    for scope, value, rate in limits:
        allowed, seconds = _parse_rate(rate)
        key = f"ratelimit:{group}:{scope}:{allowed}/{seconds}:{subject_hash(value)}"
        counters.append((key, seconds, allowed))
    try:
        counts = _count([(key, seconds) for key, seconds, _ in counters])
    except Exception as exc:
        logger.warning(
            "Rate limit not checked for %s (%s): failing open", group, type(exc).__name__
        )
        return False
    return any(count > allowed for count, (_, _, allowed) in zip(counts, counters, strict=True))


def _client_ip(request: HttpRequest) -> str:
    """The client's IP; an IPv6 client by its /64, which one subscriber usually holds whole."""
    ip = client_ip(request)
    if ":" in ip:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return ip


def _parse_rate(rate: str) -> tuple[int, int]:
    """Return (requests allowed, period in seconds) of a rate such as "20/h"."""
    allowed, times, unit = RATE.fullmatch(rate).groups()
    return int(allowed), int(times or 1) * SECONDS[unit]


def _count(counters: list[tuple[str, int]]) -> list[int]:
    """Add one to each counter (its key, the seconds it lives); return the new counts."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        script = _SCRIPTS.get(cache._cache)
        if script is None:
            client = cache._cache.get_client(write=True)
            script = _SCRIPTS[cache._cache] = client.register_script(COUNT_SCRIPT)
        keys = [cache.make_and_validate_key(key) for key, _ in counters]
        return script(keys=keys, args=[seconds for _, seconds in counters])
    counts = []
    for key, seconds in counters:  # the quick start's memory cache: no round trips to save
        cache.add(key, 0, seconds)
        counts.append(cache.incr(key))
    return counts
