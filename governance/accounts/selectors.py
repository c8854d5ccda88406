"""Who may see and do what. Every team-scoped read in Warden starts here."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from governance.accounts.models import Membership, Role, Team
from governance.lib.api_errors import ApplicationError

ROLE_RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.LEAD: 2}

#: Who asks: a signed-in user, ``AnonymousUser``, or an API token's ``TokenUser``. Every
#: function here answers for all three (and fails closed for the anonymous).
Caller = Any


def teams_visible_to(user: Caller) -> QuerySet[Team]:
    """The teams a user belongs to: a person's memberships, an API token's one team; none
    for anonymous or inactive users (fails closed)."""
    if not user.is_authenticated or not user.is_active:
        return Team.objects.none()
    token = getattr(user, "token", None)
    if token is not None:  # an API token acts for its one team only
        return Team.objects.filter(pk=token.team_id)
    if not getattr(user, "pk", None):
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


def team_ids_for(user: Caller) -> list[int]:
    """Team ids of a user, cached on the user object for the request."""
    cached: list[int] | None = getattr(user, "_warden_team_ids", None)
    if cached is None:
        cached = list(teams_visible_to(user).values_list("id", flat=True))
        user._warden_team_ids = cached
    return cached


def role_in_team(user: Caller, team_id: int) -> str | None:
    if not user.is_authenticated or not user.is_active:
        return None
    roles: dict[int, str] | None = getattr(user, "_warden_roles", None)
    if roles is None:
        roles = dict(Membership.objects.filter(user=user).values_list("team_id", "role"))
        user._warden_roles = roles
    return roles.get(team_id)


def has_role(user: Caller, team_id: int, minimum: str) -> bool:
    """True when the user's role in the team is at least ``minimum`` (viewer < member < lead)."""
    role = role_in_team(user, team_id)
    return role is not None and ROLE_RANK[Role(role)] >= ROLE_RANK[Role(minimum)]


def team_get_for_user(user: Caller, slug: str) -> Team:
    """The team, or 404 for a missing team and for one the user is not in alike."""
    team = teams_visible_to(user).filter(slug=slug).first()
    if team is None:
        raise Http404("team not found")
    return team


def team_for_request(user: Any, slug: str) -> Team:
    """The team an API call acts for: the one named by ``slug`` (404 when it is not the
    caller's), else the caller's only team (an API token always has exactly one)."""
    token = getattr(user, "token", None)
    # A token's team is already loaded with it; a person's teams cost one query.
    teams = [token.team] if token is not None else list(teams_visible_to(user))
    if slug:
        match = [t for t in teams if t.slug == slug]
        if not match:
            raise Http404("team not found")
        return match[0]
    if len(teams) == 1:
        return teams[0]
    raise ApplicationError("team is required: you are in several teams (or none); pass its slug")


#: Roles whose holders can work on a finding: a viewer is read only, so never an assignee.
ASSIGNABLE_ROLES = (Role.LEAD, Role.MEMBER)


def assignable_members(team: Team | int) -> QuerySet[Membership]:
    """Memberships of ``team`` a finding may be assigned to (leads and members, not viewers),
    by user name, with the user (one query)."""
    team_id = team if isinstance(team, int) else team.pk
    return (
        Membership.objects.filter(team_id=team_id, role__in=ASSIGNABLE_ROLES)
        .select_related("user")
        .order_by("user__username")
    )
