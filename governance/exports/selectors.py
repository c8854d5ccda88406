"""Reads behind the exports, each a generator of rows at constant memory whatever the size:
the findings of a list's filter, a team's audit trail, the dashboard's figures.

Each costs a fixed number of queries: rows are read with ``.iterator(chunk_size=...)``
(server-side cursors on PostgreSQL), and what a row needs from another table comes from a
second cursor in the same order, merged as it goes, never from a query per row or per chunk.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from governance.accounts.models import Team
from governance.findings.models import Finding, FindingEvent, FindingOccurrence
from governance.metrics.selectors import CATEGORIES, Dashboard
from governance.metrics.sla import SEVERITIES
from governance.policies.models import PolicyEvent

#: Rows fetched per round trip.
CHUNK_SIZE = 2000


def findings_export(findings: QuerySet[Finding]) -> Iterator[Finding]:
    """``findings`` (already scoped and filtered by the caller) newest first, as the list API
    orders them, each with ``active_occurrences`` set as
    :func:`governance.findings.selectors.with_active_versions` would (two queries in all)."""
    rows = (
        findings.select_related("model", "team", "version", "assignee")
        .order_by("-id")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    occurrences = (
        FindingOccurrence.objects.filter(
            state=FindingOccurrence.State.ACTIVE, finding_id__in=findings.values("id")
        )
        .select_related("subject__version")
        .order_by("-finding_id", "subject__version_id", "id")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    pending = next(occurrences, None)
    for finding in rows:
        found: list[FindingOccurrence] = []
        while pending is not None and pending.finding_id >= finding.pk:
            if pending.finding_id == finding.pk:
                found.append(pending)
            pending = next(occurrences, None)
        finding.active_occurrences = found  # type: ignore[attr-defined]
        yield finding


def _actor(actor: Any, label: str) -> str:
    return actor.get_username() if actor is not None else label


def _finding_event(ev: FindingEvent, team: Team) -> dict[str, Any]:
    finding = ev.finding
    return {
        "@timestamp": ev.created_at.isoformat(),
        "source": "finding",
        "event": f"finding.{ev.kind}",
        "id": f"finding-event-{ev.pk}",
        "team": team.slug,
        "actor": _actor(ev.actor, ev.actor_label),
        "model": finding.model.name,
        "model_id": finding.model_id,
        "finding_id": finding.pk,
        "finding": finding.title,
        "severity": finding.severity,
        "from": ev.from_value,
        "to": ev.to_value,
        "reason": ev.reason,
        "scan_run_id": ev.scan_run_id,
    }


def _policy_event(ev: PolicyEvent, team: Team) -> dict[str, Any]:
    row: dict[str, Any] = {
        "@timestamp": ev.created_at.isoformat(),
        "source": "policy",
        "event": f"policy.{ev.kind}",
        "id": f"policy-event-{ev.pk}",
        "team": team.slug,
        "actor": _actor(ev.actor, ev.actor_label),
        "message": ev.message,
        "policy_id": ev.policy_id,
        "policy": ev.policy.name if ev.policy is not None else None,
        "data": ev.data,
    }
    exception = ev.exception
    if exception is not None:  # the decision, as it stands now
        row["exception"] = {
            "id": exception.pk,
            "model_id": exception.model_id,
            "finding_id": exception.finding_id,
            "rule": exception.rule,
            "status": exception.status,
            "justification": exception.justification,
            "expires_at": exception.expires_at.isoformat(),
            "requested_by": _actor(exception.requested_by, ""),
            "decided_by": _actor(exception.decided_by, ""),
            "decided_at": exception.decided_at.isoformat() if exception.decided_at else None,
            "decision_reason": exception.decision_reason,
        }
    return row


def audit_trail(team: Team, *, since: datetime | None = None) -> Iterator[dict[str, Any]]:
    """The team's audit trail in time order: every finding event (status changes,
    assignments, comments, severity changes) and policy event (policy changes, exception
    requests and decisions, tier and stage changes), from ``since`` on (two queries)."""
    finding_events = FindingEvent.objects.filter(finding__team=team).select_related(
        "actor", "finding__model"
    )
    policy_events = PolicyEvent.objects.filter(team=team).select_related(
        "actor",
        "policy",
        "exception__requested_by",
        "exception__decided_by",
    )
    if since is not None:
        finding_events = finding_events.filter(created_at__gte=since)
        policy_events = policy_events.filter(created_at__gte=since)
    findings = (
        ((ev.created_at, 0, ev.pk), _finding_event(ev, team))
        for ev in finding_events.order_by("created_at", "id").iterator(chunk_size=CHUNK_SIZE)
    )
    policies = (
        ((ev.created_at, 1, ev.pk), _policy_event(ev, team))
        for ev in policy_events.order_by("created_at", "id").iterator(chunk_size=CHUNK_SIZE)
    )
    for _key, row in heapq.merge(findings, policies, key=lambda pair: pair[0]):
        yield row


DASHBOARD_COLUMNS = ("figure", "team", "day", "model", "category", "severity", "value")


def dashboard_rows(board: Dashboard) -> Iterator[tuple[Any, ...]]:
    """The dashboard's figures as rows of :data:`DASHBOARD_COLUMNS`, from the same
    :class:`governance.metrics.selectors.Dashboard` the page renders (one definition)."""
    team = board.scope.team.slug if board.scope.team else "(all my teams)"

    def row(figure: str, value: Any, **at: Any) -> tuple[Any, ...]:
        return (
            figure,
            team,
            at.get("day"),
            at.get("model"),
            at.get("category"),
            at.get("severity"),
            value,
        )

    yield row("active_findings", board.active.total)
    yield row("active_findings_overdue", board.active.overdue)
    for category in CATEGORIES:
        for severity in SEVERITIES:
            n = board.active.matrix.get(category, {}).get(severity, 0)
            yield row("active_findings", n, category=category, severity=severity)
    yield row("models", board.risk.models)
    yield row("models_with_critical_or_high", board.risk.with_critical_or_high)
    yield row(f"mttr_days_last_{board.days}d", board.mttr.days)
    yield row(f"remediated_last_{board.days}d", board.mttr.resolved)
    for severity, days in board.mttr.by_severity.items():
        yield row(f"mttr_days_last_{board.days}d", days, severity=severity)
    yield row(f"sla_compliance_last_{board.days}d", board.compliance.ratio)
    yield row("sla_met", board.compliance.met)
    yield row("sla_missed", board.compliance.missed)
    yield row("sla_running", board.compliance.running)
    for severity, ratio in board.compliance.by_severity.items():
        yield row(f"sla_compliance_last_{board.days}d", ratio, severity=severity)
    for category in CATEGORIES:
        yield row("models_with_evidence", board.layers.get(category, 0), category=category)
    for risky in board.risk.riskiest:
        name = risky.model.name
        yield row("riskiest_model_active", risky.active, model=name)
        yield row("riskiest_model_active", risky.critical, model=name, severity="critical")
        yield row("riskiest_model_active", risky.high, model=name, severity="high")
        yield row("riskiest_model_overdue", risky.overdue, model=name)
    for point in board.trend:
        if point.by_severity is None:
            continue  # no rollup that day: a gap, not a zero
        for severity, n in point.by_severity.items():
            yield row("trend_active", n, day=point.day.isoformat(), severity=severity)
