"""semgrep JSON."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import scanners
from scanners import fingerprint
from scanners.findings import ReportError

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "semgrep"


def test_many_findings() -> None:
    report = scanners.parse((FIX / "many_findings.json").read_bytes())
    assert (report.scan_type, report.category) == ("semgrep", "code")
    assert [(f.file_path.rsplit("/", 1)[-1], f.line, f.severity) for f in report.findings] == [
        ("BenchmarkTest02194.java", 64, "medium"),  # WARNING
        ("BenchmarkTest02195.java", 64, "medium"),
        ("BenchmarkTest01150.java", 66, "low"),  # INFO
    ]
    f = report.findings[0]
    assert f.rule_id == "java.lang.security.audit.cbc-padding-oracle.cbc-padding-oracle"
    assert f.evidence["cwe"] == "CWE-696: Incorrect Behavior Order"
    assert "https://find-sec-bugs.github.io/bugs.htm#PADDING_ORACLE" in f.references
    assert f.remediation == 'javax crypto Cipher.getInstance("AES/GCM/NoPadding");'
    assert f.fingerprint == fingerprint.make("code", "semgrep", f.rule_id, f.file_path, 64)


def test_semgrep_fingerprints_and_version() -> None:
    report = scanners.parse((FIX / "high-medium-low-severities.json").read_bytes())
    assert report.tool_version == "1.84.1"
    assert [f.line for f in report.findings] == [48, 49, 50]
    assert {f.severity for f in report.findings} == {"low"}
    assert len({f.fingerprint for f in report.findings}) == 3  # semgrep's own "..._0/_1/_2"


def test_ignored_and_errors() -> None:
    data = {
        "results": [
            {
                "check_id": "r",
                "path": "a.py",
                "start": {"line": 1},
                "extra": {"severity": "ERROR", "message": "m", "is_ignored": True},
            },
            {
                "check_id": "r",
                "path": "a.py",
                "start": {"line": 2},
                "extra": {"severity": "ERROR", "message": "m"},
            },
        ],
        "errors": [{"type": "Timeout", "level": "warn", "message": "timed out", "path": "big.py"}],
        "paths": {"scanned": ["a.py"]},
    }
    report = scanners.parse(orjson.dumps(data))
    assert [(f.line, f.severity) for f in report.findings] == [(2, "high")]
    assert report.metadata["ignored"] == 1
    assert report.warnings == ["semgrep: 1 error(s) during the scan (see metadata.errors)"]


def test_error_path() -> None:
    data = {"results": [{"check_id": "r", "extra": {}}], "errors": []}
    with pytest.raises(ReportError) as err:
        scanners.parse(orjson.dumps(data), scan_type="semgrep")
    assert str(err.value) == 'semgrep: results[0]: missing "path"'
