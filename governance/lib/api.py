"""The one team-scoped base for API views: its queryset filter cannot be bypassed."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import permissions
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.views import APIView

from governance.accounts.selectors import has_role, team_ids_for


class TeamScopedMixin:
    """Subclasses implement ``base_queryset()``; ``get_queryset()`` is final here and always
    filters by the caller's teams through ``team_field``. A missing or foreign object is a 404
    (never a 403: that would reveal it exists)."""

    team_field = "team_id"
    request: Request

    def base_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        return self.base_queryset().filter(
            **{f"{self.team_field}__in": team_ids_for(self.request.user)}
        )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(f"{cls.__name__} must implement base_queryset(), not get_queryset()")


class ReadOrMemberWrite(permissions.BasePermission):
    """Reads for any team role; writes need ``member`` (or a write-scoped token) in the
    object's team. Object-level only: list endpoints are already team-scoped."""

    message = "this needs a member role (or a write-scoped token) in the object's team"

    def has_object_permission(self, request: Request, view: APIView, obj: Model) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        team_id = getattr(obj, "team_id", None)
        return team_id is not None and has_role(request.user, team_id, "member")


class IdCursorPagination(CursorPagination):
    """Cursor pagination: stable under concurrent imports, constant cost at any depth."""

    ordering = "-id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
