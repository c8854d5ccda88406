"""Writes for teams, memberships and API tokens."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from governance.accounts.authentication import TOKEN_PREFIX, token_digest
from governance.accounts.models import ApiToken, Membership, Role, Team
from governance.lib.api_errors import ApplicationError
from governance.lib.names import name_problem

_log = logging.getLogger(__name__)


def team_create(*, slug: str, name: str | None = None) -> Team:
    name = (name or slug).strip()
    problem = name_problem(name, what="team names")
    if problem:
        raise ApplicationError(problem)
    team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": name})
    return team


@transaction.atomic
def membership_set(*, team: Team, user: User, role: str) -> Membership:
    if role not in Role.values:
        raise ApplicationError(f"unknown role {role!r}; use one of {', '.join(Role.values)}")
    membership, _ = Membership.objects.update_or_create(
        team=team, user=user, defaults={"role": role}
    )
    return membership


def user_create(*, username: str, email: str = "", password: str | None = None) -> tuple[User, str]:
    """Create a user; returns the user and the password (generated when not given)."""
    password = password or secrets.token_urlsafe(15)
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    return user, password


def api_token_create(
    *,
    team: Team,
    name: str,
    scope: str = ApiToken.Scope.READ,
    expires_at: datetime | None = None,
    created_by: User | None = None,
) -> tuple[ApiToken, str]:
    """A new token; returns the row and the raw token, which is never stored or shown again."""
    if scope not in ApiToken.Scope.values:
        raise ApplicationError(f"unknown scope {scope!r}; use read or write")
    if not name.strip():
        raise ApplicationError("a token needs a name")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        team=team,
        name=name.strip(),
        digest=token_digest(raw),
        mask=f"{raw[:8]}…{raw[-4:]}",
        scope=scope,
        expires_at=expires_at,
        created_by=created_by,
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def team_settings_update(*, team: Team, actor: Any, allow_model_autocreate: bool) -> Team:
    """Leads decide whether CI uploads may create models the team has not registered."""
    from governance.accounts.selectors import has_role

    if not has_role(actor, team.pk, "lead"):
        raise ApplicationError("only a team lead changes team settings", status_code=403)
    if team.allow_model_autocreate != allow_model_autocreate:
        team.allow_model_autocreate = allow_model_autocreate
        team.save(update_fields=["allow_model_autocreate"])
    return team


@transaction.atomic
def sso_teams_join(
    *, user: User, groups: set[str], mapping: dict[str, list[tuple[str, str]]]
) -> list[Membership]:
    """Add the user to the teams their IdP groups map to (WARDEN_SSO_GROUP_TEAMS).

    Joins only: a membership the user already has keeps its role (an operator may have
    changed it), and leaving an IdP group does not remove anyone. A mapped team that does
    not exist is skipped with a warning: teams are created by operators, never by a login.
    """
    wanted: dict[str, str] = {}
    rank = {Role.VIEWER: 0, Role.MEMBER: 1, Role.LEAD: 2}
    for group in sorted(groups):
        for slug, role in mapping.get(group, []):
            if slug not in wanted or rank[Role(role)] > rank[Role(wanted[slug])]:
                wanted[slug] = role
    if not wanted:
        return []
    teams = {t.slug: t for t in Team.objects.filter(slug__in=wanted)}
    for slug in sorted(set(wanted) - set(teams)):
        _log.warning("WARDEN_SSO_GROUP_TEAMS names team %r, which does not exist", slug)
    have = set(
        Membership.objects.filter(user=user, team__in=teams.values()).values_list(
            "team__slug", flat=True
        )
    )
    return [
        Membership.objects.create(team=team, user=user, role=wanted[slug])
        for slug, team in sorted(teams.items())
        if slug not in have
    ]
