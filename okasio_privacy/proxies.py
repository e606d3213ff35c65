"""The client's address, behind our own reverse proxies (TRUSTED_PROXY_COUNT).

With no proxy, REMOTE_ADDR is the client. Behind N proxies of ours, each appending the
address it received the request from to X-Forwarded-For, the client is the Nth entry from
the right: what is to its left came from the client and can be forged. The per-IP rate
limits (rights.ratelimits) and django-axes's login lockouts both use this; without it,
behind a proxy, everyone shares the proxy's address and its limits.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    direct = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if not count:
        return direct
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(hops) < count:
        return direct  # not through all our proxies (a health check, a misconfiguration)
    try:
        return str(ipaddress.ip_address(hops[-count]))
    except ValueError:
        return direct
