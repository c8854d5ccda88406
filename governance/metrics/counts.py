"""Active findings by layer and severity: one definition, used live (the API, a model's
page) and summed from per-model groups (the dashboard's cache, the daily rollup).

"Active" means status open, confirmed or in progress
(:data:`governance.findings.models.ACTIVE_STATUSES`): what fails gates and runs SLA clocks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet

from governance.findings.models import ACTIVE_STATUSES, Finding
from governance.metrics.sla import SEVERITIES
from governance.vocabulary import CATEGORY_CHOICES

CATEGORIES = tuple(value for value, _ in CATEGORY_CHOICES)
_ACTIVE = Q(status__in=ACTIVE_STATUSES)


@dataclass(frozen=True)
class ActiveFindings:
    """Active findings by layer and severity, and how many of them are overdue."""

    matrix: dict[str, dict[str, int]]  # category -> severity -> n, every key present
    overdue: int

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.matrix.values())

    @property
    def by_severity(self) -> dict[str, int]:
        return {s: sum(row[s] for row in self.matrix.values()) for s in SEVERITIES}


def active_findings(findings: QuerySet[Finding], *, today: date) -> ActiveFindings:
    """One query over the active findings, grouped by category and severity.

    - matrix[category][severity] = #active findings of that layer and severity (the four
      supply-chain layers plus code findings); total and by_severity are its sums;
    - overdue = #active findings with ``sla_due < today`` (the SLA clock ran out; a finding
      due today is not overdue yet).
    """
    rows = active_parts(findings, today=today)
    return active_from_parts((r["category"], r["severity"], r["n"], r["overdue"]) for r in rows)


def active_parts(
    findings: QuerySet[Finding], *, today: date, by: tuple[str, ...] = ()
) -> QuerySet[Finding, dict[str, Any]]:
    """The groups behind :func:`active_findings`: ``n`` active findings and ``overdue`` of
    them per category and severity (and per ``by`` fields, e.g. the model)."""
    groups: QuerySet[Finding, dict[str, Any]] = (
        findings.filter(_ACTIVE)
        .order_by()
        .values(*by, "category", "severity")
        .annotate(n=Count("id"), overdue=Count("id", filter=Q(sla_due__lt=today)))
    )
    return groups


def active_from_parts(parts: Iterable[tuple[str, str, int, int]]) -> ActiveFindings:
    """:func:`active_findings` from (category, severity, n, overdue) groups (they add up)."""
    matrix = {c: dict.fromkeys(SEVERITIES, 0) for c in CATEGORIES}
    overdue = 0
    for category, severity, n, late in parts:
        matrix.setdefault(category, dict.fromkeys(SEVERITIES, 0))[severity] += n
        overdue += late
    return ActiveFindings(matrix=matrix, overdue=overdue)
