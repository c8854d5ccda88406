"""Deployments: what runs where, checked against admission. A refused artifact in production
is a critical finding of the model; replacing or ending the deployment closes it (not as a
remediation); re-running a deploy step changes nothing."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from governance.findings.models import Finding
from governance.inventory.models import Deployment

pytestmark = pytest.mark.django_db

CLEAN, EVIL = b"clean weights", b"evil weights"


def _scan(content: bytes, findings: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {
            "schema": "warden.modelscan/v1",
            "tool": "warden-modelscan",
            "version": "0.1.0",
            "files": [
                {
                    "path": "model.pt",
                    "format": "pytorch",
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "size": len(content),
                    "findings": findings,
                }
            ],
        }
    )


CRITICAL = {
    "fingerprint": "e" * 64,
    "rule_id": "pickle-dangerous-callable",
    "title": "pickle calls posix.system",
    "severity": "critical",
}


@pytest.fixture
def token(team_alpha: Any, make_token: Any, upload: Any) -> str:
    raw: str = make_token(team_alpha, "write")
    upload(raw, _scan(CLEAN, []), model="m", version="1")
    upload(raw, _scan(EVIL, [CRITICAL]), model="m", version="2")
    return raw


def _deploy(api: Any, token: str, **fields: Any) -> Any:
    body = {"model": "m", "environment": "prod-eu", **fields}
    return api(token).post("/api/v1/deployments/", body, format="json")


def _refusals() -> list[Finding]:
    return list(Finding.objects.filter(rule_id="deployed-artifact-refused"))


def test_deploying_an_admitted_version_records_it_and_raises_nothing(api: Any, token: str) -> None:
    response = _deploy(api, token, version="1")
    assert response.status_code == 201
    body = response.json()
    assert (body["model"], body["version"], body["environment"], body["active"]) == (
        "m", "1", "prod-eu", True,
    )  # fmt: skip
    assert body["admission"]["allowed"] is True
    assert body["artifact_sha256"] == hashlib.sha256(CLEAN).hexdigest()
    assert not _refusals()
    again = _deploy(api, token, version="1")
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    assert Deployment.objects.count() == 1


def test_a_refused_artifact_in_production_is_a_critical_finding(api: Any, token: str) -> None:
    response = _deploy(api, token, version="2")
    assert response.status_code == 201
    assert response.json()["admission"]["allowed"] is False
    (refusal,) = _refusals()
    assert (refusal.severity, refusal.status, refusal.category) == ("critical", "open", "runtime")
    assert "runs in prod-eu but admission refuses its artifact" in refusal.title
    occurrence = refusal.occurrences.get()
    assert (occurrence.subject.kind, occurrence.subject.environment) == ("deployment", "prod-eu")
    gate = api(token).get("/api/v1/models/m/gate/?version=2").json()
    failing = {f for r in gate["reasons"] for f in r["findings"]}
    assert refusal.pk in failing


def test_replacing_the_refused_deployment_closes_its_finding_as_no_remediation(
    api: Any, token: str
) -> None:
    first = _deploy(api, token, version="2").json()
    second = _deploy(api, token, version="1").json()
    assert second["id"] != first["id"]
    assert Deployment.objects.get(pk=first["id"]).until is not None
    (refusal,) = _refusals()
    assert (refusal.status, refusal.resolution) == ("resolved", "retired")
    event = refusal.events.get(to_value="resolved")
    assert event.reason == "replaced by a new deployment: m@2 in prod-eu"
    metrics = api(token).get("/api/v1/sla/metrics/").json()
    assert metrics["resolved"] == 0  # not a remediation


def test_ending_a_deployment(api: Any, token: str, client_of: Any, member: Any) -> None:
    body = _deploy(api, token, version="2").json()
    ended = api(token).delete(f"/api/v1/deployments/{body['id']}/")
    assert ended.status_code == 200
    assert ended.json()["active"] is False
    assert _refusals()[0].status == "resolved"
    active = client_of(member).get("/api/v1/deployments/?active=1").json()["results"]
    assert active == []


def test_two_environments_are_two_deployments(api: Any, token: str) -> None:
    _deploy(api, token, version="2")
    _deploy(api, token, version="2", environment="prod-us")
    assert len(_refusals()) == 2
    eu = Deployment.objects.get(environment="prod-eu")
    api(token).delete(f"/api/v1/deployments/{eu.pk}/")
    statuses = sorted((f.occurrences.get().subject.environment, f.status) for f in _refusals())
    assert statuses == [("prod-eu", "resolved"), ("prod-us", "open")]


def test_a_read_token_cannot_deploy_and_an_unknown_version_is_a_404(
    api: Any, token: str, team_alpha: Any, make_token: Any
) -> None:
    reader = make_token(team_alpha, "read")
    assert _deploy(api, reader, version="1").status_code == 403
    missing = _deploy(api, token, version="9")
    assert missing.status_code == 404
    assert "has no version '9'" in missing.json()["error"]
    bad = _deploy(api, token, version="1", environment="prod\u202eeu")
    assert bad.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_the_cli_records_a_deployment(live_server: Any, token: str) -> None:
    from tests.test_cli_client import warden

    result = warden(
        "deploy", "--model", "m", "--version", "2", "--environment", "prod-eu",
        "--fail-on-refused", url=live_server.url, token=token,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "admission: REFUSED" in result.stdout
    ok = warden(
        "deploy", "--model", "m", "--version", "1", "--environment", "prod-eu",
        "--fail-on-refused", url=live_server.url, token=token,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert "admission: allowed" in ok.stdout
