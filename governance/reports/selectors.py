"""The audit report of one model version: everything a security lead attaches to a release
approval, read in a fixed number of queries (independent of the number of findings, scans
and decisions: each list is one query, capped)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from governance.accounts.models import Membership
from governance.evidence.models import CheckResult, ScanRun, ScanSubject
from governance.evidence.selectors import version_subject_ids
from governance.findings.models import (
    ACTIVE_STATUSES,
    SEVERITY_ORDER,
    Finding,
    FindingEvent,
    FindingOccurrence,
    Status,
)
from governance.inventory.models import MLModel, ModelVersion
from governance.policies.gate import COMPARE, GateResult, gate_evaluate
from governance.policies.models import RiskException, RiskPolicyRevision, VerdictRecord
from governance.policies.selectors import EffectivePolicy, policy_effective_for
from governance.reports.controls import ControlCoverage, control_coverage
from governance.reports.models import ReportRender
from governance.vocabulary import CATEGORIES, CATEGORY_LABELS, SEVERITIES

#: Caps of each list (the report says when one is cut).
FINDINGS_LIMIT = 500
RUNS_LIMIT = 200
DECISIONS_LIMIT = 200
HISTORY_LIMIT = 100
#: Bar colours of the charts (SVG presentation attributes: no inline style under the CSP).
SEVERITY_FILL = {
    "critical": "#b42318",
    "high": "#dc6803",
    "medium": "#ca8504",
    "low": "#475467",
    "info": "#98a2b3",
}
SLA_LABELS = {
    "overdue": "overdue",
    "due_soon": "due soon",
    "on_track": "on track",
    "none": "no SLA",
}
#: Statuses a person decides (the "decisions" section).
DECIDED = (Status.FALSE_POSITIVE, Status.RISK_ACCEPTED, Status.NOT_AFFECTED, Status.RESOLVED)


@dataclass
class Layer:
    category: str
    label: str
    runs: list[ScanRun] = field(default_factory=list)


@dataclass
class Metric:
    name: str
    value: float
    tool: str
    scan_run_id: int | None
    comparator: str
    threshold: float | None
    governed: bool  # the limit is the policy's own, not the tool's
    passed: bool | None
    bar: dict[str, float] = field(default_factory=dict)  # SVG geometry, in percent


@dataclass
class AuditReport:
    model: MLModel
    version: ModelVersion
    generated_at: datetime
    leads: list[str]
    policy: EffectivePolicy
    policy_revision: RiskPolicyRevision | None
    gate: GateResult
    layers: list[Layer]
    runs_cut: bool
    findings: list[Any]  # Finding rows, annotated with their SLA state
    findings_total: int
    severity_counts: list[tuple[str, int]]
    sla_counts: dict[str, int]
    decisions: list[FindingEvent]
    exceptions: list[RiskException]
    metrics: list[Metric]
    history: list[VerdictRecord]
    controls: list[ControlCoverage]

    @property
    def findings_cut(self) -> bool:
        return self.findings_total > len(self.findings)

    @property
    def severity_bars(self) -> list[dict[str, Any]]:
        """Geometry of the open-findings-by-severity chart (an SVG of 100 x 10 per row)."""
        top = max((n for _, n in self.severity_counts), default=0) or 1
        return [
            {
                "severity": s,
                "n": n,
                "y": i * 10,
                "width": round(n / top * 60, 1),
                "label_x": round(28 + n / top * 60 + 2, 1),
                "fill": SEVERITY_FILL[s],
            }
            for i, (s, n) in enumerate(self.severity_counts)
        ]

    @property
    def approved_exceptions(self) -> list[RiskException]:
        return [e for e in self.exceptions if e.status == RiskException.Status.APPROVED]


def version_get_for_report(model: MLModel, label: str) -> ModelVersion:
    """The model's version of that label, or 404 (the model is already the caller's)."""
    found = ModelVersion.objects.filter(model=model, version=label).first()
    if found is None:
        raise Http404("version not found")
    return found


def _present(model: MLModel, subject_ids: list[int]) -> QuerySet[Finding]:
    """Findings of the model with an active occurrence in one of the version's subjects."""
    return Finding.objects.filter(
        Exists(
            FindingOccurrence.objects.filter(
                finding=OuterRef("pk"),
                state=FindingOccurrence.State.ACTIVE,
                subject_id__in=subject_ids,
            )
        ),
        model=model,
    )


