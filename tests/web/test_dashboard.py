"""The dashboard page: the user's teams only, the numbers the selectors computed (cards and
charts alike), a fixed number of queries, and the hourly rollup behind its trend."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.findings.models import Finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def findings(team_alpha: Any, team_beta: Any, seed_findings: Any) -> None:
    seed_findings(team_alpha, "fraud", [("C1", "critical"), ("H1", "high"), ("H2", "high")])
    seed_findings(team_alpha, "churn", [("A1", "medium")], tool="garak", category="assessment")
    seed_findings(team_beta, "beta-secret", [(f"B{i}", "critical") for i in range(7)])


def _metric(content: str, name: str) -> str:
    block = re.search(rf'data-metric="{name}">(.*?)</div>\s*</div>', content, re.S)
    assert block is not None, name
    value = re.search(r'class="value[^"]*">(.*?)</div>', block.group(1), re.S)
    assert value is not None
    return re.sub(r"<[^>]+>", "", value.group(1)).strip()  # the text, link or not


def _figure(content: str, figure_id: str) -> dict[str, Any]:
    found = re.search(rf'<script id="{figure_id}" type="application/json">(.*?)</script>', content)
    assert found is not None, figure_id
    return json.loads(html.unescape(found.group(1)))  # type: ignore[no-any-return]


def test_dashboard_shows_only_the_users_teams(client_of: Any, member: Any, findings: None) -> None:
    response = client_of(member).get("/dashboard/")
    assert response.status_code == 200
    content = response.content.decode()
    assert _metric(content, "active") == "4"  # beta's 7 criticals are not alpha's business
    assert _metric(content, "risky-models") == "1"  # fraud; churn has a medium only
    assert "beta-secret" not in content
    assert 'data-model="fraud"' in content


def test_charts_carry_the_computed_numbers(client_of: Any, member: Any, findings: None) -> None:
    content = client_of(member).get("/dashboard/").content.decode()
    bars = {trace["name"]: trace for trace in _figure(content, "fig-categories")["data"]}
    layers = bars["Critical"]["y"]
    assert bars["Critical"]["x"][layers.index("Dependency")] == 1
    assert bars["High"]["x"][layers.index("Dependency")] == 2
    assert bars["Medium"]["x"][layers.index("Assessment")] == 1
    trend = {trace["name"]: trace for trace in _figure(content, "fig-trend")["data"]}
    assert trend["High"]["y"][-1] == 2  # today's point is live
    assert trend["High"]["y"][0] is None  # no rollup 90 days ago: a gap


def test_team_filter_narrows_and_another_teams_slug_is_404(
    client_of: Any, member: Any, team_alpha: Any, findings: None
) -> None:
    client = client_of(member)
    Finding.objects.filter(rule_id="C1").update(status="resolved")
    page = client.get("/dashboard/?team=alpha").content.decode()
    assert _metric(page, "active") == "3"
    assert client.get("/dashboard/?team=beta").status_code == 404
    assert client.get("/dashboard/?team=no-such-team").status_code == 404


def test_viewers_see_the_dashboard_too(client_of: Any, viewer: Any, findings: None) -> None:
    assert _metric(client_of(viewer).get("/dashboard/").content.decode(), "active") == "4"


def test_query_count_does_not_grow_with_models_or_findings(
    client_of: Any, member: Any, team_alpha: Any, findings: None, seed_findings: Any
) -> None:
    client = client_of(member)
    client.get("/dashboard/")  # session and user loaded once, like any later request

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/dashboard/").status_code == 200
        return len(ctx.captured_queries)

    before = queries()
    for n in range(8):
        seed_findings(team_alpha, f"model-{n}", [(f"X{n}-{i}", "high") for i in range(5)])
    # session, user, teams; the models' gate stamps (1: the summary is cached under them),
    # the riskiest models (1), trend (2), coverage (2), active deployments (1), the team
    # filter's list: one query each, whatever the size ...
    changed = queries()
    assert queries() == before == 11
    # ... and after the findings changed, once: three grouped reads of the changed models,
    # one upsert of their figures, one read of every model's figures
    assert changed == before + 5


def test_hourly_rollup_task_feeds_the_trend(client_of: Any, member: Any, findings: None) -> None:
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from governance.celery import app
    from governance.metrics.tasks import posture_snapshot_task

    schedule = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "governance.metrics.tasks.posture_snapshot_task" in schedule
    with time_machine.travel(timezone.now() - timedelta(days=2)):
        posture_snapshot_task.delay()  # eager here: through JSON, like a worker
    Finding.objects.filter(rule_id="H2").update(status="resolved")
    content = client_of(member).get("/dashboard/").content.decode()
    trend = {trace["name"]: trace for trace in _figure(content, "fig-trend")["data"]}
    assert trend["High"]["y"][-3:] == [2, None, 1]  # the rollup, a day without, live today


def test_every_count_links_to_the_findings_it_counts(
    client_of: Any, member: Any, team_alpha: Any, findings: None, seed_findings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    seed_findings(team_alpha, "a & b", [("Z1", "critical")])  # a name that needs escaping
    Finding.objects.filter(rule_id__in=["H1", "Z1"]).update(
        sla_due=timezone.localdate() - timedelta(days=1)
    )
    client = client_of(member)
    for url in ("/dashboard/", "/dashboard/?team=alpha"):
        content = client.get(url).content.decode()
        links = re.findall(r'<a(?: class="[^"]*")? href="(/findings/[^"]*)">(\d+)', content)
        assert len(links) >= 4 + 4 * 3  # the cards, and four counts per riskiest model
        for href, count in links:
            listed = client.get(html.unescape(href)).content.count(b"data-finding=")
            assert listed == int(count), (href, count)


def test_remediation_figures_cover_the_last_90_days(
    client_of: Any, member: Any, findings: None
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    recent, old = Finding.objects.filter(rule_id__in=["H1", "H2"]).order_by("rule_id")
    Finding.objects.filter(pk=recent.pk).update(
        status="resolved", first_seen=now - timedelta(days=6), resolved_at=now - timedelta(days=2)
    )
    Finding.objects.filter(pk=old.pk).update(
        status="resolved",
        first_seen=now - timedelta(days=130),
        resolved_at=now - timedelta(days=100),  # outside the window: not counted
    )
    content = client_of(member).get("/dashboard/").content.decode()
    assert _metric(content, "mttr") == "4.0 d"
    assert "1 resolved in 90 days" in content
