"""End to end through the API: a critical unsafe pickle fails the gate; an approved exception
lets it pass; expiry reopens it; evidence rules; admission; policy edits show at once."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from governance.accounts.services import membership_set
from governance.findings.models import Finding, FindingEvent
from governance.inventory.models import MLModel
from governance.policies.models import PolicyEvent, RiskException
from governance.policies.tasks import exceptions_expire_task
from tests.reportgen import trivy_report

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MALICIOUS = (FIXTURES / "modelscan" / "malicious_os_system.json").read_bytes()
BENIGN = (FIXTURES / "modelscan" / "benign_torch_model.json").read_bytes()
ARTIFACT = hashlib.sha256(b"model weights").hexdigest()


@pytest.fixture
def token(team_alpha: Any, make_token: Any) -> str:
    return make_token(team_alpha, "write")


@pytest.fixture
def second_lead(team_alpha: Any) -> Any:
    user = get_user_model().objects.create_user(username="lead2", password="pw-lead2")
    membership_set(team=team_alpha, user=user, role="lead")
    return user


def _gate(client: Any, model: str = "churn", version: str = "1.0") -> dict[str, Any]:
    response = client.get(f"/api/v1/models/{model}/gate/?version={version}")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def test_unsafe_pickle_fails_then_an_approved_exception_passes_then_expiry_fails_again(
    upload: Any, token: str, client_of: Any, member: Any, lead: Any, api: Any
) -> None:
    response = upload(token, MALICIOUS, version="1.0", artifact_sha256=ARTIFACT)
    assert response.status_code == 201, response.content
    gate = response.json()["gate"]
    assert gate["verdict"] == "fail"
    finding = Finding.objects.get(category="model_file")
    assert (finding.severity, finding.tool) == ("critical", "modelscan")
    assert gate["reasons"][0] == {
        "rule": "no-open-critical",
        "verdict": "fail",
        "message": "1 open critical finding",
        "fix": "fix them, mark false positives, or get an approved exception",
        "findings": [finding.pk],
    }
    assert _gate(api(token))["verdict"] == "fail"

    # A member asks; a lead (not the requester) approves.
    c = client_of(member)
    asked = c.post(
        "/api/v1/exceptions/",
        {
            "finding": finding.pk,
            "days": 30,
            "justification": "sandboxed loader; replacement model ships next sprint",
        },
        content_type="application/json",
    )
    assert asked.status_code == 201, asked.content
    exception_id = asked.json()["id"]
    assert asked.json()["status"] == "requested"
    assert _gate(api(token))["verdict"] == "fail", "a request alone changes nothing"

    c = client_of(lead)
    approved = c.post(
        f"/api/v1/exceptions/{exception_id}/approve/",
        {"reason": "ok for 30 days"},
        content_type="application/json",
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == "lead"
    finding.refresh_from_db()
    assert finding.status == "risk_accepted"
    event = finding.events.filter(kind="status").last()
    assert (event.actor, event.from_value, event.to_value) == (lead, "open", "risk_accepted")
    assert f"exception #{exception_id} approved by lead" in event.reason
    assert _gate(api(token)) == {
        "model": "churn",
        "model_id": finding.model_id,
        "version": "1.0",
        "verdict": "pass",
        "reasons": [],
    }

    # Past the expiry the beat task reopens the finding and the gate fails again.
    with time_machine.travel(timezone.now() + timedelta(days=31), tick=False):
        assert exceptions_expire_task.delay().get() == [finding.model_id]
        finding.refresh_from_db()
        assert finding.status == "open"
        last = finding.events.order_by("id").last()
        assert (last.actor_label, last.from_value, last.to_value) == (
            "system",
            "risk_accepted",
            "open",
        )
        assert f"exception #{exception_id} expired" in last.reason
        gate = _gate(api(token))
        assert gate["verdict"] == "fail"
        assert {r["rule"] for r in gate["reasons"]} >= {"no-open-critical", "sla-overdue"}
        assert RiskException.objects.get(pk=exception_id).status == "expired"
        # Idempotent: running it again changes nothing.
        assert exceptions_expire_task.delay().get() == []
    kinds = list(
        PolicyEvent.objects.filter(exception_id=exception_id).values_list("kind", flat=True)
    )
    assert kinds == ["exception_requested", "exception_approved", "exception_expired"]


def test_the_requester_can_never_approve_their_own_exception_even_as_a_lead(
    upload: Any, token: str, client_of: Any, lead: Any, second_lead: Any
) -> None:
    upload(token, MALICIOUS, version="1.0")
    finding = Finding.objects.get()
    c = client_of(lead)
    asked = c.post(
        "/api/v1/exceptions/",
        {"finding": finding.pk, "days": 10, "justification": "I am the lead and I want it"},
        content_type="application/json",
    )
    assert asked.status_code == 201
    pk = asked.json()["id"]
    own = c.post(f"/api/v1/exceptions/{pk}/approve/", {}, content_type="application/json")
    assert own.status_code == 403
    assert own.json()["error"].startswith("four eyes: you requested exception")
    own = c.post(
        f"/api/v1/exceptions/{pk}/reject/", {"reason": "x"}, content_type="application/json"
    )
    assert own.status_code == 403
    finding.refresh_from_db()
    assert finding.status == "open"
    other = client_of(second_lead).post(
        f"/api/v1/exceptions/{pk}/approve/", {}, content_type="application/json"
    )
    assert other.status_code == 200
    assert other.json()["decided_by"] == "lead2"


def test_members_and_tokens_cannot_decide_and_rejection_needs_a_reason(
    upload: Any, token: str, client_of: Any, member: Any, teammate: Any, lead: Any, api: Any
) -> None:
    upload(token, MALICIOUS, version="1.0")
    finding = Finding.objects.get()
    pk = (
        client_of(member)
        .post(
            "/api/v1/exceptions/",
            {"finding": finding.pk, "days": 10, "justification": "please accept this one"},
            content_type="application/json",
        )
        .json()["id"]
    )
    r = client_of(teammate).post(
        f"/api/v1/exceptions/{pk}/approve/", {}, content_type="application/json"
    )
    assert r.status_code == 403
    assert r.json()["error"] == "only a lead of the team can approve exceptions"
    r = api(token).post(f"/api/v1/exceptions/{pk}/approve/", {}, format="json")
    assert r.status_code == 403
    assert "not an API token" in r.json()["error"]
    r = client_of(lead).post(
        f"/api/v1/exceptions/{pk}/reject/", {}, content_type="application/json"
    )
    assert r.status_code == 400
    assert r.json()["error"] == "a reason is required to reject an exception"
    r = client_of(lead).post(
        f"/api/v1/exceptions/{pk}/reject/",
        {"reason": "fix it instead"},
        content_type="application/json",
    )
    assert r.status_code == 200
    assert r.json()["status"] == "rejected"
    finding.refresh_from_db()
    assert finding.status == "open"
    assert "rejected by lead: fix it instead" in finding.events.last().reason
    again = client_of(lead).post(
        f"/api/v1/exceptions/{pk}/approve/", {}, content_type="application/json"
    )
    assert again.status_code == 409


def test_required_evidence_missing_or_too_old_fails_naming_it(
    upload: Any, token: str, api: Any, make_policy: Any, team_alpha: Any
) -> None:
    make_policy(
        team_alpha,
        name="needs scans",
        evidence=[
            {
                "id": "model-file-scan",
                "category": "model_file",
                "scope": "artifact",
                "max_age_days": 30,
            },
            {"id": "dependency-scan", "category": "dependency", "max_age_days": 30},
        ],
    )
    upload(token, BENIGN, version="1.0", artifact_sha256=ARTIFACT)
    gate = _gate(api(token))
    assert gate["verdict"] == "fail"
    assert [r["rule"] for r in gate["reasons"]] == ["dependency-scan"]
    assert gate["reasons"][0]["message"] == (
        f"missing evidence: no dependency scan of churn@1.0 (artifact {ARTIFACT[:12]}…)"
    )
    assert "upload the report" in gate["reasons"][0]["fix"]
    upload(token, trivy_report([], severity="LOW"), version="1.0")
    assert _gate(api(token))["verdict"] == "pass"
    with time_machine.travel(timezone.now() + timedelta(days=26), tick=False):
        gate = _gate(api(token))
        assert gate["verdict"] == "warn"
        assert {r["rule"] for r in gate["reasons"]} == {"model-file-scan", "dependency-scan"}
    with time_machine.travel(timezone.now() + timedelta(days=31), tick=False):
        gate = _gate(api(token))
        assert gate["verdict"] == "fail"
        assert all(r["message"].startswith("evidence too old") for r in gate["reasons"])
    # Another version has no evidence of its own.
    upload(token, trivy_report([], severity="LOW"), version="2.0")
    gate = _gate(api(token), version="2.0")
    assert [r["rule"] for r in gate["reasons"]] == ["model-file-scan"]
    assert "has no artifact digest registered" in gate["reasons"][0]["message"]


def test_a_policy_change_shows_in_the_next_gate_call(
    upload: Any, token: str, api: Any, client_of: Any, lead: Any, team_alpha: Any
) -> None:
    upload(token, trivy_report(range(4)), version="1.0")  # 1 critical, 1 high, …
    assert _gate(api(token))["verdict"] == "fail"
    c = client_of(lead)
    created = c.post(
        "/api/v1/policies/",
        {
            "team": "alpha",
            "document": {
                "schema": "warden.policy/v1",
                "name": "lenient",
                "thresholds": [{"id": "few-criticals", "severities": ["critical"], "max_open": 1}],
                "sla": {"days": {"critical": 30}},
            },
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert _gate(api(token))["verdict"] == "pass"
    pk = created.json()["id"]
    doc = created.json()["document"]
    doc["thresholds"][0]["max_open"] = 0
    updated = c.put(
        f"/api/v1/policies/{pk}/",
        {"document": doc, "change_note": "stricter"},
        content_type="application/json",
    )
    assert updated.status_code == 200
    assert updated.json()["revision"] == 2
    gate = _gate(api(token))
    assert [r["rule"] for r in gate["reasons"]] == ["few-criticals"]
    assert c.delete(f"/api/v1/policies/{pk}/").status_code == 204
    assert {r["rule"] for r in _gate(api(token))["reasons"]} == {"no-open-critical", "no-open-high"}


def test_a_rule_exception_waives_the_rule_for_the_model(
    upload: Any,
    token: str,
    api: Any,
    client_of: Any,
    member: Any,
    lead: Any,
    make_policy: Any,
    team_alpha: Any,
) -> None:
    make_policy(
        team_alpha,
        evidence=[{"id": "fairness", "category": "assessment"}],
        exceptions={"max_days": 14},
    )
    upload(token, trivy_report([], severity="LOW"), version="1.0")
    assert [r["rule"] for r in _gate(api(token))["reasons"]] == ["fairness"]
    c = client_of(member)
    too_long = c.post(
        "/api/v1/exceptions/",
        {
            "model": "churn",
            "rule": "fairness",
            "days": 15,
            "justification": "assessment runs next month",
        },
        content_type="application/json",
    )
    assert too_long.status_code == 400
    assert "at most 14 days" in too_long.json()["error"]
    unknown = c.post(
        "/api/v1/exceptions/",
        {
            "model": "churn",
            "rule": "nope",
            "days": 5,
            "justification": "assessment runs next month",
        },
        content_type="application/json",
    )
    assert unknown.status_code == 400
    assert "has no rule 'nope'" in unknown.json()["error"]
    asked = c.post(
        "/api/v1/exceptions/",
        {
            "model": "churn",
            "rule": "fairness",
            "days": 14,
            "justification": "assessment runs next month",
        },
        content_type="application/json",
    )
    assert asked.status_code == 201, asked.content
    client_of(lead).post(
        f"/api/v1/exceptions/{asked.json()['id']}/approve/", {}, content_type="application/json"
    )
    gate = _gate(api(token))
    assert gate["verdict"] == "pass"
    with time_machine.travel(timezone.now() + timedelta(days=10), tick=False):
        gate = _gate(api(token))
        assert gate["verdict"] == "warn"
        assert "waived by exception" in gate["reasons"][0]["message"]
    with time_machine.travel(timezone.now() + timedelta(days=15), tick=False):
        assert _gate(api(token))["verdict"] == "fail"  # a waiver ends on time, task or not


# --- admission -------------------------------------------------------------------------------


def test_admission_allows_a_scanned_passing_artifact_only(
    upload: Any, token: str, api: Any, make_token: Any, team_alpha: Any
) -> None:
    reader = api(make_token(team_alpha, "read"))
    clean = hashlib.sha256(b"clean").hexdigest()
    upload(token, BENIGN, model="good", version="1.0", artifact_sha256=clean)
    r = reader.get(f"/api/v1/artifacts/{clean}/admission")
    assert r.status_code == 200, r.content
    good = MLModel.objects.get(team=team_alpha, name="good")
    assert r.json() | {"reasons": []} == {
        "allowed": True,
        "model": "good",
        "model_id": good.pk,
        "version": "1.0",
        "verdict": "pass",
        "reasons": [],
        "sha256": clean,
        "policy": "built-in default",
    }
    bad = hashlib.sha256(b"bad").hexdigest()
    upload(token, MALICIOUS, model="bad", version="1.0", artifact_sha256=bad)
    r = reader.get(f"/api/v1/artifacts/{bad.upper()}/admission")
    assert r.status_code == 200
    assert (r.json()["allowed"], r.json()["verdict"]) == (False, "fail")
    assert r.json()["reasons"][0]["rule"] == "no-open-critical"


def test_admission_refuses_an_artifact_that_was_never_scanned_or_is_unknown(
    api: Any, make_token: Any, team_alpha: Any, make_model: Any
) -> None:
    reader = api(make_token(team_alpha, "read"))
    digest = hashlib.sha256(b"registered, never scanned").hexdigest()
    make_model(team_alpha, name="unscanned", digest=digest)
    r = reader.get(f"/api/v1/artifacts/{digest}/admission")
    assert r.status_code == 200
    body = r.json()
    assert (body["allowed"], body["model"], body["version"], body["verdict"]) == (
        False,
        "unscanned",
        "1.0",
        "fail",
    )
    assert body["reasons"][0]["rule"] == "never-scanned"
    unknown = reader.get(f"/api/v1/artifacts/{'0' * 64}/admission")
    assert unknown.status_code == 404
    assert unknown.json()["allowed"] is False
    assert unknown.json()["reasons"][0]["rule"] == "unknown-artifact"
    assert reader.get("/api/v1/artifacts/not-a-digest/admission").status_code == 400


def test_admission_fails_closed_when_one_of_several_versions_fails(
    upload: Any, token: str, api: Any
) -> None:
    shared = hashlib.sha256(b"shared").hexdigest()
    upload(token, BENIGN, model="a", version="1.0", artifact_sha256=shared)
    upload(token, MALICIOUS, model="b", version="1.0", artifact_sha256=shared)
    body = api(token).get(f"/api/v1/artifacts/{shared}/admission").json()
    assert (body["allowed"], body["model"]) == (False, "b")


def test_finding_events_record_the_whole_exception_story(
    upload: Any, token: str, client_of: Any, member: Any, lead: Any
) -> None:
    upload(token, MALICIOUS, version="1.0")
    finding = Finding.objects.get()
    pk = (
        client_of(member)
        .post(
            "/api/v1/exceptions/",
            {"finding": finding.pk, "days": 3, "justification": "needed for the demo only"},
            content_type="application/json",
        )
        .json()["id"]
    )
    client_of(lead).post(f"/api/v1/exceptions/{pk}/approve/", {}, content_type="application/json")
    events = list(FindingEvent.objects.filter(finding=finding).order_by("id"))
    assert [(e.kind, e.actor_label) for e in events] == [("comment", "member"), ("status", "lead")]
    assert events[0].reason.startswith(f"exception #{pk} requested for finding #{finding.pk}")
