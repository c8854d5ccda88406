"""bandit JSON."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import scanners
from scanners.findings import ReportError

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "bandit"


def parse(name: str) -> scanners.Report:
    return scanners.parse((FIX / name).read_bytes())


def test_insecure_app() -> None:
    report = parse("insecure_app.json")
    assert (report.scan_type, report.category) == ("bandit", "code")
    f = {x.rule_id: x for x in report.findings}
    assert len(f) == 8
    # filename "./app.py": the leading "./" is dropped
    assert (f["B602"].file_path, f["B602"].line, f["B602"].severity) == ("app.py", 19, "high")
    assert f["B403"].evidence["cwes"] == ["CWE-502"]
    assert f["B403"].severity == "low"
    assert f["B105"].evidence["confidence"] == "MEDIUM"
    assert f["B307"].severity == "medium"


def test_defectdojo_samples() -> None:
    big = parse("dd.json")
    assert len(big.findings) == 47
    assert sum(f.severity == "medium" for f in big.findings) == 36
    assert sum(f.severity == "low" for f in big.findings) == 11
    assert big.metadata["loc"] == 12669
    assert parse("no_vuln.json").findings == []
    one = parse("one_vuln.json").findings
    assert [(f.rule_id, f.file_path, f.line) for f in one] == [("B101", "one/one.py", 2)]


def test_scan_errors_are_warnings() -> None:
    data = {
        "errors": [{"filename": "bad.py", "reason": "syntax error"}],
        "generated_at": "x",
        "metrics": {"_totals": {}},
        "results": [],
    }
    report = scanners.parse(orjson.dumps(data))
    assert report.scan_type == "bandit"
    assert report.metadata["errors"] == [{"filename": "bad.py", "reason": "syntax error"}]
    assert report.warnings


def test_error_path() -> None:
    data = {"metrics": {}, "results": [{"test_id": "B101", "issue_severity": "LOW"}]}
    with pytest.raises(ReportError) as err:
        scanners.parse(orjson.dumps(data), scan_type="bandit")
    assert str(err.value) == 'bandit: results[0]: missing "filename"'
