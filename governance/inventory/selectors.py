"""Reads of models and versions, always scoped to the caller's teams."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from governance.accounts.selectors import team_ids_for
from governance.findings.models import ACTIVE_STATUSES
from governance.inventory.models import MLModel


def models_visible_to(user: Any) -> QuerySet[MLModel]:
    return MLModel.objects.filter(team_id__in=team_ids_for(user))


def models_with_open_counts(user: Any) -> QuerySet[MLModel]:
    """Models of the user's teams with open-finding counts per severity, in one query."""
    open_q = Q(findings__status__in=ACTIVE_STATUSES)
    return (
        models_visible_to(user)
        .select_related("team", "owner")
        .annotate(
            open_critical=Count("findings", filter=open_q & Q(findings__severity="critical")),
            open_high=Count("findings", filter=open_q & Q(findings__severity="high")),
            open_total=Count("findings", filter=open_q),
        )
        .order_by("team__name", "name")
    )


def model_get_for_user(user: Any, ref: int | str) -> MLModel:
    """A model by id (or by name when unambiguous among the user's teams); 404 when missing
    or not the user's alike."""
    qs = models_visible_to(user).select_related("team", "owner")
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        found = qs.filter(pk=int(ref)).first()
        if found is not None:
            return found
    matches = list(qs.filter(name=str(ref))[:2])
    if len(matches) != 1:
        raise Http404("model not found")
    return matches[0]
