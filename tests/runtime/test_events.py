"""Runtime events: a batch for one deployment is stored and rolled up, alert rules open one
finding per deployment and rule and resolve it after their quiet period, firewall counters
become events by difference, and one deployment never touches another's findings."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import time_machine
from django.db import connection

from governance.findings.models import Finding
from governance.inventory.models import Deployment
from governance.runtime.alerts import alerts_evaluate
from governance.runtime.models import EventRollup, RuntimeEvent
from governance.runtime.prometheus import prometheus_ingest

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 30, 12, 30, tzinfo=UTC)
WEIGHTS = b"served weights"


@pytest.fixture
def token(team_alpha: Any, make_token: Any, upload: Any) -> str:
    raw: str = make_token(team_alpha, "write")
    doc = {"schema": "warden.modelscan/v1", "tool": "warden-modelscan", "version": "0.1.0",
           "files": [{"path": "m.pt", "format": "pytorch",
                      "sha256": hashlib.sha256(WEIGHTS).hexdigest(), "size": 3,
                      "findings": []}]}  # fmt: skip
    upload(raw, orjson.dumps(doc), model="bot", version="1")
    return raw


@pytest.fixture
def deployments(api: Any, token: str) -> dict[str, Deployment]:
    out = {}
    for env in ("prod-eu", "prod-us"):
        body = (
            api(token)
            .post(
                "/api/v1/deployments/",
                {"model": "bot", "version": "1", "environment": env},
                format="json",
            )
            .json()
        )
        out[env] = Deployment.objects.get(pk=body["id"])
    return out


def _events(
    n: int, rule: str = "prompt_injection", kind: str = "firewall_block", **kw: Any
) -> list[dict[str, Any]]:
    at = kw.pop("at", NOW)
    return [
        {"time": (at - timedelta(seconds=i)).isoformat(), "kind": kind, "rule": rule, **kw}
        for i in range(n)
    ]


def _send(api: Any, token: str, deployment: Any, events: list[dict[str, Any]]) -> Any:
    return api(token).post(
        "/api/v1/events/", {"deployment": deployment, "events": events}, format="json"
    )


def _policy(client_of: Any, lead: Any, alerts: list[dict[str, Any]]) -> None:
    doc = {"schema": "warden.policy/v1", "name": "runtime", "alerts": alerts}
    response = client_of(lead).post(
        "/api/v1/policies/", {"team": "alpha", "document": doc}, content_type="application/json"
    )
    assert response.status_code == 201, response.json()


@time_machine.travel(NOW, tick=False)
def test_a_batch_is_stored_and_rolled_up(api: Any, token: str, deployments: Any) -> None:
    eu = deployments["prod-eu"]
    response = _send(api, token, eu.pk, _events(30) + _events(5, rule="jailbreak", count=3))
    assert response.status_code == 202
    assert response.json() == {"accepted": 35, "deployment": eu.pk}
    assert RuntimeEvent.objects.filter(deployment=eu).count() == 35
    rollup = {(r.rule, r.count, r.events) for r in EventRollup.objects.filter(deployment=eu)}
    assert rollup == {("prompt_injection", 30, 30), ("jailbreak", 15, 5)}
    # by model and environment: the running deployment
    by_name = _send(api, token, {"model": "BOT", "environment": "prod-us"}, _events(2))
    assert by_name.json()["deployment"] == deployments["prod-us"].pk


@time_machine.travel(NOW, tick=False)
def test_a_bad_event_refuses_the_batch_naming_it(api: Any, token: str, deployments: Any) -> None:
    eu = deployments["prod-eu"]
    batch = _events(5)
    batch[3] = {**batch[3], "time": "2026-11-30T10:00:00"}  # no time zone
    response = _send(api, token, eu.pk, batch)
    assert response.status_code == 400
    assert response.json()["error"] == "events[3].time: needs a time zone (Z or +hh:mm)"
    assert not RuntimeEvent.objects.exists()
    too_old = _send(api, token, eu.pk, _events(1, at=NOW - timedelta(days=60)))
    assert "retention" in too_old.json()["error"]
    assert _send(api, token, eu.pk, _events(1, kind="spaceship")).status_code == 400
    assert _send(api, token, eu.pk, _events(10_001)).status_code == 400
    api(token).delete(f"/api/v1/deployments/{eu.pk}/")
    ended = _send(api, token, eu.pk, _events(1))
    assert "ended" in ended.json()["error"]


def test_a_burst_rule_fires_for_one_deployment_and_resolves_after_its_quiet_period(
    api: Any, token: str, deployments: Any, client_of: Any, lead: Any
) -> None:
    _policy(client_of, lead, [{"id": "injection-burst", "rule": "prompt_*", "more_than": 50,
                               "within_minutes": 60, "quiet_minutes": 30}])  # fmt: skip
    eu, us = deployments["prod-eu"], deployments["prod-us"]
    with time_machine.travel(NOW, tick=False):
        _send(api, token, eu.pk, _events(40))
        _send(api, token, us.pk, _events(40))
        assert alerts_evaluate(deployment=eu) == []  # 40 is not more than 50
        _send(api, token, eu.pk, _events(20))
        assert alerts_evaluate(deployment=eu) == ["injection-burst"]
        assert alerts_evaluate(deployment=us) == []  # prod-us saw 40: its own count
    (alert,) = Finding.objects.filter(rule_id="injection-burst")
    assert (alert.status, alert.severity, alert.category) == ("open", "high", "runtime")
    assert "60 'prompt_*' events in 60 min (limit 50)" in alert.title
    assert alert.occurrences.get().subject.environment == "prod-eu"
    # the minute sweep sees it hold until the events age out of the window (~59 min) ...
    with time_machine.travel(NOW + timedelta(minutes=59), tick=False):
        assert alerts_evaluate(deployment=eu) == ["injection-burst"]
    # ... then clear, but within its 30 quiet minutes: still open
    with time_machine.travel(NOW + timedelta(minutes=75), tick=False):
        assert alerts_evaluate(deployment=eu) == ["injection-burst"]
    alert.refresh_from_db()
    assert alert.status == "open"
    with time_machine.travel(NOW + timedelta(minutes=90), tick=False):
        assert alerts_evaluate(deployment=eu) == []
    alert.refresh_from_db()
    assert (alert.status, alert.resolution) == ("resolved", "fixed")


def test_drift_on_three_days_in_a_row(
    api: Any, token: str, deployments: Any, client_of: Any, lead: Any
) -> None:
    _policy(client_of, lead, [{"id": "drift-3d", "rule": "feature_drift:*", "kind": "drift",
                               "days_in_a_row": 3, "severity": "medium"}])  # fmt: skip
    eu = deployments["prod-eu"]
    for day in range(3):
        at = NOW + timedelta(days=day)
        with time_machine.travel(at, tick=False):
            _send(api, token, eu.pk, _events(1, rule="feature_drift:age", kind="drift", at=at))
            fired = alerts_evaluate(deployment=eu)
        assert fired == (["drift-3d"] if day == 2 else [])
    assert Finding.objects.get(rule_id="drift-3d").severity == "medium"


def test_an_error_rate_rule(
    api: Any, token: str, deployments: Any, client_of: Any, lead: Any
) -> None:
    _policy(client_of, lead, [{"id": "errors", "rule": "http_5xx", "per": "http_requests",
                               "ratio_above": 0.05, "within_minutes": 15}])  # fmt: skip
    eu = deployments["prod-eu"]
    with time_machine.travel(NOW, tick=False):
        _send(api, token, eu.pk, _events(1, rule="http_requests", kind="request", count=1000))
        _send(api, token, eu.pk, _events(1, rule="http_5xx", kind="error", count=40))
        assert alerts_evaluate(deployment=eu) == []  # 4 %
        _send(api, token, eu.pk, _events(1, rule="http_5xx", kind="error", count=20))
        assert alerts_evaluate(deployment=eu) == ["errors"]  # 6 %


def test_firewall_counters_become_events_by_difference_and_a_reset_counts_from_zero(
    token: str, deployments: Any
) -> None:
    eu = deployments["prod-eu"]

    def scrape(flagged: int, passed: int) -> str:
        return (
            "# TYPE fw_rule_evaluated_total counter\n"
            f'fw_rule_evaluated_total{{flagged="True",rule="Prompt Injection",'
            f'validation_type="input"}} {flagged}\n'
            f'fw_rule_evaluated_total{{flagged="False",rule="Prompt Injection",'
            f'validation_type="input"}} {passed}\n'
        )

    with time_machine.travel(NOW, tick=False):
        assert prometheus_ingest(deployment=eu, text=scrape(46, 900))["accepted"] == 0
        assert prometheus_ingest(deployment=eu, text=scrape(50, 1000))["accepted"] == 2
        after_reset = prometheus_ingest(deployment=eu, text=scrape(3, 40))  # process restarted
    assert after_reset["accepted"] == 2
    blocks = sorted(
        RuntimeEvent.objects.filter(deployment=eu, kind="firewall_block").values_list(
            "count", flat=True
        )
    )
    assert blocks == [3, 4]  # 50 - 46, then 3 from zero
    requests = sorted(
        RuntimeEvent.objects.filter(deployment=eu, kind="request").values_list("count", flat=True)
    )
    assert requests == [40, 100]
    assert set(RuntimeEvent.objects.values_list("rule", flat=True)) == {"Prompt Injection:input"}


def test_the_prometheus_endpoint(api: Any, token: str, deployments: Any) -> None:
    eu = deployments["prod-eu"]
    client = api(token)
    url = f"/api/v1/events/prometheus/?deployment={eu.pk}"
    body = 'x_rule_evaluated_total{flagged="True",rule="PII"} 5\n'
    first = client.post(url, body, content_type="text/plain")
    assert first.status_code == 202, first.json()
    second = client.post(url, body.replace(" 5", " 9"), content_type="text/plain")
    assert second.json()["accepted"] == 1
    bad = client.post(url, "this is not prometheus", content_type="text/plain")
    assert bad.status_code == 400


@pytest.mark.postgres
@time_machine.travel(NOW, tick=False)
def test_events_land_in_their_days_partition_and_old_partitions_are_dropped(
    api: Any, token: str, deployments: Any
) -> None:
    from governance.runtime.partitions import partitions_maintain

    _send(api, token, deployments["prod-eu"].pk, _events(3))
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM runtime_event")
        assert [r[0] for r in cursor.fetchall()] == ["runtime_event_p20261130"]
    partitions_maintain(today=NOW.date() + timedelta(days=31))
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('runtime_event_p20261130') IS NULL")
        assert cursor.fetchone()[0]
    assert not RuntimeEvent.objects.exists()


@pytest.fixture
def events_truncated_after(transactional_db: Any) -> Any:
    """The events table is not a managed model: a transactional test's flush leaves its rows,
    so this test removes what it committed."""
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {RuntimeEvent._meta.db_table}")  # noqa: S608


@pytest.mark.django_db(transaction=True)
def test_the_cli_sends_a_file_of_events(
    live_server: Any, token: str, deployments: Any, tmp_path: Any, events_truncated_after: Any
) -> None:
    from tests.test_cli_client import warden

    now = datetime.now(UTC)
    doc = {"schema": "warden.runtime/v1", "model": "bot", "deployment": "prod-us",
           "events": _events(12_000, at=now)}  # fmt: skip
    path = tmp_path / "events.json"
    path.write_bytes(orjson.dumps(doc))
    result = warden("events", str(path), url=live_server.url, token=token)
    assert result.returncode == 0, result.stderr
    assert "12000 events accepted" in result.stdout
    assert RuntimeEvent.objects.filter(deployment=deployments["prod-us"]).count() == 12_000


def test_the_policy_language_knows_the_same_event_kinds() -> None:
    from governance.policies.schema import EVENT_KINDS as POLICY_KINDS
    from governance.runtime.models import EVENT_KINDS

    assert POLICY_KINDS == EVENT_KINDS
