"""Remediation metrics: mean time to remediate (MTTR) and SLA compliance.

Both take a findings queryset already scoped by the caller (``findings_visible_to(user)``,
optionally narrowed to a team or model) and aggregate in the database: one query each,
whatever the number of findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate

from governance.findings.models import ACTIVE_STATUSES, Finding, Status

SEVERITIES = ("critical", "high", "medium", "low", "info")
_DAY_SECONDS = 86400.0


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

    MTTR = sum(resolved_at - first_seen) / n, over the n findings with status ``resolved``
    (and ``resolved_at >= since`` when given). False positives and accepted risks are not
    remediations and are left out. Per severity the same formula over that severity's
    findings; the overall figure is the mean over all n findings (not a mean of means).
    """
    qs = findings.filter(status=Status.RESOLVED, resolved_at__isnull=False)
    if since is not None:
        qs = qs.filter(resolved_at__gte=since)
    rows = list(
        qs.order_by().values("severity").annotate(
            n=Count("id"),
            avg=Avg(ExpressionWrapper(F("resolved_at") - F("first_seen"),
                                      output_field=DurationField())),
        )
    )  # fmt: skip
    by_severity: dict[str, float | None] = dict.fromkeys(SEVERITIES)
    total_n, total_seconds = 0, 0.0
    for row in rows:
        seconds = row["avg"].total_seconds()
        by_severity[row["severity"]] = round(seconds / _DAY_SECONDS, 2)
        total_n += row["n"]
        total_seconds += seconds * row["n"]
    days = round(total_seconds / total_n / _DAY_SECONDS, 2) if total_n else None
    return Mttr(days=days, resolved=total_n, by_severity=by_severity)


def sla_compliance(
    findings: QuerySet[Finding], *, today: date, since: date | None = None
) -> SlaCompliance:
    """Share of remediation clocks that ended within their SLA.

    Over findings with a due date (``sla_due``; ``sla_due >= since`` when given):

    - met: ``resolved`` on or before the due date, ``date(resolved_at) <= sla_due``;
    - missed: ``resolved`` after the due date, or still open (open, confirmed, in progress)
      with ``sla_due < today``;
    - running: still open and not yet due (the clock has not ended: not counted);
    - false positives and accepted risks are left out.

    compliance = met / (met + missed); None when no clock has ended.
    """
    qs = findings.filter(sla_due__isnull=False)
    if since is not None:
        qs = qs.filter(sla_due__gte=since)
    resolved = Q(status=Status.RESOLVED, resolved_at__isnull=False)
    active = Q(status__in=ACTIVE_STATUSES)
    rows = list(
        qs.order_by().annotate(resolved_on=TruncDate("resolved_at")).values("severity").annotate(
            met=Count("id", filter=resolved & Q(resolved_on__lte=F("sla_due"))),
            missed=Count("id", filter=(resolved & Q(resolved_on__gt=F("sla_due")))
                         | (active & Q(sla_due__lt=today))),
            running=Count("id", filter=active & Q(sla_due__gte=today)),
        )
    )  # fmt: skip
    by_severity: dict[str, float | None] = dict.fromkeys(SEVERITIES)
    met = missed = running = 0
    for row in rows:
        ended = row["met"] + row["missed"]
        by_severity[row["severity"]] = round(row["met"] / ended, 4) if ended else None
        met, missed, running = met + row["met"], missed + row["missed"], running + row["running"]
    ratio = round(met / (met + missed), 4) if met + missed else None
    return SlaCompliance(
        ratio=ratio, met=met, missed=missed, running=running, by_severity=by_severity
    )


def sla_metrics(findings: QuerySet[Finding], *, today: date) -> dict[str, Any]:
    """Both metrics, JSON-ready (the ``/api/v1/sla/metrics/`` payload)."""
    m, c = mttr(findings), sla_compliance(findings, today=today)
    return {
        "mttr_days": m.days,
        "mttr_days_by_severity": m.by_severity,
        "resolved": m.resolved,
        "sla_compliance": c.ratio,
        "sla_compliance_by_severity": c.by_severity,
        "sla_met": c.met,
        "sla_missed": c.missed,
        "sla_running": c.running,
    }
