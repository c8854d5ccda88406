"""Input that no database can store, refused at the door with a 400 naming the field.

- NUL characters (``%00``) in query parameters or form fields: PostgreSQL text cannot hold
  them, so a filter like ``?model=%00`` would otherwise end in a server error;
- lone UTF-16 surrogates (``"\\ud800"``) in JSON bodies: valid JSON escapes, but not text
  any UTF-8 column can store.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def bad_text(value: Any) -> str | None:
    """Why ``value`` (a string, or lists and dicts of them) cannot be stored as text, or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone surrogate (not valid Unicode text)"
        return None
    if isinstance(value, list):
        for item in value:
            if (why := bad_text(item)) is not None:
                return why
    if isinstance(value, dict):
        for key, item in value.items():
            if (why := bad_text(key)) is not None or (why := bad_text(item)) is not None:
                return why
    return None


class StrictJSONParser(JSONParser):
    """JSON bodies whose strings are storable text (no lone surrogates, no NUL)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        why = bad_text(data)
        if why is not None:
            raise ParseError(f"JSON parse error - a string {why}")
        return data


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class RejectUnstorableInputMiddleware:
    """A query parameter or form field with a NUL character is a 400 (JSON on the API)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            for value in [name, *values]:
                if "\x00" in value:
                    return _refuse(request, f"query parameter {name!r} contains a NUL character")
        if request.method == "POST" and request.content_type in _FORMS:
            # Parsed once here; views (and DRF) reuse the parsed form and files.
            for name, values in request.POST.lists():
                for value in [name, *values]:
                    if "\x00" in value:
                        return _refuse(request, f"field {name!r} contains a NUL character")
        return self.get_response(request)


def _refuse(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"error": message, "detail": {}}, status=400)
    return HttpResponse(
        json.dumps(message)[1:-1], status=400, content_type="text/plain; charset=utf-8"
    )
