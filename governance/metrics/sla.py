"""Remediation metrics: mean time to remediate (MTTR) and SLA compliance.

Both take a findings queryset already scoped by the caller (``findings_visible_to(user)``,
optionally narrowed to a team or model) and aggregate in the database: one query each,
whatever the number of findings.

A finding counts as *remediated* when it is ``resolved`` because a later scan of the same
subject no longer reports it (resolution ``fixed``) or because a person closed it (``closed``).
Closures that are not remediations are left out of both metrics: a version retired or
replaced (``retired``), and an item the reporting tool itself marked resolved (``tool``).
The dashboard and ``/api/v1/sla/metrics/`` use the same window, :data:`REMEDIATION_WINDOW_DAYS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from governance.findings.models import ACTIVE_STATUSES, Finding, Status
from governance.vocabulary import SEVERITIES

__all__ = ["REMEDIATION_WINDOW_DAYS", "SEVERITIES", "mttr", "sla_compliance", "sla_metrics"]

#: Days of remediation history the dashboard and the SLA metrics API report on.
REMEDIATION_WINDOW_DAYS = 90
_DAY_MICROS = 86_400_000_000
_MICROSECOND = timedelta(microseconds=1)
#: Closures that are not remediations: a retired or replaced version, the tool's own say-so.
NOT_REMEDIATED = (Finding.Resolution.RETIRED, Finding.Resolution.TOOL)
_REMEDIATED = Q(status=Status.RESOLVED, resolved_at__isnull=False) & ~Q(
    resolution__in=NOT_REMEDIATED
)


@dataclass(frozen=True)
class Mttr:
    days: float | None  # None: nothing was remediated
    resolved: int
    by_severity: dict[str, float | None]


@dataclass(frozen=True)
class SlaCompliance:
    ratio: float | None  # None: no clock has ended yet
    met: int
    missed: int
    running: int
    by_severity: dict[str, float | None]


def mttr(findings: QuerySet[Finding], *, since: datetime | None = None) -> Mttr:
    """Mean time to remediate, in days.

    MTTR = sum(resolved_at - first_seen) / n, over the n remediated findings (status
    ``resolved``, resolution neither ``retired`` nor ``tool``; and ``resolved_at >= since``
    when given). False positives and accepted risks are not remediations and are left out.
    Per severity the same formula over that severity's findings; the overall figure is the
    mean over all n findings (not a mean of means).
    """
    rows = mttr_parts(findings, since=since)
    return mttr_from_parts((r["severity"], r["n"], r["micros"]) for r in rows)


def mttr_parts(
    findings: QuerySet[Finding], *, since: datetime | None = None, by: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The sums behind :func:`mttr` per severity (and per ``by`` fields, e.g. the model):
    ``n`` remediated findings and ``micros``, the sum of their ``resolved_at - first_seen`` in
    microseconds. Sums, not means, so that groups add up exactly."""
    qs = findings.filter(_REMEDIATED)
    if since is not None:
        qs = qs.filter(resolved_at__gte=since)
    rows = list(
        qs.order_by().values(*by, "severity").annotate(
            n=Count("id"),
            total=Sum(ExpressionWrapper(F("resolved_at") - F("first_seen"),
                                        output_field=DurationField())),
        )
    )  # fmt: skip
    for row in rows:
        row["micros"] = row.pop("total") // _MICROSECOND
    return rows


def mttr_from_parts(parts: Iterable[tuple[str, int, int]]) -> Mttr:
    """:func:`mttr` from (severity, n, sum of durations in microseconds) groups."""
    n_by: dict[str, int] = {}
    micros_by: dict[str, int] = {}
    for severity, n, micros in parts:
        n_by[severity] = n_by.get(severity, 0) + n
        micros_by[severity] = micros_by.get(severity, 0) + micros
    by_severity: dict[str, float | None] = dict.fromkeys(SEVERITIES)
    for severity, n in n_by.items():
        if n:
            by_severity[severity] = round(micros_by[severity] / n / _DAY_MICROS, 2)
    total_n = sum(n_by.values())
    days = round(sum(micros_by.values()) / total_n / _DAY_MICROS, 2) if total_n else None
    return Mttr(days=days, resolved=total_n, by_severity=by_severity)


