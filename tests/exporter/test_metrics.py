"""/metrics: parsed with prometheus_client's own parser, every number equal to what the
database says; a metrics token sees its team, an allow-listed network every team; no token
401, a token of another scope 403; a fixed number of queries whatever the data."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from governance.channels.services import ChannelEvent, channel_create, channel_events_publish
from governance.evidence.models import ScanRun
from governance.exporter.collector import FAMILIES
from governance.findings.models import ACTIVE_STATUSES, Finding
from governance.metrics.services import posture_snapshot_take
from governance.policies.channel_events import production_gates_watch
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.django_db


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _get(series: dict[Any, float], name: str, **labels: str) -> float:
    return series.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def world(
    team_alpha: Any, team_beta: Any, seed_findings: Any, make_token: Any, upload: Any, api: Any,
    django_capture_on_commit_callbacks: Any,
) -> dict[str, Any]:  # fmt: skip
    seed_findings(team_alpha, "churn", [("CVE-1", "critical"), ("CVE-2", "high"),
                                        ("CVE-3", "high"), ("CVE-4", "low")])  # fmt: skip
    seed_findings(team_alpha, "churn", [("S-1", "medium")], tool="semgrep", category="code")
    seed_findings(team_beta, "secret", [("CVE-9", "critical")])
    Finding.objects.filter(rule_id="CVE-2").update(sla_due=timezone.localdate() - timedelta(1))
    # a deployed version, its gate watched, runtime events for it
    token = make_token(team_alpha, "write")
    weights = hashlib.sha256(b"w").hexdigest()
    doc = {"schema": "warden.modelscan/v1", "tool": "warden-modelscan", "version": "0.1.0",
           "files": [{"path": "m.pt", "format": "pytorch", "sha256": weights, "size": 3,
                      "findings": []}]}  # fmt: skip
    upload(token, orjson.dumps(doc), model="churn", version="1")
    deployment = api(token).post(
        "/api/v1/deployments/", {"model": "churn", "version": "1", "environment": "prod"},
        format="json",
    ).json()["id"]  # fmt: skip
    now = timezone.now().isoformat()
    events = [{"time": now, "kind": "firewall_block", "rule": "pii", "count": 4}] * 3 + [
        {"time": now, "kind": "error", "rule": "timeout"}
    ]
    assert api(token).post(
        "/api/v1/events/", {"deployment": deployment, "events": events}, format="json"
    ).status_code == 202  # fmt: skip
    production_gates_watch()
    # imports with timings: 0.3 s, 3 s, 45 s
    runs = list(ScanRun.objects.filter(team=team_alpha).order_by("id")[:3])
    for run, seconds in zip(runs, (0.3, 3, 45), strict=True):
        run.started_at = timezone.now()
        run.finished_at = run.started_at + timedelta(seconds=seconds)
        run.save()
    ScanRun.objects.filter(team=team_alpha).exclude(pk__in=[r.pk for r in runs]).update(
        started_at=None, finished_at=None
    )
    # deliveries: one channel to a closed port (fails), one e-mail (sent)
    channel_create(team=team_alpha, name="dead", kind="webhook", url="http://127.0.0.1:9/",
                   triggers=["sla"])  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        channel_events_publish(
            team_id=team_alpha.pk,
            events=[ChannelEvent(trigger="sla", key=f"k{i}", title="t") for i in range(2)],
        )
    posture_snapshot_take(day=timezone.localdate())  # the hourly rollup /metrics reads
    return {"deployment": deployment}


def test_a_metrics_token_reads_its_teams_series_equal_to_the_database(
    api: Any, make_token: Any, team_alpha: Any, world: Any, django_assert_num_queries: Any,
) -> None:  # fmt: skip
    client = api(make_token(team_alpha, "metrics"))
    client.get("/metrics")  # last_used_at is written once a minute: warm it
    with django_assert_num_queries(8):  # the token; one aggregate per family group (7)
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    families = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert families == {n: k for n, k in FAMILIES.items() if n != "warden_celery_queue_depth"}
    series = _samples(text)
    active = Finding.objects.filter(team=team_alpha, status__in=ACTIVE_STATUSES)
    for row in active.values("severity", "category").annotate(n=Count("id")):
        assert _get(series, "warden_findings_open", team="alpha", severity=row["severity"],
                    category=row["category"]) == row["n"]  # fmt: skip
    assert sum(v for (n, _), v in series.items() if n == "warden_findings_open") == active.count()
    assert _get(series, "warden_findings_overdue", team="alpha", severity="high") == 1
    assert not [k for k in series if ("team", "beta") in k[1]]  # beta's never shown
    # the deployed version: its gate fails (critical and high findings are open)
    assert _get(series, "warden_deployments_active", team="alpha") == 1
    assert _get(series, "warden_deployments_failing_gate", team="alpha") == 1
    assert _get(series, "warden_gate_verdicts", team="alpha", stage="development",
                verdict="fail") == 1  # fmt: skip
    # events: counts summed per kind
    assert _get(series, "warden_runtime_events_total", team="alpha", kind="firewall_block") == 12
    assert _get(series, "warden_runtime_events_total", team="alpha", kind="error") == 1
    # imports: all runs by status; the histogram from the three timed ones
    runs = ScanRun.objects.filter(team=team_alpha)
    assert _get(series, "warden_imports_total", team="alpha", status="done") == runs.count()
    assert _get(series, "warden_import_duration_seconds_count", team="alpha") == 3
    assert _get(series, "warden_import_duration_seconds_sum", team="alpha") == pytest.approx(48.3)
    assert _get(series, "warden_import_duration_seconds_bucket", team="alpha", le="0.5") == 1
    assert _get(series, "warden_import_duration_seconds_bucket", team="alpha", le="5.0") == 2
    assert _get(series, "warden_import_duration_seconds_bucket", team="alpha", le="+Inf") == 3
    # deliveries: the dead channel's two failed
    assert _get(series, "warden_channel_deliveries_total", team="alpha", kind="webhook",
                status="failed") == 2  # fmt: skip
    assert _get(series, "warden_channel_delivery_failures_total", team="alpha",
                kind="webhook") == 2  # fmt: skip
    assert not [k for k in series if k[0] == "warden_celery_queue_depth"]  # operators' only


def test_without_the_scope_it_is_refused(
    api: Any, make_token: Any, team_alpha: Any, client_of: Any, lead: Any, settings: Any
) -> None:
    settings.WARDEN_METRICS_ALLOW_CIDRS = []
    assert api().get("/metrics").status_code == 401
    assert api("wdn_not-a-token").get("/metrics").status_code == 401
    for scope in ("read", "write"):
        response = api(make_token(team_alpha, scope)).get("/metrics")
        assert response.status_code == 403
        assert response.json()["error"] == "/metrics needs a token with the metrics scope"
    assert client_of(lead).get("/metrics").status_code == 401  # a session is not enough
    # and a metrics token reads nothing else
    response = api(make_token(team_alpha, "metrics")).get("/api/v1/findings/")
    assert response.status_code == 403
    assert response.json()["error"] == "a metrics token reads /metrics only"


def test_an_allow_listed_network_sees_every_team(
    client: Any, settings: Any, world: Any, team_alpha: Any
) -> None:
    settings.WARDEN_METRICS_ALLOW_CIDRS = ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.5").status_code == 401
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    series = _samples(response.content.decode())
    assert _get(series, "warden_findings_open", team="beta", severity="critical",
                category="dependency") == 1  # fmt: skip
    assert _get(series, "warden_findings_open", team="alpha", severity="critical",
                category="dependency") == 1  # fmt: skip


@pytest.mark.redis
def test_the_celery_queue_depth_comes_from_the_broker(client: Any, settings: Any) -> None:
    import redis

    r = redis.Redis.from_url(REDIS_URL)
    r.delete("celery")
    r.rpush("celery", "a", "b", "c")
    try:
        settings.CELERY_BROKER_URL = REDIS_URL
        settings.WARDEN_METRICS_ALLOW_CIDRS = ["127.0.0.1/32"]
        series = _samples(client.get("/metrics").content.decode())
        assert _get(series, "warden_celery_queue_depth", queue="celery") == 3
    finally:
        r.delete("celery")


def test_create_api_token_makes_a_metrics_token(team_alpha: Any, api: Any) -> None:
    out = StringIO()
    call_command("create_api_token", "--team", "alpha", "--name", "prom", "--scope", "metrics",
                 stdout=out)  # fmt: skip
    assert api(out.getvalue().strip()).get("/metrics").status_code == 200
