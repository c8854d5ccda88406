"""Reads of findings, always scoped to the caller's teams."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from governance.accounts.selectors import team_ids_for
from governance.findings.models import Finding, FindingEvent


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
