"""The control mapping (docs/controls/controls.yaml): complete for the policy schema, every
control cited, and applied to a version in the audit report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from governance.policies.schema import CATEGORIES, SCHEMA
from governance.reports.controls import (
    NOT_RULE_SECTIONS,
    control_coverage,
    controls_mapping,
    controls_path,
)


def test_the_mapping_is_read_from_the_repository_docs() -> None:
    assert controls_path() == Path(settings.BASE_DIR) / "docs" / "controls" / "controls.yaml"
    assert controls_mapping()["schema"] == "warden.controls/v1"


def test_every_rule_type_the_policy_schema_knows_is_mapped() -> None:
    rule_types = set(SCHEMA["properties"]) - NOT_RULE_SECTIONS
    assert rule_types == set(controls_mapping()["rule_types"])


def test_every_evidence_type_is_mapped() -> None:
    assert set(CATEGORIES) == set(controls_mapping()["evidence_types"])


def test_every_mapped_control_is_defined_and_cited() -> None:
    data = controls_mapping()
    defined = {c["id"] for c in data["controls"]}
    used = {c for ids in data["rule_types"].values() for c in ids}
    used |= {c for ids in data["evidence_types"].values() for c in ids}
    assert used <= defined, used - defined
    assert defined <= used, f"controls nothing supports: {defined - used}"
    for control in data["controls"]:
        source = data["sources"][control["source"]]
        assert source["title"]
        assert source["url"].startswith("https://")
    frameworks = {c["framework"] for c in data["controls"]}
    assert frameworks == {"NIST AI RMF", "EU AI Act"}
    # the functions and articles the issue names are all there
    for needed in ("GOVERN", "MAP", "MEASURE", "MANAGE", "MEASURE 2.7", "MANAGE 4.1"):
        assert any(i.startswith(needed) for i in defined), needed
    for article in (9, 10, 12, 15, 72):
        assert f"EU AI Act Art. {article}" in defined


def test_coverage_names_what_supports_a_control_and_what_is_missing() -> None:
    document = {
        "thresholds": [{"id": "no-open-critical"}],
        "evidence": [],
        "assessments": [],
        "alerts": [],
        "sla": {"days": {"critical": 7, "high": None}},
        "exceptions": {"max_days": 90},
    }
    rows = {
        c.id: c
        for c in control_coverage(
            policy_document=document, evidence={"dependency": ["trivy #3 on 2026-01-02"]}
        )
    }
    gov = rows["GOVERN 6.1"]  # dependency evidence only
    assert gov.state == "supported"
    assert gov.supported_by == ["evidence: dependency scan, trivy #3 on 2026-01-02"]
    monitoring = rows["EU AI Act Art. 72"]  # alerts and runtime evidence: neither
    assert monitoring.state == "missing"
    assert "policy: no runtime alert rules configured" in monitoring.missing
    assert "evidence: no runtime scan of this version" in monitoring.missing
    robustness = rows["EU AI Act Art. 15"]
    assert robustness.state == "partial"
    assert "policy: open-finding thresholds (no-open-critical)" in robustness.supported_by
    assert rows["MANAGE 1.3"].supported_by[-1] == "policy: remediation SLAs (critical 7 d)"


def test_another_mapping_file_can_be_configured(settings: Any, tmp_path: Path) -> None:
    custom = tmp_path / "controls.yaml"
    custom.write_text(
        "schema: warden.controls/v1\nsources: {s: {title: T, url: 'https://example.org'}}\n"
        "controls: [{id: C1, framework: Internal, title: One, source: s}]\n"
        "rule_types: {thresholds: [C1]}\nevidence_types: {}\n"
    )
    settings.WARDEN_CONTROLS_FILE = str(custom)
    rows = control_coverage(policy_document={"thresholds": []}, evidence={})
    assert [(r.id, r.state) for r in rows] == [("C1", "missing")]


@pytest.mark.django_db
def test_the_report_lists_the_controls_of_the_version(
    client_of: Any, member: Any, report_world: Any
) -> None:
    url = f"/models/{report_world['model'].pk}/versions/2.1/report/"
    html = client_of(member).get(url).content.decode()
    controls = html.split('id="controls"')[1]
    assert "MEASURE 2.11" in controls
    assert "policy: assessment thresholds (accuracy-floor)" in controls
    assert "evidence: no runtime scan of this version" in controls
    assert "https://doi.org/10.6028/NIST.AI.100-1" in controls
