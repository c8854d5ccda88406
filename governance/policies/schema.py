"""Policy as code: the ``warden.policy/v1`` document, its JSON Schema, and YAML/JSON I/O.

A policy document is what the API, the policies page, ``manage.py policies`` and the files in
``docs/policies/`` exchange. :data:`SCHEMA` is the single source; it is published as
``docs/schemas/warden-policy-v1.schema.json`` (a test keeps the two identical).

:func:`policy_document_normalize` turns a valid document into its canonical form: every
default filled in, keys in a fixed order. Stored policies hold the canonical form, so
export -> import -> export gives the same text byte for byte.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from governance.lib.api_errors import ApplicationError
from governance.lib.inputs import bad_text

SCHEMA_ID = "warden.policy/v1"
RISK_TIERS = ("low", "medium", "high", "critical")
STAGES = ("development", "staging", "production", "retired")
CATEGORIES = ("dependency", "model_file", "model_code", "assessment", "runtime", "code")
SEVERITIES = ("critical", "high", "medium", "low", "info")
COMPARATORS = (">=", ">", "<=", "<", "==", "!=")
EVIDENCE_SCOPES = ("version", "artifact")
#: Who computed a Warden assessment (governance.evidence.models.Assessment.Origin), or any.
ASSESSMENT_ORIGINS = ("any", "server")
OVERDUE_MODES = ("fail", "warn", "ignore")
#: Kinds of runtime events (governance.runtime.models.EVENT_KINDS, which this module cannot
#: import: runtime sits above policies). A test keeps the two identical.
EVENT_KINDS = ("drift", "attack", "firewall_block", "anomaly", "error", "request")
#: Rule ids the engine uses itself; a policy's own rules cannot take them.
RESERVED_RULE_IDS = ("sla-overdue", "sla-due-soon", "exceptions-ending")

DEFAULT_SLA_DAYS: dict[str, int | None] = {
    "critical": 7, "high": 30, "medium": 90, "low": 180, "info": None,
}  # fmt: skip
DEFAULT_EXCEPTION_MAX_DAYS = 90
DEFAULT_WARN_WITHIN_DAYS = 7

_RULE_ID = {
    "type": "string",
    "pattern": "^[a-z0-9][a-z0-9._-]{0,79}$",
    "description": "Stable rule id (lower-case letters, digits, '.', '_', '-'): reasons and "
    "exceptions name it.",
}
_NAME_LIST = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 60},
              "uniqueItems": True, "maxItems": 50}  # fmt: skip

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:warden:schema:warden-policy:v1",
    "title": "Warden risk policy, version 1",
    "description": (
        "What is acceptable for which model: open-finding thresholds, required scan evidence, "
        "assessment metric thresholds, remediation SLAs and exception limits. The gate of a "
        "model version is evaluated against the one policy that applies to the model."
    ),
    "type": "object",
    "required": ["schema", "name"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": SCHEMA_ID, "description": "Format and version marker."},
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 120,
            "description": "Policy name, unique within its team (or among organization defaults).",
        },
        "description": {"type": "string", "maxLength": 5000},
        "applies_to": {
            "type": "object",
            "additionalProperties": False,
            "description": "Which models the policy governs. An empty list means every value. "
            "When several policies match a model, a team's policy beats an organization default, "
            "then the one covering fewer (tier, stage) pairs wins, then the oldest.",
            "properties": {
                "risk_tiers": {"type": "array", "items": {"enum": list(RISK_TIERS)},
                               "uniqueItems": True},
                "stages": {"type": "array", "items": {"enum": list(STAGES)}, "uniqueItems": True},
            },
        },
        "thresholds": {
            "type": "array",
            "maxItems": 200,
            "description": "Limits on open (open, confirmed, in progress) findings.",
            "items": {"$ref": "#/$defs/threshold"},
        },
        "evidence": {
            "type": "array",
            "maxItems": 100,
            "description": "Scans that must have run (status done) on this model version or "
            "artifact, recently enough.",
            "items": {"$ref": "#/$defs/evidence"},
        },
        "assessments": {
            "type": "array",
            "maxItems": 100,
            "description": "Metric thresholds. They override the tool's own pass/fail: the latest "
            "recorded value of the metric is compared here, and assessment findings of a metric "
            "named here do not count toward thresholds or SLAs.",
            "items": {"$ref": "#/$defs/assessment"},
        },
        "alerts": {
            "type": "array",
            "maxItems": 100,
            "description": "Runtime alert rules, evaluated per deployment over its events: a "
            "rule that fires opens one runtime finding per deployment, which resolves itself "
            "once the condition has been clear for quiet_minutes.",
            "items": {"$ref": "#/$defs/alert"},
        },
        "sla": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "days": {
                    "type": "object",
                    "additionalProperties": False,
                    "description": "Days to remediate, per severity, from first seen; null: no "
                    "clock.",
                    "properties": {
                        s: {"type": ["integer", "null"], "minimum": 1, "maximum": 3650}
                        for s in SEVERITIES
                    },
                },
                "overdue": {
                    "enum": list(OVERDUE_MODES),
                    "description": "What an open finding past its due date does to the gate.",
                },
            },
        },
        "exceptions": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "max_days": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 730,
                    "description": "Longest risk acceptance a lead may approve.",
                }
            },
        },
        "warn_within_days": {
            "type": "integer",
            "minimum": 0,
            "maximum": 90,
            "description": "Warn when evidence expires, a finding is due, or an exception ends "
            "within this many days.",
        },
    },
    "$defs": {
        "threshold": {
            "type": "object",
            "required": ["id"],
            "additionalProperties": False,
            "properties": {
                "id": _RULE_ID,
                "category": {"enum": list(CATEGORIES), "description": "Absent: any category."},
                "severities": {
                    "type": "array",
                    "items": {"enum": list(SEVERITIES)},
                    "uniqueItems": True,
                    "minItems": 1,
                    "description": "Absent: every severity.",
                },
                "fixable_only": {
                    "type": "boolean",
                    "description": "Count only findings with a fixed version available.",
                },
                "ignore_unreachable": {
                    "type": "boolean",
                    "description": "Do not count findings the reporting tool's call analysis "
                    "says are never called (reachable: false), e.g. for severities up to medium.",
                },
                "max_open": {"type": "integer", "minimum": 0, "description": "Default 0."},
            },
        },
        "evidence": {
            "type": "object",
            "required": ["id"],
            "additionalProperties": False,
            "properties": {
                "id": _RULE_ID,
                "category": {"enum": list(CATEGORIES), "description": "Absent: any category."},
                "categories": {
                    "type": "array",
                    "items": {"enum": list(CATEGORIES)},
                    "minItems": 1,
                    "uniqueItems": True,
                    "description": "Any of these categories (instead of category).",
                },
                "tools": {
                    **_NAME_LIST,
                    "minItems": 1,
                    "description": "Any of these tools or scan types. Absent: any tool.",
                },
                "scope": {
                    "enum": list(EVIDENCE_SCOPES),
                    "description": "version: a scan of this version (or of the same artifact "
                    "digest); artifact: the version must have an artifact digest and the scan "
                    "must be of it.",
                },
                "max_age_days": {"type": "integer", "minimum": 1, "maximum": 3650,
                                 "description": "Absent: any age. With warden_assessment: "
                                 "the age of the assessment of the dataset."},
                "warden_assessment": {"$ref": "#/$defs/warden_assessment"},
            },
        },
        "warden_assessment": {
            "type": "object",
            "additionalProperties": False,
            "description": "The evidence is a Warden assessment (Warden's own runner: "
            "POST .../versions/{v}/assess/ or `warden assess --upload`) of the version's "
            "artifact digest, the newest of that digest, and its figures must meet these "
            "conditions. Implies scope artifact; category, categories and tools do not apply.",
            "properties": {
                "metrics": {
                    "type": "array",
                    "maxItems": 50,
                    "items": {"$ref": "#/$defs/assessment_condition"},
                    "description": "Every figure of the metric (each sensitive feature and "
                    "their intersection), or one figure with metric[scope], must hold.",
                },
                "origin": {"enum": list(ASSESSMENT_ORIGINS),
                           "description": "server: only assessments Warden's workers computed "
                           "(default any: uploaded from CI too)."},
            },
        },
        "assessment_condition": {
            "type": "object",
            "required": ["metric", "comparator", "value"],
            "additionalProperties": False,
            "properties": {
                "metric": {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*(\[[^\]]+\])?$",
                           "maxLength": 200,
                           "description": "A metric of the runner's catalogue "
                           "(docs/assessment-runner.md), optionally with [scope]."},
                "comparator": {"enum": list(COMPARATORS),
                               "description": "Passing condition: figure <comparator> value."},
                "value": {"type": "number"},
            },
        },
        "alert": {
            "type": "object",
            "required": ["id", "rule"],
            "additionalProperties": False,
            "description": "One of: more_than events within_minutes; days_in_a_row with "
            "events; ratio_above of rule over per within_minutes.",
            "properties": {
                "id": _RULE_ID,
                "rule": {"type": "string", "minLength": 1, "maxLength": 200,
                         "description": "Event rule to watch; * and ? are wildcards."},
                "kind": {"enum": list(EVENT_KINDS), "description": "Absent: any kind."},
                "more_than": {"type": "integer", "minimum": 0,
                              "description": "Fires when more events than this arrive..."},
                "within_minutes": {"type": "integer", "minimum": 1, "maximum": 10080,
                                   "description": "...within this many minutes."},
                "days_in_a_row": {"type": "integer", "minimum": 1, "maximum": 90,
                                  "description": "Fires when events arrived on each of the "
                                  "last N days (UTC), today included."},
                "per": {"type": "string", "minLength": 1, "maxLength": 200,
                        "description": "Denominator rule for a rate (e.g. requests)."},
                "ratio_above": {"type": "number", "minimum": 0,
                                "description": "Fires when count(rule) / count(per) in the "
                                "window exceeds this."},
                "severity": {"enum": list(SEVERITIES),
                             "description": "Of the finding when it fires (default high)."},
                "quiet_minutes": {"type": "integer", "minimum": 0, "maximum": 43200,
                                  "description": "Clear this long before it resolves (default: "
                                  "the window, or a day for days_in_a_row)."},
            },
        },
        "assessment": {
            "type": "object",
            "required": ["id", "metric", "comparator", "value"],
            "additionalProperties": False,
            "properties": {
                "id": _RULE_ID,
                "metric": {"type": "string", "minLength": 1, "maxLength": 200},
                "comparator": {"enum": list(COMPARATORS),
                               "description": "Passing condition: value <comparator> threshold."},
                "value": {"type": "number"},
                "tool": {"type": "string", "minLength": 1, "maxLength": 60,
                         "description": "Only this tool's results. Absent: any tool."},
                "required": {"type": "boolean",
                             "description": "Fail when no value was recorded (default true)."},
            },
        },
    },
}  # fmt: skip

_VALIDATOR = Draft202012Validator(SCHEMA)


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases: a policy never needs them, and aliases let a
    small document expand into a huge one ("billion laughs")."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise ApplicationError("YAML anchors and aliases are not allowed in policy documents")
        return super().compose_node(parent, index)


def _where(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _message(error: Any) -> str:
    where = _where(error.absolute_path)
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        text = f'missing required field "{missing[0] if missing else "?"}"'
    elif error.validator == "additionalProperties":
        known = set(error.schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in known)
        where = _where([*error.absolute_path, extra[0] if extra else "?"])
        text = "unknown field"
    elif error.validator == "enum":
        text = "must be one of " + ", ".join(str(v) for v in error.validator_value)
    elif error.validator == "const":
        text = f"must be {error.validator_value!r}"
    else:
        text = error.message
    return f"{where}: {text}" if where else text


def policy_document_validate(document: Any) -> None:
    """Raise ApplicationError naming the first problem (schema, then duplicate rule ids)."""
    errors = sorted(_VALIDATOR.iter_errors(document), key=lambda e: list(map(str, e.path)))
    if errors:
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ApplicationError(
            f"invalid policy: {_message(errors[0])}{more}",
            detail={"problems": [_message(e) for e in errors[:20]]},
        )
    seen: set[str] = set()
    for i, rule in enumerate(document.get("alerts", [])):
        _alert_check(i, rule)
    for section in ("thresholds", "evidence", "assessments", "alerts"):
        for i, rule in enumerate(document.get(section, [])):
            rid = rule["id"]
            if rid in RESERVED_RULE_IDS:
                raise ApplicationError(f"invalid policy: {section}[{i}].id: {rid!r} is reserved")
            if rid in seen:
                raise ApplicationError(
                    f"invalid policy: {section}[{i}].id: duplicate rule id {rid!r}"
                )
            seen.add(rid)
            if section == "evidence" and "category" in rule and "categories" in rule:
                raise ApplicationError(
                    f"invalid policy: evidence[{i}]: give category or categories, not both"
                )
            if section == "evidence" and "warden_assessment" in rule:
                _conditions_check(i, rule["warden_assessment"])
                clash = sorted({"category", "categories", "tools"} & set(rule))
                if clash or rule.get("scope", "artifact") != "artifact":
                    raise ApplicationError(
                        f"invalid policy: evidence[{i}]: a warden_assessment rule is about "
                        "the artifact digest and Warden's own runner: drop "
                        + (", ".join(clash) if clash else "scope: version")
                    )


def _conditions_check(i: int, spec: dict[str, Any]) -> None:
    """A metric outside the runner's catalogue is a typo: it would never be measured. (A
    server without the ``assess`` extra has no catalogue to check against; the schema's
    name pattern still applies, and an unknown metric then fails closed in the gate.)"""
    import difflib

    from scanners.assess import MissingExtra
    from scanners.assess.measurement import catalogue

    try:
        known = catalogue()
    except MissingExtra:
        return
    for j, condition in enumerate(spec.get("metrics", [])):
        name = condition["metric"].split("[", 1)[0]
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ApplicationError(
                f"invalid policy: evidence[{i}].warden_assessment.metrics[{j}].metric: "
                f"{name!r} is not a metric Warden's assessment runner measures{hint}"
            )


def _warden_assessment_normalize(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "metrics": [
            {"metric": c["metric"], "comparator": c["comparator"], "value": c["value"]}
            for c in spec.get("metrics", [])
        ],
        "origin": spec.get("origin", "any"),
    }


def _alert_normalize(rule: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rule["id"], "rule": rule["rule"]}
    if "kind" in rule:
        out["kind"] = rule["kind"]
    if "days_in_a_row" in rule:
        out["days_in_a_row"] = rule["days_in_a_row"]
        quiet_default = 24 * 60
    elif "ratio_above" in rule:
        out.update(per=rule["per"], ratio_above=rule["ratio_above"])
        out["within_minutes"] = rule["within_minutes"]
        quiet_default = rule["within_minutes"]
    else:
        out.update(more_than=rule["more_than"], within_minutes=rule["within_minutes"])
        quiet_default = rule["within_minutes"]
    out["severity"] = rule.get("severity", "high")
    out["quiet_minutes"] = rule.get("quiet_minutes", quiet_default)
    return out


def _alert_check(i: int, rule: dict[str, Any]) -> None:
    shapes = {
        "count": {"more_than", "within_minutes"} <= set(rule),
        "days": "days_in_a_row" in rule,
        "ratio": {"per", "ratio_above", "within_minutes"} <= set(rule),
    }
    if sum(shapes.values()) != 1:
        raise ApplicationError(
            f"invalid policy: alerts[{i}]: give exactly one of more_than + within_minutes, "
            "days_in_a_row, or per + ratio_above + within_minutes"
        )
    if shapes["days"] and set(rule) & {"more_than", "within_minutes", "per", "ratio_above"}:
        raise ApplicationError(f"invalid policy: alerts[{i}]: days_in_a_row stands alone")


def policy_document_normalize(document: dict[str, Any]) -> dict[str, Any]:
    """The canonical form of a valid document (defaults filled, fixed key order). Idempotent."""
    policy_document_validate(document)
    applies = document.get("applies_to", {})
    sla = document.get("sla", {})
    days = {**DEFAULT_SLA_DAYS, **sla.get("days", {})}
    return {
        "schema": SCHEMA_ID,
        "name": document["name"].strip(),
        "description": document.get("description", ""),
        "applies_to": {
            "risk_tiers": [t for t in RISK_TIERS if t in applies.get("risk_tiers", [])],
            "stages": [s for s in STAGES if s in applies.get("stages", [])],
        },
        "thresholds": [
            {
                "id": r["id"],
                **({"category": r["category"]} if "category" in r else {}),
                "severities": [s for s in SEVERITIES if s in r.get("severities", SEVERITIES)],
                "fixable_only": r.get("fixable_only", False),
                **({"ignore_unreachable": True} if r.get("ignore_unreachable") else {}),
                "max_open": r.get("max_open", 0),
            }
            for r in document.get("thresholds", [])
        ],
        "evidence": [
            {
                "id": r["id"],
                **({"category": r["category"]} if "category" in r else {}),
                **(
                    {"categories": [c for c in CATEGORIES if c in r["categories"]]}
                    if "categories" in r
                    else {}
                ),
                **({"tools": list(r["tools"])} if "tools" in r else {}),
                "scope": r.get("scope", "artifact" if "warden_assessment" in r else "version"),
                **({"max_age_days": r["max_age_days"]} if "max_age_days" in r else {}),
                **(
                    {"warden_assessment": _warden_assessment_normalize(r["warden_assessment"])}
                    if "warden_assessment" in r
                    else {}
                ),
            }
            for r in document.get("evidence", [])
        ],
        "assessments": [
            {
                "id": r["id"],
                "metric": r["metric"],
                "comparator": r["comparator"],
                "value": r["value"],
                **({"tool": r["tool"]} if "tool" in r else {}),
                "required": r.get("required", True),
            }
            for r in document.get("assessments", [])
        ],
        "alerts": [_alert_normalize(r) for r in document.get("alerts", [])],
        "sla": {
            "days": {s: days[s] for s in SEVERITIES},
            "overdue": sla.get("overdue", "fail"),
        },
        "exceptions": {
            "max_days": document.get("exceptions", {}).get("max_days", DEFAULT_EXCEPTION_MAX_DAYS)
        },
        "warn_within_days": document.get("warn_within_days", DEFAULT_WARN_WITHIN_DAYS),
    }


def policy_document_parse(text: str | bytes) -> dict[str, Any]:
    """A document from YAML or JSON text (JSON is YAML; safe loader only, never objects)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ApplicationError("the policy document is not UTF-8 text") from None
    if len(text) > 256 * 1024:
        raise ApplicationError("the policy document is larger than 256 KiB")
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ApplicationError(f"the policy document is not valid YAML or JSON{where}") from None
    if not isinstance(data, dict):
        raise ApplicationError("the policy document must be a mapping (YAML) or an object (JSON)")
    why = bad_text(data)
    if why is not None:
        raise ApplicationError(f"the policy document is not storable text: a string {why}")
    return data


def policy_document_dump(document: dict[str, Any], fmt: str = "yaml") -> str:
    """Text of a (canonical) document: ``yaml`` (block style, keys in canonical order) or
    ``json`` (two-space indent). Deterministic, so a round trip is byte-identical."""
    if fmt == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if fmt != "yaml":
        raise ApplicationError("format must be yaml or json")
    return yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )


def schema_json() -> str:
    """The schema as published in ``docs/schemas/warden-policy-v1.schema.json``."""
    return json.dumps(SCHEMA, indent=2) + "\n"
