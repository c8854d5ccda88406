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
        field = queryset.model._meta.get_field(ordering[0].lstrip("-"))
        value = field.to_python(cursor.position)
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise OverflowError("position out of range")


class IdCursorPagination(SafeCursorPagination):
    """Cursor pagination: stable under concurrent imports, constant cost at any depth."""

    ordering = "-id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
