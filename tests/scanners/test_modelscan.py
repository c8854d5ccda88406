"""modelscan JSON (-o) parser, against modelscan 0.8.8 outputs on crafted files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanners import ReportError, parse
from scanners.document import Document
from scanners.findings import Report
from scanners.fingerprint import make
from scanners.parsers import modelscan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fixture(name))
    return data


def run(data: dict[str, Any]) -> Report:
    return parse(json.dumps(data).encode(), scan_type="modelscan")


def test_it_reports_the_os_system_pickle_as_a_critical_unsafe_import() -> None:
    report = parse(fixture("modelscan/malicious_os_system.json"))

    assert report.scan_type == "modelscan"
    assert report.tool_version == "0.8.8"
    assert report.category == "model_file"
    assert len(report.findings) == 1
    finding = report.findings[0]
    assert finding.rule_id == "unsafe-import"
    assert finding.severity == "critical"
    assert finding.raw_severity == "CRITICAL"
    assert finding.file_path == "malicious_os_system.pkl"
    assert finding.archive_member == ""
    assert finding.evidence["import"] == "posix.system"
    assert finding.evidence["tool_rule"] == "PickleUnsafeOpScan"
    assert finding.fingerprint == make(
        "model_file", "unsafe-import", "malicious_os_system.pkl", "posix.system"
    )
    assert finding.atlas == ["AML.T0011.000", "AML.T0010.003"]
    assert finding.owasp_ml == ["ML06:2023"]
    assert "safetensors" in finding.remediation
    assert report.warnings == []
    assert report.metadata["total_scanned"] == 1


def test_it_splits_the_archive_member_of_a_torch_zip() -> None:
    report = parse(fixture("modelscan/malicious_torch_model.json"))

    [finding] = report.findings
    assert finding.file_path == "malicious_torch_model.pt"
    assert finding.archive_member == "archive/data.pkl"
    assert (
        finding.title == "Unsafe import posix.system in malicious_torch_model.pt:archive/data.pkl"
    )
    assert finding.fingerprint == make(
        "model_file", "unsafe-import", "malicious_torch_model.pt:archive/data.pkl", "posix.system"
    )


def test_a_benign_model_that_was_scanned_is_clean() -> None:
    report = parse(fixture("modelscan/benign_torch_model.json"))

    assert report.findings == []
    assert report.warnings == []
    assert report.metadata["scanned_files"] == ["benign_torch_model.pt:archive/data.pkl"]


def test_nothing_scanned_is_a_not_scanned_finding_and_a_warning_not_clean() -> None:
    data = load("modelscan/benign_torch_model.json")
    data["summary"]["input_path"] = "weights.bin"
    data["summary"]["scanned"] = {"total_scanned": 0}

    report = run(data)

    [finding] = report.findings
    assert finding.rule_id == "not-scanned"
    assert finding.severity == "high"
    assert finding.file_path == "weights.bin"
    assert finding.title == "weights.bin was not scanned"
    assert any("not scanned" in w for w in report.warnings)


def test_errors_and_unreadable_skips_name_the_files_that_were_not_scanned() -> None:
    data = load("modelscan/benign_torch_model.json")
    data["errors"] = [
        {
            "category": "MODEL_SCAN",
            "description": "Parsing error: unexpected EOF",
            "source": "broken.pkl",
        }
    ]
    data["summary"]["skipped"] = {
        "total_skipped": 2,
        "skipped_files": [
            {"category": "BAD_ZIP", "description": "Bad CRC-32", "source": "model.pt"},
            {"category": "SCAN_NOT_SUPPORTED", "description": "not a model", "source": "README"},
        ],
    }

    report = run(data)

    assert [(f.rule_id, f.file_path) for f in report.findings] == [
        ("not-scanned", "broken.pkl"),
        ("not-scanned", "model.pt"),
    ]
    assert report.findings[0].evidence["reason"] == "Parsing error: unexpected EOF"
    assert report.metadata["skipped_unsupported"] == 1
    assert len(report.warnings) == 2


def test_a_keras_lambda_layer_is_an_unsafe_operator_not_an_import() -> None:
    data = load("modelscan/malicious_os_system.json")
    data["issues"] = [
        {
            "description": "Use of unsafe operator 'Lambda' from module 'Keras'",
            "operator": "Lambda",
            "module": "Keras",
            "source": "model.h5",
            "scanner": "modelscan.scanners.H5LambdaDetectScan",
            "severity": "MEDIUM",
        }
    ]

    [finding] = run(data).findings

    assert finding.rule_id == "unsafe-operator"
    assert finding.severity == "medium"
    assert finding.evidence["import"] == "Keras.Lambda"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("summary"), 'modelscan: missing "summary"'),
        (lambda d: d.update(issues={}), "modelscan: issues: expected an array, got an object"),
        (lambda d: d["issues"].append("x"), "modelscan: issues[1]: expected an object"),
    ],
)
def test_malformed_reports_name_the_place(mutate: Any, message: str) -> None:
    data = load("modelscan/malicious_os_system.json")
    mutate(data)

    with pytest.raises(ReportError) as excinfo:
        run(data)

    assert str(excinfo.value).startswith(message)


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(ReportError, match=r"^modelscan: not valid JSON at line 2 column \d+ \("):
        parse(b'{"summary": {},\n "issues": [,]}', scan_type="modelscan")


def test_the_sniffer_takes_modelscan_json_only() -> None:
    assert modelscan.sniff(Document(fixture("modelscan/benign_torch_model.json")))
    assert not modelscan.sniff(Document(fixture("modelaudit/malicious_os_system.json")))
    assert not modelscan.sniff(Document(fixture("picklescan/malicious_os_system.txt")))