def _seen(model: MLModel, subject_ids: list[int]) -> QuerySet[Finding]:
    """Findings ever seen in one of the version's subjects (decisions outlive the finding)."""
    return Finding.objects.filter(
        Exists(
            FindingOccurrence.objects.filter(finding=OuterRef("pk"), subject_id__in=subject_ids)
        ),
        model=model,
    )


def sla_state(finding: Finding, today: date, warn_days: int) -> str:
    if finding.sla_due is None:
        return "none"
    if finding.sla_due < today:
        return "overdue"
    if finding.sla_due <= today + timedelta(days=warn_days):
        return "due_soon"
    return "on_track"


def _runs(model: MLModel, version: ModelVersion) -> list[ScanRun]:
    where = Q(version=version)
    digest = version.artifact_sha256
    if digest:  # the same bytes scanned under another version name are evidence too
        where |= Q(team_id=model.team_id, version__artifact_sha256=digest)
        where |= Q(
            team_id=model.team_id,
            subject__kind=ScanSubject.Kind.ARTIFACT,
            subject__artifact_sha256=digest,
        )
    return list(
        ScanRun.objects.filter(where, status=ScanRun.Status.DONE, finished_at__isnull=False)
        .select_related("subject__model", "subject__version", "version")
        .order_by("-finished_at", "-id")[: RUNS_LIMIT + 1]
    )


def _metrics(model: MLModel, version: ModelVersion, document: dict[str, Any]) -> list[Metric]:
    """The latest value of each assessment metric (per tool) for the version, from findings
    (failed checks) and passed checks alike, judged as the gate judges it: by the policy's
    limit where the policy governs the metric, else by the tool's."""
    rules = {a["metric"]: a for a in document.get("assessments", [])}
    fq = Q(model=model, category="assessment", metric_value__isnull=False) & (
        Q(version=version) | Q(version__isnull=True)
    )
    cq = Q(model=model, metric_value__isnull=False) & (
        Q(scan_run__version=version) | Q(scan_run__version__isnull=True)
    )
    seen: list[tuple[int, str, float | None, str, str, float | None]] = [
        (run or 0, name, value, tool, comparator, threshold)
        for name, value, tool, run, comparator, threshold in Finding.objects.filter(fq)
        .order_by("-last_scan_id", "-id")
        .values_list(
            "metric_name", "metric_value", "tool", "last_scan_id", "comparator", "metric_threshold"
        )[:500]
    ] + [
        (run, name, value, tool, comparator, threshold)
        for name, value, tool, run, comparator, threshold in CheckResult.objects.filter(cq)
        .order_by("-scan_run_id", "-id")
        .values_list(
            "metric_name", "metric_value", "tool", "scan_run_id", "comparator", "metric_threshold"
        )[:500]
    ]
    seen.sort(key=lambda s: s[0], reverse=True)
    latest: dict[tuple[str, str], Metric] = {}
    for run, name, value, tool, comparator, threshold in seen:
        if (name, tool) in latest or not name or value is None:
            continue
        rule = rules.get(name)
        if rule is not None and rule.get("tool") in (None, tool):
            comparator, threshold, governed = rule["comparator"], rule["value"], True
        else:
            governed = False
        passed = (
            COMPARE[comparator](value, threshold)
            if comparator in COMPARE and threshold is not None
            else None
        )
        latest[(name, tool)] = Metric(
            name=name,
            value=value,
            tool=tool,
            scan_run_id=run or None,
            comparator=comparator,
            threshold=threshold,
            governed=governed,
            passed=passed,
        )
    metrics = sorted(latest.values(), key=lambda m: (m.name, m.tool))
    for m in metrics:
        m.bar = _bar(m.value, m.threshold)
    return metrics


def _bar(value: float, threshold: float | None) -> dict[str, float]:
    """Geometry of a horizontal bar (percent of the chart width) with the threshold marked.
    Values in [0, 1] (rates, scores) share one scale; others scale to the larger of value and
    threshold."""
    top = max(abs(value), abs(threshold) if threshold is not None else 0.0)
    scale = 1.0 if top <= 1.0 else top * 1.1
    width = round(min(abs(value) / scale, 1.0) * 100, 1) if scale else 0.0
    mark = round(min(abs(threshold) / scale, 1.0) * 100, 1) if threshold is not None else -1.0
    return {"width": width, "mark": mark}


