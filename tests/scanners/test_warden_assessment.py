"""warden.assessment/v1: schema, severity rule, error paths, and the published docs."""

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
from scanners.parsers import warden_assessment

ROOT = Path(__file__).resolve().parents[2]

EXAMPLE: dict[str, Any] = {
    "schema": "warden.assessment/v1",
    "model": "credit-scoring",
    "model_version": "2.3.0",
    "dataset": "holdout-2026-q1",
    "tool": "fairlearn",
    "tool_version": "0.12.0",
    "run_id": "ci-4812",
    "results": [
        {
            "test": "demographic_parity_difference",
            "category": "fairness",
            "value": 0.12,
            "threshold": 0.1,
            "comparator": "<=",
            "n": 5000,
            "by_group": {"female": 0.61, "male": 0.73},
        },
        {
            "test": "holdout_accuracy",
            "category": "performance",
            "metric": "accuracy",
            "value": 0.91,
            "threshold": 0.88,
            "comparator": ">=",
            "n": 5000,
        },
        {
            "test": "fgsm_eps_0.03",
            "category": "robustness",
            "metric": "adversarial_accuracy",
            "value": 0.42,
            "threshold": 0.7,
            "comparator": ">=",
            "n": 1000,
            "failures": 580,
        },
    ],
}


def run(data: dict[str, Any]) -> Report:
    return parse(json.dumps(data).encode())


def with_result(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    data["results"][0].update(changes)
    return data


def test_failed_results_are_findings_and_passed_ones_coverage() -> None:
    report = run(EXAMPLE)

    assert report.scan_type == "warden-assessment"
    assert (report.tool, report.tool_version) == ("fairlearn", "0.12.0")
    assert report.metadata == {
        "model": "credit-scoring",
        "model_version": "2.3.0",
        "dataset": "holdout-2026-q1",
        "run_id": "ci-4812",
    }
    dpd, robust = report.findings
    assert dpd.rule_id == "demographic_parity_difference"
    assert dpd.metric_name == "demographic_parity_difference"  # metric defaults to the test
    assert (dpd.metric_value, dpd.comparator, dpd.metric_threshold) == (0.12, "<=", 0.1)
    assert dpd.sample_count == 5000
    assert dpd.severity == "medium"  # fairness, 20 % off
    assert dpd.owasp_ml == []
    assert dpd.evidence["by_group"] == {"female": 0.61, "male": 0.73}
    assert dpd.fingerprint == make(
        "assessment", "fairlearn", "demographic_parity_difference", "demographic_parity_difference"
    )
    assert robust.owasp_ml == ["ML01:2023"]
    assert robust.severity == "medium"  # robustness, 40 % off
    assert (robust.sample_count, robust.failure_count) == (1000, 580)
    [accuracy] = report.passed
    assert (accuracy.rule_id, accuracy.metric_name, accuracy.severity) == (
        "holdout_accuracy",
        "accuracy",
        "info",
    )


@pytest.mark.parametrize(
    ("category", "value", "threshold", "severity"),
    [
        ("fairness", 0.105, 0.1, "low"),  # 5 % off
        ("fairness", 0.2, 0.1, "high"),  # 100 % off
        ("security", 0.5, 0.9, "high"),  # 0.4 / 0.9 = 44 % off
        ("security", 0.3, 0.9, "critical"),  # 67 % off
        ("privacy", 0.62, 0.6, "medium"),
        ("performance", 0.6, 0.9, "low"),  # 33 % off
        ("performance", 0.4, 0.9, "medium"),  # 56 % off
        ("robustness", 0.3, 0.0, "medium"),  # threshold 0: absolute miss 0.3
    ],
)
def test_default_severity_by_category_and_distance(
    category: str, value: float, threshold: float, severity: str
) -> None:
    assert warden_assessment.severity_for(category, value, threshold) == severity


def test_a_given_severity_wins() -> None:
    [finding, *_] = run(with_result(severity="critical")).findings

    assert (finding.severity, finding.raw_severity) == ("critical", "critical")


def test_privacy_names_select_owasp_ml() -> None:
    data = with_result(
        test="membership_inference_auc", category="privacy", value=0.71, threshold=0.6
    )

    finding = run(data).findings[0]

    assert finding.rule_id == "membership_inference_auc"
    assert finding.owasp_ml == ["ML04:2023"]
    assert finding.severity == "high"  # privacy, 18 % off


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            with_result(comparator="=>"),
            "warden-assessment: results[0].comparator: must be one of >=, >, <=, <, ==, !=",
        ),
        (
            {**EXAMPLE, "results": [*EXAMPLE["results"], {"test": "x", "category": "fairness"}]},
            'warden-assessment: results[3]: missing required field "value"',
        ),
        (with_result(treshold=0.2), "warden-assessment: results[0].treshold: unknown field"),
        (with_result(value=True), "warden-assessment: results[0].value: must be a number"),
        (with_result(value="0.12"), "warden-assessment: results[0].value: must be a number"),
        (with_result(category="ethics"), "warden-assessment: results[0].category: must be one of"),
        (with_result(n=-1), "warden-assessment: results[0].n: must be >= 0"),
        (
            with_result(by_group={"a": "x"}),
            "warden-assessment: results[0].by_group.a: must be a number",
        ),
        ({**EXAMPLE, "tool": ""}, "warden-assessment: tool: must not be empty"),
        (
            {k: v for k, v in EXAMPLE.items() if k != "tool"},
            'warden-assessment: missing required field "tool"',
        ),
        (
            {**EXAMPLE, "schema": "warden.assessment/v2"},
            "warden-assessment: schema: unsupported version 'warden.assessment/v2'",
        ),
        (
            {**EXAMPLE, "results": [EXAMPLE["results"][1], EXAMPLE["results"][1]]},
            'warden-assessment: results[1]: duplicate test "holdout_accuracy" with metric '
            '"accuracy" (also results[0])',
        ),
    ],
)
def test_invalid_files_are_rejected_with_the_path(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ReportError) as excinfo:
        parse(json.dumps(data).encode(), scan_type="warden-assessment")

    assert str(excinfo.value).startswith(message)
    assert "\n" not in str(excinfo.value)


def test_several_problems_report_the_first_and_count_the_rest() -> None:
    data = with_result(comparator="=>", value="x")

    with pytest.raises(ReportError, match=r"\(and 1 more problem\(s\)\)$"):
        run(data)


def test_an_empty_results_list_warns() -> None:
    report = run({**EXAMPLE, "results": []})

    assert report.findings == report.passed == []
    assert report.warnings == ["warden-assessment: the report has no results"]


def test_the_published_schema_is_the_one_the_parser_uses() -> None:
    published = json.loads((ROOT / "docs/schemas/warden-assessment-v1.schema.json").read_text())

    assert published == warden_assessment.SCHEMA


def test_the_example_in_the_guide_parses_as_documented() -> None:
    guide = (ROOT / "docs/assessment-json.md").read_text()
    example = re.search(r"```json\n(.*?)```", guide, re.DOTALL)
    assert example is not None

    report = parse(example.group(1).encode())

    assert [f.rule_id for f in report.findings] == [
        "demographic_parity_difference",
        "fgsm_eps_0.03",
    ]
    assert [f.severity for f in report.findings] == ["medium", "medium"]


def test_the_sniffer_takes_any_warden_assessment_version() -> None:
    assert warden_assessment.sniff(Document(json.dumps(EXAMPLE).encode()))
    assert warden_assessment.sniff(Document(b'{"schema": "warden.assessment/v9"}'))
    assert not warden_assessment.sniff(Document(b'{"schema": "warden.runtime/v1"}'))
