"""Team settings pages: API tokens (leads create and revoke them)."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
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


def tokens(request: HttpRequest, slug: str) -> HttpResponse:
    team = _team_for_lead(request, slug)
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        _, created = api_token_create(
            team=team,
            name=form.cleaned_data["name"],
            scope=form.cleaned_data["scope"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
            created_by=request.user,  # type: ignore[arg-type]
        )
        form = TokenForm()
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
    )


@require_POST
def token_revoke(request: HttpRequest, slug: str, token_id: int) -> HttpResponse:
    team = _team_for_lead(request, slug)
    token = get_object_or_404(ApiToken, pk=token_id, team=team)
    api_token_revoke(token=token)
    return redirect("accounts:tokens", slug=team.slug)


@require_POST
def team_settings(request: HttpRequest, slug: str) -> HttpResponse:
    team = _team_for_lead(request, slug)
    team_settings_update(
        team=team,
        actor=request.user,
        allow_model_autocreate=request.POST.get("allow_model_autocreate") == "on",
    )
    return redirect("accounts:tokens", slug=team.slug)
