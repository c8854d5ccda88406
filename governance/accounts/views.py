"""Team settings pages: API tokens (leads create and revoke them)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance.accounts.models import ApiToken, Team
from governance.accounts.selectors import has_role, team_get_for_user
from governance.accounts.services import (
    api_token_create,
    api_token_revoke,
    team_settings_update,
)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100)
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.WRITE)
    expires_in_days = forms.IntegerField(
        min_value=1, max_value=3650, required=False, help_text="empty: never expires"
    )


def _team_for_lead(request: HttpRequest, slug: str) -> Team:
    team = team_get_for_user(request.user, slug)  # 404 when not the user's team
    if not has_role(request.user, team.pk, "lead"):
        raise PermissionDenied("only a team lead manages API tokens")
    return team


_SHOW_ONCE = "warden_show_once"


def tokens(request: HttpRequest, slug: str) -> HttpResponse:
    """The team's tokens. Creating one redirects back (a refresh creates nothing); the raw
    token rides in the session for that one next page and is then gone."""
    team = _team_for_lead(request, slug)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        token, raw = api_token_create(
            team=team,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
            created_by=request.user,  # type: ignore[arg-type]
        )
        request.session[_SHOW_ONCE] = {"team": team.pk, "id": token.pk, "raw": raw}
        return redirect("accounts:tokens", slug=team.slug)
    created = None
    shown = request.session.get(_SHOW_ONCE)
    if shown and shown.get("team") == team.pk:
        created = shown.get("raw")
        del request.session[_SHOW_ONCE]  # shown once
    return render(
        request,
        "accounts/tokens.html",
        {
            "team": team,
            "form": form,
            "created_token": created,
            "tokens": team.api_tokens.select_related("created_by").order_by("-created_at"),
            "now": timezone.now(),
        },
        status=400 if form.errors else 200,
    )


def token_revoke(request: HttpRequest, slug: str, token_id: int) -> HttpResponse:
    """GET asks to confirm, naming what stops working; POST revokes."""
    team = _team_for_lead(request, slug)
    token = get_object_or_404(ApiToken, pk=token_id, team=team)
    if request.method == "POST":
        api_token_revoke(token=token)
        messages.success(request, f"Token {token.name!r} revoked.")
        return redirect("accounts:tokens", slug=team.slug)
    return render(
        request,
        "confirm.html",
        {
            "title": f"Revoke the token {token.name!r}?",
            "body": f"Anything using {token.mask} (CI uploads, gate checks) is refused from "
            "now on. This cannot be undone: create a new token to replace it.",
            "action": reverse("accounts:token-revoke", args=[team.slug, token.pk]),
            "button": "Revoke this token",
            "cancel": reverse("accounts:tokens", args=[team.slug]),
        },
    )


@require_POST
def team_settings(request: HttpRequest, slug: str) -> HttpResponse:
    team = _team_for_lead(request, slug)
    team_settings_update(
        team=team,
        actor=request.user,
        allow_model_autocreate=request.POST.get("allow_model_autocreate") == "on",
    )
    messages.success(request, "Team settings saved.")
    return redirect("accounts:tokens", slug=team.slug)
