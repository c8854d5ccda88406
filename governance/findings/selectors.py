"""Reads of findings, always scoped to the caller's teams."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from governance.accounts.selectors import team_ids_for
from governance.findings.models import ACTIVE_STATUSES, Finding, FindingEvent
from governance.inventory.models import MLModel
from governance.inventory.selectors import models_visible_to


def findings_visible_to(user: Any) -> QuerySet[Finding]:
    return Finding.objects.filter(team_id__in=team_ids_for(user))


def finding_get_for_user(user: Any, pk: int) -> Finding:
    """The finding, or 404 for missing and not-yours alike."""
    found = (
        findings_visible_to(user)
        .select_related("model", "version", "assignee", "team")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("finding not found")
    return found


def finding_events(finding: Finding) -> QuerySet[FindingEvent]:
    return finding.events.select_related("actor").order_by("created_at", "id")


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
