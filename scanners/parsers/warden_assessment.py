"""Warden's own assessment format, ``warden.assessment/v1``, for tools that have no report
format of their own (fairlearn fairness metrics, IBM ART robustness scores, a hold-out
accuracy). The schema is :data:`SCHEMA` (published as
``docs/schemas/warden-assessment-v1.schema.json``; a test keeps the two identical) and the
guide is ``docs/assessment-json.md``.

A result passes when ``value <comparator> threshold`` holds: passed results go to
``Report.passed``, failed ones are findings. Severity of a failure is the result's own
``severity`` when given, else :func:`severity_for`: by category and by how far the value
misses the threshold (relative miss ``|value - threshold| / |threshold|``, or the absolute
miss when the threshold is 0):

============  ==============  ===================  =============
category      near (< 10 %)   clear (10 % - 50 %)  far (>= 50 %)
============  ==============  ===================  =============
security      medium          high                 critical
privacy       medium          high                 high
robustness    low             medium               high
fairness      low             medium               high
performance   low             low                  medium
drift         low             medium               high
data          low             medium               high
============  ==============  ===================  =============

Taxonomy: robustness -> OWASP ML01:2023 (input manipulation); privacy results whose test or
metric names membership inference -> ML04:2023, model inversion -> ML03:2023; fairness,
performance and security have no fixed mapping. Fingerprint: ``(tool, test, metric)``;
two results with the same test and metric in one file are an error.
"""

from __future__ import annotations

from typing import Any

from scanners.document import Document
from scanners.evidence import trim
from scanners.findings import COMPARATORS, Report
from scanners.parsers._assessment_common import assessment_result, holds
from scanners.parsers._fields import Fields
from scanners.parsers._schema import validate

SCAN_TYPE = "warden-assessment"
CATEGORY = "assessment"
DESCRIPTION = "Warden assessment JSON (warden.assessment/v1): fairness, robustness, metrics"

