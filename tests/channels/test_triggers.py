"""Each trigger reaches a subscribed channel once: through the real import, gate, alert
rules, SLA clocks and exception expiry, with a webhook receiver on 127.0.0.1 (Celery eager,
JSON round trip) on real commits. Another team's events never reach a team's channel."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import time_machine
from django.utils import timezone

from governance.channels.models import Delivery
from governance.channels.services import ChannelEvent, channel_events_publish
from governance.channels.tasks import channel_digests_task
from governance.findings.models import Finding
from governance.policies.channel_events import (
    exceptions_expiring_publish,
    production_gates_watch,
    sla_clocks_publish,
)
from governance.policies.models import GateWatch
from governance.policies.services import (
    OPERATOR,
    exception_approve,
    exception_request,
    exceptions_expire,
    policy_create,
)
from governance.runtime.alerts import alerts_evaluate

# Real commits, so each send runs when the code under test commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 11, 30, 12, 30, tzinfo=UTC)


@pytest.fixture
def hook(receiver: Any, make_channel: Any) -> Any:
    make_channel("webhook", receiver.url, name="all")
    return receiver


def _heard(receiver: Any, trigger: str | None = None) -> list[dict[str, Any]]:
    bodies = [json.loads(r.body) for r in receiver.requests]
    return [b for b in bodies if trigger is None or b["trigger"] == trigger]


def test_a_new_critical_finding(
    hook: Any, seed_findings: Any, team_alpha: Any, team_beta: Any, make_channel: Any,
    receiver: Any,
) -> None:  # fmt: skip
    seed_findings(team_alpha, "churn", [("CVE-1", "critical"), ("CVE-2", "high")])
    (event,) = _heard(hook)
    finding = Finding.objects.get(rule_id="CVE-1")
    assert event["trigger"] == "critical_finding"
    assert event["key"] == f"finding-critical:{finding.pk}"
    assert "finding CVE-1" in event["title"]
    # the same report again: nothing new is critical, nothing is sent
    seed_findings(team_alpha, "churn", [("CVE-1", "critical"), ("CVE-2", "high")], tool="trivy2")
    assert len(_heard(hook)) == 1
    # another team's critical finding: alpha's channel hears nothing
    seed_findings(team_beta, "secret", [("CVE-9", "critical")])
    assert len(_heard(hook)) == 1


def test_many_critical_findings_of_one_import_are_one_event(
    hook: Any, seed_findings: Any, team_alpha: Any
) -> None:
    seed_findings(team_alpha, "churn", [(f"CVE-{i}", "critical") for i in range(25)])
    (event,) = _heard(hook)
    assert event["title"].startswith("25 new critical findings in churn")
    assert event["key"].startswith("import-critical:")


def _deploy(upload: Any, api: Any, token: str, version: str = "1") -> int:
    """A model-file scan binds the version's artifact (admission allows it); then deploy."""
    weights = hashlib.sha256(f"weights {version}".encode()).hexdigest()
    doc = {"schema": "warden.modelscan/v1", "tool": "warden-modelscan", "version": "0.1.0",
           "files": [{"path": "m.pt", "format": "pytorch", "sha256": weights, "size": 3,
                      "findings": []}]}  # fmt: skip
    assert upload(token, orjson.dumps(doc), model="bot", version=version).status_code == 201
    response = api(token).post(
        "/api/v1/deployments/",
        {"model": "bot", "version": version, "environment": "prod"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return int(response.json()["id"])


@pytest.fixture
def token(make_token: Any, team_alpha: Any) -> str:
    raw: str = make_token(team_alpha, "write")
    return raw


def test_a_deployed_versions_gate_turning_to_fail(
    hook: Any, seed_findings: Any, team_alpha: Any, upload: Any, api: Any, token: str
) -> None:
    _deploy(upload, api, token)
    assert production_gates_watch()["gate_failed"] == 0  # first look: pass, recorded
    assert GateWatch.objects.get().verdict == "pass"
    seed_findings(team_alpha, "bot", [("CVE-H", "high")], version="1")
    assert production_gates_watch()["gate_failed"] == 1
    (event,) = _heard(hook, "gate_failed")
    assert event["title"] == "Gate of bot@1 (deployed) turned from pass to fail"
    assert "high" in event["text"]
    # still failing: no second message; a version not deployed is not watched
    assert production_gates_watch()["gate_failed"] == 0
    seed_findings(team_alpha, "bot", [("CVE-H2", "high")], version="2", tool="grype")
    production_gates_watch()
    assert len(_heard(hook, "gate_failed")) == 1
    assert GateWatch.objects.count() == 1


def test_required_evidence_gone_stale_for_a_deployed_version(
    hook: Any, team_alpha: Any, upload: Any, api: Any, token: str
) -> None:
    policy_create(
        team=team_alpha,
        document={"schema": "warden.policy/v1", "name": "fresh scans",
                  "evidence": [{"id": "fresh-scan", "category": "model_file",
                                "max_age_days": 30}]},
        actor=OPERATOR,
    )  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        _deploy(upload, api, token)
        production_gates_watch()
    assert _heard(hook) == []
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        counts = production_gates_watch()
        assert counts["evidence_stale"] == 1
        production_gates_watch()  # still stale: said once
    (event,) = _heard(hook, "evidence_stale")
    assert event["title"] == "Required evidence of bot@1 (deployed) went stale"
    assert "evidence too old" in event["text"]
    assert event["data"]["rule"] == "fresh-scan"
    assert len(_heard(hook, "gate_failed")) == 1  # and the gate turned with it


def test_a_runtime_rule_firing(
    hook: Any, team_alpha: Any, upload: Any, api: Any, token: str
) -> None:
    policy_create(
        team=team_alpha,
        document={"schema": "warden.policy/v1", "name": "runtime",
                  "alerts": [{"id": "injection-burst", "rule": "prompt_*", "more_than": 5,
                              "within_minutes": 60, "quiet_minutes": 30}]},
        actor=OPERATOR,
    )  # fmt: skip
    deployment = _deploy(upload, api, token)
    with time_machine.travel(NOW, tick=False):
        events = [{"time": NOW.isoformat(), "kind": "firewall_block", "rule": "prompt_injection"}]
        api(token).post(
            "/api/v1/events/", {"deployment": deployment, "events": events * 10}, format="json"
        )
        from governance.inventory.models import Deployment

        dep = Deployment.objects.get(pk=deployment)
        assert alerts_evaluate(deployment=dep) == ["injection-burst"]
        assert alerts_evaluate(deployment=dep) == ["injection-burst"]  # still firing
    (event,) = _heard(hook, "runtime_alert")
    assert event["key"] == f"runtime:{deployment}:injection-burst:{NOW.isoformat()}"
    assert "alert injection-burst fired on bot@1 in prod" in event["title"]
    assert event["data"]["figures"]["count"] == 10


def test_sla_clocks_due_soon_then_breached(hook: Any, seed_findings: Any, team_alpha: Any) -> None:
    seed_findings(team_alpha, "churn", [("CVE-H", "high"), ("CVE-L", "low")])
    today = timezone.localdate()
    Finding.objects.filter(rule_id="CVE-H").update(sla_due=today + timedelta(days=3))
    Finding.objects.filter(rule_id="CVE-L").update(sla_due=today + timedelta(days=60))
    assert sla_clocks_publish(today=today) == 1
    assert sla_clocks_publish(today=today) == 0  # the same clock, said once
    assert sla_clocks_publish(today=today + timedelta(days=4)) == 1  # now breached
    soon, breached = _heard(hook, "sla")
    assert soon["key"].startswith("sla-soon:")
    assert soon["data"]["state"] == "soon"
    assert breached["title"].startswith("SLA breached: finding CVE-H (high, churn)")


def test_an_exception_expiring_within_a_week_and_on_expiry(
    hook: Any, seed_findings: Any, team_alpha: Any, member: Any, lead: Any
) -> None:
    seed_findings(team_alpha, "churn", [("CVE-H", "high")])
    finding = Finding.objects.get()
    exception = exception_request(
        actor=member, finding=finding, justification="a WAF rule blocks the vector",
        expires_at=timezone.now() + timedelta(days=10),
    )  # fmt: skip
    exception_approve(exception=exception, actor=lead)
    assert exceptions_expiring_publish() == 0  # 10 days away
    assert exceptions_expiring_publish(now=timezone.now() + timedelta(days=4)) == 1
    assert exceptions_expiring_publish(now=timezone.now() + timedelta(days=5)) == 0
    exceptions_expire(now=timezone.now() + timedelta(days=11))
    expiring, expired = _heard(hook, "exception_expiry")
    assert expiring["data"]["state"] == "expiring"
    assert expired["key"] == f"exception-expired:{exception.pk}"
    assert expired["title"].startswith(f"Expired: exception #{exception.pk}")


def test_a_digest_channel_gets_one_message_a_day(
    receiver: Any, make_channel: Any, team_alpha: Any
) -> None:
    make_channel("webhook", receiver.url, mode="digest")
    events = [
        ChannelEvent(trigger="sla", key=f"sla-soon:{i}", title=f"SLA due: finding {i}")
        for i in range(3)
    ]
    channel_events_publish(team_id=team_alpha.pk, events=events)
    assert receiver.requests == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {"digest"}
    assert len(channel_digests_task.delay().get()) == 1
    (body,) = _heard(receiver)
    assert body["trigger"] == "digest"
    assert body["title"] == "Warden daily digest: 3 events"
    assert [i["title"] for i in body["items"]] == [e.title for e in events]
    assert channel_digests_task.delay().get() == []  # nothing waiting: nothing sent
    assert Delivery.objects.filter(status="digested").count() == 3
