"""Deepchecks ``SuiteResult.to_json()`` / ``CheckResult.to_json()``.

The export is jsonpickle output (``unpicklable=False``). It is read as plain JSON with
orjson and never unpickled: ``py/*`` keys (jsonpickle's type tags) are ignored, and nothing
in the document is imported or called. Shapes read:

- suite: ``{"name", "type": "SuiteResult", "results": [...]}``; older versions store each
  result as a JSON *string* inside ``results``, which is decoded the same way;
- ``CheckResult``: ``{"type": "CheckResult", "check": {"name", "params", "summary"},
  "header", "value", "conditions_results": [{"Status", "Condition", "More Info"}],
  "display"}`` (also accepted on its own, without a suite);
- ``CheckFailure``: ``{"type": "CheckFailure", "header", "check", "exception"}``.

Each condition result is one test, id ``<check name>: <condition>``: Status FAIL or ERROR
-> finding (medium), WARN -> finding (low), PASS -> ``Report.passed``. A check that failed
to run (``CheckFailure``) is a low finding ``<check name>: did not run`` plus a warning: its
conditions were never evaluated. Checks without conditions have no verdict and are only
counted. Conditions have no numeric metric in this export; the condition text (with its
threshold) and "More Info" go into the title and evidence, a short rendering of the check
value into evidence.
"""

from __future__ import annotations

from typing import Any

import orjson

from scanners.document import Document
from scanners.findings import Report
from scanners.parsers._assessment_common import assessment_result
from scanners.parsers._fields import Fields, at

SCAN_TYPE = "deepchecks"
CATEGORY = "assessment"
DESCRIPTION = "Deepchecks SuiteResult/CheckResult to_json() (jsonpickle, read as plain JSON)"

TOOL = "deepchecks"
_F = Fields(SCAN_TYPE)
_STATUS = {"FAIL": "medium", "ERROR": "medium", "WARN": "low"}
_ICONS = (("✓", "PASS"), ("✖", "FAIL"), ("✗", "FAIL"), ("!", "WARN"))
_REMEDIATION = (
    "Open the check's display in Deepchecks for the failing condition, fix the data or model "
    "issue it points at (drift, leakage, integrity, performance) and re-run the suite."
)


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict):
        return False
    kind = data.get("type")
    if kind == "SuiteResult" and isinstance(data.get("results"), list):
        return True
    if kind in ("CheckResult", "CheckFailure") and isinstance(data.get("check"), dict):
        return True
    results = data.get("results")
    if isinstance(data.get("name"), str) and isinstance(results, list) and results:
        first = results[0]
        if isinstance(first, dict):
            return isinstance(first.get("check"), dict) and (
                "conditions_results" in first or "exception" in first
            )
        return isinstance(first, str) and '"conditions_results"' in first[:100000]
    return isinstance(data.get("check"), dict) and "conditions_results" in data


def parse(doc: Document) -> Report:
    data = _decode(_F.json(doc), "")
    report = Report(tool=TOOL, tool_version="", scan_type=SCAN_TYPE, category=CATEGORY)
    if data.get("type") in ("CheckResult", "CheckFailure") or "results" not in data:
        items: list[tuple[str, Any]] = [("", data)]
        suite = ""
    else:
        suite = _F.opt_str(data, "name", "")
        items = [(at("results", i), r) for i, r in enumerate(_F.arr(data["results"], "results"))]
    statuses: dict[str, int] = {}
    checks = without_conditions = failures = 0
    for where, raw in items:
        item = _decode(raw, where)
        checks += 1
        check = _F.opt_obj(item, "check", where)
        name = _F.opt_str(check, "name", at(where, "check")) or _F.opt_str(item, "header", where)
        if not name:
            _F.fail(where, 'check result without "check.name" or "header"')
        header = _F.opt_str(item, "header", where) or name
        if item.get("type") == "CheckFailure" or (
            "exception" in item and "conditions_results" not in item
        ):
            failures += 1
            exception = _F.opt_str(item, "exception", where)
            report.warnings.append(f"deepchecks: {header} did not run: {exception[:200]}")
            report.findings.append(
                assessment_result(
                    tool=TOOL,
                    test_id=f"{name}: did not run",
                    metric="",
                    title=f"Deepchecks {header}: the check did not run",
                    passed=False,
                    severity="low",
                    raw_severity="CheckFailure",
                    description=exception,
                    remediation="Fix the error that stopped the check and re-run the suite.",
                    evidence={"check": name, "exception": exception},
                )
            )
            continue
        conditions = _F.opt_arr(item, "conditions_results", where)
        if not conditions:
            without_conditions += 1
            continue
        value = _clean(item.get("value"))
        for j, raw_cond in enumerate(conditions):
            cwhere = at(at(where, "conditions_results"), j)
            cond = _F.obj(raw_cond, cwhere)
            status = _status(_F.opt_str(cond, "Status", cwhere))
            condition = _F.opt_str(cond, "Condition", cwhere)
            if not status:
                _F.fail(at(cwhere, "Status"), "expected PASS, WARN, FAIL or ERROR")
            if not condition:
                _F.fail(cwhere, 'missing "Condition"')
            statuses[status] = statuses.get(status, 0) + 1
            info = _F.opt_str(cond, "More Info", cwhere)
            passed = status == "PASS"
            result = assessment_result(
                tool=TOOL,
                test_id=f"{name}: {condition}",
                metric="",
                title=f"Deepchecks {header}: {condition}",
                passed=passed,
                severity=_STATUS.get(status, "medium"),
                raw_severity=status,
                description=info,
                remediation=_REMEDIATION,
                evidence={
                    "check": name,
                    "condition": condition,
                    "status": status,
                    "more_info": info,
                    "params": _clean(check.get("params")),
                    "summary": _F.opt_str(check, "summary", at(where, "check"))[:1000],
                    "value": value,
                },
            )
            (report.passed if passed else report.findings).append(result)
    report.target = suite[:500]  # the suite that ran, when the result names one
    report.metadata = {
        "suite": suite,
        "checks": checks,
        "checks_without_conditions": without_conditions,
        "checks_failed_to_run": failures,
        "conditions": statuses,
    }
    return report


def _decode(raw: Any, where: str) -> dict[str, Any]:
    """A result as a dict: older suites nest each result as a JSON string."""
    if isinstance(raw, str):
        try:
            raw = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            _F.fail(where, f"result string is not JSON ({exc.msg})")
    return _F.obj(raw, where)


def _status(text: str) -> str:
    """PASS / WARN / FAIL / ERROR from the enum value, or from an HTML icon in older ones."""
    upper = text.strip().upper()
    if upper in ("PASS", "WARN", "FAIL", "ERROR"):
        return upper
    for icon, status in _ICONS:
        if icon in text:
            return status
    return ""


def _clean(value: Any, depth: int = 0) -> Any:
    """The value with jsonpickle ``py/*`` keys dropped, cut to a small rendering."""
    if depth > 4:
        return "…"
    if isinstance(value, dict):
        return {
            str(k): _clean(v, depth + 1)
            for k, v in list(value.items())[:50]
            if not str(k).startswith("py/")
        }
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value[:50]]
    if isinstance(value, str):
        return value[:1000]
    return value
