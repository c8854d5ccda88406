"""SARIF 2.1.0 from many producers: severities, locations, fingerprints, suppressions,
dependency results, secret redaction, ModelAudit's SARIF, Warden's own SARIF."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

import scanners
from scanners import fingerprint
from scanners.findings import ReportError
from scanners.sarif_writer import to_sarif

FIX = Path(__file__).resolve().parents[1] / "fixtures"


def parse(name: str) -> scanners.Report:
    return scanners.parse((FIX / name).read_bytes())


def test_bandit_sarif_levels_and_locations() -> None:
    report = parse("bandit/insecure_app.sarif")
    assert (report.scan_type, report.tool, report.tool_version, report.category) == (
        "sarif",
        "Bandit",
        "1.9.4",
        "code",
    )
    assert len(report.findings) == 8
    f = {x.rule_id: x for x in report.findings}
    # level note -> low, warning -> medium, error -> high
    # bandit puts its own rating in properties.issue_severity; it agrees with the level
    assert (f["B403"].severity, f["B403"].raw_severity, f["B403"].line) == ("low", "LOW", 1)
    assert (f["B602"].severity, f["B602"].file_path, f["B602"].line) == ("high", "app.py", 19)
    assert f["B301"].severity == "medium"
    assert f["B403"].evidence["cwes"] == ["CWE-502"]
    assert f["B403"].fingerprint == fingerprint.make("code", "bandit", "B403", "app.py", 1)


def test_bandit_json_and_sarif_agree() -> None:
    as_json, as_sarif = parse("bandit/insecure_app.json"), parse("bandit/insecure_app.sarif")
    assert as_json.scan_type == "bandit"
    pairs_json = sorted((f.fingerprint, f.severity) for f in as_json.findings)
    pairs_sarif = sorted((f.fingerprint, f.severity) for f in as_sarif.findings)
    assert pairs_json == pairs_sarif
    assert len(pairs_json) == 8


def test_ruff_file_uri_and_titles() -> None:
    report = parse("ruff/insecure_app.sarif")
    assert len(report.findings) == 6
    assert {f.file_path for f in report.findings} == {"app.py"}  # "file://app.py"
    assert {f.severity for f in report.findings} == {"high"}  # ruff writes level "error"
    s105 = next(f for f in report.findings if f.rule_id == "S105")
    assert (
        s105.title == 'Possible hardcoded password assigned to: "PASSWORD"'
    )  # not the "{}" template


def test_accepted_suppressions_are_kept_as_findings_with_the_tools_decision() -> None:
    report = parse("sarif/suppression_test.sarif")
    states = {
        f.rule_id: (f.state, f.evidence["suppression"]["kind"]) for f in report.findings if f.state
    }
    # external (a triage decision kept outside the code) -> risk accepted;
    # inSource (the author marked the code as not a problem) -> false positive
    assert states == {
        "TST0001": ("risk_accepted", "external"),
        "TST0002": ("risk_accepted", "external"),
        "TST0003": ("false_positive", "inSource"),
    }
    assert sorted(f.rule_id for f in report.findings if not f.state) == ["TST0004", "TST0005"]
    assert report.metadata["states"] == {"false_positive": 1, "risk_accepted": 2}
    assert {f.file_path for f in report.findings if not f.state} == {
        "C:/code/file4.c",
        "C:/code/file5.c",
    }
    assert {f.severity for f in report.findings} == {"medium"}  # no level anywhere: "warning"

    appendix = parse("sarif/appendix_k.sarif")
    [kept] = appendix.findings
    assert (kept.state, kept.file_path, kept.line) == ("risk_accepted", "collections/list.h", 15)


def test_message_templates_and_rule_titles() -> None:
    report = parse("sarif/spotbugs.sarif")
    assert len(report.findings) == 56
    first = report.findings[0]
    assert (
        first.description == "Hard coded reference to an absolute pathname in Boot.main(String[])."
    )
    assert first.title == "Code contains a hard coded reference to an absolute pathname."
    assert (first.file_path, first.line, first.severity) == ("Boot.java", 23, "low")


def test_duplicate_results_are_merged() -> None:
    report = parse("sarif/bash-report.sarif")
    # 27 results, 12 distinct (rule, partial fingerprints)
    assert len(report.findings) == 12
    assert sum(f.evidence.get("occurrences", 1) for f in report.findings) == 27
    assert report.findings[0].file_path == "/home/damien/dd/docker/setEnv.sh"


def test_issue_severity_property_wins_over_level() -> None:
    report = parse("sarif/taint-python-report.sarif")
    counts: dict[str, int] = {}
    for f in report.findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    assert counts == {"high": 7, "medium": 1, "low": 2, "critical": 1}


def test_gitleaks_secrets_are_redacted() -> None:
    report = parse("sarif/gitleaks_7.5.0.sarif")
    assert len(report.findings) == 4  # 8 results: the same secrets in several commits
    aws = [f for f in report.findings if f.rule_id == "AWS Access Key"]
    assert len(aws) == 3
    dumped = orjson.dumps(report.to_dict()).decode()
    assert "AKIAIOSFODNN7EXAMPLE" not in dumped
    assert "BEGIN OPENSSH PRIVATE KEY" not in dumped
    assert aws[0].evidence["properties"]["offender"] == "[redacted]"
    assert "[redacted]" in aws[0].evidence["snippet"]


def test_dependency_check_is_dependency() -> None:
    report = parse("sarif/dependency_check.sarif")
    assert report.category == "dependency"
    assert len(report.findings) == 9  # 13 results; 4 jQuery CVEs seen in two copies
    f = {(x.package, x.rule_id): x for x in report.findings}
    jquery = f[("jquery", "CVE-2015-9251")]
    assert (jquery.ecosystem, jquery.vuln_id) == ("npm", "CVE-2015-9251")
    assert len(jquery.evidence["locations"]) == 2
    assert (jquery.severity, jquery.cvss_score) == ("medium", 6.1)  # cvssv3_baseScore, not level
    assert jquery.fingerprint == fingerprint.dependency("npm", "jquery", ["CVE-2015-9251"])
    retire = f[("handlebars", "Prototype pollution")]
    assert retire.severity == "medium"
    assert retire.package_version == "1.0.0"


def test_black_duck_components() -> None:
    report = parse("sarif/blackduck_nested_fingerprints.sarif")
    assert report.category == "dependency"  # tagged SBOM
    f = {x.rule_id: x for x in report.findings}
    first = f["BDSA-2020-1001 (CVE-2020-11022)"]
    assert (first.vuln_id, first.aliases) == ("CVE-2020-11022", ["BDSA-2020-1001"])
    assert (first.package, first.package_version, first.ecosystem) == (
        "example-frontend-lib",
        "1.0.0",
        "npm",
    )
    assert first.fingerprint == fingerprint.dependency(
        "npm", "example-frontend-lib", ["CVE-2020-11022"]
    )
    assert first.remediation == "Upgrade/patch dependency: example-frontend-lib 1.0.0."
    assert f["BDSA-2023-1005 (CVE-2023-26115)"].severity == "critical"


def test_modelaudit_sarif_matches_its_json() -> None:
    for stem in ("malicious_torch_model", "malicious_os_system"):
        sarif, js = parse(f"modelaudit/{stem}.sarif"), parse(f"modelaudit/{stem}.json")
        assert sarif.category == "model_file"
        assert sorted((f.fingerprint, f.rule_id, f.severity) for f in sarif.findings) == sorted(
            (f.fingerprint, f.rule_id, f.severity) for f in js.findings
        )
    report = parse("modelaudit/malicious_os_system.sarif")
    f = report.findings[0]
    # "malicious_os_system.pkl%20%28pos%2042%29": decoded, suffix stripped, offset kept
    assert (f.file_path, f.byte_offset, f.rule_id) == (
        "malicious_os_system.pkl",
        42,
        "unsafe-import",
    )


def test_no_runs() -> None:
    report = parse("sarif/no_runs.sarif")
    assert (report.tool, report.findings, report.category) == ("sarif", [], "code")


def _log(
    results: list[dict[str, Any]], rules: list[dict[str, Any]] | None = None, name: str = "CodeQL"
) -> bytes:
    return orjson.dumps(
        {
            "version": "2.1.0",
            "runs": [
                {"tool": {"driver": {"name": name, "rules": rules or []}}, "results": results}
            ],
        }
    )


def _res(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ruleId": "py/sql-injection",
        "message": {"text": "SQL built from user input"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "app/db.py"},
                    "region": {"startLine": 10},
                }
            }
        ],
    }
    base.update(kw)
    return base


def _at(line: int, **kw: Any) -> dict[str, Any]:
    result = _res(**kw)
    result["locations"][0]["physicalLocation"]["region"]["startLine"] = line
    return result


def test_security_severity_and_default_level() -> None:
    rules = [
        {
            "id": "py/sql-injection",
            "defaultConfiguration": {"level": "note"},
            "properties": {"security-severity": "8.8"},
        },
        {"id": "py/other", "defaultConfiguration": {"level": "note"}},
    ]
    results = [
        _res(),
        _at(11, ruleId="py/other", ruleIndex=1),
        _at(
            12,
            ruleId="py/other",
            ruleIndex=1,
            level="error",
            properties={"security-severity": "9.5"},
        ),
        _at(11, ruleId="py/other", ruleIndex=1, level="warning"),
    ]
    report = scanners.parse(_log(results, rules))
    sev = [(f.rule_id, f.line, f.severity, f.raw_severity, f.cvss_score) for f in report.findings]
    assert sev == [
        ("py/sql-injection", 10, "high", "8.8", 8.8),  # the rule's security-severity
        ("py/other", 11, "medium", "warning", None),  # default "note", merged with a "warning"
        ("py/other", 12, "critical", "9.5", 9.5),  # the result's own security-severity
    ]
    assert report.findings[1].evidence["occurrences"] == 2


def test_partial_fingerprints_survive_line_shifts() -> None:
    fp = {"primaryLocationLineHash": "abc123:1"}
    a = scanners.parse(_log([_res(partialFingerprints=fp)])).findings[0]
    moved = _res(partialFingerprints=fp)
    moved["locations"][0]["physicalLocation"]["region"]["startLine"] = 42
    b = scanners.parse(_log([moved])).findings[0]
    assert a.fingerprint == b.fingerprint
    assert b.line == 42
    # without fingerprints the line is part of the identity
    c = scanners.parse(_log([_res()])).findings[0]
    d = scanners.parse(_log([moved | {"partialFingerprints": {}}])).findings[0]
    assert c.fingerprint == fingerprint.make("code", "codeql", "py/sql-injection", "app/db.py", 10)
    assert c.fingerprint != d.fingerprint


def test_pass_absent_and_under_review() -> None:
    results = [
        _res(kind="pass"),
        _at(11, baselineState="absent"),
        _at(12, suppressions=[{"kind": "external", "status": "underReview"}]),
    ]
    report = scanners.parse(_log(results))
    # the pass is not a finding; the absent one is kept as resolved; under review stays open
    assert [(f.line, f.state) for f in report.findings] == [(11, "resolved"), (12, "")]
    assert report.metadata["not_findings"] == {"passed_or_not_applicable": 1}


def test_message_template_is_not_python_format() -> None:
    rules = [{"id": "r", "messageStrings": {"default": {"text": "{0} at {1.__class__} {0!r} {7}"}}}]
    result = _res(ruleId="r", message={"id": "default", "arguments": ["x", "y"]})
    f = scanners.parse(_log([result], rules)).findings[0]
    assert f.description == "x at {1.__class__} {0!r} {7}"


def test_warden_sarif_round_trip() -> None:
    original = parse("trivy/misconfigurations_and_secrets.json")
    again = scanners.parse(orjson.dumps(to_sarif([original])))
    assert again.scan_type == "sarif"
    assert sorted((f.fingerprint, f.severity, f.category) for f in again.findings) == sorted(
        (f.fingerprint, f.severity, f.category) for f in original.findings
    )


@pytest.mark.parametrize(
    ("log", "message"),
    [
        (
            {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": ["x"]}]},
            "sarif: runs[0].results[0]: expected an object, got a string",
        ),
        (
            {"version": "2.1.0", "runs": {"tool": {}}},
            "sarif: runs: expected an array, got an object",
        ),
    ],
)
def test_errors_name_the_path(log: object, message: str) -> None:
    with pytest.raises(ReportError) as err:
        scanners.parse(orjson.dumps(log), scan_type="sarif")
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("run", "notice"),
    [
        (
            {"results": [_res()]},
            "sarif: runs[0].tool: missing; the tool that wrote this run is unknown",
        ),
        (
            {
                "tool": {"driver": {"name": "x"}},
                "results": [_res(properties={"security-severity": "high"}, level="error")],
            },
            "sarif: runs[0].results[0].properties.security-severity: not a score 0-10: "
            "'high'; left out",
        ),
        (
            {"tool": {"driver": {"name": "x", "rules": [1]}}, "results": [_res()]},
            "sarif: runs[0].tool.driver.rules[0]: expected an object, got a number; left out",
        ),
    ],
)
def test_an_odd_field_costs_that_field_not_the_report(run: object, notice: str) -> None:
    report = scanners.parse(orjson.dumps({"version": "2.1.0", "runs": [run]}), scan_type="sarif")
    [finding] = report.findings
    assert (finding.rule_id, finding.file_path, finding.line) == (
        "py/sql-injection",
        "app/db.py",
        10,
    )
    assert notice in report.warnings
