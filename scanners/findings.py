"""The normalized finding: the one shape every parser and the model-file scanner produce.

Fingerprint rules (stable across runs and across tools; see :mod:`scanners.fingerprint`):

- ``dependency``: ``(ecosystem, normalized package name, canonical vulnerability id)``.
  The canonical id is chosen from the id and its aliases: CVE first, then GHSA, then the
  rest, sorted. Package names are normalized per ecosystem (PEP 503 for PyPI). The
  installed version is *not* part of it: upgrading to a still-vulnerable version keeps
  the same finding open.
- ``code``: the tool's own stable fingerprint when it gives one (SARIF
  ``partialFingerprints``/``fingerprints``), else ``(tool, rule id, file, line)``.
- ``model_file``: ``(rule id, artifact member path, offending import)``.
- ``assessment``: ``(tool, test id or probe + detector, metric)``.
- ``runtime``: ``(tool, deployment, event kind, rule)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CATEGORIES: tuple[str, ...] = (
    "dependency", "model_file", "model_code", "assessment", "runtime", "code",
)  # fmt: skip
#: A tool's own decision on a finding it reports (SARIF suppressions, CycloneDX VEX analysis,
#: Trivy's ignore lists): kept as a finding in this not-active state, with the justification.
STATES: tuple[str, ...] = ("false_positive", "risk_accepted", "not_affected", "resolved")
SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
COMPARATORS: tuple[str, ...] = (">=", ">", "<=", "<", "==", "!=")


class ReportError(ValueError):
    """A report that cannot be parsed. The message names the format tried and what is wrong,
    e.g. ``trivy: Results[3].Vulnerabilities[12]: missing "VulnerabilityID"``."""


@dataclass(slots=True)
class NormalizedFinding:
    """One finding (or, with ``passed=True``, one passed check kept as evidence)."""

    fingerprint: str
    category: str
    tool: str
    rule_id: str
    title: str
    severity: str
    description: str = ""
    raw_severity: str = ""
    cvss_score: float | None = None
    cvss_vector: str = ""
    vuln_id: str = ""
    aliases: list[str] = field(default_factory=list)
    package: str = ""
    package_version: str = ""
    fixed_version: str = ""
    ecosystem: str = ""
    purl: str = ""
    file_path: str = ""
    archive_member: str = ""
    line: int | None = None
    byte_offset: int | None = None
    metric_name: str = ""
    metric_value: float | None = None
    metric_threshold: float | None = None
    comparator: str = ""
    sample_count: int | None = None
    failure_count: int | None = None
    passed: bool = False
    atlas: list[str] = field(default_factory=list)
    owasp_ml: list[str] = field(default_factory=list)
    owasp_llm: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    remediation: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    #: "" (the tool says it is a problem) or one of :data:`STATES`: the tool's own decision.
    state: str = ""
    #: The tool's reason for ``state`` (a VEX justification, a SARIF suppression's text).
    justification: str = ""
    #: Reachability: False when the tool's call analysis says the vulnerable code is never
    #: called (OSV-Scanner ``experimental_analysis.called``), True when it is, None unknown.
    reachable: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """Every field by name, JSON-ready."""
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(slots=True)
class Report:
    """A parsed report. ``findings`` are the problems; ``passed`` are checks that ran and passed
    (assessments), kept because coverage is evidence too."""

    tool: str
    tool_version: str
    scan_type: str
    category: str
    findings: list[NormalizedFinding] = field(default_factory=list)
    passed: list[NormalizedFinding] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: What the report says it looked at, in the tool's words: an image or file name (Trivy
    #: ``ArtifactName``, Grype ``source.target``), a lockfile, the SBOM's main component, a
    #: deployment (runtime), a dataset or suite (assessments). "" when the report does not say.
    target: str = ""
    #: True when the report is a complete analysis of its target: a finding it does not list
    #: was looked for and not found. False for inventories without analysis (an SBOM without
    #: vulnerabilities) and for event streams (runtime batches): their silence proves nothing.
    complete: bool = True
    #: The SHA-256 of the one file a model-file report scanned, when it names exactly one.
    artifact_sha256: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "tool_version": self.tool_version,
            "scan_type": self.scan_type,
            "category": self.category,
            "findings": [f.to_dict() for f in self.findings],
            "passed": [f.to_dict() for f in self.passed],
            "metadata": self.metadata,
            "warnings": self.warnings,
            "target": self.target,
            "complete": self.complete,
            "artifact_sha256": self.artifact_sha256,
        }
