"""fickling --json-output parser: a stream of concatenated JSON objects, one per pickle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanners import ReportError, parse
from scanners.document import Document
from scanners.fingerprint import make
from scanners.parsers import fickling

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLE = (FIXTURES / "fickling/malicious_os_system.json").read_bytes()


def result(severity: str, *messages: str, details: dict[str, str] | None = None) -> bytes:
    """One object as fickling's json.dump(indent=4) appends it (no trailing newline)."""
    body = {
        "severity": severity,
        "analysis": "\n".join(messages),
        "detailed_results": {"AnalysisResult": details or {}},
    }
    return json.dumps(body, indent=4).encode()


def test_the_sample_gives_the_unsafe_import_and_the_unused_variable() -> None:
    report = parse(SAMPLE)

    assert report.scan_type == "fickling"
    assert [(f.rule_id, f.severity, f.raw_severity) for f in report.findings] == [
        ("unsafe-import", "critical", "LIKELY_OVERTLY_MALICIOUS"),
        ("fickling/UnusedVariables", "medium", "SUSPICIOUS"),
    ]
    unsafe = report.findings[0]
    assert unsafe.evidence["import"] == "posix.system"
    assert unsafe.evidence["code"] == "from posix import system"
    assert unsafe.file_path == ""  # fickling does not say which file it read
    assert report.findings[1].evidence["variable"] == "_var0"
    assert report.metadata == {"pickles": 1, "severities": ["LIKELY_OVERTLY_MALICIOUS"]}


def test_the_caller_can_name_the_artifact_to_match_other_tools() -> None:
    report = fickling.parse(Document(SAMPLE), artifact="malicious_os_system.pkl")

    assert report.findings[0].fingerprint == make(
        "model_file", "unsafe-import", "malicious_os_system.pkl", "posix.system"
    )


def test_appended_objects_without_separator_are_all_read() -> None:
    stream = SAMPLE + SAMPLE + result("LIKELY_SAFE", "") + b"\n" + SAMPLE

    report = parse(stream)

    assert report.metadata["severities"] == [
        "LIKELY_OVERTLY_MALICIOUS",
        "LIKELY_OVERTLY_MALICIOUS",
        "LIKELY_SAFE",
        "LIKELY_OVERTLY_MALICIOUS",
    ]
    assert len(report.findings) == 2  # the same two detections, merged
    assert len(report.findings[0].evidence["also_reported_as"]) == 2


def test_braces_and_escaped_quotes_inside_strings_do_not_split_objects() -> None:
    tricky = result(
        "LIKELY_UNSAFE",
        'Call to `exec("}{\\"")` can execute arbitrary code and is inherently unsafe',
    )

    values = list(fickling.json_values(tricky + tricky))

    assert len(values) == 2
    assert values[1][0] == len(tricky)
    report = parse(tricky)
    [finding] = report.findings
    assert finding.rule_id == "dangerous-call"
    assert finding.severity == "high"
    assert finding.evidence["callable"] == "exec"


def test_each_message_kind_maps_to_its_rule() -> None:
    stream = result(
        "OVERTLY_MALICIOUS",
        "`from torch._utils import _rebuild_tensor_v2` imports a Python module that is not a "
        "part of the standard library; this can execute arbitrary code and is inherently unsafe",
        "Call to `eval(...)` is almost certainly evidence of a malicious pickle file",
        "The 3rd opcode is a duplicate PROTO, which is unusual and may be indicative of a "
        "tampered pickle",
        "Something new that this parser has never seen",
        details={"UnsafeImports": "from subprocess import Popen, call"},
    )

    found = {(f.rule_id, f.evidence.get("import", "")): f.severity for f in parse(stream).findings}

    assert found == {
        ("suspicious-import", "torch._utils._rebuild_tensor_v2"): "high",
        ("dangerous-call", ""): "critical",
        ("fickling/tampered-proto", ""): "high",
        ("fickling/analysis", ""): "critical",
        ("unsafe-import", "subprocess.Popen"): "critical",
        ("unsafe-import", "subprocess.call"): "critical",
    }


def test_a_safe_pickle_gives_no_finding() -> None:
    safe = result(
        "LIKELY_SAFE",
        "Warning: Fickling failed to detect any overtly unsafe code,but the pickle file may "
        "still be unsafe.",
    )

    report = parse(safe, scan_type="fickling")

    assert report.findings == []
    assert report.metadata["severities"] == ["LIKELY_SAFE"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (SAMPLE + SAMPLE[:40], r"^fickling: object 2 \(byte \d+\): unterminated JSON value"),
        (SAMPLE + b" garbage", r"^fickling: byte \d+: expected '\{' to start object 2"),
        (b'{"severity": "MEH", "analysis": ""}', r"^fickling: object 1 \(byte 0\)\.severity"),
        (b"{}", r'^fickling: object 1 \(byte 0\): missing "severity"'),
        (b"   \n", r"^fickling: no JSON object"),
        (b'{"severity": "LIKELY_SAFE", "analysis": ,}', r"^fickling: object 1 \(byte 0\): invalid"),
    ],
)
def test_malformed_streams_name_the_object_and_byte(data: bytes, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse(data, scan_type="fickling")


def test_the_sniffer_recognises_the_stream_but_not_other_json() -> None:
    assert fickling.sniff(Document(SAMPLE + SAMPLE))
    assert not fickling.sniff(
        Document((FIXTURES / "modelscan/benign_torch_model.json").read_bytes())
    )
    other: dict[str, Any] = {"severity": "high", "analysis": "x"}
    assert not fickling.sniff(Document(json.dumps(other).encode()))
