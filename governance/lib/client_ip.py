"""The address a request came from, as the rate limits see it.

Behind a TLS proxy every request arrives from the proxy's address, so limits keyed on
``REMOTE_ADDR`` would be one bucket for everyone. The proxy is trusted through the same two
settings allauth reads for its login limits (``ALLAUTH_TRUSTED_PROXY_COUNT``, or
``ALLAUTH_TRUSTED_CLIENT_IP_HEADER`` for a proxy that sets one header), so the login limits and
the API-token limit always agree on who a client is. ``X-Forwarded-For`` is read from the
right: each trusted proxy appends the address it saw, and anything further left was written
by the client and proves nothing.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

#: IPv6 clients are keyed on their /64: one host is usually given a whole /64 and could
#: otherwise take a fresh address for every attempt (allauth does the same).
IPV6_PREFIX = 64


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:51234"
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's address ("unknown" when nothing usable was given)."""
    header = getattr(settings, "ALLAUTH_TRUSTED_CLIENT_IP_HEADER", None)
    count = getattr(settings, "ALLAUTH_TRUSTED_PROXY_COUNT", 0)
    found: str | None = None
    if header:
        found = _clean(request.headers.get(header))
    elif count > 0:
        hops = [h for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        # Fewer hops than proxies: the request did not come through them all (a direct
        # connection); the peer's own address is then the only one that can be trusted.
        if len(hops) >= count:
            found = _clean(hops[-count])
    return found or _clean(request.META.get("REMOTE_ADDR")) or "unknown"


def client_key(request: HttpRequest) -> str:
    """``client_ip`` widened to the IPv6 /64, for use as a rate-limit key."""
    ip = client_ip(request)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{ip}/{IPV6_PREFIX}", strict=False))
    return ip
