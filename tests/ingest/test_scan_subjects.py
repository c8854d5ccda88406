"""A finding is resolved only by a scan that looked at the same thing (its subject).

Each test is one of the stories that were wrong before scans had subjects: a clean version
resolving a malicious one, one deployment resolving another, an SBOM resolving a vulnerability
report, automatic closures counted as remediations, a typo creating a model.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from governance.evidence.models import ScanRun
from governance.findings.models import Finding, FindingEvent
from governance.inventory.models import MLModel
from tests.reportgen import grype_report, trivy_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(team_alpha: Any, make_token: Any) -> str:
    return make_token(team_alpha, "write")


def _modelscan(path: str, content: bytes, findings: list[dict[str, Any]]) -> bytes:
    """A warden.modelscan/v1 document for one file (what `warden scan FILE` uploads)."""
    return orjson.dumps(
        {
            "schema": "warden.modelscan/v1",
            "tool": "warden-modelscan",
            "version": "0.1.0",
            "files": [
                {
                    "path": path,
                    "format": "pytorch",
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "size": len(content),
                    "findings": findings,
                }
            ],
        }
    )


EVIL = b"torch checkpoint whose pickle calls posix.system"
CLEAN = b"safetensors weights"
SYSTEM_CALL = {
    "fingerprint": "f" * 64,
    "rule_id": "pickle-dangerous-callable",
    "title": "pickle calls posix.system",
    "severity": "critical",
    "category": "model_file",
    "archive_member": "archive/data.pkl",
}


def _admission(api: Any, token: str, content: bytes) -> Any:
    digest = hashlib.sha256(content).hexdigest()
    return api(token).get(f"/api/v1/artifacts/{digest}/admission")


def _gate(api: Any, token: str, model: str, version: str) -> dict[str, Any]:
    body: dict[str, Any] = api(token).get(f"/api/v1/models/{model}/gate/?version={version}").json()
    return body


def test_a_clean_version_never_resolves_the_malicious_artifact_of_another(
    upload: Any, api: Any, token: str
) -> None:
    first = upload(token, _modelscan("evil.pt", EVIL, [SYSTEM_CALL]), model="m", version="1").json()
    assert first["counts"]["new"] == 1
    assert first["subject"]["kind"] == "artifact"
    assert first["subject"]["artifact_sha256"] == hashlib.sha256(EVIL).hexdigest()
    assert _gate(api, token, "m", "1")["verdict"] == "fail"
    assert _admission(api, token, EVIL).json()["allowed"] is False

    second = upload(token, _modelscan("clean.safetensors", CLEAN, []), model="m", version="2")
    assert second.json()["counts"]["resolved"] == 0

    finding = Finding.objects.get(rule_id="pickle-dangerous-callable")
    assert finding.status == "open"
    assert not finding.events.filter(to_value="resolved").exists()
    v1 = _gate(api, token, "m", "1")
    assert v1["verdict"] == "fail"
    assert v1["reasons"][0]["findings"] == [finding.pk]
    refused = _admission(api, token, EVIL).json()
    assert refused["allowed"] is False
    assert refused["version"] == "1"
    # the new clean version is a new digest, judged on its own
    assert _gate(api, token, "m", "2")["verdict"] == "pass"
    assert _admission(api, token, CLEAN).json()["allowed"] is True


def test_a_rescan_of_the_same_artifact_that_no_longer_reports_it_resolves_it(
    upload: Any, api: Any, token: str
) -> None:
    upload(token, _modelscan("evil.pt", EVIL, [SYSTEM_CALL]), model="m", version="1")
    again = upload(
        token, _modelscan("evil.pt", EVIL, []) + b" ", model="m", version="1"
    ).json()  # same subject (same bytes scanned), same tool family
    assert again["counts"]["resolved"] == 1
    finding = Finding.objects.get()
    assert (finding.status, finding.resolution) == ("resolved", "fixed")
    assert _admission(api, token, EVIL).json()["allowed"] is True


def test_only_a_model_file_scan_of_the_digest_admits_it(upload: Any, api: Any, token: str) -> None:
    digest = hashlib.sha256(b"weights").hexdigest()
    # an empty Trivy report bound to the digest is not a scan of the model file
    upload(token, trivy_report([]), model="m", version="1", artifact_sha256=digest)
    answer = api(token).get(f"/api/v1/artifacts/{digest}/admission").json()
    assert answer["allowed"] is False
    assert answer["reasons"][0]["rule"] == "never-scanned"
    assert "model-file scan" in answer["reasons"][0]["message"]
    assert "dependency" in answer["reasons"][0]["message"]
    # an ingested model-file report for that artifact does
    modelscan = (
        b'{"summary": {"total_issues": 0, "scanned": {"total_scanned": 1}}, '
        b'"issues": [], "errors": []}'
    )
    upload(token, modelscan, model="m", version="1", artifact_sha256=digest, scan_type="modelscan")
    assert api(token).get(f"/api/v1/artifacts/{digest}/admission").json()["allowed"] is True


def test_a_report_about_another_file_than_the_named_artifact_is_refused(
    upload: Any, token: str
) -> None:
    named = hashlib.sha256(b"the real weights").hexdigest()
    response = upload(
        token, _modelscan("other.pt", EVIL, []), model="m", version="1", artifact_sha256=named
    )
    assert response.status_code == 400
    assert "not the artifact" in response.json()["error"]
    assert not ScanRun.objects.exists()


def _runtime(deployment: str, events: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {
            "schema": "warden.runtime/v1",
            "tool": "llm-guard",
            "deployment": deployment,
            "events": events,
        }
    )


def _event(rule: str, count: int, t: str = "2026-11-30T10:00:00Z") -> dict[str, Any]:
    return {"time": t, "kind": "attack", "rule": rule, "count": count}


def test_one_deployment_never_resolves_another_and_event_counts_add_up(
    upload: Any, token: str
) -> None:
    eu = [_event(f"rule-{i}", 1) for i in range(5)]
    assert upload(token, _runtime("prod-eu", eu), model="m").json()["counts"]["new"] == 5
    us = upload(token, _runtime("prod-us", [_event("other", 2)]), model="m").json()
    assert us["subject"] == {**us["subject"], "kind": "deployment", "environment": "prod-us"}
    assert us["counts"]["resolved"] == 0
    assert Finding.objects.filter(status="open").count() == 6
    # the next batch for prod-eu mentions one rule: nothing else is resolved, counts add up
    later = upload(
        token, _runtime("prod-eu", [_event("rule-0", 7, "2026-11-30T11:00:00Z")]), model="m"
    ).json()
    assert later["counts"]["resolved"] == 0
    assert Finding.objects.filter(status="open").count() == 6
    rule0 = Finding.objects.get(rule_id="rule-0")
    assert (rule0.failure_count, rule0.metric_value) == (8, 8.0)


def _grype_cyclonedx_sbom() -> bytes:
    """A CycloneDX SBOM written by Grype: components, no vulnerability analysis."""
    return orjson.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "metadata": {
                "tools": {
                    "components": [{"type": "application", "name": "grype", "version": "0.80.0"}]
                },
                "component": {"type": "container", "name": "registry/app", "version": "1.0"},
            },
            "components": [
                {
                    "type": "library",
                    "name": f"pkg{i}",
                    "version": "1.0.0",
                    "purl": f"pkg:pypi/pkg{i}@1.0.0",
                }
                for i in range(4)
            ],
        }
    )


def test_an_sbom_without_analysis_resolves_nothing_of_the_same_tool_and_target(
    upload: Any, token: str
) -> None:
    fields = {"model": "m", "version": "1", "target": "registry/app:1.0"}
    first = upload(token, grype_report([0, 1, 2, 3]), **fields).json()
    assert first["counts"]["new"] == 4
    sbom = upload(token, _grype_cyclonedx_sbom(), **fields).json()
    assert sbom["tool"] == "grype"
    assert sbom["subject"]["id"] == first["subject"]["id"]  # the same subject
    assert sbom["counts"]["resolved"] == 0
    assert Finding.objects.filter(status="open").count() == 4


def test_a_scan_of_another_target_of_the_same_version_resolves_nothing(
    upload: Any, token: str
) -> None:
    upload(token, trivy_report(range(3)), model="m", version="1", target="requirements.txt")
    other = upload(token, trivy_report([]), model="m", version="1", target="serving-image:1").json()
    assert other["counts"]["resolved"] == 0
    assert Finding.objects.filter(status="open").count() == 3


def test_automatic_closures_by_other_versions_or_retirement_are_no_remediation(
    upload: Any, api: Any, token: str, client_of: Any, lead: Any
) -> None:
    upload(token, trivy_report(range(4)), model="m", version="1")
    upload(token, trivy_report([]), model="m", version="2")  # another version: no fix
    metrics = api(token).get("/api/v1/sla/metrics/").json()
    assert (metrics["resolved"], metrics["mttr_days"]) == (0, None)
    assert metrics["window_days"] == 90

    # version 1 rescanned after upgrading two packages: two real remediations
    upload(token, trivy_report([2, 3]), model="m", version="1")
    metrics = api(token).get("/api/v1/sla/metrics/").json()
    assert metrics["resolved"] == 2

    # retiring version 1 closes the rest, which is not a remediation
    retired = client_of(lead).patch(
        "/api/v1/models/m/versions/1/", {"retired": True}, content_type="application/json"
    )
    assert retired.status_code == 200
    assert retired.json()["findings_resolved"] == 2
    assert set(Finding.objects.values_list("resolution", flat=True)) == {"fixed", "retired"}
    event = FindingEvent.objects.filter(to_value="resolved", reason__startswith="version").first()
    assert event is not None
    assert event.reason == "version retired: m@1"
    metrics = api(token).get("/api/v1/sla/metrics/").json()
    assert metrics["resolved"] == 2
    # the dashboard shows the same figure over the same window
    page = client_of(lead).get("/dashboard/").content.decode()
    assert "2 resolved in 90 days" in page


def test_a_retired_version_takes_no_more_scans_and_is_never_admitted(
    upload: Any, api: Any, token: str, client_of: Any, lead: Any
) -> None:
    upload(token, _modelscan("clean.pt", CLEAN, []), model="m", version="1")
    assert _admission(api, token, CLEAN).json()["allowed"] is True
    client_of(lead).patch(
        "/api/v1/models/m/versions/1/", {"retired": True}, content_type="application/json"
    )
    answer = _admission(api, token, CLEAN).json()
    assert answer["allowed"] is False
    assert answer["reasons"][0]["rule"] == "version-retired"
    late = upload(token, trivy_report(range(2)), model="m", version="1")
    assert late.status_code == 400
    assert "retired" in late.json()["error"]


def test_members_cannot_retire_a_version(
    upload: Any, token: str, client_of: Any, member: Any
) -> None:
    upload(token, trivy_report(range(2)), model="m", version="1")
    response = client_of(member).patch(
        "/api/v1/models/m/versions/1/", {"retired": True}, content_type="application/json"
    )
    assert response.status_code == 403
    assert Finding.objects.filter(status="open").count() == 2


def test_a_typo_in_the_model_name_is_a_404_naming_the_closest_models(
    upload: Any, api: Any, token: str, team_alpha: Any
) -> None:
    MLModel.objects.create(team=team_alpha, name="Face-Blur")
    response = upload(token, trivy_report(range(2)), model="face-blurr", create_model="")
    assert response.status_code == 404
    error = response.json()["error"]
    assert "no model 'face-blurr' in team alpha" in error
    assert "did you mean 'Face-Blur'?" in error
    assert MLModel.objects.count() == 1
    assert not ScanRun.objects.exists()
    gate = api(token).get("/api/v1/models/face-blurr/gate/")
    assert gate.status_code == 404
    assert "Face-Blur" in gate.json()["error"]


def test_model_names_match_case_insensitively(upload: Any, token: str, team_alpha: Any) -> None:
    model = MLModel.objects.create(team=team_alpha, name="Face-Blur")
    response = upload(token, trivy_report(range(2)), model="face-blur", create_model="")
    assert response.status_code == 201
    assert response.json()["model"] == "Face-Blur"
    # create_model never makes a second model that differs only in case
    again = upload(token, trivy_report(range(3)), model="FACE-BLUR", create_model="true")
    assert again.json()["model_id"] == model.pk
    assert MLModel.objects.count() == 1


def test_two_models_whose_names_differ_only_in_case_are_refused(team_alpha: Any) -> None:
    from django.db import IntegrityError, transaction

    MLModel.objects.create(team=team_alpha, name="Face-Blur")
    with pytest.raises(IntegrityError), transaction.atomic():
        MLModel.objects.create(team=team_alpha, name="face-blur")


def test_creating_a_model_from_ci_needs_the_flag_and_the_team_setting(
    upload: Any, token: str, team_alpha: Any
) -> None:
    team_alpha.allow_model_autocreate = False
    team_alpha.save()
    refused = upload(token, trivy_report(range(2)), model="new-model", create_model="true")
    assert refused.status_code == 400
    assert "does not allow creating models" in refused.json()["error"]
    team_alpha.allow_model_autocreate = True
    team_alpha.save()
    created = upload(token, trivy_report(range(2)), model="new-model", create_model="true")
    assert created.status_code == 201
    assert MLModel.objects.filter(name="new-model").exists()


def test_no_evidence_is_not_a_pass(api: Any, token: str, team_alpha: Any) -> None:
    from governance.inventory.models import ModelVersion

    model = MLModel.objects.create(team=team_alpha, name="m")
    ModelVersion.objects.create(model=model, version="1")
    gate = _gate(api, token, "m", "1")
    assert gate["verdict"] == "fail"
    assert [r["rule"] for r in gate["reasons"]] == ["some-evidence"]
    assert gate["reasons"][0]["message"].startswith(
        "no evidence: no dependency or model-file scan for this version"
    )


def test_one_decision_covers_every_version_the_finding_is_in(
    upload: Any, api: Any, token: str, client_of: Any, member: Any
) -> None:
    upload(token, trivy_report([0]), model="m", version="1")
    upload(token, trivy_report([0]), model="m", version="2")
    finding = Finding.objects.get()
    detail = client_of(member).get(f"/api/v1/findings/{finding.pk}/").json()
    assert detail["versions"] == ["1", "2"]
    assert {o["subject"]["version"] for o in detail["occurrences"]} == {"1", "2"}
    client_of(member).patch(
        f"/api/v1/findings/{finding.pk}/",
        {"status": "false_positive", "reason": "not reachable in our service"},
        content_type="application/json",
    )
    for version in ("1", "2"):
        assert _gate(api, token, "m", version)["verdict"] == "pass"
    assert finding.events.filter(to_value="false_positive").count() == 1
    page = client_of(member).get(f"/findings/{finding.pk}/").content.decode()
    assert "one decision covers them all" in page
    # a third version with the same CVE is covered by the same decision
    upload(token, trivy_report([0]), model="m", version="3")
    assert _gate(api, token, "m", "3")["verdict"] == "pass"


def test_the_finding_shows_its_lifecycle_per_subject(
    upload: Any, token: str, client_of: Any, member: Any
) -> None:
    first = upload(token, trivy_report([0, 1]), model="m", version="1").json()
    fixed = upload(token, trivy_report([1]), model="m", version="1").json()
    finding = Finding.objects.get(vuln_id="CVE-2024-10000")
    detail = client_of(member).get(f"/api/v1/findings/{finding.pk}/").json()
    (occ,) = detail["occurrences"]
    assert occ["subject"]["label"] == "m@1 model-repo"
    assert (occ["state"], occ["first_scan"], occ["closed_by_scan"]) == (
        "fixed", first["id"], fixed["id"],
    )  # fmt: skip
    page = client_of(member).get(f"/findings/{finding.pk}/").content.decode()
    assert "m@1 model-repo" in page
    assert f"not seen in scan {fixed['id']}" in page
