"""Login page helpers: is sign-up open, and which SSO providers to offer."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.apps import apps
from django.http import HttpRequest

register = template.Library()


@dataclass(frozen=True)
class SSOButton:
    name: str
    url: str
    provider_id: str


@register.simple_tag(takes_context=True)
def signup_open(context: template.Context) -> bool:
    from allauth.account.adapter import get_adapter

    request: HttpRequest | None = context.get("request")
    return request is not None and bool(get_adapter(request).is_open_for_signup(request))


@register.simple_tag(takes_context=True)
def sso_buttons(context: template.Context) -> list[SSOButton]:
    """One button per configured SSO app (none when SSO is off)."""
    request: HttpRequest | None = context.get("request")
    if request is None or not apps.is_installed("allauth.socialaccount"):
        return []
    from allauth.socialaccount.adapter import get_adapter

    buttons = []
    for provider in get_adapter(request).list_providers(request):
        buttons.append(
            SSOButton(
                name=provider.app.name or provider.name,
                url=provider.get_login_url(request),
                provider_id=provider.app.provider_id or provider.id,
            )
        )
    return buttons
