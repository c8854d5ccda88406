"""API helpers that know nothing of the domain: pagination."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class SafeCursorPagination(CursorPagination):
    """Cursor pagination whose cursor is client input: a forged or stale cursor (not base64,
    a position of the wrong type for the ordering) is a 400 naming ``cursor``, never a 500."""

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({"cursor": ["invalid cursor"]}) from None

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        try:
            self._check_position(queryset, request, view)
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, DjangoValidationError, DataError):
            raise ValidationError({"cursor": ["invalid cursor"]}) from None

    def _check_position(self, queryset: Any, request: Any, view: Any) -> None:
        """The cursor's position must be a value of the ordering field (every database
        then compares it the same way; PostgreSQL would fail on a 40-digit "id")."""
        cursor = self.decode_cursor(request) if request.query_params.get("cursor") else None
        if cursor is None or cursor.position is None:
            return
        ordering = self.get_ordering(request, queryset, view)
        name = ordering[0].lstrip("-")
        annotation = queryset.query.annotations.get(name)
        field = annotation.output_field if annotation is not None else None
        field = field or queryset.model._meta.get_field(name)
        value = field.to_python(cursor.position)
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise OverflowError("position out of range")


class IdCursorPagination(SafeCursorPagination):
    """Cursor pagination: stable under concurrent imports, constant cost at any depth."""

    ordering = "-id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class CountedCursorPagination(IdCursorPagination):
    """:class:`IdCursorPagination` that also says how many rows match: ``count``, counted
    up to ``count_cap`` (one bounded query; ``count_capped`` says when there are more), so a
    list of a million rows answers its first page as fast as one of a hundred."""

    count_cap = 10_000

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        n = queryset.order_by()[: self.count_cap + 1].count()
        self.count = min(n, self.count_cap)
        self.count_capped = n > self.count_cap
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Any:
        response = super().get_paginated_response(data)
        response.data = {
            "count": self.count,
            "count_capped": self.count_capped,
            **response.data,
        }
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        out = super().get_paginated_response_schema(schema)
        out["properties"] = {
            "count": {"type": "integer", "example": 123, "description": "rows matching, "
                      f"counted up to {self.count_cap}"},
            "count_capped": {"type": "boolean", "description": "more rows match than count"},
            **out["properties"],
        }  # fmt: skip
        return out
