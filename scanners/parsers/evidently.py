"""Evidently reports: the 0.7 snapshot and the legacy ``as_dict()`` shapes.

0.7 snapshot ``{metrics: [{id, metric_name, config, value}], tests: [{..., status}]}``
    One result per test, by its ``status``: FAIL or ERROR -> finding (medium), WARNING ->
    finding (low; Evidently gives non-critical failures this status), SUCCESS -> passed.
    The value comes from the metric the test is bound to (``metric_config.metric_id``).
Legacy ``TestSuite.as_dict()`` ``{tests: [{name, description, status, group, parameters}]}``
    The same status rule; SKIPPED tests are counted in metadata.
Legacy ``Report.as_dict()`` ``{metrics: [{metric, result}]}`` (no tests)
    ``DataDriftTable`` / ``ColumnDriftMetric``: a column with ``drift_detected: true`` is a
    finding (medium), the others passed; ``DatasetDriftMetric`` with ``dataset_drift`` is a
    finding on the drifted-column share. Other metrics have no verdict and are only counted.

Drift is read from Evidently's verdict (status / ``drift_detected``), never recomputed:
p-value methods drift when the score is *below* the threshold, distance methods when it is
*above*. The comparator is written accordingly (``>=`` for p-values, ``<`` otherwise) as
the passing condition. Test ids, shared by all three shapes so the same drift keeps one
fingerprint across Evidently APIs:

- per-column drift: ``column_drift:<column>``, metric ``drift_score``, ``metric_name`` the
  stat test (``K-S p_value``), value the drift score;
- drifted-column share/count: ``drifted_columns``, metric ``share`` (or ``count``);
- any other test: ``<metric type>[<column>]/<test type>`` (snapshot) or
  ``<test name>[<column>]`` (legacy suite), metric the metric type or ``value``.
"""

from __future__ import annotations

from typing import Any

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._assessment_common import assessment_result
from scanners.parsers._fields import Fields, as_number, at

SCAN_TYPE = "evidently"
CATEGORY = "assessment"
DESCRIPTION = "Evidently 0.7 snapshot or legacy Report/TestSuite as_dict() (drift, tests)"

TOOL = "evidently"
_F = Fields(SCAN_TYPE)
_STATUS_SEVERITY = {"FAIL": "medium", "ERROR": "medium", "WARNING": "low"}
_TEST_COMPARATOR = {
    "LessThanMetricTest": "<",
    "LessOrEqualMetricTest": "<=",
    "GreaterThanMetricTest": ">",
    "GreaterOrEqualMetricTest": ">=",
    "EqualMetricTest": "==",
    "NotEqualMetricTest": "!=",
}
_CONDITION_COMPARATOR = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "eq": "==", "not_eq": "!="}
_REMEDIATION = (
    "Compare the current data with the reference for the failing columns; retrain or "
    "recalibrate the model if the shift is real, or fix the data pipeline if it is not."
)


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict):
        return False
    metrics = data.get("metrics")
    tests = data.get("tests")
    if isinstance(metrics, list) and metrics and isinstance(metrics[0], dict):
        first = metrics[0]
        if "metric_name" in first and "config" in first:
            return True
        if isinstance(first.get("metric"), str) and isinstance(first.get("result"), dict):
            return True
    if isinstance(tests, list) and tests and isinstance(tests[0], dict):
        first = tests[0]
        if "status" in first and ("metric_config" in first or "test_config" in first):
            return True
        return "status" in first and "parameters" in first and isinstance(data.get("summary"), dict)
    return False


