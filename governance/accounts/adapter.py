"""allauth glue: who may sign up, and what an SSO login brings along (team memberships)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.conf import settings
from django.http import HttpRequest

from governance.accounts.services import sso_teams_join

log = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Teams are provisioned by operators; self sign-up only when explicitly enabled.
        return bool(settings.WARDEN_ALLOW_SIGNUP)


def _as_names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, dict | bytes):
        return [str(v) for v in value if isinstance(v, str | int)]
    return []


def sso_groups(extra_data: Any, claim: str) -> set[str]:
    """The IdP groups in what the provider returned: an OIDC login keeps the userinfo and the
    ID token's claims (either may carry the groups), a SAML login its attributes (lists)."""
    if not isinstance(extra_data, dict):
        return set()
    groups: set[str] = set(_as_names(extra_data.get(claim)))
    for part in ("userinfo", "id_token"):
        inner = extra_data.get(part)
        if isinstance(inner, dict):
            groups.update(_as_names(inner.get(claim)))
    return groups


class SocialAccountAdapter(DefaultSocialAccountAdapter):  # type: ignore[misc]
    """SSO logins: the IdP decides who may sign in (auto sign-up, WARDEN_SSO_AUTO_SIGNUP), and
    the IdP groups mapped in WARDEN_SSO_GROUP_TEAMS become team memberships on every login."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return bool(settings.WARDEN_SSO_AUTO_SIGNUP)

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        super().pre_social_login(request, sociallogin)
        if sociallogin.is_existing:  # a returning user: the user row exists
            self._join_teams(sociallogin)

    def save_user(self, request: HttpRequest, sociallogin: Any, form: Any = None) -> Any:
        user = super().save_user(request, sociallogin, form)
        self._join_teams(sociallogin)
        return user

    def _join_teams(self, sociallogin: Any) -> None:
        groups = sso_groups(sociallogin.account.extra_data, settings.WARDEN_SSO_GROUPS_CLAIM)
        joined = sso_teams_join(
            user=sociallogin.user, groups=groups, mapping=settings.WARDEN_SSO_GROUP_TEAMS
        )
        if joined:
            log.info(
                "sso: %s joined %s",
                sociallogin.user.get_username(),
                ", ".join(f"{m.team.slug} ({m.role})" for m in joined),
            )
