"""Dashboard figures against hand-counted data: headline, per layer, trend, coverage, risk."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from governance.evidence.models import ScanRun
from governance.findings.models import Finding
from governance.findings.services import finding_triage
from governance.metrics import selectors as metrics
from governance.metrics.models import PostureDay, PostureSnapshot, PostureTeamDay
from governance.metrics.services import posture_snapshot_take

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 10)


@pytest.fixture
def world(team_alpha: Any, team_beta: Any, seed_findings: Any) -> dict[str, Any]:
    """alpha/fraud: 2 critical, 1 high, 1 low dependency findings, 1 high model-file finding;
    alpha/churn: 1 medium assessment finding; beta/other: 3 critical (never counted for alpha).
    Then: one fraud critical resolved, one fraud low a false positive, the fraud high overdue,
    the churn medium due today (not overdue)."""
    seed_findings(team_alpha, "fraud", [("C1", "critical"), ("C2", "critical"), ("H1", "high"),
                                        ("L1", "low")])  # fmt: skip
    seed_findings(team_alpha, "fraud", [("M1", "high")], tool="modelscan", category="model_file")
    seed_findings(team_alpha, "churn", [("A1", "medium")], tool="garak", category="assessment")
    seed_findings(team_beta, "other", [("B1", "critical"), ("B2", "critical"), ("B3", "critical")])
    Finding.objects.filter(rule_id="C2").update(status="resolved", resolved_at=timezone.now())
    Finding.objects.filter(rule_id="L1").update(status="false_positive")
    Finding.objects.update(sla_due=None)
    Finding.objects.filter(rule_id="H1").update(sla_due=TODAY - timedelta(days=1))
    Finding.objects.filter(rule_id="A1").update(sla_due=TODAY)
    Finding.objects.filter(rule_id="B1").update(sla_due=TODAY - timedelta(days=9))
    return {"alpha": metrics.DashboardScope(team=None, team_ids=[team_alpha.pk])}


def test_active_findings_by_layer_severity_and_overdue(world: Any) -> None:
    active = metrics.active_findings(world["alpha"].findings(), today=TODAY)
    # active: C1, H1, M1 (fraud) + A1 (churn); C2 resolved and L1 false positive are not
    assert active.total == 4
    assert active.by_severity == {"critical": 1, "high": 2, "medium": 1, "low": 0, "info": 0}
    assert active.matrix["dependency"] == {
        "critical": 1, "high": 1, "medium": 0, "low": 0, "info": 0,
    }  # fmt: skip
    assert active.matrix["model_file"]["high"] == 1
    assert active.matrix["assessment"]["medium"] == 1
    assert sum(active.matrix["runtime"].values()) == sum(active.matrix["code"].values()) == 0
    assert active.overdue == 1  # H1 (due yesterday); A1 is due today, not overdue


def test_snapshot_records_the_day_and_replaces_it_when_taken_again(
    world: Any, team_alpha: Any, lead: Any
) -> None:
    written = posture_snapshot_take(day=TODAY)
    # alpha: fraud dependency critical+high, fraud model_file high, churn assessment medium;
    # beta: other dependency critical -> 5 groups
    assert written == 5
    fraud_dep = PostureSnapshot.objects.filter(
        team=team_alpha, model__name="fraud", category="dependency"
    )
    assert {(r.severity, r.open_count, r.overdue_count) for r in fraud_dep} == {
        ("critical", 1, 0),
        ("high", 1, 1),
    }
    beta = PostureSnapshot.objects.exclude(team=team_alpha).get()
    assert (beta.open_count, beta.overdue_count) == (3, 1)
    # the high is fixed and the rollup runs again the same day: the day is replaced (the run
    # counts again the models whose findings changed, as every triage marks them)
    finding_triage(finding=Finding.objects.get(rule_id="H1"), actor=lead, status="resolved")
    # only fraud's rows are written again (C1 dependency critical, M1 model-file high)
    assert posture_snapshot_take(day=TODAY) == 2
    assert PostureSnapshot.objects.filter(day=TODAY).count() == 4
    assert posture_snapshot_take(day=TODAY) == 0  # nothing changed since
    assert (
        sum(PostureTeamDay.objects.filter(team=team_alpha).values_list("open_count", flat=True))
        == 3
    )
    assert not PostureSnapshot.objects.filter(model__name="fraud", category="dependency",
                                              severity="high").exists()  # fmt: skip
    assert PostureDay.objects.get().day == TODAY


def test_trend_sums_rollups_leaves_gaps_and_ends_with_live_counts(world: Any) -> None:
    scope = world["alpha"]
    posture_snapshot_take(day=TODAY - timedelta(days=3))
    Finding.objects.filter(rule_id="C1").update(status="resolved")
    posture_snapshot_take(day=TODAY - timedelta(days=1))
    live = metrics.active_findings(scope.findings(), today=TODAY).by_severity
    points = metrics.posture_trend(scope.snapshots(), today=TODAY, today_by_severity=live, days=5)
    assert [p.day for p in points] == [TODAY - timedelta(days=n) for n in (4, 3, 2, 1, 0)]
    by_day = {p.day: p.by_severity for p in points}
    assert by_day[TODAY - timedelta(days=4)] is None  # no rollup: a gap, not zero
    assert by_day[TODAY - timedelta(days=3)] == {
        "critical": 1, "high": 2, "medium": 1, "low": 0, "info": 0,
    }  # fmt: skip
    assert by_day[TODAY - timedelta(days=2)] is None
    assert by_day[TODAY - timedelta(days=1)]["critical"] == 0  # C1 resolved before it
    assert points[-1].live
    assert by_day[TODAY] == live
    assert by_day[TODAY]["critical"] == 0


def test_coverage_names_the_last_successful_scan_per_layer(world: Any, team_alpha: Any) -> None:
    scope = world["alpha"]
    fraud = scope.models().get(name="fraud")
    assert set(ScanRun.objects.values_list("status", flat=True)) == {"done"}  # as imported
    ended = timezone.now() - timedelta(hours=5)
    ScanRun.objects.filter(model=fraud, category="model_file").update(finished_at=ended)
    ScanRun.objects.create(
        team=team_alpha, model=fraud, category="runtime", status="failed", report_sha256="f" * 64
    )
    coverage = metrics.scan_coverage(scope.scan_runs(), [fraud])[fraud.pk]
    assert coverage["model_file"] == ended
    assert coverage["runtime"] is None  # a failed import is no evidence
    assert coverage["assessment"] is None
    layers = metrics.layer_coverage(scope.scan_runs())
    # fraud's dependency and model-file runs, churn's garak run; the failed runtime run is none
    assert layers == {
        "dependency": 1, "model_file": 1, "model_code": 0, "assessment": 1, "runtime": 0, "code": 0
    }  # fmt: skip


def test_riskiest_models_come_first_and_clean_models_are_left_out(world: Any) -> None:
    scope = world["alpha"]
    risk = metrics.model_risk(scope.findings(), scope.models(), today=TODAY)
    assert (risk.models, risk.with_critical_or_high) == (2, 1)  # fraud; churn has a medium
    assert [(r.model.name, r.critical, r.high, r.overdue, r.active) for r in risk.riskiest] == [
        ("fraud", 1, 2, 1, 3),
        ("churn", 0, 0, 0, 1),
    ]
    Finding.objects.filter(model__name="churn").update(status="resolved")
    risk = metrics.model_risk(scope.findings(), scope.models(), today=TODAY)
    assert [r.model.name for r in risk.riskiest] == ["fraud"]
    assert risk.models == 2  # a model with nothing active still counts as a model
    top = metrics.model_risk(scope.findings(), scope.models(), today=TODAY, limit=1)
    assert [r.model.name for r in top.riskiest] == ["fraud"]


def test_rollups_older_than_the_retention_are_dropped(world: Any, settings: Any) -> None:
    settings.WARDEN_POSTURE_RETENTION_DAYS = 30
    posture_snapshot_take(day=TODAY - timedelta(days=31))
    posture_snapshot_take(day=TODAY - timedelta(days=30))
    assert PostureDay.objects.count() == 2
    posture_snapshot_take(day=TODAY)
    kept = sorted(PostureDay.objects.values_list("day", flat=True))
    assert kept == [TODAY - timedelta(days=30), TODAY]
    assert set(PostureSnapshot.objects.values_list("day", flat=True)) == set(kept)