def parse(doc: Document) -> Report:
    data = _F.obj(_F.json(doc), "")
    version = _F.opt_str(data, "version", "")
    report = Report(tool=TOOL, tool_version=version, scan_type=SCAN_TYPE, category=CATEGORY)
    metrics = _F.opt_arr(data, "metrics", "")
    tests = _F.opt_arr(data, "tests", "")
    first_metric = metrics[0] if metrics and isinstance(metrics[0], dict) else {}
    first_test = tests[0] if tests and isinstance(tests[0], dict) else {}
    if (
        "metric_name" in first_metric
        or "metric_config" in first_test
        or "test_config" in first_test
    ):
        shape = "snapshot"
        _snapshot(report, metrics, tests)
    elif tests:
        shape = "legacy_test_suite"
        _legacy_suite(report, tests)
    elif metrics:
        shape = "legacy_report"
        _legacy_report(report, metrics)
    else:
        _F.fail("", 'no "metrics" or "tests" to read')
    report.metadata.update({"shape": shape, "timestamp": _F.opt_str(data, "timestamp", "")})
    name = data.get("name")  # a snapshot saved with a name; the legacy shapes have none
    if isinstance(name, str):
        report.target = name[:500]
    if not report.findings and not report.passed:
        report.warnings.append("evidently: the report has no test or drift verdict to import")
    return report


# -- 0.7 snapshot ----------------------------------------------------------------------------


def _snapshot(report: Report, metrics: list[Any], tests: list[Any]) -> None:
    values: dict[str, Any] = {}
    for i, raw in enumerate(metrics):
        metric = _F.obj(raw, at("metrics", i))
        metric_id = metric.get("id")
        if isinstance(metric_id, str):
            values[metric_id] = metric.get("value")
    counts: dict[str, int] = {}
    for i, raw in enumerate(tests):
        where = at("tests", i)
        test = _F.obj(raw, where)
        status = _F.req_str(test, "status", where).upper()
        counts[status] = counts.get(status, 0) + 1
        metric_config = _F.opt_obj(test, "metric_config", where)
        params = _F.opt_obj(metric_config, "params", at(where, "metric_config"))
        test_config = _F.opt_obj(test, "test_config", where)
        bound = _F.opt_obj(test, "bound_test", where)
        bound_test = _F.opt_obj(bound, "test", at(where, "bound_test"))
        metric_type = _short(params.get("type"))
        test_type = _short(test_config.get("type") or bound_test.get("type"))
        column = params.get("column") if isinstance(params.get("column"), str) else ""
        metric_id = metric_config.get("metric_id") or bound.get("metric_fingerprint")
        value = values.get(metric_id) if isinstance(metric_id, str) else None
        is_count = bound.get("is_count") is True
        name = _F.opt_str(test, "name", where)
        description = _F.opt_str(test, "description", where)
        if metric_type == "ValueDrift":
            method = _F.opt_str(params, "method", at(where, "metric_config.params"))
            result = _drift_result(
                column or name,
                method,
                as_number(value),
                as_number(params.get("threshold")),
                status,
                title=name,
                description=description,
            )
        else:
            drifted: int | None = None
            columns: int | None = None
            if isinstance(value, dict):
                count, share = as_number(value.get("count")), as_number(value.get("share"))
                if metric_type == "DriftedColumnsCount" and count is not None and share:
                    drifted, columns = int(count), round(count / share)
                value = value.get("count" if is_count else "share", value.get("value"))
            measure = (
                ("count" if is_count else "share") if metric_type == "DriftedColumnsCount" else ""
            )
            threshold = as_number(test_config.get("threshold"))
            if threshold is None:
                threshold = as_number(bound_test.get("threshold"))
            test_id = (
                "drifted_columns"
                if metric_type == "DriftedColumnsCount"
                else f"{metric_type}[{column}]/{test_type}"
                if column
                else f"{metric_type}/{test_type}"
            )
            result = _status_result(
                test_id,
                measure or metric_type,
                status,
                value=as_number(value),
                threshold=threshold,
                comparator=_TEST_COMPARATOR.get(test_type, ""),
                title=name or test_id,
                description=description,
                sample_count=columns,
                failure_count=drifted,
                evidence={"test_type": test_type, "metric": metric_type, "column": column},
            )
        _add(report, result)
    report.metadata["tests"] = counts
    report.metadata["metrics"] = len(metrics)


