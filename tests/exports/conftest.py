"""A model version with evidence of every kind the ML-BOM shows: an ingested ML-BOM (model
card, packages, a VEX "not affected"), dependency findings a person triaged, and a Warden
assessment with a failed fairness test and a passed accuracy test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MODEL = "fraud-detector"
VERSION = "2026.11.1"
DIGEST = "9f2c4e8a0b7d61f3c5e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8"

ASSESSMENT: dict[str, Any] = {
    "schema": "warden.assessment/v1",
    "model": MODEL,
    "model_version": VERSION,
    "dataset": "holdout-2026-q1",
    "tool": "fairlearn",
    "tool_version": "0.12.0",
    "results": [
        {
            "test": "demographic_parity_difference",
            "category": "fairness",
            "value": 0.12,
            "threshold": 0.1,
            "comparator": "<=",
            "n": 5000,
            "by_group": {"female": 0.61, "male": 0.73},
        },
        {
            "test": "holdout_accuracy",
            "category": "performance",
            "metric": "accuracy",
            "value": 0.91,
            "threshold": 0.88,
            "comparator": ">=",
            "n": 5000,
        },
    ],
}

TRIVY_LIKE: dict[str, Any] = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "metadata": {"tools": [{"name": "trivy", "version": "0.58.0"}]},
    "components": [
        {"bom-ref": "p1", "type": "library", "name": "torch", "version": "2.1.0",
         "purl": "pkg:pypi/torch@2.1.0"},
        {"bom-ref": "p2", "type": "library", "name": "pillow", "version": "9.0.0",
         "purl": "pkg:pypi/pillow@9.0.0"},
        {"bom-ref": "p3", "type": "library", "name": "requests", "version": "2.25.0",
         "purl": "pkg:pypi/requests@2.25.0"},
    ],
    "vulnerabilities": [
        {"id": "CVE-2024-0001", "ratings": [{"score": 9.8, "severity": "critical",
         "method": "CVSSv31", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
         "affects": [{"ref": "p1"}]},
        {"id": "CVE-2024-0002", "ratings": [{"severity": "high"}], "affects": [{"ref": "p2"}]},
        {"id": "CVE-2024-0003", "ratings": [{"severity": "medium"}], "affects": [{"ref": "p3"}]},
        {"id": "CVE-2024-0004", "ratings": [{"severity": "low"}], "affects": [{"ref": "p3"}]},
        {"id": "CVE-2024-0005", "ratings": [{"severity": "high"}], "affects": [{"ref": "p1"}]},
    ],
}  # fmt: skip


@pytest.fixture
def mlbom_world(make_token: Any, upload: Any, team_alpha: Any, lead: Any) -> dict[str, Any]:
    """Alpha's fraud-detector@2026.11.1 with findings in every VEX state."""
    from governance.findings.services import finding_triage
    from governance.inventory.models import MLModel

    token = make_token(team_alpha)
    ml_bom = (FIXTURES / "cyclonedx" / "ml_bom_1.6_handmade.json").read_bytes()
    for body in (ml_bom, json.dumps(TRIVY_LIKE).encode(), json.dumps(ASSESSMENT).encode()):
        response = upload(token, body, model=MODEL, version=VERSION)
        assert response.status_code in (201, 202), response.content
    model = MLModel.objects.get(team=team_alpha, name=MODEL)
    version = model.versions.get(version=VERSION)
    version.artifact_sha256 = DIGEST
    version.framework = "xgboost"
    version.save()
    by_vuln = {f.vuln_id: f for f in model.findings.all() if f.vuln_id}
    finding_triage(
        finding=by_vuln["CVE-2024-0002"], actor=lead, status="false_positive",
        reason="pillow is vendored but never loaded",
    )  # fmt: skip
    finding_triage(finding=by_vuln["CVE-2024-0003"], actor=lead, status="confirmed")
    finding_triage(
        finding=by_vuln["CVE-2024-0004"], actor=lead, status="resolved", reason="upgraded"
    )
    finding_triage(
        finding=by_vuln["CVE-2024-0005"], actor=lead, status="risk_accepted",
        reason="only reachable from the offline trainer",
    )  # fmt: skip
    return {"model": model, "version": version, "token": token, "by_vuln": by_vuln}
