"""Tool families: the one name a tool goes by, whatever report format it wrote.

Absence of a finding resolves only what the same family reported about the same subject
(Trivy's SARIF and Trivy's JSON are one family; Grype is another). A pure function: the data
migration that assigned existing scans their family uses it too.
"""

from __future__ import annotations

#: Names tools give themselves in their reports (lower-cased), by family.
_ALIASES = {
    "anchore grype": "grype",
    "grype": "grype",
    "trivy": "trivy",
    "aquasecurity trivy": "trivy",
    "osv-scanner": "osv-scanner",
    "osv scanner": "osv-scanner",
    "osv_scanner": "osv-scanner",
    "pip-audit": "pip-audit",
    "pip_audit": "pip-audit",
    "semgrep": "semgrep",
    "semgrep oss": "semgrep",
    "semgrep pro": "semgrep",
    "modelaudit": "modelaudit",
    "model audit": "modelaudit",
    "warden-modelscan": "warden-modelscan",
    "warden modelscan": "warden-modelscan",
    "warden": "warden-modelscan",
}


def tool_family(tool: str) -> str:
    """``tool`` normalized: lower case, single spaces, known aliases folded (60 characters)."""
    name = " ".join(tool.lower().split())[:60]
    return _ALIASES.get(name, name)
