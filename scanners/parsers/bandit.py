"""bandit JSON (``bandit -f json``): ``results[]`` with ``test_id``, ``filename``,
``line_number``, ``issue_severity``/``issue_confidence``.

Severity: ``HIGH``/``MEDIUM``/``LOW`` -> high/medium/low (``UNDEFINED`` -> low), the same as
bandit's own SARIF levels. Fingerprint ``("code", "bandit", test_id, file, line)`` with the
file's leading ``./`` dropped, so bandit's JSON and SARIF outputs give the same fingerprint.
Files bandit could not scan (``errors[]``) are listed in ``metadata["errors"]`` and warnings.
"""

from __future__ import annotations

from typing import Any

from scanners import fingerprint
from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._kit import MAX_DESCRIPTION, Collector, Reader, cut, references

SCAN_TYPE = "bandit"
CATEGORY = "code"
DESCRIPTION = "bandit JSON (Python security lint)"

_R = Reader(SCAN_TYPE)
_SEVERITY = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low", "UNDEFINED": "low"}


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict) or "runs" in data:
        return False
    results, metrics = data.get("results"), data.get("metrics")
    if not isinstance(results, list) or not isinstance(metrics, dict):
        return False
    if results:
        first = results[0]
        return isinstance(first, dict) and "test_id" in first and "issue_severity" in first
    return "_totals" in metrics and "generated_at" in data


def _path(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name


def parse(doc: Document) -> Report:
    data = doc.json
    if not isinstance(data, dict):
        _R.fail("", 'expected an object with "results"')
    results = _R.arr(data.get("results"), "results")
    out = Collector()
    for i, raw in enumerate(results):
        where = f"results[{i}]"
        r = _R.obj(raw, where)
        test_id = _R.req_str(r, "test_id", where)
        path = _path(_R.req_str(r, "filename", where))
        line = _R.opt_line(r, "line_number", where)
        sev_raw = _R.opt_str(r, "issue_severity", where)
        confidence = _R.opt_str(r, "issue_confidence", where)
        text = _R.opt_str(r, "issue_text", where)
        test_name = _R.opt_str(r, "test_name", where)
        evidence: dict[str, Any] = {
            "locations": [f"{cut(path, 500)}:{line}" if line else cut(path, 500)],
            "confidence": cut(confidence, 20),
        }
        code = _R.opt_str(r, "code", where)
        if code:
            evidence["snippet"] = cut(code, 2000)
        cwe = r.get("issue_cwe")
        if isinstance(cwe, dict) and isinstance(cwe.get("id"), int):
            evidence["cwes"] = [f"CWE-{cwe['id']}"]
        out.add(
            NormalizedFinding(
                fingerprint=fingerprint.make("code", SCAN_TYPE, test_id, path, line),
                category=CATEGORY,
                tool=SCAN_TYPE,
                rule_id=cut(test_id, 100),
                title=cut(f"{test_id} {test_name}: {text}" if test_name else text or test_id, 500),
                severity=_SEVERITY.get(sev_raw.upper(), "low"),
                description=cut(text, MAX_DESCRIPTION),
                raw_severity=cut(sev_raw, 20),
                file_path=cut(path, 1000),
                line=line,
                references=references([r.get("more_info")]),
                evidence=evidence,
            )
        )
    errors = [
        {
            "filename": cut(str(e.get("filename", "")), 500),
            "reason": cut(str(e.get("reason", "")), 500),
        }
        for e in _R.opt_arr(data, "errors", "")[:1000]
        if isinstance(e, dict)
    ]
    warnings = (
        [f"bandit: {len(errors)} file(s) could not be scanned (see metadata.errors)"]
        if errors
        else []
    )
    metrics = data.get("metrics")
    totals = metrics.get("_totals") if isinstance(metrics, dict) else None
    meta: dict[str, Any] = {
        "errors": errors,
        "generated_at": cut(_R.opt_str(data, "generated_at", ""), 50),
    }
    if isinstance(totals, dict):
        meta["loc"] = totals.get("loc") if isinstance(totals.get("loc"), int) else None
        meta["nosec"] = totals.get("nosec") if isinstance(totals.get("nosec"), int) else None
    return Report(
        tool=SCAN_TYPE,
        tool_version="",
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        findings=out.findings(),
        metadata=meta,
        warnings=warnings,
    )