def audit_report_build(
    model: MLModel, version: ModelVersion, *, now: datetime | None = None
) -> AuditReport:
    """The audit report of ``version`` (the caller has already been given ``model``)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    policy = policy_effective_for(model)
    document = policy.document
    warn_days: int = document["warn_within_days"]
    gate = gate_evaluate(model, version, now=now)
    subject_ids = version_subject_ids(model, version)

    revision = None
    if policy.policy_id is not None:
        revision = (
            RiskPolicyRevision.objects.filter(policy_id=policy.policy_id, number=policy.revision)
            .select_related("author")
            .first()
        )
    leads = list(
        Membership.objects.filter(team_id=model.team_id, role="lead")
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )

    runs = _runs(model, version)
    runs_cut = len(runs) > RUNS_LIMIT
    by_layer: dict[str, Layer] = {c: Layer(c, CATEGORY_LABELS[c]) for c in CATEGORIES}
    for run in runs[:RUNS_LIMIT]:
        by_layer.setdefault(run.category or "", Layer(run.category or "", "Other")).runs.append(run)
    layers = list(by_layer.values())

    present = _present(model, subject_ids).filter(status__in=ACTIVE_STATUSES)
    counts = {
        row["severity"]: row["n"]
        for row in present.order_by().values("severity").annotate(n=Count("id"))
    }
    sla_counts = present.aggregate(
        overdue=Count("id", filter=Q(sla_due__lt=today)),
        due_soon=Count(
            "id", filter=Q(sla_due__gte=today, sla_due__lte=today + timedelta(days=warn_days))
        ),
    )
    severity_rank = Case(
        *[When(severity=s, then=Value(r)) for s, r in SEVERITY_ORDER.items()],
        output_field=IntegerField(),
    )
    findings = list(
        present.select_related("assignee")
        .annotate(rank=severity_rank)
        .order_by("-rank", F("sla_due").asc(nulls_last=True), "id")[:FINDINGS_LIMIT]
    )
    for f in findings:
        f.sla_state = sla_state(f, today, warn_days)  # type: ignore[attr-defined]
        f.sla_label = SLA_LABELS[f.sla_state]  # type: ignore[attr-defined]

    seen_ids = _seen(model, subject_ids).values("id")
    decisions = list(
        FindingEvent.objects.filter(
            kind=FindingEvent.Kind.STATUS, to_value__in=DECIDED, finding_id__in=seen_ids
        )
        .select_related("finding", "actor")
        .order_by("-created_at", "-id")[:DECISIONS_LIMIT]
    )
    exceptions = list(
        RiskException.objects.filter(
            Q(finding__isnull=True) | Q(finding_id__in=seen_ids), model=model
        )
        .select_related("finding", "requested_by", "decided_by")
        .order_by("-requested_at", "-id")[:DECISIONS_LIMIT]
    )
    history = list(
        VerdictRecord.objects.filter(version=version).order_by("-created_at", "-id")[:HISTORY_LIMIT]
    )

    evidence: dict[str, list[str]] = defaultdict(list)
    for run in runs:
        evidence[run.category].append(
            f"{run.tool or run.scan_type} #{run.pk} on {run.finished_at:%Y-%m-%d}"
        )
    return AuditReport(
        model=model,
        version=version,
        generated_at=now,
        leads=leads,
        policy=policy,
        policy_revision=revision,
        gate=gate,
        layers=layers,
        runs_cut=runs_cut,
        findings=findings,
        findings_total=sum(counts.values()),
        severity_counts=[(s, counts.get(s, 0)) for s in SEVERITIES],
        sla_counts=sla_counts,
        decisions=decisions,
        exceptions=exceptions,
        metrics=_metrics(model, version, document),
        history=history,
        controls=control_coverage(policy_document=document, evidence=dict(evidence)),
    )


def report_renders_of(version: ModelVersion) -> QuerySet[ReportRender]:
    """The version's PDF renderings, newest first, without their bytes."""
    return ReportRender.objects.filter(version=version).defer("pdf").order_by("-created_at", "-id")


def report_render_get(version: ModelVersion, pk: int) -> ReportRender:
    """A finished rendering of the version (with its bytes), or 404."""
    found = ReportRender.objects.filter(
        version=version, pk=pk, status=ReportRender.Status.DONE
    ).first()
    if found is None:
        raise Http404("report not found")
    return found


def version_open_findings_count(model: MLModel, version: ModelVersion) -> int:
    """How many open findings the version's report lists (decides where it renders)."""
    return (
        _present(model, version_subject_ids(model, version))
        .filter(status__in=ACTIVE_STATUSES)
        .count()
    )
