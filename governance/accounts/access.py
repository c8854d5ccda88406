"""The one team-scoped base for API views: what a caller may see is decided here, once.

Every API view of Warden inherits :class:`TeamScoped` (viewsets through
:class:`TeamScopedViewSetMixin`, actions through :class:`TeamScopedAPIView`). Subclasses say
what they list (``base_queryset()``) and how one object is named (``lookup_object()``); the
scope is applied by ``get_queryset()`` and ``get_object()``, which are final: a subclass that
overrides either is refused when the class is created, so a new view cannot forget the filter
(the shape of PostHog's ``TeamAndOrgViewSetMixin``). A missing object and another team's
object are the same 404: a 403 would reveal that it exists.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Model, Q, QuerySet
from django.http import Http404
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from governance.accounts.selectors import has_role, team_ids_for

_FINAL = ("get_queryset", "get_object", "scope_q")


# API documentation (drf-spectacular) shows a view's docstring, inherited ones too: the
# notes on these bases are comments so they never reach the published API docs.
class TeamScoped:
    # Mixin for API views whose rows belong to teams (``team_field``).

    #: The path from a row to its team id (``"team_id"``, ``"model__team_id"``).
    team_field: ClassVar[str] = "team_id"
    #: Rows of no team (organization defaults) are visible to every signed-in user.
    include_shared: ClassVar[bool] = False
    #: The URL keyword that names one object.
    lookup_kwarg: ClassVar[str] = "pk"
    request: Any  # set by DRF
    kwargs: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _FINAL:
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__} must not override {name}(): implement base_queryset() "
                    "and lookup_object() instead, so the team scope always applies"
                )

    def base_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement base_queryset()")

    def scope_q(self) -> Q:
        ids = team_ids_for(self.request.user)
        q = Q(**{f"{self.team_field}__in": ids})
        if self.include_shared:
            q |= Q(**{f"{self.team_field.removesuffix('_id')}__isnull": True})
        return q

    def get_queryset(self) -> QuerySet[Any]:
        return self.base_queryset().filter(self.scope_q())

    def lookup_object(self, queryset: QuerySet[Any], ref: str) -> Model:
        """The object named ``ref`` in ``queryset`` (already scoped); 404 when absent. By
        primary key unless a subclass names objects otherwise (by name, by digest)."""
        if not str(ref).isdigit():
            raise Http404("not found")
        found: Model | None = queryset.filter(pk=int(ref)).first()
        if found is None:
            raise Http404(f"{queryset.model._meta.verbose_name} not found")
        return found

    def get_object(self) -> Any:
        obj = self.lookup_object(self.get_queryset(), str(self.kwargs[self.lookup_kwarg]))
        self.check_object_permissions(self.request, obj)  # type: ignore[attr-defined]
        return obj


class TeamScopedAPIView(TeamScoped, APIView):
    # An action endpoint (upload, gate, admission...) on the scoped base.
    pass


class TeamScopedViewSetMixin(TeamScoped):
    # For DRF viewsets: ``class XViewSet(TeamScopedViewSetMixin, GenericViewSet)``.
    pass


class ReadOrMemberWrite(permissions.BasePermission):
    """Reads for any team role; writes need ``member`` (or a write-scoped token) in the
    object's team. Object-level only: list endpoints are already team-scoped."""

    message = "this needs a member role (or a write-scoped token) in the object's team"

    def has_object_permission(self, request: Request, view: APIView, obj: Model) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        team_id = getattr(obj, "team_id", None)
        return team_id is not None and has_role(request.user, team_id, "member")