SCHEMA_ID = "warden.assessment/v1"
#: The ``tool`` of documents written by Warden's own runner (scanners.assess).
WARDEN_TOOL = "warden"
#: Where a runner document travels in ``Report.metadata`` to the importer.
DOCUMENT_KEY = "assessment_document"
RESULT_CATEGORIES = (
    "fairness", "robustness", "performance", "privacy", "security", "drift", "data",
)  # fmt: skip
FAILURE_SEVERITIES = ("critical", "high", "medium", "low")

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "urn:warden:schema:warden-assessment:v1",
    "title": "Warden assessment report, version 1",
    "description": (
        "Results of model tests from tools without a report format of their own (fairness, "
        "robustness, performance, privacy, security). A result passes when "
        "`value <comparator> threshold` holds."
    ),
    "type": "object",
    "required": ["schema", "tool", "results"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": SCHEMA_ID, "description": "Format and version marker."},
        "model": {"type": "string", "description": "Model name as registered in Warden."},
        "model_version": {"type": "string", "description": "Model version, if known."},
        "dataset": {"type": "string", "description": "Evaluation dataset name or URI."},
        "tool": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "Tool that computed the results (fairlearn, art, sklearn...).",
        },
        "tool_version": {"type": "string"},
        "run_id": {"type": "string", "description": "CI job or experiment run id."},
        "created": {"type": "string", "description": "ISO-8601 time the results were made."},
        "metadata": {"type": "object", "description": "Free-form context, kept as is."},
        "results": {"type": "array", "items": {"$ref": "#/$defs/result"}},
        "artifact_sha256": {
            "type": "string",
            "pattern": "^[0-9a-f]{64}$",
            "description": "SHA-256 of the model file that was run to get the predictions.",
        },
        "dataset_fingerprint": {"$ref": "#/$defs/fingerprint"},
        "reference_fingerprint": {"$ref": "#/$defs/fingerprint"},
        "library_versions": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Library name -> version that computed the results.",
        },
        "measurements": {
            "type": "array",
            "items": {"$ref": "#/$defs/measurement"},
            "description": "Figures measured without a threshold: recorded, not judged.",
        },
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
    "$defs": {
        "result": {
            "type": "object",
            "required": ["test", "category", "value", "threshold", "comparator"],
            "additionalProperties": False,
            "properties": {
                "test": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "description": "Stable test id, e.g. demographic_parity_difference.",
                },
                "category": {"enum": list(RESULT_CATEGORIES)},
                "metric": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200,
                    "description": "Metric name; defaults to the test id.",
                },
                "value": {"type": "number", "description": "Measured value."},
                "threshold": {"type": "number", "description": "Limit the value is held to."},
                "comparator": {
                    "enum": list(COMPARATORS),
                    "description": "Passing condition: value <comparator> threshold.",
                },
                "n": {"type": "integer", "minimum": 0, "description": "Samples evaluated."},
                "failures": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Samples that failed, when the metric counts them.",
                },
                "by_group": {
                    "type": "object",
                    "additionalProperties": {"type": "number"},
                    "description": "Per-group values (fairness), group name -> value.",
                },
                "group_sizes": {"$ref": "#/$defs/group_sizes"},
                "groups_too_small": {"$ref": "#/$defs/groups_too_small"},
                "severity": {
                    "enum": list(FAILURE_SEVERITIES),
                    "description": "Severity if the test fails (overrides the default rule).",
                },
                "description": {"type": "string"},
                "references": {"type": "array", "items": {"type": "string"}},
                "evidence": {"type": "object", "description": "Free-form detail, kept."},
            },
        },
        "measurement": {
            "type": "object",
            "required": ["test", "category", "value"],
            "additionalProperties": False,
            "properties": {
                "test": {"type": "string", "minLength": 1, "maxLength": 200},
                "category": {"enum": list(RESULT_CATEGORIES)},
                "metric": {"type": "string", "minLength": 1, "maxLength": 200},
                "value": {
                    "type": ["number", "null"],
                    "description": "Measured value; null when undefined on this data.",
                },
                "note": {"type": "string", "description": "Why the value is null."},
                "n": {"type": "integer", "minimum": 0},
                "failures": {"type": "integer", "minimum": 0},
                "by_group": {"type": "object", "additionalProperties": {"type": "number"}},
                "group_sizes": {"$ref": "#/$defs/group_sizes"},
                "groups_too_small": {"$ref": "#/$defs/groups_too_small"},
                "description": {"type": "string"},
                "evidence": {"type": "object"},
            },
        },
        "group_sizes": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 0},
            "description": "Rows per group, group name -> count.",
        },
        "groups_too_small": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Groups too small to judge: reported, left out of the comparison.",
        },
        "fingerprint": {
            "type": "object",
            "required": ["sha256", "rows"],
            "properties": {
                "name": {"type": "string"},
                "format": {"type": "string"},
                "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                "bytes": {"type": "integer", "minimum": 0},
                "rows": {"type": "integer", "minimum": 0},
                "columns": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"}, "type": {"type": "string"}},
                    },
                },
            },
            "description": "A table's identity: SHA-256 of the file, size, rows, columns.",
        },
    },
}

_F = Fields(SCAN_TYPE)
_METADATA_KEYS = (
    "model", "model_version", "dataset", "run_id", "created", "artifact_sha256",
    "dataset_fingerprint", "reference_fingerprint", "library_versions",
)  # fmt: skip
_TABLE = {
    "security": ("medium", "high", "critical"),
    "privacy": ("medium", "high", "high"),
    "robustness": ("low", "medium", "high"),
    "fairness": ("low", "medium", "high"),
    "performance": ("low", "low", "medium"),
    "drift": ("low", "medium", "high"),
    "data": ("low", "medium", "high"),
}


def sniff(doc: Document) -> bool:
    data = doc.json
    return (
        isinstance(data, dict)
        and isinstance(data.get("schema"), str)
        and data["schema"].startswith("warden.assessment/")
    )