def sla_compliance(
    findings: QuerySet[Finding], *, today: date, since: date | None = None
) -> SlaCompliance:
    """Share of remediation clocks that ended within their SLA.

    Over findings with a due date (``sla_due``; ``sla_due >= since`` when given):

    - met: remediated on or before the due date, ``date(resolved_at) <= sla_due``;
    - missed: remediated after the due date, or still open (open, confirmed, in progress)
      with ``sla_due < today``;
    - running: still open and not yet due (the clock has not ended: not counted);
    - false positives, accepted risks, and closures that are not remediations (retired
      versions, the tool's own "resolved") are left out.

    compliance = met / (met + missed); None when no clock has ended.
    """
    rows = sla_parts(findings, today=today, since=since)
    return sla_from_parts((r["severity"], r["met"], r["missed"], r["running"]) for r in rows)


def sla_parts(
    findings: QuerySet[Finding],
    *,
    today: date,
    since: date | None = None,
    by: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """The counts behind :func:`sla_compliance` (met, missed, running) per severity and per
    ``by`` fields."""
    qs = findings.filter(sla_due__isnull=False)
    if since is not None:
        qs = qs.filter(sla_due__gte=since)
    resolved = _REMEDIATED
    active = Q(status__in=ACTIVE_STATUSES)
    return list(
        qs.order_by().annotate(resolved_on=TruncDate("resolved_at")).values(*by, "severity")
        .annotate(
            met=Count("id", filter=resolved & Q(resolved_on__lte=F("sla_due"))),
            missed=Count("id", filter=(resolved & Q(resolved_on__gt=F("sla_due")))
                         | (active & Q(sla_due__lt=today))),
            running=Count("id", filter=active & Q(sla_due__gte=today)),
        )
    )  # fmt: skip


def sla_from_parts(parts: Iterable[tuple[str, int, int, int]]) -> SlaCompliance:
    """:func:`sla_compliance` from (severity, met, missed, running) groups."""
    sums: dict[str, list[int]] = {}
    for severity, met_n, missed_n, running_n in parts:
        row = sums.setdefault(severity, [0, 0, 0])
        row[0], row[1], row[2] = row[0] + met_n, row[1] + missed_n, row[2] + running_n
    by_severity: dict[str, float | None] = dict.fromkeys(SEVERITIES)
    met = missed = running = 0
    for severity, (m, x, r) in sums.items():
        ended = m + x
        by_severity[severity] = round(m / ended, 4) if ended else None
        met, missed, running = met + m, missed + x, running + r
    ratio = round(met / (met + missed), 4) if met + missed else None
    return SlaCompliance(
        ratio=ratio, met=met, missed=missed, running=running, by_severity=by_severity
    )


def window_start(today: date, days: int) -> tuple[date, datetime]:
    """The first day of a ``days``-day window ending ``today``, and its first instant."""
    since = today - timedelta(days=days)
    return since, datetime.combine(since, time.min, tzinfo=timezone.get_current_timezone())


def sla_metrics(
    findings: QuerySet[Finding], *, today: date, days: int = REMEDIATION_WINDOW_DAYS
) -> dict[str, Any]:
    """Both metrics over the last ``days`` days, JSON-ready (the ``/api/v1/sla/metrics/``
    payload): MTTR of findings remediated since the window's start, SLA compliance of clocks
    due since then — the same figures the dashboard shows for the same window."""
    since, since_start = window_start(today, days)
    m = mttr(findings, since=since_start)
    c = sla_compliance(findings, today=today, since=since)
    return {
        "window_days": days,
        "mttr_days": m.days,
        "mttr_days_by_severity": m.by_severity,
        "resolved": m.resolved,
        "sla_compliance": c.ratio,
        "sla_compliance_by_severity": c.by_severity,
        "sla_met": c.met,
        "sla_missed": c.missed,
        "sla_running": c.running,
    }
