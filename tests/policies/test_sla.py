"""Remediation clocks from the governing policy, the SLA listing, MTTR and compliance."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.findings.models import Finding
from governance.metrics.sla import mttr, sla_compliance
from tests.reportgen import trivy_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(team_alpha: Any, make_token: Any) -> str:
    return make_token(team_alpha, "write")


def _days_to_due(f: Finding) -> int:
    assert f.sla_due is not None
    return (f.sla_due - f.first_seen.date()).days


def test_due_dates_come_from_the_governing_policys_sla(
    upload: Any, token: str, make_policy: Any, team_alpha: Any, team_beta: Any
) -> None:
    make_policy(team_alpha, sla={"days": {"critical": 2, "high": 5, "medium": None}})
    make_policy(team_beta, sla={"days": {"critical": 1}})  # another team's: irrelevant
    upload(token, trivy_report(range(4)))  # critical, high, medium, low
    days = {f.severity: f.sla_due and _days_to_due(f) for f in Finding.objects.all()}
    assert days == {"critical": 2, "high": 5, "medium": None, "low": 180}


def test_a_severity_change_recomputes_the_due_date_from_first_seen(
    upload: Any, token: str, make_policy: Any, team_alpha: Any
) -> None:
    make_policy(team_alpha, sla={"days": {"critical": 3, "low": 100}})
    upload(token, trivy_report([0], severity="LOW"))
    first = Finding.objects.get()
    assert _days_to_due(first) == 100
    with time_machine.travel(timezone.now() + timedelta(days=10), tick=False):
        upload(token, trivy_report([0], severity="CRITICAL"))
    again = Finding.objects.get()
    assert again.first_seen == first.first_seen
    assert _days_to_due(again) == 3


def test_a_policy_change_recomputes_due_dates_of_open_findings_only(
    upload: Any,
    token: str,
    client_of: Any,
    lead: Any,
    team_alpha: Any,
    team_beta: Any,
    seed_findings: Any,
) -> None:
    upload(token, trivy_report(range(8)))  # 2 of each severity, default clocks
    resolved = Finding.objects.filter(severity="high").first()
    assert resolved is not None
    Finding.objects.filter(pk=resolved.pk).update(status="resolved")
    seed_findings(team_beta, "theirs", [("X", "high")])
    c = client_of(lead)
    created = c.post(
        "/api/v1/policies/",
        {
            "team": "alpha",
            "document": {
                "schema": "warden.policy/v1",
                "name": "fast",
                "sla": {"days": {"high": 3}},
            },
        },
        content_type="application/json",
    )
    assert created.status_code == 201
    highs = {
        f.pk: _days_to_due(f) for f in Finding.objects.filter(severity="high", team=team_alpha)
    }
    assert highs == {pk: (30 if pk == resolved.pk else 3) for pk in highs}
    assert _days_to_due(Finding.objects.get(team=team_beta)) == 30
    # Deleting the policy gives the default clock back.
    c.delete(f"/api/v1/policies/{created.json()['id']}/")
    assert {_days_to_due(f) for f in Finding.objects.filter(severity="high")} == {30}


def test_an_organization_default_sets_clocks_for_teams_without_their_own(
    team_alpha: Any, team_beta: Any, seed_findings: Any, make_policy: Any
) -> None:
    seed_findings(team_alpha, "a", [("A", "medium")])
    seed_findings(team_beta, "b", [("B", "medium")])
    make_policy(team_beta, name="beta's own", sla={"days": {"medium": 60}})
    make_policy(None, name="org", sla={"days": {"medium": 45}})
    assert _days_to_due(Finding.objects.get(team=team_alpha)) == 45
    assert _days_to_due(Finding.objects.get(team=team_beta)) == 60


def test_import_query_count_stays_fixed_with_a_policy(
    upload: Any, token: str, make_policy: Any, team_alpha: Any
) -> None:
    make_policy(team_alpha, sla={"days": {"high": 10}})
    upload(token, trivy_report(range(0, 3)), model="warmup")
    with CaptureQueriesContext(connection) as small:
        assert upload(token, trivy_report(range(0, 10)), model="a").status_code == 201
    with CaptureQueriesContext(connection) as large:
        assert upload(token, trivy_report(range(0, 400)), model="b").status_code == 201
    # The policy's SLA is looked up once per import, not once per finding.
    assert len(large) == len(small)


# --- the SLA listing -------------------------------------------------------------------------


def test_sla_lists_overdue_and_due_soon_findings_soonest_first(
    upload: Any,
    token: str,
    client_of: Any,
    member: Any,
    outsider: Any,
    make_policy: Any,
    team_alpha: Any,
) -> None:
    make_policy(team_alpha, sla={"days": {"critical": 3, "high": 10, "medium": 40, "low": 400}})
    upload(token, trivy_report(range(4)))
    c = client_of(member)
    with time_machine.travel(timezone.now() + timedelta(days=5), tick=False):
        body = c.get("/api/v1/sla/").json()
        rows = [(r["severity"], r["sla_state"], r["days_left"]) for r in body["results"]]
        assert rows == [("critical", "overdue", -2), ("high", "due_soon", 5)]
        overdue = c.get("/api/v1/sla/?state=overdue").json()["results"]
        assert [r["severity"] for r in overdue] == ["critical"]
        soon = c.get("/api/v1/sla/?state=due_soon&within=40").json()["results"]
        assert [r["severity"] for r in soon] == ["high", "medium"]
        assert c.get("/api/v1/sla/?model=churn&severity=high").json()["results"][0]["model"] == (
            "churn"
        )
        assert c.get("/api/v1/sla/?state=late").status_code == 400
        assert c.get("/api/v1/sla/?within=x").status_code == 400
        Finding.objects.filter(severity="critical").update(status="risk_accepted")
        assert [r["severity"] for r in c.get("/api/v1/sla/").json()["results"]] == ["high"]
        assert client_of(outsider).get("/api/v1/sla/").json()["results"] == []


# --- MTTR and compliance, against hand-computed figures -----------------------------------------

JAN = datetime(2030, 1, 1, tzinfo=UTC)
TODAY = date(2030, 1, 31)

# rule id: (severity, status, resolved after (days), due date)
DATA: dict[str, tuple[str, str, float | None, date | None]] = {
    "F1": ("critical", "resolved", 2, date(2030, 1, 8)),  # met
    "F2": ("critical", "resolved", 10, date(2030, 1, 8)),  # missed
    "F3": ("high", "resolved", 6, date(2030, 1, 31)),  # met
    "F4": ("high", "open", None, date(2030, 1, 20)),  # missed: open past due
    "F5": ("medium", "open", None, date(2030, 3, 31)),  # running
    "F6": ("low", "false_positive", None, date(2030, 1, 10)),  # left out
    "F7": ("info", "resolved", 1, None),  # MTTR only: no clock
    "F8": ("medium", "resolved", 20 + 23 / 24, date(2030, 1, 21)),  # met: on the due date
}


@pytest.fixture
def metrics_data(team_alpha: Any, seed_findings: Any) -> Any:
    seed_findings(team_alpha, "m", [(k, v[0]) for k, v in DATA.items()])
    for rule, (_, status, after, due) in DATA.items():
        Finding.objects.filter(rule_id=rule).update(
            status=status,
            first_seen=JAN,
            sla_due=due,
            resolved_at=JAN + timedelta(days=after) if after is not None else None,
        )
    return Finding.objects.filter(team=team_alpha)


def test_mttr_is_the_mean_time_from_first_seen_to_resolved(metrics_data: Any) -> None:
    result = mttr(metrics_data)
    # (2 + 10 + 6 + 1 + 20.9583) / 5 = 7.9917
    assert (result.days, result.resolved) == (7.99, 5)
    assert result.by_severity == {
        "critical": 6.0,
        "high": 6.0,
        "medium": 20.96,
        "low": None,
        "info": 1.0,
    }
    assert mttr(metrics_data, since=JAN + timedelta(days=5)).days == 12.32  # F2, F3, F8


def test_sla_compliance_counts_clocks_that_ended(metrics_data: Any) -> None:
    result = sla_compliance(metrics_data, today=TODAY)
    # met F1 F3 F8, missed F2 F4, running F5; F6 (false positive) and F7 (no clock) left out
    assert (result.ratio, result.met, result.missed, result.running) == (0.6, 3, 2, 1)
    assert result.by_severity == {
        "critical": 0.5,
        "high": 0.5,
        "medium": 1.0,
        "low": None,
        "info": None,
    }
    assert sla_compliance(metrics_data, today=date(2030, 1, 15)).missed == 1  # F4 not yet due
    assert sla_compliance(metrics_data.none(), today=TODAY).ratio is None


def test_metrics_api_is_team_scoped(
    client_of: Any, member: Any, outsider: Any, metrics_data: Any
) -> None:
    body = client_of(member).get("/api/v1/sla/metrics/?team=alpha").json()
    assert (body["team"], body["mttr_days"], body["resolved"]) == ("alpha", 7.99, 5)
    assert body["sla_met"] == 3
    assert client_of(member).get("/api/v1/sla/metrics/").json()["team"] == "alpha"
    assert client_of(member).get("/api/v1/sla/metrics/?model=m").json()["model"] == "m"
    assert client_of(outsider).get("/api/v1/sla/metrics/?team=alpha").status_code == 404