def parse(doc: Document) -> Report:
    data = _F.obj(_F.json(doc), "")
    marker = data.get("schema")
    if isinstance(marker, str) and marker.startswith("warden.assessment/") and marker != SCHEMA_ID:
        _F.fail("schema", f"unsupported version {marker!r}; this Warden reads {SCHEMA_ID}")
    validate(SCAN_TYPE, SCHEMA, data)
    tool = data["tool"]
    report = Report(
        tool=tool,
        tool_version=data.get("tool_version", ""),
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        metadata={k: data[k] for k in _METADATA_KEYS if k in data},
    )
    if "metadata" in data:
        report.metadata["metadata"] = trim(data["metadata"], limit=2000)
    report.warnings.extend(f"{tool}: {w}" for w in data.get("warnings", []))
    report.artifact_sha256 = data.get("artifact_sha256", "")  # the model file that was run
    if tool == WARDEN_TOOL and "dataset_fingerprint" in data:
        # Warden's own runner: the importer keeps the whole document (per-group tables,
        # curves, drift per feature) for the assessment page and the gate; it leaves the
        # report's metadata before that is stored.
        report.metadata[DOCUMENT_KEY] = data
    # What was assessed: the evaluation dataset, when the document names it.
    report.target = str(data.get("dataset") or "")[:500]
    seen: dict[tuple[str, str], int] = {}
    for i, result in enumerate(data["results"]):
        test = result["test"]
        metric = result.get("metric", test)
        if (test, metric) in seen:
            first = seen[test, metric]
            _F.fail(
                f"results[{i}]",
                f'duplicate test "{test}" with metric "{metric}" (also results[{first}])',
            )
        seen[test, metric] = i
        value, threshold, comparator = result["value"], result["threshold"], result["comparator"]
        category = result["category"]
        passed = holds(value, comparator, threshold)
        severity = result.get("severity") or severity_for(category, value, threshold)
        llm, ml = _taxonomy(category, test, metric)
        verdict = "holds" if passed else "fails"
        report_item = assessment_result(
            tool=tool,
            test_id=test,
            metric=metric,
            metric_value=float(value),
            threshold=float(threshold),
            comparator=comparator,
            title=f"{tool} {test}: {metric} = {value:g} {verdict} {comparator} {threshold:g}",
            passed=passed,
            severity=severity,
            raw_severity=result.get("severity", ""),
            sample_count=result.get("n"),
            failure_count=result.get("failures"),
            description=result.get("description", ""),
            owasp_ml=ml,
            owasp_llm=llm,
            references=result.get("references", []),
            remediation=_remediation(category),
            evidence={
                "category": category,
                **({"by_group": result["by_group"]} if "by_group" in result else {}),
                **({"evidence": result["evidence"]} if "evidence" in result else {}),
            },
        )
        (report.passed if passed else report.findings).append(report_item)
    if not data["results"]:
        report.warnings.append("warden-assessment: the report has no results")
    return report


def severity_for(category: str, value: float, threshold: float) -> str:
    """Default severity of a failed result (table in the module docs)."""
    miss = abs(value - threshold)
    if threshold != 0:
        miss /= abs(threshold)
    band = 0 if miss < 0.1 else 1 if miss < 0.5 else 2
    return _TABLE[category][band]


def _taxonomy(category: str, test: str, metric: str) -> tuple[list[str], list[str]]:
    if category == "robustness":
        return [], ["ML01:2023"]
    if category == "privacy":
        text = f"{test} {metric}".lower().replace("_", " ")
        if "membership" in text:
            return [], ["ML04:2023"]
        if "inversion" in text:
            return [], ["ML03:2023"]
    return [], []


def _remediation(category: str) -> str:
    return {
        "fairness": "Investigate the groups that fall short (by_group); rebalance or reweight "
        "the training data, or apply a fairness mitigation, and re-evaluate.",
        "robustness": "Harden the model against the perturbation (adversarial training, input "
        "preprocessing or detection) and re-run the robustness evaluation.",
        "performance": "Investigate the drop (data drift, labelling, training regression) "
        "before releasing this model version.",
        "privacy": "Reduce memorization (regularization, differential privacy, less "
        "overfitting) and re-run the privacy attack.",
        "security": "Fix the weakness the test found and re-run it before release.",
        "drift": "Check whether the evaluation data still represents production (drifted "
        "features); retrain or recalibrate on current data if it does.",
        "data": "Fix the evaluation data (size, balance, missing values, overlap with the "
        "training data) and re-run the assessment.",
    }[category]
