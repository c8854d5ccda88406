"""warden.runtime/v1: aggregation per (deployment, kind, rule), severity, taxonomy, errors."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from scanners import ReportError, parse
from scanners.document import Document
from scanners.findings import Report
from scanners.fingerprint import make
from scanners.parsers import warden_runtime

ROOT = Path(__file__).resolve().parents[2]

EVENTS: dict[str, Any] = {
    "schema": "warden.runtime/v1",
    "model": "support-bot",
    "deployment": "prod-eu",
    "tool": "llm-guard",
    "tool_version": "0.3.15",
    "events": [
        {
            "time": "2026-03-02T10:15:00Z",
            "kind": "attack",
            "rule": "prompt_injection",
            "count": 3,
            "severity": "medium",
            "detail": {"scanner": "PromptInjection", "score": 0.97},
        },
        {"time": "2026-03-02T09:40:00+01:00", "kind": "attack", "rule": "prompt_injection"},
        {"time": "2026-03-02T12:00:00Z", "kind": "drift", "rule": "feature_drift:age"},
        {"time": "2026-03-02T12:05:00Z", "kind": "firewall_block", "rule": "PII leak"},
        {"time": "2026-03-02T12:06:00Z", "kind": "anomaly", "rule": "model-extraction-pattern"},
        {"time": "2026-03-02T12:07:00Z", "kind": "attack", "rule": "Adversarial evasion"},
        {
            "time": "2026-03-02T13:00:00Z",
            "kind": "attack",
            "rule": "prompt_injection",
            "severity": "high",
        },
    ],
}


def run(data: dict[str, Any]) -> Report:
    return parse(json.dumps(data).encode())


def test_events_are_aggregated_per_kind_and_rule() -> None:
    report = run(EVENTS)

    assert report.scan_type == "warden-runtime"
    assert report.category == "runtime"
    assert (report.tool, report.tool_version) == ("llm-guard", "0.3.15")
    assert report.metadata == {"deployment": "prod-eu", "model": "support-bot", "events": 7}
    injection = report.findings[0]
    assert injection.rule_id == "prompt_injection"
    assert (injection.metric_name, injection.metric_value, injection.failure_count) == (
        "event_count",
        5.0,
        5,
    )
    assert injection.evidence["events"] == 3
    # 09:40+01:00 is 08:40Z, before 10:15Z
    assert injection.evidence["first_seen"] == "2026-03-02T09:40:00+01:00"
    assert injection.evidence["last_seen"] == "2026-03-02T13:00:00+00:00"
    assert injection.evidence["samples"] == [{"scanner": "PromptInjection", "score": 0.97}]
    assert injection.severity == "high"  # worst given
    assert injection.raw_severity == "high, medium"
    assert (injection.atlas, injection.owasp_llm) == (["AML.T0051"], ["LLM01:2025"])
    assert injection.fingerprint == make(
        "runtime", "llm-guard", "prod-eu", "attack", "prompt_injection"
    )
    assert injection.title == "attack 'prompt_injection' on prod-eu: 5 event(s)"


def test_default_severity_and_taxonomy_by_kind_and_rule() -> None:
    got = {
        f.rule_id: (f.evidence["kind"], f.severity, f.atlas, f.owasp_llm, f.owasp_ml)
        for f in run(EVENTS).findings[1:]
    }

    assert got == {
        "feature_drift:age": ("drift", "medium", [], [], []),
        "PII leak": ("firewall_block", "low", ["AML.T0057"], ["LLM02:2025"], []),
        "model-extraction-pattern": ("anomaly", "medium", ["AML.T0024.002"], [], ["ML05:2023"]),
        "Adversarial evasion": ("attack", "high", ["AML.T0015"], [], ["ML01:2023"]),
    }


def test_the_tool_defaults_to_warden_runtime() -> None:
    data = {k: v for k, v in EVENTS.items() if k != "tool"}

    report = run(data)

    assert report.tool == "warden-runtime"
    assert report.findings[0].fingerprint == make(
        "runtime", "warden-runtime", "prod-eu", "attack", "prompt_injection"
    )


def event(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(EVENTS)
    data["events"][1].update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            event(time="2026-03-02 10:00"),
            "warden-runtime: events[1].time: '2026-03-02 10:00' has no time zone",
        ),
        (event(time="yesterday"), "warden-runtime: events[1].time: 'yesterday' is not an ISO-8601"),
        (
            event(kind="exploit"),
            "warden-runtime: events[1].kind: must be one of drift, attack, firewall_block, anomaly",
        ),
        (event(count=0), "warden-runtime: events[1].count: must be >= 1"),
        (event(count=1.5), "warden-runtime: events[1].count: must be a whole number"),
        (event(rule=""), "warden-runtime: events[1].rule: must not be empty"),
        (event(detail="x"), "warden-runtime: events[1].detail: must be an object"),
        (
            {k: v for k, v in EVENTS.items() if k != "deployment"},
            'warden-runtime: missing required field "deployment"',
        ),
        (
            {**EVENTS, "schema": "warden.runtime/v0"},
            "warden-runtime: schema: unsupported version",
        ),
    ],
)
def test_invalid_files_are_rejected_with_the_path(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ReportError) as excinfo:
        parse(json.dumps(data).encode(), scan_type="warden-runtime")

    assert str(excinfo.value).startswith(message)


def test_the_published_schema_is_the_one_the_parser_uses() -> None:
    published = json.loads((ROOT / "docs/schemas/warden-runtime-v1.schema.json").read_text())

    assert published == warden_runtime.SCHEMA


def test_the_example_in_the_guide_parses_as_documented() -> None:
    guide = (ROOT / "docs/runtime-json.md").read_text()
    example = re.search(r"```json\n(.*?)```", guide, re.DOTALL)
    assert example is not None

    report = parse(example.group(1).encode())

    injection, drift = report.findings
    assert (injection.metric_value, injection.evidence["events"]) == (4.0, 2)
    assert drift.rule_id == "feature_drift:age"


def test_the_sniffer() -> None:
    assert warden_runtime.sniff(Document(json.dumps(EVENTS).encode()))
    assert not warden_runtime.sniff(Document(b'{"schema": "warden.assessment/v1"}'))
