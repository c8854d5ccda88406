"""Deepchecks parser. No public fixture exists; the generator below writes what
``SuiteResult.to_json()`` produces: jsonpickle (``unpicklable=False``) of
``{"name", "type": "SuiteResult", "results": [...]}`` where each CheckResult is
``{"type", "check": {"name", "params", "summary"}, "header", "value",
"conditions_results": [{"Status", "Condition", "More Info"}], "display"}`` and each
CheckFailure ``{"header", "type", "check", "exception"}``. Older versions nest each result as
a JSON string. The ``py/object`` keys model what jsonpickle leaves in some values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scanners import ReportError, parse
from scanners.document import Document
from scanners.fingerprint import make
from scanners.parsers import deepchecks


def check_result(
    name: str,
    conditions: list[tuple[str, str, str]],
    *,
    header: str | None = None,
    value: Any = None,
) -> dict[str, Any]:
    return {
        "type": "CheckResult",
        "check": {
            "name": name,
            "params": {"n_top_columns": 5, "py/object": "deepchecks.tabular.checks.Drift"},
            "summary": f"{name} summary. <a href=https://docs.deepchecks.com>Read More...</a>",
        },
        "header": header or name,
        "value": value,
        "conditions_results": [
            {"Status": status, "Condition": condition, "More Info": info}
            for status, condition, info in conditions
        ],
        "display": [{"type": "html", "payload": "<p>plot</p>"}],
    }


def suite(*results: Any, name: str = "Train Test Validation Suite") -> bytes:
    return json.dumps({"name": name, "type": "SuiteResult", "results": list(results)}).encode()


DRIFT = check_result(
    "Feature Drift",
    [
        (
            "FAIL",
            "categorical drift score < 0.2 and numerical drift score < 0.1",
            "Found 2 out of 8 columns with drift",
        ),
        ("PASS", "# of drifted columns <= 3", "Passed for 8 columns"),
    ],
    value={"age": {"Drift score": 0.31, "Method": "Kolmogorov-Smirnov", "py/id": 3}},
)
LEAKAGE = check_result(
    "Train Test Samples Mix",
    [
        (
            "WARN",
            "Percentage of test data samples that appear in train data is less or equal to 5%",
            "7.1%",
        )
    ],
)
PERFORMANCE = check_result(
    "Simple Model Comparison",
    [
        (
            "ERROR",
            "Model performance gain over simple model is greater than 10%",
            "Could not compute",
        )
    ],
)
NO_CONDITIONS = check_result("Feature Label Correlation Change", [])
FAILURE = {
    "header": "Weak Segments Performance",
    "type": "CheckFailure",
    "check": {"name": "Weak Segments Performance", "params": {}, "summary": ""},
    "exception": "DeepchecksValueError: Check requires a model with predict_proba",
}


def test_conditions_become_results_by_status() -> None:
    report = parse(suite(DRIFT, LEAKAGE, PERFORMANCE, NO_CONDITIONS, FAILURE))

    assert report.scan_type == "deepchecks"
    got = [(f.rule_id, f.severity, f.raw_severity) for f in report.findings]
    assert got == [
        (
            "Feature Drift: categorical drift score < 0.2 and numerical drift score < 0.1",
            "medium",
            "FAIL",
        ),
        (
            "Train Test Samples Mix: Percentage of test data samples that appear in train data "
            "is less or equal to 5%",
            "low",
            "WARN",
        ),
        (
            "Simple Model Comparison: Model performance gain over simple model is greater than 10%",
            "medium",
            "ERROR",
        ),
        ("Weak Segments Performance: did not run", "low", "CheckFailure"),
    ]
    [passed] = report.passed
    assert passed.rule_id == "Feature Drift: # of drifted columns <= 3"
    assert passed.severity == "info"
    assert report.metadata == {
        "suite": "Train Test Validation Suite",
        "checks": 5,
        "checks_without_conditions": 1,
        "checks_failed_to_run": 1,
        "conditions": {"FAIL": 1, "PASS": 1, "WARN": 1, "ERROR": 1},
    }
    assert report.warnings == [
        "deepchecks: Weak Segments Performance did not run: DeepchecksValueError: Check "
        "requires a model with predict_proba"
    ]


def test_evidence_keeps_the_condition_detail_and_drops_jsonpickle_tags() -> None:
    drift = parse(suite(DRIFT)).findings[0]

    assert drift.description == "Found 2 out of 8 columns with drift"
    assert drift.evidence["more_info"] == "Found 2 out of 8 columns with drift"
    assert drift.evidence["params"] == {"n_top_columns": 5}
    assert drift.evidence["value"] == {"age": {"Drift score": 0.31, "Method": "Kolmogorov-Smirnov"}}
    assert drift.fingerprint == make(
        "assessment",
        "deepchecks",
        "Feature Drift: categorical drift score < 0.2 and numerical drift score < 0.1",
        "",
    )


def test_older_suites_with_results_as_json_strings() -> None:
    report = parse(
        json.dumps(
            {"name": "Data Integrity", "results": [json.dumps(DRIFT), json.dumps(LEAKAGE)]}
        ).encode()
    )

    assert len(report.findings) == 2
    assert report.metadata["suite"] == "Data Integrity"


def test_a_single_check_result_and_icon_statuses() -> None:
    single = check_result(
        "Mixed Nulls", [("<div style='color: green'>✓</div>", "Not more than 1 null type", "")]
    )

    report = parse(json.dumps(single).encode(), scan_type="deepchecks")

    assert [p.raw_severity for p in report.passed] == ["PASS"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            suite(check_result("X", [("MAYBE", "c", "")])),
            r"^deepchecks: results\[0\]\.conditions_results\[0\]\.Status: expected PASS",
        ),
        (
            suite(check_result("X", [("FAIL", "", "")])),
            r'^deepchecks: results\[0\]\.conditions_results\[0\]: missing "Condition"',
        ),
        (suite("{not json"), r"^deepchecks: results\[0\]: result string is not JSON"),
        (
            suite({"conditions_results": []}),
            r'^deepchecks: results\[0\]: check result without "check.name"',
        ),
    ],
)
def test_malformed_suites_name_the_place(data: bytes, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse(data, scan_type="deepchecks")


def test_the_sniffer() -> None:
    assert deepchecks.sniff(Document(suite(DRIFT)))
    assert deepchecks.sniff(
        Document(json.dumps({"name": "s", "results": [json.dumps(DRIFT)]}).encode())
    )
    assert deepchecks.sniff(Document(json.dumps(DRIFT).encode()))
    assert not deepchecks.sniff(Document(b'{"name": "x", "results": [{"a": 1}]}'))
    assert not deepchecks.sniff(Document(b'{"results": {"results": []}}'))
