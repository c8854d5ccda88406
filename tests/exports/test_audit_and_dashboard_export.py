"""A team's audit trail as JSON lines (GET /api/v1/audit/export/) and the dashboard's
figures as CSV (/dashboard/export.csv); the export links on the pages."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.http import StreamingHttpResponse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _content(response: Any) -> str:
    assert response.status_code == 200, response.content
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def audit_world(seed_findings: Any, team_alpha: Any, team_beta: Any, lead: Any, member: Any) -> Any:
    from governance.findings.services import finding_comment, finding_triage
    from governance.policies.services import (
        OPERATOR,
        exception_approve,
        exception_request,
        policy_create,
    )

    start = timezone.now() - timedelta(days=3)
    with time_machine.travel(start, tick=False):
        run = seed_findings(
            team_alpha, "churn", [("CVE-1", "high"), ("CVE-2", "low")], version="1.0"
        )
        seed_findings(team_beta, "beta-model", [("CVE-9", "critical")], version="1.0")
    first, second = run.model.findings.order_by("id")
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        policy_create(
            team=team_alpha, document={"schema": "warden.policy/v1", "name": "p"}, actor=OPERATOR
        )
    with time_machine.travel(start + timedelta(hours=2), tick=False):
        finding_triage(finding=first, actor=member, status="confirmed")
    with time_machine.travel(start + timedelta(days=1), tick=False):
        exception = exception_request(
            actor=member, finding=second, justification="a" * 20,
            expires_at=timezone.now() + timedelta(days=5),
        )  # fmt: skip
    with time_machine.travel(start + timedelta(days=1, hours=1), tick=False):
        exception_approve(exception=exception, actor=lead, reason="fine for now")
    with time_machine.travel(start + timedelta(days=2), tick=False):
        finding_comment(finding=first, actor=member, text="looking")
    return start


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_the_audit_trail_is_json_lines_in_time_order(
    audit_world: Any, client_of: Any, lead: Any
) -> None:
    response = client_of(lead).get("/api/v1/audit/export/?team=alpha")
    assert response["Content-Type"] == "application/x-ndjson"
    rows = _lines(_content(response))
    stamps = [r["@timestamp"] for r in rows]
    assert stamps == sorted(stamps)
    events = [r["event"] for r in rows]
    for kind in (
        "policy.policy_created", "finding.status", "policy.exception_requested",
        "policy.exception_approved", "finding.comment",
    ):  # fmt: skip
        assert kind in events
    assert events.index("policy.policy_created") < events.index("finding.status")
    assert events.index("policy.exception_approved") < len(events) - 1
    assert rows[-1]["event"] == "finding.comment"
    assert rows[-1]["reason"] == "looking"  # the day-2 comment comes last
    approved = next(r for r in rows if r["event"] == "policy.exception_approved")
    assert approved["actor"] == "lead"
    assert approved["exception"]["decided_by"] == "lead"
    assert approved["exception"]["status"] == "approved"
    assert {r["team"] for r in rows} == {"alpha"}


def test_since_narrows_the_audit_trail(audit_world: Any, client_of: Any, lead: Any) -> None:
    since = (audit_world + timedelta(days=1, minutes=30)).isoformat()
    client = client_of(lead)
    rows = _lines(_content(client.get("/api/v1/audit/export/", {"team": "alpha", "since": since})))
    assert rows
    assert all(r["@timestamp"] >= since for r in rows)
    assert "finding.comment" in {r["event"] for r in rows}
    assert "policy.policy_created" not in {r["event"] for r in rows}
    bad = client.get("/api/v1/audit/export/?team=alpha&since=yesterday")
    assert bad.status_code == 400
    day = client.get("/api/v1/audit/export/?team=alpha&since=2000-01-01")
    assert len(_lines(_content(day))) >= len(rows)


def test_only_leads_or_a_team_token_export_the_audit_trail(
    audit_world: Any, client_of: Any, member: Any, api: Any, make_token: Any, team_alpha: Any
) -> None:
    refused = client_of(member).get("/api/v1/audit/export/?team=alpha")
    assert refused.status_code == 403
    assert "lead" in refused.json()["error"]
    token = api(make_token(team_alpha, "read"))  # a SIEM's read token
    rows = _lines(_content(token.get("/api/v1/audit/export/")))
    assert rows
    assert token.get("/api/v1/audit/export/?team=beta").status_code == 404


def test_another_teams_audit_trail_is_404(audit_world: Any, client_of: Any, lead: Any) -> None:
    assert client_of(lead).get("/api/v1/audit/export/?team=beta").status_code == 404


def test_the_audit_export_costs_the_same_queries_whatever_its_size(
    audit_world: Any, client_of: Any, lead: Any, team_alpha: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from governance.findings.models import Finding
    from governance.findings.services import finding_comment

    client = client_of(lead)
    client.get("/api/v1/audit/export/?team=alpha")
    counts = []
    finding = Finding.objects.filter(team=team_alpha).first()
    for _ in range(2):
        for i in range(40):
            finding_comment(finding=finding, actor=lead, text=f"note {i}")
        with CaptureQueriesContext(connection) as ctx:
            _content(client.get("/api/v1/audit/export/?team=alpha"))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 6  # session, user, teams, roles; finding events, policy events


# -- the dashboard's figures --------------------------------------------------------------------


def _dashboard_rows(client: Any, query: str = "") -> list[dict[str, str]]:
    response = client.get(f"/dashboard/export.csv{query}")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(_content(response))))


def test_the_dashboard_csv_has_the_dashboards_figures(
    audit_world: Any, client_of: Any, member: Any
) -> None:
    from governance.metrics.selectors import dashboard_get
    from governance.web.views import DASHBOARD_DAYS

    rows = _dashboard_rows(client_of(member))
    board = dashboard_get(member, None, today=timezone.localdate(), days=DASHBOARD_DAYS)
    figure = {(r["figure"], r["category"], r["severity"]): r["value"] for r in rows}
    assert (
        figure[("active_findings", "", "")] == str(board.active.total) == "1"
    )  # the other is an accepted risk
    assert figure[("active_findings", "dependency", "high")] == "1"
    assert figure[("models", "", "")] == "1"
    assert {r["team"] for r in rows} == {"(all my teams)"}
    assert any(r["figure"] == "riskiest_model_active" and r["model"] == "churn" for r in rows)


def test_the_dashboard_csv_keeps_the_dashboards_scope(
    audit_world: Any, client_of: Any, member: Any, outsider: Any
) -> None:
    rows = _dashboard_rows(client_of(member), "?team=alpha")
    assert {r["team"] for r in rows} == {"alpha"}
    assert client_of(member).get("/dashboard/export.csv?team=beta").status_code == 404
    beta = _dashboard_rows(client_of(outsider))
    figure = {(r["figure"], r["category"], r["severity"]): r["value"] for r in beta}
    assert figure[("active_findings", "dependency", "critical")] == "1"
    assert figure[("active_findings", "dependency", "high")] == "0"


def test_the_pages_link_to_their_exports(audit_world: Any, client_of: Any, member: Any) -> None:
    from governance.inventory.models import MLModel

    client = client_of(member)
    page = client.get("/findings/?severity=high&model=churn").content.decode()
    assert (
        'href="/api/v1/findings/export/?model=churn&amp;status=active&amp;severity=high&amp;format=csv"'
        in page
    )
    assert "format=json" in page
    board = client.get("/dashboard/?team=alpha").content.decode()
    assert 'href="/dashboard/export.csv?team=alpha"' in board
    model = MLModel.objects.get(name="churn")
    detail = client.get(f"/models/{model.pk}/").content.decode()
    assert f'href="/api/v1/models/{model.pk}/mlbom/?version=1.0"' in detail
