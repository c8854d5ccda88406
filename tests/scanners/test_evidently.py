"""Evidently parser, against Evidently 0.7.21 outputs (snapshot, legacy TestSuite and legacy
Report) of one synthetic data set where age and segment drifted and income did not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanners import ReportError, parse
from scanners.document import Document
from scanners.findings import Report
from scanners.fingerprint import make
from scanners.parsers import evidently

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "evidently"
SNAPSHOT = "snapshot_datadrift_with_tests.json"
SUITE = "legacy_testsuite_datadrift.json"
LEGACY_REPORT = "legacy_report_datadrift.json"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return data


def run(data: dict[str, Any]) -> Report:
    return parse(json.dumps(data).encode(), scan_type="evidently")


def by_id(report: Report) -> dict[str, Any]:
    return {f.rule_id: f for f in [*report.findings, *report.passed]}


def test_the_snapshot_uses_test_statuses_and_bound_metric_values() -> None:
    report = parse((FIXTURES / SNAPSHOT).read_bytes())

    assert report.scan_type == "evidently"
    assert report.metadata["shape"] == "snapshot"
    assert report.metadata["tests"] == {"FAIL": 3, "SUCCESS": 1}
    assert [f.rule_id for f in report.findings] == [
        "drifted_columns",
        "column_drift:age",
        "column_drift:segment",
    ]
    assert [p.rule_id for p in report.passed] == ["column_drift:income"]
    share = report.findings[0]
    assert share.metric_name == "share"
    assert share.metric_value == pytest.approx(2 / 3)
    assert (share.comparator, share.metric_threshold) == ("<", 0.5)
    assert (share.failure_count, share.sample_count) == (2, 3)
    assert share.severity == "medium"
    assert share.raw_severity == "FAIL"
    age = report.findings[1]
    assert age.metric_name == "K-S p_value"
    assert age.metric_value == pytest.approx(1.4582054786325707e-14)
    assert (age.comparator, age.metric_threshold) == (">=", 0.05)  # p-values pass when large
    assert age.fingerprint == make("assessment", "evidently", "column_drift:age", "drift_score")
    assert report.passed[0].metric_value == pytest.approx(0.584980918983971)


def test_the_legacy_test_suite() -> None:
    report = parse((FIXTURES / SUITE).read_bytes())

    assert report.tool_version == "0.7.21"
    assert report.metadata["shape"] == "legacy_test_suite"
    tests = by_id(report)
    share = tests["drifted_columns"]
    assert share.passed is False
    assert share.metric_value == pytest.approx(2 / 3)  # 2 of 3 features detected
    assert (share.comparator, share.metric_threshold) == ("<", 0.3)
    assert (share.failure_count, share.sample_count) == (2, 3)
    segment = tests["column_drift:segment"]
    assert segment.metric_name == "chi-square p_value"
    assert (segment.metric_value, segment.metric_threshold) == (0.0, 0.05)
    assert tests["column_drift:income"].passed is True


def test_the_legacy_report_without_tests_uses_drift_detected() -> None:
    report = parse((FIXTURES / LEGACY_REPORT).read_bytes())

    assert report.metadata["shape"] == "legacy_report"
    assert report.metadata["metrics"] == ["DatasetDriftMetric", "DataDriftTable"]
    assert sorted(f.rule_id for f in report.findings) == [
        "column_drift:age",
        "column_drift:segment",
        "drifted_columns",
    ]
    tests = by_id(report)
    segment = tests["column_drift:segment"]
    assert segment.metric_name == "chi-square p_value"
    assert segment.metric_value == pytest.approx(5.649395593249465e-26)
    assert segment.evidence["column_type"] == "cat"
    dataset = tests["drifted_columns"]
    assert (dataset.metric_threshold, dataset.comparator) == (0.5, "<")
    assert (dataset.failure_count, dataset.sample_count) == (2, 3)
    assert dataset.description == "2 of 3 columns drifted"
    assert tests["column_drift:income"].passed is True


def test_the_same_drift_keeps_its_fingerprint_across_evidently_apis() -> None:
    fingerprints = [
        {f.rule_id: f.fingerprint for f in [*parse((FIXTURES / n).read_bytes()).findings]}
        for n in (SNAPSHOT, SUITE, LEGACY_REPORT)
    ]

    assert fingerprints[0] == fingerprints[1] == fingerprints[2]


def test_warning_is_a_low_finding_and_error_a_medium_one() -> None:
    data = load(SNAPSHOT)
    data["tests"][1]["status"] = "WARNING"
    data["tests"][2]["status"] = "ERROR"

    tests = by_id(run(data))

    assert (tests["column_drift:age"].severity, tests["column_drift:age"].passed) == ("low", False)
    assert tests["column_drift:income"].severity == "medium"
    assert tests["column_drift:income"].raw_severity == "ERROR"


def test_skipped_legacy_tests_are_counted_not_reported() -> None:
    data = load(SUITE)
    data["tests"][3]["status"] = "SKIPPED"

    report = run(data)

    assert "column_drift:income" not in by_id(report)
    assert report.metadata["tests"]["SKIPPED"] == 1


def test_distance_methods_pass_below_the_threshold() -> None:
    data = load(LEGACY_REPORT)
    column = data["metrics"][1]["result"]["drift_by_columns"]["income"]
    column.update(
        stattest_name="Wasserstein distance (normed)", drift_score=0.02, stattest_threshold=0.1
    )

    income = by_id(run(data))["column_drift:income"]

    assert (income.comparator, income.metric_value, income.passed) == ("<", 0.02, True)


def test_other_snapshot_tests_keep_metric_test_and_column_in_their_id() -> None:
    data = load(SNAPSHOT)
    data["metrics"].append(
        {
            "id": "m-missing",
            "metric_name": "MissingValueCount(column=age)",
            "config": {"type": "evidently:metric_v2:MissingValueCount", "column": "age"},
            "value": {"count": 12.0, "share": 0.04},
        }
    )
    data["tests"].append(
        {
            "id": "lte",
            "name": "Missing values in age: Less or equal 0.010",
            "description": "Actual value 0.040 > 0.010",
            "metric_config": {
                "metric_id": "m-missing",
                "params": {"type": "evidently:metric_v2:MissingValueCount", "column": "age"},
            },
            "test_config": {"type": "evidently:test_v2:LessOrEqualMetricTest", "threshold": 0.01},
            "status": "FAIL",
            "bound_test": {"type": "evidently:bound_test:CountBoundTest", "is_count": False},
        }
    )

    missing = by_id(run(data))["MissingValueCount[age]/LessOrEqualMetricTest"]

    assert (missing.metric_value, missing.comparator, missing.metric_threshold) == (
        0.04,
        "<=",
        0.01,
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["tests"][1].pop("status"), r'^evidently: tests\[1\]: missing "status"'),
        (lambda d: d.update(tests="x"), r"^evidently: tests: expected an array"),
        (lambda d: d.update(metrics=[], tests=[]), r'^evidently: no "metrics" or "tests"'),
    ],
)
def test_malformed_reports_name_the_place(mutate: Any, message: str) -> None:
    data = load(SNAPSHOT)
    mutate(data)

    with pytest.raises(ReportError, match=message):
        run(data)


def test_the_sniffer_takes_the_three_shapes_only() -> None:
    for name in (SNAPSHOT, SUITE, LEGACY_REPORT):
        assert evidently.sniff(Document((FIXTURES / name).read_bytes())), name
    assert not evidently.sniff(Document(b'{"metrics": [{"name": "x"}]}'))
    assert not evidently.sniff(Document(b'{"tests": [{"status": "FAIL"}]}'))
