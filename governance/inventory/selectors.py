"""Reads of models and versions, always scoped to the caller's teams."""

from __future__ import annotations

import difflib
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from governance.accounts.selectors import team_ids_for
from governance.inventory.models import MLModel


def models_visible_to(user: Any) -> QuerySet[MLModel]:
    return MLModel.objects.filter(team_id__in=team_ids_for(user))


def model_name_suggestions(*, team_ids: list[int], name: str, limit: int = 3) -> list[str]:
    """Names of the teams' models closest to ``name`` (for "did you mean …?"), best first."""
    names = list(MLModel.objects.filter(team_id__in=team_ids).values_list("name", flat=True)[:5000])
    by_lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=limit, cutoff=0.6)
    return [by_lower[c] for c in close]


def model_lookup(models: QuerySet[MLModel], ref: int | str) -> MLModel:
    """The model of ``models`` (a queryset the caller scoped) named by id, or by name
    (case-insensitively) when unambiguous; 404 otherwise. A name that matches nothing says
    which models of the same scope come closest."""
    qs = models.select_related("team", "owner")
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        found = qs.filter(pk=int(ref)).first()
        if found is not None:
            return found
    matches = list(qs.filter(name__iexact=str(ref))[:2])
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise Http404(f"model {str(ref)!r} is in several of your teams; use its id")
    names = list(models.values_list("name", flat=True)[:5000])
    by_lower = {n.lower(): n for n in names}
    close = [
        by_lower[c]
        for c in difflib.get_close_matches(str(ref).lower(), list(by_lower), n=3, cutoff=0.6)
    ]
    hint = f"; did you mean {' or '.join(repr(n) for n in close)}?" if close else ""
    raise Http404(f"model {str(ref)[:200]!r} not found{hint}")


def model_get_for_user(user: Any, ref: int | str) -> MLModel:
    """A model of the user's teams by id or name; 404 when missing or not the user's alike
    (see :func:`model_lookup`)."""
    return model_lookup(models_visible_to(user), ref)
