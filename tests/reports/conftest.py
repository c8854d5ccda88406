"""A model version with something in every section of its audit report: a policy with an
assessment rule, dependency findings, an approved exception, a false-positive decision,
assessment results (one failing, one passing) and a recorded verdict."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest

DIGEST = "ab" * 32


def _import(model: Any, version: Any, tool: str, category: str, items: list[dict[str, Any]]) -> Any:
    from governance.evidence.models import ScanRun
    from governance.ingest.services import scan_run_import
    from scanners import NormalizedFinding, Report

    report = Report(tool=tool, tool_version="1.2", scan_type=tool, category=category)
    for spec in items:
        spec = dict(spec)
        ident = spec.pop("id")
        passed = spec.pop("passed", False)
        spec.setdefault("severity", "info" if passed else "high")
        finding = NormalizedFinding(
            fingerprint=hashlib.sha256(f"{category}:{ident}".encode()).hexdigest(),
            category=category,
            tool=tool,
            rule_id=ident,
            title=f"{tool} {ident}",
            passed=passed,
            **spec,
        )
        (report.passed if passed else report.findings).append(finding)
    digest = hashlib.sha256(f"{model.pk}:{tool}:{len(items)}:{category}".encode()).hexdigest()
    run = ScanRun.objects.create(
        team_id=model.team_id, model=model, version=version, report_sha256=digest
    )
    return scan_run_import(scan_run=run, report=report)


@pytest.fixture
def report_world(team_alpha: Any, member: Any, lead: Any) -> dict[str, Any]:
    from django.utils import timezone

    from governance.findings.services import finding_triage
    from governance.inventory.models import MLModel, ModelVersion
    from governance.policies.services import (
        OPERATOR,
        exception_approve,
        exception_request,
        gate_evaluate_recorded,
        policy_create,
    )

    policy = policy_create(
        team=team_alpha,
        document={
            "schema": "warden.policy/v1",
            "name": "release-policy",
            "thresholds": [{"id": "no-open-critical", "severities": ["critical"]}],
            "evidence": [{"id": "deps-scanned", "category": "dependency"}],
            "assessments": [
                {"id": "accuracy-floor", "metric": "accuracy", "comparator": ">=", "value": 0.9}
            ],
        },
        actor=OPERATOR,
    )
    model = MLModel.objects.create(
        team=team_alpha,
        name="fraud-detector",
        owner=member,
        risk_tier="high",
        stage="staging",
        use_case="card fraud scoring",
    )
    version = ModelVersion.objects.create(
        model=model, version="2.1", artifact_sha256=DIGEST, artifact_uri="/models/fraud.onnx"
    )
    deps = _import(
        model,
        version,
        "trivy",
        "dependency",
        [
            {"id": "CVE-2024-0001", "severity": "critical", "vuln_id": "CVE-2024-0001",
             "package": "numpy", "package_version": "1.0"},
            {"id": "CVE-2024-0002", "severity": "high", "vuln_id": "CVE-2024-0002",
             "package": "requests", "package_version": "2.0"},
            {"id": "CVE-2024-0003", "severity": "medium", "vuln_id": "CVE-2024-0003",
             "package": "urllib3", "package_version": "1.0"},
        ],
    )  # fmt: skip
    _import(
        model,
        version,
        "warden-assess",
        "assessment",
        [
            {"id": "accuracy", "metric_name": "accuracy", "metric_value": 0.85,
             "metric_threshold": 0.8, "comparator": ">="},
            {"id": "dp-diff", "passed": True, "metric_name": "demographic_parity_difference",
             "metric_value": 0.04, "metric_threshold": 0.1, "comparator": "<="},
        ],
    )  # fmt: skip
    findings = {f.vuln_id: f for f in model.findings.all()}
    exception = exception_request(
        actor=member,
        finding=findings["CVE-2024-0002"],
        justification="not reachable from the scoring path; upgrade planned",
        expires_at=timezone.now() + timedelta(days=30),
    )
    exception_approve(exception=exception, actor=lead, reason="accepted for this release")
    finding_triage(
        finding=findings["CVE-2024-0003"],
        actor=member,
        status="false_positive",
        reason="urllib3 is vendored but never imported",
    )
    gate_evaluate_recorded(model, version, source="gate")
    return {
        "model": model,
        "version": version,
        "policy": policy,
        "deps": deps,
        "findings": findings,
        "exception": exception,
    }
