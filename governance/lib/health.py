"""Probes for load balancers and Kubernetes.

- ``/livez``: the process answers (no dependency is touched). A failing liveness probe restarts
  the container, so it must not fail because the database is down: restarting would not help.
- ``/readyz``: the dependencies answer (the database, and the broker when one is configured).
  A failing readiness probe takes the instance out of the load balancer until it recovers.
- ``/healthz``: the same checks as ``/readyz``, under the name monitors and the docs use.

All three are login-exempt and cheap (``SELECT 1`` and a broker ping with a short timeout), and
say only which dependency is down: never an address, a URL, a version or an error message.

They are answered by a middleware near the top of the stack, before Django validates the Host
header and before the HTTPS redirect: a kubelet probes ``http://<pod IP>:<port>/readyz``, a
host no ``ALLOWED_HOSTS`` lists, over plain HTTP, and must not get a 400 or a 301. Nothing in
the answers depends on the Host header, so skipping its check there exposes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from governance.lib.errors import RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)

#: Seconds a broker ping may take before the broker counts as down.
BROKER_TIMEOUT_SECONDS = 2.0


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return bool(cursor.fetchone() == (1,))
    except Exception:  # any failure to answer is "down"; the log keeps the reason
        logger.warning("health: the database did not answer", exc_info=True)
        return False


def broker_ok(url: str) -> bool:
    try:
        if urlsplit(url).scheme in ("redis", "rediss"):
            import redis

            client = redis.Redis.from_url(
                url,
                socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
                socket_timeout=BROKER_TIMEOUT_SECONDS,
            )
            try:
                return bool(client.ping())
            finally:
                client.close()
        from kombu.connection import Connection

        with Connection(url, connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:  # type: ignore[no-untyped-call]
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
            return True
    except Exception:
        logger.warning("health: the broker did not answer", exc_info=True)
        return False


def dependency_status() -> dict[str, str]:
    checks = {"database": "ok" if database_ok() else "down"}
    if settings.CELERY_BROKER_URL:
        checks["broker"] = "ok" if broker_ok(settings.CELERY_BROKER_URL) else "down"
    return checks


def readyz() -> JsonResponse:
    checks = dependency_status()
    down = sorted(name for name, state in checks.items() if state != "ok")
    if down:
        response = JsonResponse({"status": "down", "down": down, "checks": checks}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return JsonResponse({"status": "ok", "checks": checks})


def livez() -> JsonResponse:
    return JsonResponse({"status": "ok"})


PROBES: dict[str, Callable[[], JsonResponse]] = {
    "/livez": livez,
    "/readyz": readyz,
    "/healthz": readyz,
}


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info.rstrip("/") or "/")
        if probe is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        response = probe()
        add_never_cache_headers(response)
        return response
