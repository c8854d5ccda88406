"""``Authorization: Bearer wdn_…`` for the API: the token acts as a user of its one team.

Guessing is slowed per source: after ``WARDEN_API_TOKEN_FAILURE_LIMIT`` invalid or malformed
tokens from one client address (see :mod:`governance.lib.client_ip`) in a window of
``WARDEN_API_TOKEN_FAILURE_WINDOW`` seconds, every Bearer request from that address answers 429
with ``Retry-After`` until the window ends, a correct token included (otherwise a guesser
would keep going at full speed and simply ignore the 429s). Other addresses are unaffected.
The counters live in Django's cache (Redis in production, so all web processes share them).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from governance.accounts.models import ApiToken, Role
from governance.lib.client_ip import client_key

logger = logging.getLogger(__name__)

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


def _failure_window() -> tuple[str, float]:
    """The current fixed window's cache-key suffix and the seconds left in it."""
    window = max(1, settings.WARDEN_API_TOKEN_FAILURE_WINDOW)
    now = time.time()
    return str(int(now // window)), window - (now % window)


def _failures_key(source: str, window_id: str) -> str:
    return f"warden:api-token-failures:{source}:{window_id}"


def _guessing_wait(source: str) -> float | None:
    """Seconds this source must wait, or None. A cache outage fails open: refusing every API
    call because the rate limiter's store is down would turn a Redis blip into an outage."""
    window_id, left = _failure_window()
    try:
        failures = cache.get(_failures_key(source, window_id), 0)
    except Exception:
        logger.warning("api token limiter: the cache did not answer", exc_info=True)
        return None
    return left if failures >= settings.WARDEN_API_TOKEN_FAILURE_LIMIT else None


def _failure_record(source: str) -> None:
    window_id, left = _failure_window()
    key = _failures_key(source, window_id)
    try:
        # add() then incr(): atomic on Redis, so concurrent guesses are all counted.
        cache.add(key, 0, timeout=math.ceil(left) + 1)
        cache.incr(key)
    except ValueError:  # expired between add() and incr(): count it in a fresh entry
        cache.add(key, 1, timeout=math.ceil(left) + 1)
    except Exception:
        logger.warning("api token limiter: the cache did not answer", exc_info=True)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"
    #: A ``metrics`` token reads /metrics only: every other API view refuses it.
    accepts_metrics_scope = False

    def authenticate(self, request: Request) -> tuple[TokenUser, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        parts = header.split()
        if parts[0] not in ("Bearer", "Token"):
            return None
        source = client_key(request._request)
        wait = _guessing_wait(source)
        if wait is not None:
            raise exceptions.Throttled(
                wait=math.ceil(wait),
                detail="too many invalid API tokens from this address; retry later",
            )
        if len(parts) != 2 or not parts[1].startswith(TOKEN_PREFIX):
            _failure_record(source)
            raise exceptions.AuthenticationFailed(
                "malformed Authorization header: expected 'Bearer wdn_…'"
            )
        token = (
            ApiToken.objects.select_related("team").filter(digest=token_digest(parts[1])).first()
        )
        if token is None:
            _failure_record(source)
            raise exceptions.AuthenticationFailed("invalid API token")
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("this API token was revoked; create a new one")
        if token.expires_at is not None and token.expires_at <= now:
            raise exceptions.AuthenticationFailed("this API token has expired; create a new one")
        if (token.scope == ApiToken.Scope.METRICS) != self.accepts_metrics_scope:
            # a valid token, the wrong scope: forbidden, not unauthenticated
            raise exceptions.PermissionDenied(
                "a metrics token reads /metrics only"
                if token.scope == ApiToken.Scope.METRICS
                else "/metrics needs a token with the metrics scope"
            )
        if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return TokenUser(token), token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class MetricsTokenAuthentication(ApiTokenAuthentication):
    """For /metrics: only tokens with the ``metrics`` scope."""

    accepts_metrics_scope = True
