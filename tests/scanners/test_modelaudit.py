"""ModelAudit JSON parser, against ModelAudit 0.2.54 outputs on crafted files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanners import ReportError, parse
from scanners.document import Document
from scanners.fingerprint import make
from scanners.parsers import modelaudit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_the_os_system_pickle_is_one_critical_unsafe_import() -> None:
    report = parse(fixture("modelaudit/malicious_os_system.json"))

    assert report.scan_type == "modelaudit"
    assert report.tool_version == ""  # the JSON has no version field
    [finding] = report.findings
    assert finding.rule_id == "unsafe-import"
    assert finding.severity == "critical"
    assert finding.raw_severity == "critical"
    assert finding.evidence["tool_rule"] == "S201"
    assert finding.evidence["pickle_rule_code"] == "DANGEROUS_CALL"
    # "(pos 42)" is dropped for the fingerprint and the path, kept in evidence
    assert finding.evidence["location"] == "malicious_os_system.pkl (pos 42)"
    assert finding.file_path == "malicious_os_system.pkl"
    assert finding.fingerprint == make(
        "model_file", "unsafe-import", "malicious_os_system.pkl", "posix.system"
    )
    assert [p.title for p in report.passed] == [
        "Path Exists: passed",
        "Path Readable: passed",
        "File Type Validation: passed",
        "File Size Limit: passed",
        "File Integrity Hash: passed",
    ]
    assert all(p.passed and p.severity == "info" for p in report.passed)
    assert report.metadata["files_scanned"] == 1
    assert report.metadata["failed_checks"] == 1


def test_the_torch_model_merges_two_detections_of_one_import() -> None:
    report = parse(fixture("modelaudit/malicious_torch_model.json"))

    by_rule = {f.rule_id: f for f in report.findings}
    assert sorted(by_rule) == ["modelaudit/S201", "suspicious-import", "unsafe-import"]

    unsafe = by_rule["unsafe-import"]
    assert unsafe.severity == "critical"
    assert unsafe.archive_member == "archive/data.pkl"
    assert unsafe.fingerprint == make(
        "model_file", "unsafe-import", "malicious_torch_model.pt:archive/data.pkl", "posix.system"
    )
    # the REDUCE-opcode check and the raw-content check found the same posix.system
    [also] = unsafe.evidence["also_reported_as"]
    assert also["title"] == unsafe.title
    assert also["location"] == "malicious_torch_model.pt:archive/data.pkl"

    suspicious = by_rule["suspicious-import"]
    assert suspicious.severity == "medium"
    assert suspicious.evidence["import"] == "torch._utils._rebuild_tensor_v2"

    cve = by_rule["modelaudit/S201"]
    assert cve.severity == "critical"
    assert cve.title.startswith("CRITICAL: Malicious code detected")
    assert cve.references == ["https://www.cve.org/CVERecord?id=CVE-2025-32434"]

    assert len(report.passed) == 20
    assert report.metadata["skipped_checks"] == 5
    assert report.metadata["success"] is False


def test_the_benign_model_keeps_the_warning_and_counts_the_notice() -> None:
    report = parse(fixture("modelaudit/benign_torch_model.json"))

    assert [(f.rule_id, f.severity) for f in report.findings] == [("suspicious-import", "medium")]
    assert report.metadata["notices"] == 1  # the info-level "pickle format" notice


def test_nothing_scanned_is_not_clean() -> None:
    data: dict[str, Any] = json.loads(fixture("modelaudit/benign_torch_model.json"))
    data.update(files_scanned=0, issues=[], has_errors=True)

    report = parse(json.dumps(data).encode(), scan_type="modelaudit")

    [finding] = report.findings
    assert finding.rule_id == "not-scanned"
    assert finding.file_path == "benign_torch_model.pt"
    assert len(report.warnings) == 2


def test_a_malformed_issue_names_its_index() -> None:
    data: dict[str, Any] = json.loads(fixture("modelaudit/malicious_os_system.json"))
    data["issues"].append("posix.system")

    with pytest.raises(ReportError, match=r"^modelaudit: issues\[1\]: expected an object"):
        parse(json.dumps(data).encode(), scan_type="modelaudit")


def test_the_sniffer_leaves_modelaudit_sarif_to_the_sarif_parser() -> None:
    assert modelaudit.sniff(Document(fixture("modelaudit/benign_torch_model.json")))
    assert not modelaudit.sniff(Document(fixture("modelaudit/malicious_os_system.sarif")))
    assert not modelaudit.sniff(Document(fixture("modelscan/malicious_os_system.json")))
