"""Helpers for policy tests: stored policies, models with a tier and stage, and reports
imported through the real import service."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest


@pytest.fixture
def make_policy(db: Any) -> Any:
    """``make_policy(team_or_None, name="p", **document_fields)`` -> RiskPolicy."""
    from governance.policies.services import OPERATOR, policy_create

    def make(team: Any, name: str = "p", **fields: Any) -> Any:
        document = {"schema": "warden.policy/v1", "name": name, **fields}
        return policy_create(team=team, document=document, actor=OPERATOR)

    return make


@pytest.fixture
def make_model(db: Any) -> Any:
    """``make_model(team, name="m", risk_tier="high", stage="production", versions=...)``."""
    from governance.inventory.models import MLModel, ModelVersion

    def make(
        team: Any,
        name: str = "m",
        risk_tier: str = "high",
        stage: str = "production",
        version: str = "1.0",
        digest: str = "",
    ) -> Any:
        model, _ = MLModel.objects.get_or_create(
            team=team, name=name, defaults={"risk_tier": risk_tier, "stage": stage}
        )
        if version:
            ModelVersion.objects.get_or_create(
                model=model, version=version, defaults={"artifact_sha256": digest}
            )
        return model

    return make


@pytest.fixture
def import_report(db: Any) -> Any:
    """``import_report(model, version="1.0", tool="trivy", category="dependency",
    findings=[{"id": "CVE-1", "severity": "high", ...}], passed=[{...}])`` -> ScanRun.

    Finding dicts take NormalizedFinding fields (``fixed_version``, ``metric_name``,
    ``metric_value``, ...); ``id`` makes the fingerprint."""
    from governance.evidence.models import ScanRun
    from governance.ingest.services import scan_run_import
    from governance.inventory.models import ModelVersion
    from scanners import NormalizedFinding, Report

    counter = {"n": 0}

    def item(tool: str, category: str, spec: dict[str, Any], passed: bool) -> Any:
        spec = dict(spec)
        ident = spec.pop("id")
        spec.setdefault("severity", "info" if passed else "high")
        return NormalizedFinding(
            fingerprint=hashlib.sha256(f"{category}:{ident}".encode()).hexdigest(),
            category=category,
            tool=tool,
            rule_id=ident,
            title=f"{tool} {ident}",
            passed=passed,
            **spec,
        )

    def run(
        model: Any,
        version: str | None = "1.0",
        tool: str = "trivy",
        category: str = "dependency",
        findings: list[dict[str, Any]] | None = None,
        passed: list[dict[str, Any]] | None = None,
    ) -> Any:
        mv = (
            ModelVersion.objects.get_or_create(model=model, version=version)[0] if version else None
        )
        report = Report(tool=tool, tool_version="1", scan_type=tool, category=category)
        report.findings = [item(tool, category, f, False) for f in findings or []]
        report.passed = [item(tool, category, f, True) for f in passed or []]
        counter["n"] += 1
        digest = hashlib.sha256(f"{model.pk}:{version}:{tool}:{counter['n']}".encode()).hexdigest()
        scan = ScanRun.objects.create(
            team_id=model.team_id, model=model, version=mv, report_sha256=digest
        )
        return scan_run_import(scan_run=scan, report=report)

    return run
