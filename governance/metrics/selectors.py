"""Reads behind the governance dashboard. Every function takes querysets the caller has
already scoped to the user's teams (and narrowed to a team when asked), aggregates in the
database, and costs a fixed number of queries whatever the number of findings or models.

"Active" everywhere means status open, confirmed or in progress
(:data:`governance.findings.models.ACTIVE_STATUSES`): what fails gates and runs SLA clocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Max, Q, QuerySet, Sum

from governance.accounts.models import Team
from governance.accounts.selectors import team_get_for_user, team_ids_for
from governance.findings.models import ACTIVE_STATUSES, Finding
from governance.ingest.models import CATEGORY_CHOICES, ScanRun
from governance.inventory.models import MLModel
from governance.metrics.models import PostureDay, PostureSnapshot

SEVERITIES = ("critical", "high", "medium", "low", "info")
CATEGORIES = tuple(value for value, _ in CATEGORY_CHOICES)
_ACTIVE = Q(status__in=ACTIVE_STATUSES)


@dataclass(frozen=True)
class DashboardScope:
    """What one dashboard shows: the user's teams, or the one team they picked."""

    team: Team | None
    team_ids: list[int]

    def findings(self) -> QuerySet[Finding]:
        return Finding.objects.filter(team_id__in=self.team_ids)

    def models(self) -> QuerySet[MLModel]:
        return MLModel.objects.filter(team_id__in=self.team_ids)

    def scan_runs(self) -> QuerySet[ScanRun]:
        return ScanRun.objects.filter(team_id__in=self.team_ids)

    def snapshots(self) -> QuerySet[PostureSnapshot]:
        return PostureSnapshot.objects.filter(team_id__in=self.team_ids)


def dashboard_scope_for(
    user: AbstractBaseUser | AnonymousUser, team_slug: str | None = None
) -> DashboardScope:
    """The user's teams, or one of them by slug (404 when it is not theirs: fails closed)."""
    if team_slug:
        team = team_get_for_user(user, team_slug)
        return DashboardScope(team=team, team_ids=[team.pk])
    return DashboardScope(team=None, team_ids=list(team_ids_for(user)))


@dataclass(frozen=True)
class PostureSummary:
    active: int
    by_severity: dict[str, int]
    overdue: int
    models: int
    models_with_critical_or_high: int


def posture_summary(
    findings: QuerySet[Finding], models: QuerySet[MLModel], *, today: date
) -> PostureSummary:
    """The dashboard's headline figures (three queries).

    - active = #active findings; by_severity = the same per severity (every severity present);
    - overdue = #active findings with ``sla_due < today`` (the SLA clock ran out);
    - models = #models in scope; models_with_critical_or_high = #models with at least one
      active critical or high finding.
    """
    counts = findings.filter(_ACTIVE).aggregate(
        active=Count("id"),
        overdue=Count("id", filter=Q(sla_due__lt=today)),
        **{s: Count("id", filter=Q(severity=s)) for s in SEVERITIES},
    )
    risky = (
        findings.filter(_ACTIVE, severity__in=("critical", "high"))
        .order_by()
        .values("model_id")
        .distinct()
        .count()
    )
    return PostureSummary(
        active=counts["active"],
        by_severity={s: counts[s] for s in SEVERITIES},
        overdue=counts["overdue"],
        models=models.count(),
        models_with_critical_or_high=risky,
    )


def active_by_category(findings: QuerySet[Finding]) -> dict[str, dict[str, int]]:
    """category -> severity -> #active findings, every category and severity present (one
    query). The four supply-chain layers plus code findings."""
    matrix = {c: dict.fromkeys(SEVERITIES, 0) for c in CATEGORIES}
    rows = (
        findings.filter(_ACTIVE).order_by().values("category", "severity").annotate(n=Count("id"))
    )
    for row in rows:
        matrix.setdefault(row["category"], dict.fromkeys(SEVERITIES, 0))[row["severity"]] = row["n"]
    return matrix


@dataclass(frozen=True)
class TrendPoint:
    day: date
    by_severity: dict[str, int] | None  # None: no rollup was taken that day (a gap)
    live: bool = False  # today's point: counted now, not from the rollup


def posture_trend(
    snapshots: QuerySet[PostureSnapshot],
    *,
    today: date,
    today_by_severity: dict[str, int],
    days: int = 90,
) -> list[TrendPoint]:
    """Active findings per severity for each of the last ``days`` days (two queries).

    A past day's value is the sum of its :class:`PostureSnapshot` rows in scope (the rollup
    taken that day); a day without a rollup is a gap (``None``), never a zero. Today's point
    is ``today_by_severity``, counted live (pass :attr:`PostureSummary.by_severity`), so the
    line ends at what the rest of the dashboard shows.
    """
    start = today - timedelta(days=days - 1)
    taken = set(
        PostureDay.objects.filter(day__gte=start, day__lt=today).values_list("day", flat=True)
    )
    sums: dict[date, dict[str, int]] = {d: dict.fromkeys(SEVERITIES, 0) for d in taken}
    rows = (
        snapshots.filter(day__gte=start, day__lt=today)
        .order_by()
        .values("day", "severity")
        .annotate(n=Sum("open_count"))
    )
    for row in rows:
        if row["day"] in sums:
            sums[row["day"]][row["severity"]] = row["n"]
    points = [
        TrendPoint(day=start + timedelta(days=i), by_severity=sums.get(start + timedelta(days=i)))
        for i in range(days - 1)
    ]
    points.append(TrendPoint(day=today, by_severity=dict(today_by_severity), live=True))
    return points


def scan_coverage(
    runs: QuerySet[ScanRun], models: list[MLModel]
) -> dict[int, dict[str, datetime | None]]:
    """model id -> category -> when its last successful scan of that layer finished (one
    query). ``None`` marks a layer with no evidence at all: the gap a lead looks for."""
    coverage = {m.pk: dict.fromkeys(CATEGORIES) for m in models}
    rows = (
        runs.filter(model_id__in=list(coverage), status=ScanRun.Status.DONE)
        .exclude(category="")
        .order_by()
        .values("model_id", "category")
        .annotate(last=Max("finished_at"))
    )
    for row in rows:
        coverage[row["model_id"]][row["category"]] = row["last"]
    return coverage


def models_by_risk(models: QuerySet[MLModel], *, today: date, limit: int = 10) -> list[MLModel]:
    """The ``limit`` models with the most active critical, then high, then overdue, then
    active findings (one query), each annotated with those four counts."""
    active = Q(findings__status__in=ACTIVE_STATUSES)
    return list(
        models.select_related("team", "owner")
        .annotate(
            active_critical=Count("findings", filter=active & Q(findings__severity="critical")),
            active_high=Count("findings", filter=active & Q(findings__severity="high")),
            overdue=Count("findings", filter=active & Q(findings__sla_due__lt=today)),
            active_total=Count("findings", filter=active),
        )
        .filter(active_total__gt=0)
        .order_by("-active_critical", "-active_high", "-overdue", "-active_total", "name")[:limit]
    )


def layer_coverage(runs: QuerySet[ScanRun]) -> dict[str, int]:
    """category -> #distinct models with at least one successful scan of that layer (one
    query). Compare with :attr:`PostureSummary.models`: the difference is models with no
    evidence of that kind."""
    coverage = dict.fromkeys(CATEGORIES, 0)
    rows = (
        runs.filter(status=ScanRun.Status.DONE)
        .exclude(category="")
        .order_by()
        .values("category")
        .annotate(models=Count("model_id", distinct=True))
    )
    for row in rows:
        coverage[row["category"]] = row["models"]
    return coverage
