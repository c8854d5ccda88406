"""One API error shape: ``{"error": "...", "detail": {...}}`` with a 4xx status, or a 503
with ``Retry-After`` when a dependency is down (see :mod:`governance.lib.errors`)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from governance.lib.errors import RETRY_AFTER_SECONDS, dependency_down, unavailable_body

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A business rule said no. Views let it bubble; the handler turns it into a 400 (or the
    given status) with the message, so services stay free of HTTP."""

    def __init__(self, message: str, *, status_code: int = 400, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.detail = detail or {}


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            msg = _first_message(value)
            return msg if key in ("non_field_errors", "detail") else f"{key}: {msg}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response({"error": exc.message, "detail": exc.detail}, status=exc.status_code)
    dependency = dependency_down(exc)
    if dependency:
        logger.error("%s unavailable during %s", dependency, context.get("request"), exc_info=exc)
        return Response(
            unavailable_body(dependency),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, Http404):
        # The message names what is missing ("model 'x' not found; did you mean …?"): it
        # never says whether another team has it, so it leaks nothing.
        exc = exceptions.NotFound(str(exc) or "not found")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"error": _first_message(exc.detail), "detail": exc.detail}
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        message = _first_message(response.data)
        response.data = {"error": message, "detail": {}}
    return response