# -- legacy TestSuite.as_dict() ----------------------------------------------------------------


def _legacy_suite(report: Report, tests: list[Any]) -> None:
    counts: dict[str, int] = {}
    for i, raw in enumerate(tests):
        where = at("tests", i)
        test = _F.obj(raw, where)
        status = _F.req_str(test, "status", where).upper()
        counts[status] = counts.get(status, 0) + 1
        name = _F.req_str(test, "name", where)
        description = _F.opt_str(test, "description", where)
        params = _F.opt_obj(test, "parameters", where)
        pwhere = at(where, "parameters")
        column = _F.opt_str(params, "column_name", pwhere)
        condition = _F.opt_obj(params, "condition", pwhere)
        comparator, threshold = _condition(condition)
        features = _F.opt_obj(params, "features", pwhere)
        if "stattest" in params and column:
            result = _drift_result(
                column,
                _F.opt_str(params, "stattest", pwhere),
                _F.opt_num(params, "score", pwhere),
                _F.opt_num(params, "threshold", pwhere),
                status,
                title=name if column in name else f"{name}: {column}",
                description=description,
            )
        elif features and name.lower().startswith(("share of drifted", "number of drifted")):
            detected = sum(
                1 for f in features.values() if isinstance(f, dict) and f.get("detected")
            )
            share = name.lower().startswith("share")
            value = detected / len(features) if share else float(detected)
            result = _status_result(
                "drifted_columns",
                "share" if share else "count",
                status,
                value=value,
                threshold=threshold,
                comparator=comparator,
                title=name,
                description=description,
                sample_count=len(features),
                failure_count=detected,
                evidence={"features": features},
            )
        else:
            test_id = f"{name}[{column}]" if column else name
            result = _status_result(
                test_id,
                "value",
                status,
                value=_F.opt_num(params, "value", pwhere),
                threshold=threshold,
                comparator=comparator,
                title=name,
                description=description,
                evidence={"group": _F.opt_str(test, "group", where), "parameters": params},
            )
        _add(report, result)
    report.metadata["tests"] = counts


# -- legacy Report.as_dict() ---------------------------------------------------------------


def _legacy_report(report: Report, metrics: list[Any]) -> None:
    names: list[str] = []
    dataset: tuple[bool, float | None, float | None, int | None, int | None] | None = None
    for i, raw in enumerate(metrics):
        where = at("metrics", i)
        metric = _F.obj(raw, where)
        name = _F.req_str(metric, "metric", where)
        names.append(name)
        result = _F.opt_obj(metric, "result", where)
        rwhere = at(where, "result")
        if name == "DataDriftTable":
            columns = _F.opt_obj(result, "drift_by_columns", rwhere)
            for column, raw_col in columns.items():
                _add(
                    report,
                    _legacy_column(
                        _F.obj(raw_col, at(rwhere, f"drift_by_columns.{column}")), column
                    ),
                )
            if dataset is None and isinstance(result.get("dataset_drift"), bool):
                dataset = (
                    result["dataset_drift"],
                    _F.opt_num(result, "share_of_drifted_columns", rwhere),
                    None,
                    _F.opt_int(result, "number_of_drifted_columns", rwhere),
                    _F.opt_int(result, "number_of_columns", rwhere),
                )
        elif name == "ColumnDriftMetric":
            column = _F.opt_str(result, "column_name", rwhere)
            _add(report, _legacy_column(result, column))
        elif name == "DatasetDriftMetric" and isinstance(result.get("dataset_drift"), bool):
            dataset = (
                result["dataset_drift"],
                _F.opt_num(result, "share_of_drifted_columns", rwhere),
                _F.opt_num(result, "drift_share", rwhere),
                _F.opt_int(result, "number_of_drifted_columns", rwhere),
                _F.opt_int(result, "number_of_columns", rwhere),
            )
    if dataset is not None:
        drifted, share, limit, n_drifted, n_columns = dataset
        _add(
            report,
            _status_result(
                "drifted_columns",
                "share",
                "FAIL" if drifted else "SUCCESS",
                value=share,
                threshold=limit,
                comparator="<" if limit is not None else "",
                title="Dataset drift" if drifted else "No dataset drift",
                description=(
                    f"{n_drifted} of {n_columns} columns drifted"
                    if n_drifted is not None and n_columns is not None
                    else ""
                ),
                sample_count=n_columns,
                failure_count=n_drifted,
                evidence={},
            ),
        )
    report.metadata["metrics"] = names


