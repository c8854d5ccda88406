"""picklescan text output parser, against picklescan 1.0.5 stdout on crafted files."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanners import ReportError, parse
from scanners.document import Document
from scanners.findings import Report
from scanners.fingerprint import make
from scanners.parsers import picklescan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

SUMMARY = """----------- SCAN SUMMARY -----------
Scanned files: {scanned}
Infected files: {infected}
Dangerous globals: {infected}
"""


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def run(text: str) -> Report:
    return parse(text.encode(), scan_type="picklescan")


def test_it_reads_the_dangerous_import_line_and_the_summary() -> None:
    report = parse(fixture("picklescan/malicious_os_system.txt"))

    assert report.scan_type == "picklescan"
    [finding] = report.findings
    assert finding.rule_id == "unsafe-import"
    assert finding.severity == "critical"
    assert finding.raw_severity == "dangerous"
    assert finding.evidence["import"] == "posix.system"
    assert finding.file_path == "malicious_os_system.pkl"
    assert finding.fingerprint == make(
        "model_file", "unsafe-import", "malicious_os_system.pkl", "posix.system"
    )
    assert report.metadata["scanned_files"] == 1
    assert report.metadata["infected_files"] == 1
    assert report.metadata["dangerous_globals"] == 1
    assert report.metadata["exit_code"] == 1
    assert report.metadata["globals"] == {"dangerous": ["posix.system"]}


def test_it_reads_the_member_of_a_torch_zip_and_the_globals_list() -> None:
    report = parse(fixture("picklescan/malicious_torch_model.txt"))

    [finding] = report.findings
    assert (finding.file_path, finding.archive_member) == (
        "malicious_torch_model.pt",
        "archive/data.pkl",
    )
    assert report.metadata["globals"]["innocuous"] == [
        "torch._utils._rebuild_tensor_v2",
        "torch.FloatStorage",
        "collections.OrderedDict",
    ]


def test_a_benign_model_is_clean() -> None:
    report = parse(fixture("picklescan/benign_torch_model.txt"))

    assert report.findings == []
    assert report.warnings == []
    assert report.metadata["exit_code"] == 0


def test_absolute_and_windows_paths_give_the_same_fingerprint_as_relative_ones() -> None:
    relative = run(
        "malicious_torch_model.pt:archive/data.pkl: dangerous import 'posix system' FOUND\n"
    )
    absolute = run(
        "/builds/job-7f3a/malicious_torch_model.pt:archive/data.pkl: "
        "dangerous import 'posix system' FOUND\n"
    )
    windows = run(
        "C:\\ci\\models\\malicious_torch_model.pt:archive/data.pkl: "
        "dangerous import 'posix system' FOUND\n"
    )

    assert relative.findings[0].fingerprint == absolute.findings[0].fingerprint
    assert relative.findings[0].fingerprint == windows.findings[0].fingerprint
    assert windows.findings[0].file_path == "C:/ci/models/malicious_torch_model.pt"
    assert any("SCAN SUMMARY" in w for w in relative.warnings)


def test_several_files_give_one_finding_per_file_and_import() -> None:
    report = run(
        "a.pkl: dangerous import 'builtins eval' FOUND\n"
        "a.pkl: dangerous import 'posix system' FOUND\n"
        "b.pkl: dangerous import 'posix system' FOUND\n"
        "b.pkl: dangerous import 'posix system' FOUND\n" + SUMMARY.format(scanned=2, infected=2)
    )

    assert [(f.file_path, f.evidence["import"]) for f in report.findings] == [
        ("a.pkl", "builtins.eval"),
        ("a.pkl", "posix.system"),
        ("b.pkl", "posix.system"),
    ]


def test_a_pickle_it_could_not_parse_is_not_scanned() -> None:
    report = run(
        "ERROR: parsing pickle in weights.pkl: at position 12, opcode b'\\xff' unknown\n"
        + SUMMARY.format(scanned=1, infected=0)
    )

    [finding] = report.findings
    assert finding.rule_id == "not-scanned"
    assert finding.severity == "high"
    assert finding.file_path == "weights.pkl"
    assert "opcode" in finding.evidence["reason"]
    assert report.warnings == ["picklescan could not parse weights.pkl"]


def test_zero_scanned_files_is_not_clean() -> None:
    report = run(SUMMARY.format(scanned=0, infected=0))

    [finding] = report.findings
    assert finding.rule_id == "not-scanned"
    assert any("not scanned" in w for w in report.warnings)


def test_text_without_findings_or_summary_is_rejected() -> None:
    with pytest.raises(ReportError, match=r'^picklescan: no "dangerous import" lines'):
        run("hello\nworld\n")


def test_the_sniffer_is_specific() -> None:
    assert picklescan.sniff(Document(fixture("picklescan/benign_torch_model.txt")))
    assert picklescan.sniff(Document(b"m.pkl: dangerous import 'os system' FOUND\n"))
    assert not picklescan.sniff(Document(fixture("bandit/insecure_app.py.txt")))
    assert not picklescan.sniff(Document(fixture("ai-firewall/firewall_metrics.prom")))
    assert not picklescan.sniff(Document(b"Scanned files: 3\n"))
