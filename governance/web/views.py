"""Server-rendered pages. Each view parses input, calls one selector or service, renders."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from governance.accounts.selectors import has_role, teams_visible_to
from governance.inventory.selectors import models_with_open_counts


def home(request: HttpRequest) -> HttpResponse:
    """The user's teams and their models with open findings by severity."""
    models = list(models_with_open_counts(request.user))
    teams = list(teams_visible_to(request.user).order_by("name"))
    by_team: dict[int, list[object]] = {t.pk: [] for t in teams}
    for m in models:
        by_team.setdefault(m.team_id, []).append(m)
    return render(
        request,
        "web/home.html",
        {
            "teams": [(t, by_team.get(t.pk, [])) for t in teams],
            "model_count": len(models),
            "lead_team_ids": {t.pk for t in teams if has_role(request.user, t.pk, "lead")},
        },
    )
