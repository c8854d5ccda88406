"""Reads behind the governance dashboard. Every function takes querysets the caller has
already scoped to the user's teams (and narrowed to a team when asked), aggregates in the
database, and costs a fixed number of queries whatever the number of findings or models.

"Active" everywhere means status open, confirmed or in progress
(:data:`governance.findings.models.ACTIVE_STATUSES`): what fails gates and runs SLA clocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import Count, F, Max, Q, QuerySet, Sum

from governance.accounts.models import Team
from governance.accounts.selectors import team_get_for_user, team_ids_for
from governance.evidence.models import ScanRun
from governance.findings.models import Finding
from governance.inventory.models import Deployment, GateStamp, MLModel, ModelVersion
from governance.metrics.counts import (
    _ACTIVE,
    CATEGORIES,
    ActiveFindings,
    active_findings,
    active_from_parts,
    active_parts,
)
from governance.metrics.models import PostureDay, PostureSnapshot, PostureTeamDay
from governance.metrics.sla import (
    REMEDIATION_WINDOW_DAYS,
    SEVERITIES,
    Mttr,
    SlaCompliance,
    mttr,
    mttr_from_parts,
    sla_compliance,
    sla_from_parts,
    window_start,
)
from governance.policies.gate import gate_evaluate

__all__ = [
    "CATEGORIES",
    "ActiveFindings",
    "active_findings",
    "active_from_parts",
    "active_parts",
    "dashboard_get",
    "model_risk",
    "posture_trend",
]


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

    def deployments(self) -> QuerySet[Deployment]:
        return Deployment.objects.filter(team_id__in=self.team_ids)

    def snapshots(self) -> QuerySet[PostureTeamDay]:
        """The daily rollup's team sums (what the trend reads)."""
        return PostureTeamDay.objects.filter(team_id__in=self.team_ids)


def dashboard_scope_for(
    user: AbstractBaseUser | AnonymousUser, team_slug: str | None = None
) -> DashboardScope:
    """The user's teams, or one of them by slug (404 when it is not theirs: fails closed)."""
    if team_slug:
        team = team_get_for_user(user, team_slug)
        return DashboardScope(team=team, team_ids=[team.pk])
    return DashboardScope(team=None, team_ids=list(team_ids_for(user)))


@dataclass(frozen=True)
class RiskRow:
    model: MLModel
    critical: int
    high: int
    overdue: int
    active: int


@dataclass(frozen=True)
class ModelRisk:
    models: int  # models in scope
    with_critical_or_high: int  # of them, with at least one active critical or high finding
    riskiest: list[RiskRow]


def model_risk(
    findings: QuerySet[Finding], models: QuerySet[MLModel], *, today: date, limit: int = 10
) -> ModelRisk:
    """Per-model active counts (three queries: counts grouped by model over the active
    findings, the number of models, the top models themselves).

    with_critical_or_high = #models with critical + high > 0 among their active findings.
    riskiest = the ``limit`` models with the most active critical, then high, then overdue,
    then active findings (ties: older model first); models without active findings are left
    out.
    """
    rows = list(
        findings.filter(_ACTIVE)
        .order_by()
        .values("model_id")
        .annotate(
            critical=Count("id", filter=Q(severity="critical")),
            high=Count("id", filter=Q(severity="high")),
            overdue=Count("id", filter=Q(sla_due__lt=today)),
            active=Count("id"),
        )
    )
    return model_risk_from_rows([dict(r) for r in rows], models, count=models.count(), limit=limit)


def model_risk_from_rows(
    rows: list[dict[str, Any]],
    models: QuerySet[MLModel],
    *,
    count: int,
    limit: int = 10,
    risky: int | None = None,
) -> ModelRisk:
    """:func:`model_risk` from per-model rows (model_id, critical, high, overdue, active);
    ``count`` is the number of models in scope, ``risky`` the number with an active critical
    or high finding when ``rows`` holds only the top ones. One query: the top models."""
    rows = [r for r in rows if r["active"]]
    rows.sort(
        key=lambda r: (-r["critical"], -r["high"], -r["overdue"], -r["active"], r["model_id"])
    )
    top = rows[:limit]
    by_id = models.select_related("team", "owner").in_bulk([r["model_id"] for r in top])
    return ModelRisk(
        models=count,
        with_critical_or_high=(
            sum(1 for r in rows if r["critical"] or r["high"]) if risky is None else risky
        ),
        riskiest=[
            RiskRow(by_id[r["model_id"]], r["critical"], r["high"], r["overdue"], r["active"])
            for r in top
            if r["model_id"] in by_id
        ],
    )


@dataclass(frozen=True)
class TrendPoint:
    day: date
    by_severity: dict[str, int] | None  # None: no rollup was taken that day (a gap)
    live: bool = False  # today's point: counted now, not from the rollup


