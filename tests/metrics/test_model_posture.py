"""The dashboard's per-model cache: its sums equal the live definitions over the same
findings, it is counted again exactly when a model's findings change or the day turns, and
a fresh cache costs one query."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from governance.findings.models import Finding
from governance.findings.services import finding_triage
from governance.metrics import selectors as metrics
from governance.metrics.models import ModelPosture
from governance.metrics.services import model_postures_current
from governance.metrics.sla import REMEDIATION_WINDOW_DAYS, mttr, sla_compliance, window_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team_alpha: Any, team_beta: Any, seed_findings: Any) -> Any:
    """Three models of alpha and one of beta with a mix of severities, statuses, due dates
    (some overdue, some due in the window, some not), and remediations of different ages."""
    now = timezone.now()
    today = timezone.localdate()
    seed_findings(team_alpha, "fraud", [("C1", "critical"), ("C2", "critical"), ("H1", "high"),
                                        ("L1", "low"), ("L2", "low")])  # fmt: skip
    seed_findings(team_alpha, "fraud", [("M1", "high")], tool="modelscan", category="model_file")
    seed_findings(team_alpha, "churn", [("A1", "medium"), ("A2", "high")], tool="garak",
                  category="assessment")  # fmt: skip
    seed_findings(team_alpha, "idle", [("I1", "info")])
    seed_findings(team_beta, "other", [("B1", "critical"), ("B2", "high")])
    updates = {
        "C2": {"status": "resolved", "resolution": "fixed", "resolved_at": now,
               "first_seen": now - timedelta(days=3, hours=5), "sla_due": today},
        "L1": {"status": "false_positive"},
        "L2": {"status": "resolved", "resolution": "closed",
               "resolved_at": now - timedelta(days=2), "first_seen": now - timedelta(days=40),
               "sla_due": today - timedelta(days=10)},
        "H1": {"sla_due": today - timedelta(days=1)},
        "A1": {"sla_due": today},
        "A2": {"sla_due": today + timedelta(days=1)},
        "B1": {"sla_due": today - timedelta(days=9)},
    }  # fmt: skip
    for rule_id, fields in updates.items():
        Finding.objects.filter(rule_id=rule_id).update(**fields)
    return metrics.DashboardScope(team=None, team_ids=[team_alpha.pk, team_beta.pk])


def _live(scope: Any, today: Any) -> tuple[Any, ...]:
    findings = scope.findings()
    since, since_start = window_start(today, REMEDIATION_WINDOW_DAYS)
    risk = metrics.model_risk(findings, scope.models(), today=today)
    return (
        metrics.active_findings(findings, today=today),
        (risk.models, risk.with_critical_or_high,
         [(r.model.pk, r.critical, r.high, r.overdue, r.active) for r in risk.riskiest]),
        mttr(findings, since=since_start),
        sla_compliance(findings, today=today, since=since),
    )  # fmt: skip


def _cached(user: Any, today: Any) -> tuple[Any, ...]:
    board = metrics.dashboard_get(user, None, today=today, days=REMEDIATION_WINDOW_DAYS)
    risk = board.risk
    return (
        board.active,
        (risk.models, risk.with_critical_or_high,
         [(r.model.pk, r.critical, r.high, r.overdue, r.active) for r in risk.riskiest]),
        board.mttr,
        board.compliance,
    )  # fmt: skip


@pytest.fixture
def lead_of_both(team_alpha: Any, team_beta: Any) -> Any:
    from governance.accounts.models import Membership

    user = get_user_model().objects.create_user("both")
    Membership.objects.bulk_create(
        [Membership(team=team_alpha, user=user, role="lead"),
         Membership(team=team_beta, user=user, role="lead")]
    )  # fmt: skip
    return user


def test_cached_figures_equal_the_live_definitions(world: Any, lead_of_both: Any) -> None:
    today = timezone.localdate()
    live = _live(world, today)
    # hand count: active C1 H1 M1 A1 A2 I1 B1 B2, overdue H1 B1; remediated C2 (on time), L2
    # (late); missed also H1 and B1, still open past due
    assert (live[0].total, live[0].overdue) == (8, 2)
    assert _cached(lead_of_both, today) == live  # the first read computes the cache
    assert _cached(lead_of_both, today) == live  # the second reads it
    assert (live[2].resolved, live[3].met, live[3].missed) == (2, 1, 3)


def test_a_change_recounts_only_that_model_and_a_new_day_every_model(
    world: Any, lead_of_both: Any, team_alpha: Any, lead: Any
) -> None:
    today = timezone.localdate()
    _cached(lead_of_both, today)
    computed = dict(ModelPosture.objects.values_list("model__name", "computed_at"))
    finding_triage(finding=Finding.objects.get(rule_id="C1"), actor=lead, status="resolved")
    assert _cached(lead_of_both, today) == _live(world, today)
    after = dict(ModelPosture.objects.values_list("model__name", "computed_at"))
    assert {name for name in after if after[name] != computed[name]} == {"fraud"}
    # the next day the overdue and window figures move: everything is counted again
    tomorrow = today + timedelta(days=1)
    assert _cached(lead_of_both, tomorrow) == _live(world, tomorrow)
    assert set(ModelPosture.objects.values_list("day", flat=True)) == {tomorrow}


def test_a_fresh_cache_costs_two_queries(
    world: Any, team_alpha: Any, team_beta: Any, django_assert_num_queries: Any
) -> None:
    ids = [team_alpha.pk, team_beta.pk]
    today = timezone.localdate()
    first = model_postures_current(team_ids=ids, today=today)
    with django_assert_num_queries(2):  # the stamps, the figures
        assert model_postures_current(team_ids=ids, today=today) == first
    assert len(first) == 4  # every model has a row, with findings or without
