"""``python -m scanners parse|formats`` as a user runs it (subprocess)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import scanners
from scanners.findings import NormalizedFinding
from scanners.registry import available

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"
FIELDS = {f.name for f in dataclasses.fields(NormalizedFinding)}


def run(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "scanners", *args],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_parse_prints_normalized_json() -> None:
    proc = run("parse", str(FIX / "trivy/misconfigurations_and_secrets.json"))
    assert proc.returncode == 0, proc.stderr
    out = orjson.loads(proc.stdout)
    assert out["tool"] == "trivy"
    assert out["tool_version"] == ""
    assert out["scan_type"] == "trivy"
    assert out["category"] == "code"
    assert len(out["findings"]) == 5
    for finding in out["findings"]:
        assert set(finding) == FIELDS
    assert proc.stderr == b""


@pytest.mark.parametrize("flag", ["--scan-type", "--type"])
def test_parse_with_explicit_type(flag: str) -> None:
    proc = run("parse", str(FIX / "pip-audit/offline_all_skipped.json"), flag, "pip-audit")
    assert proc.returncode == 0
    out = orjson.loads(proc.stdout)
    assert out["findings"] == []
    assert [d["name"] for d in out["metadata"]["not_audited"]] == ["requests", "jinja2"]
    assert out["warnings"]


@pytest.mark.parametrize(
    "name",
    [
        "grype/check_all_fields.json",
        "sarif/spotbugs.sarif",
        "cyclonedx/log4j.json",
        "osv-scanner/test-vuln-results-a.json",
    ],
)
def test_sarif_output_is_sarif_and_reparses(name: str, tmp_path: Path) -> None:
    direct = scanners.parse((FIX / name).read_bytes())
    proc = run("parse", str(FIX / name), "--format", "sarif")
    assert proc.returncode == 0, proc.stderr
    log = orjson.loads(proc.stdout)
    assert log["version"] == "2.1.0"
    assert "sarif" in log["$schema"]
    (run_,) = log["runs"]
    assert run_["tool"]["driver"]["name"] == direct.tool
    rule_ids = {r["id"] for r in run_["tool"]["driver"]["rules"]}
    levels = {"error", "warning", "note", "none"}
    for result in run_["results"]:
        assert result["ruleId"] in rule_ids
        assert result["level"] in levels
        assert result["message"]["text"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    out = tmp_path / "out.sarif"
    out.write_bytes(proc.stdout)
    again = scanners.parse(out.read_bytes())
    assert again.scan_type == "sarif"
    assert len(again.findings) == len(direct.findings)
    assert {f.fingerprint for f in again.findings} == {f.fingerprint for f in direct.findings}


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (
            b'{"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": [7]}]}',
            b"trivy: Results[0].Vulnerabilities[0]",
        ),
        (b'{"SchemaVersion": 2, "Results": [', b"unknown format"),
        (b"", b"empty"),
    ],
)
def test_malformed_report_exits_2_with_one_line(
    content: bytes, needle: bytes, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    proc = run("parse", str(bad))
    assert proc.returncode == 2
    assert proc.stdout == b""
    assert proc.stderr.count(b"\n") == 1
    assert proc.stderr.endswith(b"\n")
    assert needle in proc.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    proc = run("parse", str(tmp_path / "nope.json"))
    assert proc.returncode == 2
    assert proc.stderr.count(b"\n") == 1
    assert b"cannot read" in proc.stderr


def test_unknown_type_exits_2() -> None:
    proc = run("parse", str(FIX / "trivy/kubernetes.json"), "--type", "nessus")
    assert proc.returncode == 2
    assert proc.stderr.count(b"\n") == 1


def test_formats_lists_scan_types() -> None:
    proc = run("formats")
    assert proc.returncode == 0
    lines = proc.stdout.decode().splitlines()
    listed = {line.split()[0] for line in lines}
    assert {
        "sarif",
        "semgrep",
        "bandit",
        "cyclonedx",
        "pip-audit",
        "osv-scanner",
        "trivy",
        "grype",
    } <= listed
    assert listed == set(available())
    trivy = next(line for line in lines if line.startswith("trivy "))
    assert "dependency" in trivy
    assert "Trivy" in trivy
    # the formats users asked for, and each JSON Lines family of garak and Giskard
    assert {
        "snyk",
        "safety",
        "dependabot",
        "gitlab-dependency-scanning",
        "syft",
        "garak-hitlog",
        "garak-avid",
        "giskard-avid",
    } <= listed


def test_an_unknown_format_names_the_scan_type_flag(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    report.write_bytes(b'{"hello": "world"}')
    proc = run("parse", str(report))
    assert proc.returncode == 2
    assert proc.stderr.count(b"\n") == 1
    assert b"--scan-type" in proc.stderr
