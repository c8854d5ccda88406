"""Outbound HTTP to addresses users typed in (webhooks): http(s) only, no private network.

A webhook URL is a request Warden makes on a user's behalf, so it must not reach what only
the server can reach (SSRF): loopback, private, link-local (cloud metadata at 169.254.169.254),
multicast and reserved addresses are refused unless ``WARDEN_WEBHOOK_ALLOW_PRIVATE`` is on.
The host name is resolved once, every address it resolves to is checked, and the connection
goes to the checked address (with the name kept for TLS and the Host header), so a DNS answer
that changes between the check and the connection (rebinding) cannot slip past. Redirects are
not followed: ``http.client`` never does.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class OutboundRefused(ValueError):
    """The URL may not be called: wrong scheme, no host, or a refused address."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def url_check(url: str, *, resolve: bool = True) -> Target:
    """The checked target of ``url``; :class:`OutboundRefused` says why not. ``resolve=False``
    checks the shape only (scheme, host, a literal address), for forms."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused(f"not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused("only http and https URLs are allowed")
    host = parts.hostname or ""
    if not host:
        raise OutboundRefused("the URL has no host")
    if parts.username or parts.password:
        raise OutboundRefused("credentials in the URL are not allowed; use the secret")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    allow_private = settings.WARDEN_WEBHOOK_ALLOW_PRIVATE
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if _refused(literal) and not allow_private:
            raise OutboundRefused(f"{host} is a private or reserved address")
        return Target(parts.scheme, host, port, path, str(literal))
    if not resolve:
        return Target(parts.scheme, host, port, path, "")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise OutboundRefused(f"{host} does not resolve: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise OutboundRefused(f"{host} does not resolve")
    if not allow_private:
        for address in addresses:
            if _refused(ipaddress.ip_address(address.split("%")[0])):
                raise OutboundRefused(f"{host} resolves to a private or reserved address")
    return Target(parts.scheme, host, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


#: Most bytes of a response body kept (for the delivery log's error).
RESPONSE_LIMIT = 2000


def post_json(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> tuple[int, str]:
    """POST ``body`` to ``url`` (checked as above); returns the status code and the start of
    the response body. Raises :class:`OutboundRefused` or ``OSError`` (network, timeout)."""
    target = url_check(url)
    conn: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout)
        if target.scheme == "https"
        else _PinnedHTTPConnection(target, timeout)
    )
    try:
        conn.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": "Warden", **headers},
        )
        response = conn.getresponse()
        text = response.read(RESPONSE_LIMIT).decode("utf-8", "replace")
        return response.status, text
    except http.client.HTTPException as exc:
        raise OSError(f"bad HTTP answer: {exc!r}") from exc
    finally:
        conn.close()
