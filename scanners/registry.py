"""The format registry: a plain dict from scan type to parser module, no side effects.

Each parser module under :mod:`scanners.parsers` defines:

- ``SCAN_TYPE: str`` and ``CATEGORY: str``
- ``DESCRIPTION: str`` (one line, shown by ``python -m scanners formats``)
- ``def sniff(doc: Document) -> bool`` - cheap, content-based (never the file name)
- ``def parse(doc: Document) -> Report`` - raises :class:`ReportError` on bad input
- optionally ``def parse_direct(data: bytes) -> Report | None`` - recognize and parse a report
  straight from its bytes, before the generic detection decodes the whole document (for
  formats whose reports get very large). It returns ``None`` whenever it is not sure, and
  must never claim a document that an earlier format's ``sniff`` accepts.

Order matters for detection: specific formats before generic ones (SARIF producers such as
ModelAudit's SARIF are still SARIF; CycloneDX before generic JSON shapes).
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: scan type -> module name under scanners.parsers, in detection order.
PARSERS: dict[str, str] = {
    "sarif": "sarif",
    "semgrep": "semgrep",
    "bandit": "bandit",
    "cyclonedx": "cyclonedx",
    "pip-audit": "pip_audit",
    "osv-scanner": "osv_scanner",
    "trivy": "trivy",
    "grype": "grype",
    "syft": "syft",
    "snyk": "snyk",
    "safety": "safety",
    "dependabot": "dependabot",
    "gitlab-dependency-scanning": "gitlab_dependency_scanning",
    "warden-modelscan": "warden_modelscan",
    "modelscan": "modelscan",
    "modelaudit": "modelaudit",
    "fickling": "fickling",
    "picklescan": "picklescan",
    "garak-avid": "garak_avid",
    "garak-hitlog": "garak_hitlog",
    "garak": "garak",
    "giskard-avid": "giskard_avid",
    "giskard": "giskard",
    "evidently": "evidently",
    "promptfoo": "promptfoo",
    "deepchecks": "deepchecks",
    "warden-assessment": "warden_assessment",
    "warden-runtime": "warden_runtime",
    "prometheus-firewall": "prometheus_firewall",
}


def load(scan_type: str) -> ModuleType:
    """The parser module for a registered scan type (KeyError for an unknown one)."""
    return importlib.import_module(f"scanners.parsers.{PARSERS[scan_type]}")


def available() -> dict[str, ModuleType]:
    """Registered parsers whose module exists, in detection order."""
    out: dict[str, ModuleType] = {}
    for scan_type in PARSERS:
        try:
            out[scan_type] = load(scan_type)
        except ModuleNotFoundError:
            continue
    return out
