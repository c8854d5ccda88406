"""Warden's runtime event format, ``warden.runtime/v1``: what a monitor, guardrail or AI
firewall saw for one deployment. Schema :data:`SCHEMA` (published as
``docs/schemas/warden-runtime-v1.schema.json``; a test keeps them identical), guide in
``docs/runtime-json.md``.

Events are aggregated into one finding per (deployment, kind, rule): ``count`` summed
(``metric_value`` and ``failure_count``, metric ``event_count``), first and last ``time``,
number of events and up to five ``detail`` samples in evidence. Severity is the worst
``severity`` given on the events, else by kind: attack high, drift medium, anomaly medium,
firewall_block low (the firewall stopped it; the finding records that it is being tried).
ATLAS / OWASP come from the rule name (see :mod:`._assessment_common`, e.g. a
prompt-injection rule -> AML.T0051 + LLM01:2025, evasion -> AML.T0015, extraction ->
AML.T0024.002); an ``attack`` whose rule names nothing known gets no reference. Fingerprint:
``(tool, deployment, kind, rule)`` where tool is the report's ``tool`` (the producer,
e.g. ``llm-guard``) or ``warden-runtime``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scanners.document import Document
from scanners.evidence import trim
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._assessment_common import runtime_fingerprint, runtime_taxonomy
from scanners.parsers._fields import Fields
from scanners.parsers._schema import validate
from scanners.severity import worst

SCAN_TYPE = "warden-runtime"
CATEGORY = "runtime"
DESCRIPTION = "Warden runtime events JSON (warden.runtime/v1): drift, attacks, firewall blocks"

SCHEMA_ID = "warden.runtime/v1"
KINDS = ("drift", "attack", "firewall_block", "anomaly")
DEFAULT_SEVERITY = {
    "attack": "high",
    "drift": "medium",
    "anomaly": "medium",
    "firewall_block": "low",
}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:warden:schema:warden-runtime:v1",
    "title": "Warden runtime events, version 1",
    "description": (
        "Events a monitor, guardrail or AI firewall observed for one model deployment. "
        "Warden aggregates them per (deployment, kind, rule)."
    ),
    "type": "object",
    "required": ["schema", "deployment", "events"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": SCHEMA_ID, "description": "Format and version marker."},
        "model": {"type": "string", "description": "Model name as registered in Warden."},
        "model_version": {"type": "string"},
        "deployment": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "description": "Deployment (environment/endpoint) the events come from.",
        },
        "tool": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "Producer of the events (monitor, guardrail, firewall).",
        },
        "tool_version": {"type": "string"},
        "events": {"type": "array", "items": {"$ref": "#/$defs/event"}},
    },
    "$defs": {
        "event": {
            "type": "object",
            "required": ["time", "kind", "rule"],
            "additionalProperties": False,
            "properties": {
                "time": {
                    "type": "string",
                    "minLength": 1,
                    "description": "ISO-8601 date-time with a time zone (Z or +hh:mm).",
                },
                "kind": {"enum": list(KINDS)},
                "rule": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "description": "Rule, detector or monitor that fired.",
                },
                "count": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "Occurrences this event stands for (default 1).",
                },
                "severity": {"enum": ["critical", "high", "medium", "low", "info"]},
                "detail": {"type": "object", "description": "Free-form detail, kept trimmed."},
            },
        }
    },
}

_F = Fields(SCAN_TYPE)
_SAMPLES = 5


@dataclass
class _Group:
    kind: str
    rule: str
    first: datetime
    last: datetime
    count: int = 0
    events: int = 0
    severities: list[str] = field(default_factory=list)
    samples: list[Any] = field(default_factory=list)


def sniff(doc: Document) -> bool:
    data = doc.json
    return (
        isinstance(data, dict)
        and isinstance(data.get("schema"), str)
        and data["schema"].startswith("warden.runtime/")
    )


def parse(doc: Document) -> Report:
    data = _F.obj(_F.json(doc), "")
    marker = data.get("schema")
    if isinstance(marker, str) and marker.startswith("warden.runtime/") and marker != SCHEMA_ID:
        _F.fail("schema", f"unsupported version {marker!r}; this Warden reads {SCHEMA_ID}")
    validate(SCAN_TYPE, SCHEMA, data)
    tool = data.get("tool", "warden-runtime")
    deployment = data["deployment"]
    groups: dict[tuple[str, str], _Group] = {}
    for i, event in enumerate(data["events"]):
        when = parse_time(event["time"], f"events[{i}].time")
        group = groups.setdefault(
            (event["kind"], event["rule"]), _Group(event["kind"], event["rule"], when, when)
        )
        group.count += event.get("count", 1)
        group.events += 1
        group.first = min(group.first, when)
        group.last = max(group.last, when)
        if "severity" in event:
            group.severities.append(event["severity"])
        if "detail" in event and len(group.samples) < _SAMPLES:
            group.samples.append(trim(event["detail"], limit=500))
    report = Report(
        tool=tool,
        tool_version=data.get("tool_version", ""),
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        metadata={
            "deployment": deployment,
            **{k: data[k] for k in ("model", "model_version") if k in data},
            "events": len(data["events"]),
        },
        target=deployment,
        # A batch of events is not the whole picture: what it does not mention goes on.
        complete=False,
    )
    for group in groups.values():
        report.findings.append(_finding(tool, deployment, group))
    return report


def _finding(tool: str, deployment: str, group: _Group) -> NormalizedFinding:
    atlas, llm, ml = runtime_taxonomy(group.rule)
    severity = worst(*group.severities) if group.severities else DEFAULT_SEVERITY[group.kind]
    label = group.kind.replace("_", " ")
    return NormalizedFinding(
        fingerprint=runtime_fingerprint(tool, deployment, group.kind, group.rule),
        category=CATEGORY,
        tool=tool,
        rule_id=group.rule,
        title=f"{label} '{group.rule}' on {deployment}: {group.count} event(s)",
        severity=severity,
        raw_severity=", ".join(sorted(set(group.severities))),
        metric_name="event_count",
        metric_value=float(group.count),
        failure_count=group.count,
        atlas=atlas,
        owasp_llm=llm,
        owasp_ml=ml,
        evidence=trim(
            {
                "deployment": deployment,
                "kind": group.kind,
                "rule": group.rule,
                "count": group.count,
                "events": group.events,
                "first_seen": group.first.isoformat(),
                "last_seen": group.last.isoformat(),
                "samples": group.samples,
            }
        ),
    )


def parse_time(text: str, where: str) -> datetime:
    """An aware datetime from ISO-8601 text; a time zone is required."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        _F.fail(where, f"{text!r} is not an ISO-8601 date-time")
    if when.tzinfo is None:
        _F.fail(where, f"{text!r} has no time zone (add Z or +hh:mm)")
    return when
