"""CycloneDX 1.4-1.6: affects -> components (nested too), ratings, VEX, ML-BOM models,
pip-audit's CycloneDX output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

import scanners
from scanners import fingerprint
from scanners.findings import ReportError

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def parse(name: str) -> scanners.Report:
    return scanners.parse((FIX / name).read_bytes())


LOG4J = "org.apache.logging.log4j:log4j-core"


def test_grype_generated_bom() -> None:
    report = parse("cyclonedx/log4j.json")
    assert report.scan_type == "cyclonedx"
    assert report.category == "dependency"
    assert (report.tool, report.tool_version) == ("grype", "0.41.0")
    assert len(report.findings) == 8
    assert {f.package for f in report.findings} == {LOG4J}
    assert {f.ecosystem for f in report.findings} == {"maven"}
    f = {x.vuln_id: x for x in report.findings}
    log4shell = f["CVE-2021-44228"]
    assert (log4shell.severity, log4shell.cvss_score) == ("critical", 10.0)
    assert log4shell.package_version == "2.13.2"
    assert log4shell.evidence["analysis_state"] == "in_triage"  # in triage is still open
    assert log4shell.fingerprint == fingerprint.dependency("maven", LOG4J, ["CVE-2021-44228"])
    assert f["CVE-2021-44832"].severity == "medium"
    assert f["GHSA-p6xc-xr62-6r2g"].severity == "high"
    assert f["GHSA-7rjr-3q55-vv33"].fixed_version == "2.16.0"  # grype:fixed_versions property


def test_nested_components_resolve_to_the_same_findings() -> None:
    flat, nested = parse("cyclonedx/log4j.json"), parse("cyclonedx/nested-component-log4j.json")
    assert sorted(f.fingerprint for f in nested.findings) == sorted(
        f.fingerprint for f in flat.findings
    )
    assert nested.warnings == []
    # metadata.component, the container and the library nested in it
    assert nested.metadata["components"] == 3


@pytest.mark.parametrize(
    "name", ["cyclonedx/issue_8022.json", "cyclonedx/valid-vulnerability-1.4.json"]
)
def test_vex_not_affected_is_kept_with_its_justification(name: str) -> None:
    report = parse(name)
    [f] = report.findings
    assert f.vuln_id == "CVE-2018-7489"  # the SNYK id's CVE reference is the canonical id
    assert f.state == "not_affected"
    assert f.justification.startswith("code_not_reachable")
    assert f.reachable is False  # the VEX justification says the code is not reachable
    assert f.package == "com.fasterxml.jackson.core:jackson-databind"
    assert report.metadata["states"] == {"not_affected": 1}


def test_ml_bom_models_and_vex() -> None:
    report = parse("cyclonedx/ml_bom_1.6_handmade.json")
    assert report.metadata["spec_version"] == "1.6"
    [vex] = report.findings
    assert (vex.vuln_id, vex.package, vex.state) == ("CVE-2022-21797", "joblib", "not_affected")
    models = report.metadata["models"]
    assert len(models) == 1
    model = models[0]
    assert (model["name"], model["group"], model["version"]) == (
        "fraud-detector",
        "risk-team",
        "2026.11.1",
    )
    assert model["hashes"][0]["alg"] == "SHA-256"
    card = model["model_card"]
    assert card["modelParameters"]["task"] == "classification"
    assert (
        card["quantitativeAnalysis"]["performanceMetrics"][1]["type"] == "demographic_parity_ratio"
    )
    assert card["considerations"]["fairnessAssessments"][0]["groupAtRisk"] == "customers under 25"


def test_score_without_severity_and_dangling_ref() -> None:
    report = parse("cyclonedx/no-severity.json")
    assert len(report.findings) == 1
    f = report.findings[0]
    assert (f.severity, f.cvss_score, f.raw_severity) == ("critical", 10.0, "10.0")
    assert f.package == ""
    assert report.warnings == [
        "cyclonedx: vulnerabilities[0].affects[0].ref: 'gerbwetbqt' names no component in the BOM"
    ]


def test_sbom_without_vulnerabilities() -> None:
    report = parse("cyclonedx/python_env_sbom_1.6.json")
    assert (report.tool, report.tool_version) == ("cyclonedx-py", "7.5.0")
    assert report.findings == []
    assert report.metadata["components"] == 15
    assert report.metadata["models"] == []


def test_pip_audit_bom_without_purl_or_ratings() -> None:
    report = parse("pip-audit/cyclonedx.json")
    assert report.scan_type == "cyclonedx"
    assert len(report.findings) == 1
    f = report.findings[0]
    assert (f.package, f.package_version, f.vuln_id) == ("requests", "2.19.0", "PYSEC-2018-28")
    assert f.ecosystem == "pypi"  # no purl: implied by the PYSEC- id
    assert (f.severity, f.raw_severity) == ("medium", "")
    assert f.remediation == "Upgrade"
    # pip-audit's BOM drops the aliases, so it matches a pip-audit JSON report of the same id
    assert f.fingerprint == fingerprint.dependency("pypi", "requests", ["PYSEC-2018-28"])


def _bom(vulns: list[dict[str, Any]], components: list[dict[str, Any]] | None = None) -> bytes:
    return orjson.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.5",
            "components": components
            if components is not None
            else [
                {
                    "bom-ref": "c1",
                    "type": "library",
                    "name": "left-pad",
                    "version": "1.0.0",
                    "purl": "pkg:npm/%40acme/left-pad@1.0.0",
                }
            ],
            "vulnerabilities": vulns,
        }
    )


def test_vex_states() -> None:
    vulns = [
        {"id": f"CVE-2024-{i}", "affects": [{"ref": "c1"}], "analysis": {"state": state}}
        for i, state in enumerate(
            ["resolved", "false_positive", "exploitable", "in_triage", "not_affected"]
        )
    ]
    report = scanners.parse(_bom(vulns))
    assert {f.vuln_id: f.state for f in report.findings} == {
        "CVE-2024-0": "resolved",
        "CVE-2024-1": "false_positive",
        "CVE-2024-2": "",  # exploitable: an open problem
        "CVE-2024-3": "",  # in triage: still open
        "CVE-2024-4": "not_affected",
    }
    assert {f.package for f in report.findings} == {"@acme/left-pad"}


def test_rating_preference() -> None:
    vulns = [
        {
            "id": "CVE-2024-10",
            "affects": [{"ref": "c1"}],
            "ratings": [
                {"score": 9.0, "method": "CVSSv2"},
                {"vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "method": "CVSSv31"},
            ],
        },
        {
            "id": "CVE-2024-11",
            "affects": [{"ref": "c1"}],
            "ratings": [{"severity": "low"}, {"severity": "high"}],
        },
        {"id": "CVE-2024-12", "affects": [{"ref": "c1"}], "ratings": [{"severity": "none"}]},
    ]
    f = {x.vuln_id: x for x in scanners.parse(_bom(vulns)).findings}
    # v3 (computed from the vector: 7.5) is preferred over v2's 9.0
    assert (f["CVE-2024-10"].cvss_score, f["CVE-2024-10"].severity) == (7.5, "high")
    assert (f["CVE-2024-11"].severity, f["CVE-2024-11"].raw_severity) == ("high", "high")
    assert f["CVE-2024-12"].severity == "info"


def test_one_finding_per_affected_component() -> None:
    comps = [
        {
            "bom-ref": "a",
            "name": "requests",
            "version": "2.19.0",
            "purl": "pkg:pypi/requests@2.19.0",
        },
        {"bom-ref": "b", "name": "urllib3", "version": "1.26.3", "purl": "pkg:pypi/urllib3@1.26.3"},
    ]
    vulns = [{"id": "GHSA-xxxx-yyyy-zzzz", "affects": [{"ref": "a"}, {"ref": "b"}]}]
    report = scanners.parse(_bom(vulns, comps))
    assert sorted(f.package for f in report.findings) == ["requests", "urllib3"]


@pytest.mark.parametrize(
    ("vulns", "message"),
    [
        ([{"description": "no id"}], 'cyclonedx: vulnerabilities[0]: missing "id"'),
        ([7], "cyclonedx: vulnerabilities[0]: expected an object, got a number"),
    ],
)
def test_errors_name_the_path(vulns: list[Any], message: str) -> None:
    with pytest.raises(ReportError) as err:
        scanners.parse(_bom(vulns))
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("vuln", "notice"),
    [
        (
            {"id": "CVE-1", "affects": [{"versions": []}]},
            'cyclonedx: vulnerabilities[0].affects[0]: no "ref": the affected package is unknown',
        ),
        (
            {"id": "CVE-1", "affects": [{"ref": "c1"}], "ratings": "high"},
            "cyclonedx: vulnerabilities[0].ratings: expected an array, got a string; left out",
        ),
        (
            {"id": "CVE-1", "affects": [{"ref": "c1"}], "analysis": "not_affected"},
            "cyclonedx: vulnerabilities[0].analysis: expected an object, got a string; left out",
        ),
    ],
)
def test_an_odd_field_costs_that_field_not_the_report(vuln: dict[str, Any], notice: str) -> None:
    report = scanners.parse(_bom([vuln]))
    [finding] = report.findings
    assert (finding.vuln_id, finding.state) == ("CVE-1", "")
    assert notice in report.warnings


def test_deeply_nested_components_are_refused() -> None:
    comp: dict[str, Any] = {"bom-ref": "leaf", "name": "x"}
    for i in range(100):
        comp = {"bom-ref": f"c{i}", "name": "x", "components": [comp]}
    with pytest.raises(ReportError, match="nested deeper than 64"):
        scanners.parse(_bom([], [comp]))
