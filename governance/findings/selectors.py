"""Reads of findings, always scoped to the caller's teams."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from governance.accounts.selectors import team_ids_for
from governance.findings.filters import FindingFilters
from governance.findings.models import ACTIVE_STATUSES, Finding, FindingEvent, FindingOccurrence
from governance.inventory.models import MLModel
from governance.inventory.selectors import models_visible_to


def findings_visible_to(user: Any) -> QuerySet[Finding]:
    return Finding.objects.filter(team_id__in=team_ids_for(user))


def findings_filtered(user: Any, *, filters: FindingFilters) -> QuerySet[Finding]:
    """The user's findings matching ``filters`` (one definition for the page, the API, and
    whatever acts on a list: bulk triage, exports)."""
    return findings_filter_apply(findings_visible_to(user), filters)


def findings_filter_apply(qs: QuerySet[Finding], filters: FindingFilters) -> QuerySet[Finding]:
    """``qs`` (already scoped to the caller) narrowed by ``filters``."""
    f = filters
    if f.team:
        qs = qs.filter(team__slug=f.team)
    if f.model:
        qs = (
            qs.filter(model_id=int(f.model))
            if f.model.isdigit()
            else qs.filter(model__name__iexact=f.model)
        )
    if f.version:
        qs = qs.filter(version__version=f.version)
    if f.statuses:
        qs = qs.filter(status__in=f.statuses)
    if f.severities:
        qs = qs.filter(severity__in=f.severities)
    if f.categories:
        qs = qs.filter(category__in=f.categories)
    if f.tool:
        qs = qs.filter(tools__contains=f",{f.tool},")
    if f.since is not None:
        qs = qs.filter(last_seen__gte=f.since)
    if f.overdue:
        qs = qs.filter(sla_due__lt=timezone.localdate())
    if f.reachable:
        qs = qs.filter(reachable={"true": True, "false": False, "unknown": None}[f.reachable])
    return qs


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


def finding_occurrences(finding: Finding) -> QuerySet[FindingOccurrence]:
    """Where the finding was seen: one row per subject and tool family, active first, with
    the scans that first and last saw it and the one that closed it."""
    return finding.occurrences.select_related(
        "subject__model", "subject__version", "first_scan", "last_scan", "closed_by_scan"
    ).order_by("state", "-last_seen", "id")


def with_active_versions(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    """``findings`` with ``active_occurrences`` prefetched (subject and version): the versions
    each finding is present in, for lists, in one more query per page."""
    return findings.prefetch_related(
        Prefetch(
            "occurrences",
            queryset=FindingOccurrence.objects.filter(state=FindingOccurrence.State.ACTIVE)
            .select_related("subject__version")
            .order_by("subject__version_id", "id"),
            to_attr="active_occurrences",
        )
    )


def active_version_labels(finding: Finding) -> list[str]:
    """Distinct versions a prefetched finding is present in (see :func:`with_active_versions`)
    in version order; "(any version)" for scans uploaded without one."""
    labels: list[str] = []
    for occ in getattr(finding, "active_occurrences", []):
        version = occ.subject.version
        label = version.version if version is not None else "(any version)"
        if label not in labels:
            labels.append(label)
    return labels


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