def _legacy_column(result: dict[str, Any], column: str) -> NormalizedFinding:
    where = f"column {column}"
    drifted = result.get("drift_detected")
    if not isinstance(drifted, bool):
        _F.fail(where, 'missing "drift_detected"')
    stattest = _F.opt_str(result, "stattest_name", where)
    return _drift_result(
        column,
        stattest,
        _F.opt_num(result, "drift_score", where),
        _F.opt_num(result, "stattest_threshold", where),
        "FAIL" if drifted else "SUCCESS",
        title=f"Drift in column {column}" if drifted else f"No drift in column {column}",
        description=f"{stattest}: drift score {result.get('drift_score')}, threshold "
        f"{result.get('stattest_threshold')}",
        column_type=_F.opt_str(result, "column_type", where),
    )


# -- shared ----------------------------------------------------------------------------------


def _drift_result(
    column: str,
    method: str,
    score: float | None,
    threshold: float | None,
    status: str,
    *,
    title: str,
    description: str,
    column_type: str = "",
) -> NormalizedFinding:
    comparator = ">=" if "p_value" in method.lower().replace("-", "_") else "<"
    evidence: dict[str, Any] = {"column": column, "stattest": method}
    if column_type:
        evidence["column_type"] = column_type
    return _status_result(
        f"column_drift:{column}",
        "drift_score",
        status,
        metric_name=method or "drift_score",
        value=score,
        threshold=threshold,
        comparator=comparator if threshold is not None else "",
        title=title,
        description=description,
        evidence=evidence,
    )


def _status_result(
    test_id: str,
    metric: str,
    status: str,
    *,
    value: float | None,
    threshold: float | None,
    comparator: str,
    title: str,
    description: str,
    evidence: dict[str, Any],
    metric_name: str | None = None,
    sample_count: int | None = None,
    failure_count: int | None = None,
) -> NormalizedFinding:
    passed = status == "SUCCESS"
    return assessment_result(
        tool=TOOL,
        test_id=test_id,
        metric=metric,
        metric_name=metric_name,
        metric_value=value,
        threshold=threshold,
        comparator=comparator,
        title=title,
        passed=passed,
        severity=_STATUS_SEVERITY.get(status, "medium"),
        raw_severity=status,
        sample_count=sample_count,
        failure_count=failure_count,
        description=description,
        remediation=_REMEDIATION,
        evidence={**evidence, "status": status},
    )


def _add(report: Report, result: NormalizedFinding) -> None:
    """File a result; SKIPPED tests and repeats of a fingerprint (a column in both
    DataDriftTable and ColumnDriftMetric) are left out."""
    if result.raw_severity == "SKIPPED":
        return
    if any(r.fingerprint == result.fingerprint for r in (*report.findings, *report.passed)):
        return
    (report.passed if result.passed else report.findings).append(result)


def _condition(condition: dict[str, Any]) -> tuple[str, float | None]:
    for key, comparator in _CONDITION_COMPARATOR.items():
        if key in condition:
            return comparator, as_number(condition[key])
    return "", None


def _short(type_name: Any) -> str:
    """``ValueDrift`` from ``evidently:metric_v2:ValueDrift``."""
    return str(type_name).rsplit(":", 1)[-1] if isinstance(type_name, str) else ""
