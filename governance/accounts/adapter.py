from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Teams are provisioned by operators; self sign-up only when explicitly enabled.
        return bool(settings.WARDEN_ALLOW_SIGNUP)
