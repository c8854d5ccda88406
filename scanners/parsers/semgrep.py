"""semgrep JSON (``semgrep --json``): ``results[]`` with ``check_id``, ``path``, ``start``,
``extra.{message, severity, metadata, fingerprint}``.

Severity: ``ERROR``/``WARNING``/``INFO`` (and the newer ``CRITICAL``/``HIGH``/``MEDIUM``/
``LOW``) -> critical/high/medium/low; ``INFO`` -> low, ``INVENTORY``/``EXPERIMENT`` -> info.
Fingerprint: semgrep's own ``extra.fingerprint`` (with rule and path) when it gives a real one,
else ``(tool, rule id, file, line)``. Ignored results (``extra.is_ignored``, ``nosemgrep``)
are not findings; they are counted in metadata. ``errors[]`` become warnings.
"""

from __future__ import annotations

from typing import Any

from scanners import fingerprint
from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._kit import MAX_DESCRIPTION, Collector, Reader, as_list, cut, references

SCAN_TYPE = "semgrep"
CATEGORY = "code"
DESCRIPTION = "semgrep JSON (static analysis rules)"

_R = Reader(SCAN_TYPE)
_SEVERITY = {
    "CRITICAL": "critical",
    "ERROR": "high",
    "HIGH": "high",
    "WARNING": "medium",
    "MEDIUM": "medium",
    "INFO": "low",
    "LOW": "low",
    "INVENTORY": "info",
    "EXPERIMENT": "info",
}
_NO_FINGERPRINT = "requires login"


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict) or "runs" in data or "metrics" in data:
        return False
    results, errors = data.get("results"), data.get("errors")
    if not isinstance(results, list) or not isinstance(errors, list):
        return False
    if results:
        first = results[0]
        return isinstance(first, dict) and "check_id" in first and "extra" in first
    return "paths" in data and ("version" in data or "skipped_rules" in data)


def parse(doc: Document) -> Report:
    data = doc.json
    if not isinstance(data, dict):
        _R.fail("", 'expected an object with "results"')
    results = _R.arr(data.get("results"), "results")
    out = Collector()
    ignored = 0
    for i, raw in enumerate(results):
        where = f"results[{i}]"
        r = _R.obj(raw, where)
        rule = _R.req_str(r, "check_id", where)
        path = _R.req_str(r, "path", where)
        start = _R.opt_obj(r, "start", where)
        line = _R.opt_line(start, "line", f"{where}.start")
        extra = _R.opt_obj(r, "extra", where)
        ewhere = f"{where}.extra"
        if extra.get("is_ignored") is True:
            ignored += 1
            continue
        sev_raw = _R.opt_str(extra, "severity", ewhere)
        message = _R.opt_str(extra, "message", ewhere)
        meta = _R.opt_obj(extra, "metadata", ewhere)
        tool_fp = _R.opt_str(extra, "fingerprint", ewhere)
        if tool_fp and _NO_FINGERPRINT not in tool_fp:
            fp = fingerprint.make("code", SCAN_TYPE, rule, path, f"fingerprint={tool_fp}")
        else:
            fp = fingerprint.make("code", SCAN_TYPE, rule, path, line)
        evidence: dict[str, Any] = {
            "locations": [f"{cut(path, 500)}:{line}" if line else cut(path, 500)]
        }
        lines = _R.opt_str(extra, "lines", ewhere)
        if lines and _NO_FINGERPRINT not in lines:
            evidence["snippet"] = cut(lines, 2000)
        for key in ("cwe", "owasp", "confidence", "likelihood", "impact", "category"):
            value = meta.get(key)
            if isinstance(value, str):
                evidence[key] = cut(value, 200)
            elif isinstance(value, list):
                evidence[key] = [cut(v, 200) for v in value[:10] if isinstance(v, str)]
        refs: list[Any] = list(as_list(meta.get("references")))
        refs.append(meta.get("source"))
        refs.append(meta.get("source-rule-url"))
        first_line = message.strip().splitlines()[0] if message.strip() else rule
        out.add(
            NormalizedFinding(
                fingerprint=fp,
                category=CATEGORY,
                tool=SCAN_TYPE,
                rule_id=cut(rule, 300),
                title=cut(first_line, 500),
                severity=_SEVERITY.get(sev_raw.upper(), "medium"),
                description=cut(message, MAX_DESCRIPTION),
                raw_severity=cut(sev_raw, 20),
                file_path=cut(path, 1000),
                line=line,
                references=references(refs),
                remediation=cut(_R.opt_str(extra, "fix", ewhere), 2000),
                evidence=evidence,
            )
        )
    errors = [e for e in _R.opt_arr(data, "errors", "") if isinstance(e, dict)]
    warnings = (
        [f"semgrep: {len(errors)} error(s) during the scan (see metadata.errors)"] if errors else []
    )
    return Report(
        tool=SCAN_TYPE,
        tool_version=cut(_R.opt_str(data, "version", ""), 50),
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        findings=out.findings(),
        metadata={
            "ignored": ignored,
            "errors": [
                {
                    k: cut(str(e.get(k, "")), 500)
                    for k in ("type", "level", "message", "path")
                    if k in e
                }
                for e in errors[:200]
            ],
        },
        warnings=warnings,
    )
