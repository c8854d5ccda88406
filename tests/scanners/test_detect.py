"""Every fixture is detected as the right scan type from its content alone (no file name)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import scanners
import scanners.registry
from scanners import detect
from scanners.document import Document
from scanners.findings import ReportError
from scanners.registry import PARSERS

FIX = Path(__file__).resolve().parents[1] / "fixtures"

#: fixture folder -> scan type of its reports
BY_FOLDER: dict[str, str] = {
    "sarif": "sarif",
    "ruff": "sarif",
    "semgrep": "semgrep",
    "bandit": "bandit",
    "cyclonedx": "cyclonedx",
    "pip-audit": "pip-audit",
    "osv-scanner": "osv-scanner",
    "trivy": "trivy",
    "grype": "grype",
    "modelscan": "modelscan",
    "modelaudit": "modelaudit",
    "fickling": "fickling",
    "picklescan": "picklescan",
    "garak": "garak",
    "giskard": "giskard",
    "evidently": "evidently",
    "promptfoo": "promptfoo",
    "deepchecks": "deepchecks",
    "ai-firewall": "prometheus-firewall",
    "warden-modelscan": "warden-modelscan",
    "warden-assessment": "warden-assessment",
    "warden-runtime": "warden-runtime",
    "snyk": "snyk",
    "safety": "safety",
    "dependabot": "dependabot",
    "gitlab-dependency-scanning": "gitlab-dependency-scanning",
    "syft": "syft",
}
#: files whose scan type is not their folder's: SARIF written by a tool with its own JSON format,
#: pip-audit's CycloneDX output, garak's hitlogs (each garak file family has its scan type)
BY_FILE: dict[str, str] = {
    "garak/many_hits.hitlog.jsonl": "garak-hitlog",
    "garak/no_hits.hitlog.jsonl": "garak-hitlog",
    "garak/one_hit.hitlog.jsonl": "garak-hitlog",
    "garak/varied_scores.hitlog.jsonl": "garak-hitlog",
    "garak/two_probes.avid.jsonl": "garak-avid",
    "giskard/two_issues.avid.jsonl": "giskard-avid",
    "trivy/trivy_sarif.sarif": "sarif",
    "grype/grype_sarif.sarif": "sarif",
    "bandit/insecure_app.sarif": "sarif",
    "modelaudit/malicious_os_system.sarif": "sarif",
    "modelaudit/malicious_torch_model.sarif": "sarif",
    "pip-audit/cyclonedx.json": "cyclonedx",
}
#: inputs kept next to the reports that are not reports (the source file bandit scanned)
NOT_REPORTS = {"bandit/insecure_app.py.txt"}

FILES = sorted(p for p in FIX.glob("*/*") if p.is_file())


def _module_missing(scan_type: str) -> bool:
    return importlib.util.find_spec(f"scanners.parsers.{PARSERS[scan_type]}") is None


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_is_detected_by_content(path: Path) -> None:
    rel = f"{path.parent.name}/{path.name}"
    doc = Document(path.read_bytes(), filename=None)
    if rel in NOT_REPORTS:
        with pytest.raises(ReportError, match="unknown format"):
            detect(doc)
        return
    expected = BY_FILE.get(rel) or BY_FOLDER.get(path.parent.name)
    assert expected is not None, f"no expected scan type for {rel}: add its folder to BY_FOLDER"
    assert expected in PARSERS, f"{expected} is not in the registry"
    if _module_missing(expected):
        pytest.skip(f"parser module scanners.parsers.{PARSERS[expected]} does not exist yet")
    assert detect(doc) == expected


def test_detection_ignores_the_file_name() -> None:
    data = (FIX / "trivy/kubernetes.json").read_bytes()
    assert detect(Document(data, filename="report.sarif")) == "trivy"
    assert detect(Document(data, filename="bom.cdx.json")) == "trivy"


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_direct_recognition_agrees_with_detection(path: Path) -> None:
    """A parser that recognizes reports from their bytes (before the generic detection decodes
    them) claims only what detection would give it, and parses it exactly as if chosen."""
    data = path.read_bytes()
    rel = f"{path.parent.name}/{path.name}"
    expected = None if rel in NOT_REPORTS else BY_FILE.get(rel) or BY_FOLDER[path.parent.name]
    for scan_type, module in scanners.registry.available().items():
        direct = getattr(module, "parse_direct", None)
        if direct is None:
            continue
        report = direct(data)
        if expected != scan_type:
            assert report is None, f"{scan_type} claimed {rel}, a {expected} report"
        elif report is not None:
            chosen = scanners.parse(data, scan_type=scan_type)
            assert report.to_dict() == chosen.to_dict()
            assert scanners.parse(data).to_dict() == chosen.to_dict()


def test_trivy_reports_are_recognized_directly() -> None:
    from scanners.parsers import trivy

    claimed = {p.name for p in (FIX / "trivy").iterdir() if trivy.parse_direct(p.read_bytes())}
    # every schema v2 / k8s / object-form report; the legacy bare list goes through the
    # generic detection, and Trivy's SARIF is SARIF
    expected = {p.name for p in (FIX / "trivy").iterdir() if BY_FILE.get(f"trivy/{p.name}") is None}
    assert claimed == expected - {"legacy_trivy_mix.json"}
