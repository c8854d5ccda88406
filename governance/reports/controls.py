"""The control mapping: which NIST AI RMF subcategories and EU AI Act articles each policy
rule type and evidence type supports, and what of it a version has.

The canonical data is ``docs/controls/controls.yaml`` (reviewed like any document), read
from the repository path resolved relative to ``settings.BASE_DIR``;
``WARDEN_CONTROLS_FILE`` points elsewhere when Warden is installed without its repository.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

#: Sections of a policy document that are not rules (settings and metadata).
NOT_RULE_SECTIONS = frozenset({"schema", "name", "description", "applies_to", "warn_within_days"})
RULE_TYPE_LABELS = {
    "thresholds": "open-finding thresholds",
    "evidence": "required scan evidence",
    "assessments": "assessment thresholds",
    "alerts": "runtime alert rules",
    "sla": "remediation SLAs",
    "exceptions": "exception limits",
}


def controls_path() -> Path:
    configured = getattr(settings, "WARDEN_CONTROLS_FILE", None)
    if configured:
        return Path(configured)
    return Path(settings.BASE_DIR) / "docs" / "controls" / "controls.yaml"


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


def controls_mapping() -> dict[str, Any]:
    """The mapping document (``sources``, ``controls``, ``rule_types``, ``evidence_types``)."""
    path = controls_path()
    return _load(str(path), path.stat().st_mtime)


@dataclass
class ControlCoverage:
    id: str
    framework: str
    title: str
    source_title: str
    source_url: str
    supported_by: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        if self.supported_by and not self.missing:
            return "supported"
        return "partial" if self.supported_by else "missing"


def control_coverage(
    *, policy_document: dict[str, Any], evidence: dict[str, list[str]]
) -> list[ControlCoverage]:
    """Each control with what supports it for one version and what is missing.

    ``policy_document``: the governing policy (normalized); a rule type supports a control when
    the policy configures it (a non-empty section; SLAs: at least one severity with a due
    date). ``evidence``: per category, short descriptions of the version's completed scans;
    an evidence type supports a control when the version has at least one."""
    data = controls_mapping()
    sources = data.get("sources", {})
    rows: dict[str, ControlCoverage] = {}
    for c in data["controls"]:
        source = sources.get(c.get("source", ""), {})
        rows[c["id"]] = ControlCoverage(
            id=c["id"],
            framework=c["framework"],
            title=c["title"],
            source_title=source.get("title", ""),
            source_url=source.get("url", ""),
        )
    for rule_type, control_ids in data["rule_types"].items():
        label = RULE_TYPE_LABELS.get(rule_type, rule_type)
        configured = _rule_configured(policy_document, rule_type)
        for control_id in control_ids:
            row = rows[control_id]
            if configured:
                row.supported_by.append(f"policy: {label} ({configured})")
            else:
                row.missing.append(f"policy: no {label} configured")
    for category, control_ids in data["evidence_types"].items():
        seen = evidence.get(category, [])
        name = category.replace("_", " ")
        for control_id in control_ids:
            row = rows[control_id]
            if seen:
                row.supported_by.append(f"evidence: {name} scan, {seen[0]}")
            else:
                row.missing.append(f"evidence: no {name} scan of this version")
    return list(rows.values())


def _rule_configured(document: dict[str, Any], rule_type: str) -> str:
    """A short description of what the policy configures for ``rule_type``, or ""."""
    value = document.get(rule_type)
    if rule_type == "sla":
        days = (value or {}).get("days", {})
        set_days = [f"{s} {d} d" for s, d in days.items() if d]
        return ", ".join(set_days)
    if rule_type == "exceptions":
        max_days = (value or {}).get("max_days")
        return f"at most {max_days} days" if max_days else ""
    if isinstance(value, list) and value:
        ids = [str(r.get("id", "")) for r in value if isinstance(r, dict)]
        return ", ".join(i for i in ids if i)[:200] or f"{len(value)} rules"
    return ""
