"""When something fails outside a business rule: a dependency down, a bug, a missing URL.

The API always answers JSON in the one error shape (``{"error": "...", "detail": {...}}``),
never Django's HTML page; pages get a styled page. A dependency that is down (the database,
the broker, the cache's Redis) is a 503 with ``Retry-After``: the client did nothing wrong
and the same request will work once it is back. Django calls the ``handler*`` views below
(wired in ``governance/urls.py``) for exceptions raised anywhere: in a middleware, in a view,
or re-raised by DRF when its exception handler does not know them.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader

logger = logging.getLogger(__name__)

#: Seconds a client should wait before retrying when a dependency is down. Long enough not to
#: hammer a database that is restarting, short enough for a CI retry loop.
RETRY_AFTER_SECONDS = 30


def _broker_errors() -> tuple[type[BaseException], ...]:
    # Imported here: kombu and redis are dependencies, but the error module must not fail to
    # import (and so hide the real error) if either is ever absent.
    errors: list[type[BaseException]] = []
    try:
        from kombu.exceptions import OperationalError as KombuOperationalError

        errors.append(KombuOperationalError)
    except ImportError:  # pragma: no cover - kombu comes with celery
        pass
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        errors += [RedisConnectionError, RedisTimeoutError]
    except ImportError:  # pragma: no cover - redis comes with celery[redis]
        pass
    return tuple(errors)


def dependency_down(exc: BaseException | None) -> str | None:
    """The dependency whose outage caused ``exc`` ("database" or "broker"), or None.
    Follows the exception's cause chain: a service may wrap the error it met."""
    broker = _broker_errors()
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OperationalError | InterfaceError):
            return "database"
        if broker and isinstance(exc, broker):
            return "broker"
        exc = exc.__cause__ or exc.__context__
    return None


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def unavailable_body(dependency: str) -> dict[str, Any]:
    return {
        "error": f"the {dependency} is unavailable; retry in {RETRY_AFTER_SECONDS} seconds",
        "detail": {},
    }


def unavailable_response(request: HttpRequest, dependency: str) -> HttpResponse:
    """503 + Retry-After: JSON on the API, the styled page elsewhere."""
    response: HttpResponse
    if is_api(request):
        response = JsonResponse(unavailable_body(dependency), status=503)
    else:
        # Rendered without the request: context processors would read the session and the
        # user, which need the database that may be the very thing that is down.
        html = loader.render_to_string("503.html", {"dependency": dependency})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _page(template: str, status: int) -> HttpResponse:
    return HttpResponse(loader.render_to_string(template), status=status)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: Django calls it inside its ``except`` block, so the exception that got
    here is ``sys.exc_info()``. It has already been logged with its traceback."""
    dependency = dependency_down(sys.exc_info()[1])
    if dependency:
        return unavailable_response(request, dependency)
    if is_api(request):
        # Nothing about the exception goes to the client: it may hold data or internals.
        return JsonResponse({"error": "internal error", "detail": {}}, status=500)
    return _page("500.html", 500)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"error": "not found", "detail": {}}, status=404)
    return _page("404.html", 404)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"error": "bad request", "detail": {}}, status=400)
    return _page("400.html", 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"error": "permission denied", "detail": {}}, status=403)
    return _page("403.html", 403)
