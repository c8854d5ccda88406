"""``Authorization: Bearer wdn_…`` for the API: the token acts as a user of its one team."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from governance.accounts.models import ApiToken, Role

TOKEN_PREFIX = "wdn_"  # noqa: S105 - a public prefix, not a secret
_LAST_USED_RESOLUTION = timedelta(minutes=1)  # avoid a write on every request


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenUser:
    """The principal behind an API token: a member (write) or viewer (read) of its team only.
    It carries the same cached team/role attributes the selectors read, so every scoped query
    works unchanged and cannot widen past the token's team."""

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, token: ApiToken) -> None:
        self.token = token
        self.username = f"token:{token.name}"
        self._warden_team_ids = [token.team_id]
        role = Role.MEMBER if token.can_write else Role.VIEWER
        self._warden_roles = {token.team_id: role.value}

    def __str__(self) -> str:
        return self.username

    def has_perm(self, *args: Any) -> bool:
        return False


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[TokenUser, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] not in ("Bearer", "Token"):
            return None
        if len(parts) != 2 or not parts[1].startswith(TOKEN_PREFIX):
            raise exceptions.AuthenticationFailed(
                "malformed Authorization header: expected 'Bearer wdn_…'"
            )
        token = (
            ApiToken.objects.select_related("team").filter(digest=token_digest(parts[1])).first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("invalid API token")
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("this API token was revoked; create a new one")
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("this API token has expired; create a new one")
        if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return TokenUser(token), token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