def posture_trend(
    snapshots: QuerySet[PostureSnapshot] | QuerySet[PostureTeamDay],
    *,
    today: date,
    today_by_severity: dict[str, int],
    days: int = 90,
) -> list[TrendPoint]:
    """Active findings per severity for each of the last ``days`` days (two queries).

    A past day's value is the sum of its :class:`PostureSnapshot` rows in scope (the rollup
    taken that day); a day without a rollup is a gap (``None``), never a zero. Today's point
    is ``today_by_severity``, counted live (pass :attr:`ActiveFindings.by_severity`), so the
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


@dataclass(frozen=True)
class FailingDeployment:
    deployment: Deployment
    verdict: str
    reasons: list[str]  # the gate's messages, most severe first


@dataclass(frozen=True)
class ProductionRisk:
    """What runs and should not: models with an active deployment, and the deployments whose
    version's gate fails now."""

    deployed_models: int  # models in scope with at least one active deployment
    failing_models: int  # of them, models with an active deployment whose gate fails
    failing: list[FailingDeployment]  # those deployments (up to ``limit``), newest first


#: A version's gate verdict is cached this long under its model's gate stamp and the day.
GATE_CACHE_SECONDS = 60


def gate_verdict_cached(
    model: MLModel, version: ModelVersion, *, today: date, stamp: int | None = None
) -> dict[str, Any]:
    """``gate_evaluate(model, version).to_dict()``, cached under the model's gate stamp (moved
    on by every change that can change a verdict; read when not given) and the day (due
    dates pass)."""
    if stamp is None:
        stamp = GateStamp.objects.filter(model=model).values_list("value", flat=True).first()
    stamp = stamp or 0
    key = f"gate-verdict:{version.pk}:{stamp}:{today.isoformat()}"
    found: dict[str, Any] | None = cache.get(key)
    if found is None:
        found = gate_evaluate(model, version).to_dict()
        cache.set(key, found, GATE_CACHE_SECONDS)
    return found


def production_risk(
    deployments: QuerySet[Deployment], *, today: date, limit: int = 10
) -> ProductionRisk:
    """failing_models = #models with an active deployment (``until`` null) of a version whose
    gate verdict is ``fail``; deployed_models = #models with any active deployment. One query
    for the deployments and their models' gate stamps; the verdicts are cached (see
    :func:`gate_verdict_cached`)."""
    active = list(
        deployments.filter(until__isnull=True)
        .select_related("model", "version")
        .annotate(stamp=F("model__gate_stamp__value"))
        .order_by("-since", "-id")
    )
    verdicts: dict[int, dict[str, Any]] = {}
    failing: list[FailingDeployment] = []
    for d in active:
        if d.version_id not in verdicts:
            verdicts[d.version_id] = gate_verdict_cached(
                d.model,
                d.version,
                today=today,
                stamp=d.stamp or 0,
            )
        result = verdicts[d.version_id]
        if result["verdict"] == "fail":
            reasons = [r["message"] for r in result["reasons"] if r["verdict"] == "fail"]
            failing.append(FailingDeployment(d, result["verdict"], reasons))
    return ProductionRisk(
        deployed_models=len({d.model_id for d in active}),
        failing_models=len({f.deployment.model_id for f in failing}),
        failing=failing[:limit],
    )


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows, for one scope."""

    scope: DashboardScope
    days: int
    active: ActiveFindings
    risk: ModelRisk
    trend: list[TrendPoint]
    mttr: Mttr
    compliance: SlaCompliance
    coverage: dict[int, dict[str, datetime | None]]  # of the riskiest models
    layers: dict[str, int]
    production: ProductionRisk


def dashboard_get(
    user: AbstractBaseUser | AnonymousUser, team_slug: str | None, *, today: date, days: int
) -> Dashboard:
    """The dashboard of the user's teams (or one of them, 404 when not theirs) as of
    ``today``: remediation figures and the trend cover the last ``days`` days. Fourteen
    queries with the session's, whatever the number of findings and models."""
    scope = dashboard_scope_for(user, team_slug)
    findings, models = scope.findings(), scope.models()
    since, since_start = window_start(today, days)
    if days == REMEDIATION_WINDOW_DAYS:
        # The figures per model, cached until the model's findings change: the sums below
        # equal the live functions over the same findings (tests compare both).
        from governance.metrics.services import posture_summary

        summary = posture_summary(team_ids=scope.team_ids, today=today)
        active = active_from_parts(tuple(r) for r in summary["active"])
        risk = model_risk_from_rows(
            summary["riskiest"], models, count=summary["models"], risky=summary["risky"]
        )
        remediation = mttr_from_parts(tuple(r) for r in summary["mttr"])
        compliance = sla_from_parts(tuple(r) for r in summary["sla"])
    else:
        active = active_findings(findings, today=today)
        risk = model_risk(findings, models, today=today)
        remediation = mttr(findings, since=since_start)
        compliance = sla_compliance(findings, today=today, since=since)
    return Dashboard(
        scope=scope,
        days=days,
        active=active,
        risk=risk,
        trend=posture_trend(
            scope.snapshots(), today=today, today_by_severity=active.by_severity, days=days
        ),
        mttr=remediation,
        compliance=compliance,
        coverage=scan_coverage(scope.scan_runs(), [r.model for r in risk.riskiest]),
        layers=layer_coverage(scope.scan_runs()),
        production=production_risk(scope.deployments(), today=today),
    )


def model_trend(model: MLModel, *, today: date, days: int) -> list[TrendPoint]:
    """:func:`posture_trend` of one model (three queries: its live counts and the rollup).
    The caller has already checked the user may see ``model``."""
    live = active_findings(Finding.objects.filter(model=model), today=today).by_severity
    return posture_trend(
        PostureSnapshot.objects.filter(model=model),
        today=today,
        today_by_severity=live,
        days=days,
    )
