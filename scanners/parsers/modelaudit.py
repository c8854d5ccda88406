"""ModelAudit (Promptfoo) JSON report: ``modelaudit scan -f json``.

(Its SARIF output is SARIF and belongs to the SARIF parser.)

- ``issues[]`` -> findings. An issue that names a global (``details.import_reference``,
  ``module`` + ``name``, or ``associated_global``) is ``unsafe-import`` when ModelAudit
  rates it critical/error and ``suspicious-import`` when it rates it warning; the same import
  in the same member found by several ModelAudit checks (REDUCE opcode check, raw content
  detection) becomes one finding listing each. Other issues keep ModelAudit's rule code:
  ``modelaudit/<rule_code>``. Severity: critical -> critical, error -> high,
  warning -> medium; info and debug issues are notices, counted in metadata only.
- ``checks[]`` with status ``passed`` -> ``Report.passed`` (coverage evidence);
  ``skipped`` checks are counted in metadata. Failed checks repeat the issues and add
  nothing.
- ``files_scanned == 0`` -> ``not-scanned``; ``has_errors`` -> a warning.

Locations carry ModelAudit's ``(pos N)`` suffix, dropped for the fingerprint. The JSON has
no tool version field (its SARIF does), so ``tool_version`` stays empty unless one appears.
"""

from __future__ import annotations

from typing import Any

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers import _modelfile_common as mf
from scanners.parsers._fields import Fields, at
from scanners.severity import from_table

SCAN_TYPE = "modelaudit"
CATEGORY = "model_file"
DESCRIPTION = "ModelAudit JSON report (modelaudit scan -f json): model file issues and checks"

_F = Fields(SCAN_TYPE)
_SEVERITY = {"critical": "critical", "error": "high", "warning": "medium"}
_NOTICE = {"info", "debug"}


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict) or "runs" in data:
        return False
    if not isinstance(data.get("issues"), list):
        return False
    return isinstance(data.get("checks"), list) and (
        "bytes_scanned" in data or "scanner_names" in data or "files_scanned" in data
    )


def parse(doc: Document) -> Report:
    data = _F.obj(_F.json(doc), "")
    report = Report(
        tool="modelaudit",
        tool_version=_F.opt_str(data, "modelaudit_version", "") or _F.opt_str(data, "version", ""),
        scan_type=SCAN_TYPE,
        category=CATEGORY,
    )
    assets = [_F.obj(a, at("assets", i)) for i, a in enumerate(_F.opt_arr(data, "assets", ""))]
    default_location = _F.opt_str(assets[0], "path", "assets[0]") if len(assets) == 1 else ""

    findings: list[NormalizedFinding] = []
    notices = 0
    for i, raw in enumerate(_F.arr(_F.req(data, "issues", ""), "issues")):
        where = at("issues", i)
        issue = _F.obj(raw, where)
        raw_severity = _F.opt_str(issue, "severity", where).lower()
        if raw_severity in _NOTICE:
            notices += 1
            continue
        findings.append(_issue(issue, where, raw_severity, default_location))

    skipped: list[str] = []
    for i, raw in enumerate(_F.opt_arr(data, "checks", "")):
        where = at("checks", i)
        check = _F.obj(raw, where)
        status = _F.opt_str(check, "status", where).lower()
        name = _F.opt_str(check, "name", where) or "check"
        if status == "skipped":
            skipped.append(name)
        elif status == "passed":
            location = _F.opt_str(check, "location", where) or default_location
            passed = mf.finding(
                tool="modelaudit",
                rule_id=f"modelaudit-check/{name}",
                tool_rule=name,
                title=f"{name}: passed",
                severity="info",
                location=location,
                description=_F.opt_str(check, "message", where),
                remediation="",
            )
            passed.passed = True
            report.passed.append(passed)

    files_scanned = _F.opt_int(data, "files_scanned", "")
    if files_scanned == 0:
        report.warnings.append("ModelAudit scanned no file: the artifact was not scanned")
        findings.append(
            mf.not_scanned(
                tool="modelaudit",
                tool_rule="files_scanned=0",
                location=default_location,
                reason="ModelAudit scanned no file (unsupported or unreadable input)",
            )
        )
    if data.get("has_errors") is True:
        report.warnings.append("ModelAudit reported errors during the scan (has_errors)")

    report.findings = mf.merge(findings)
    report.passed = _dedupe(report.passed)
    report.target = default_location[:500]  # the one asset scanned, when there is one
    report.metadata = {
        "files_scanned": files_scanned,
        "bytes_scanned": _F.opt_int(data, "bytes_scanned", ""),
        "total_checks": _F.opt_int(data, "total_checks", ""),
        "passed_checks": _F.opt_int(data, "passed_checks", ""),
        "failed_checks": _F.opt_int(data, "failed_checks", ""),
        "skipped_checks": len(skipped),
        "notices": notices,
        "success": data.get("success") if isinstance(data.get("success"), bool) else None,
        "has_errors": data.get("has_errors") is True,
        "scanner_names": [str(s) for s in _F.opt_arr(data, "scanner_names", "")][:50],
        "assets": [
            {
                "path": _F.opt_str(a, "path", "assets"),
                "type": _F.opt_str(a, "type", "assets"),
                "size": _F.opt_int(a, "size", "assets"),
            }
            for a in assets[:200]
        ],
        "content_hash": _F.opt_str(data, "content_hash", ""),
    }
    return report


def _issue(
    issue: dict[str, Any], where: str, raw_severity: str, default_location: str
) -> NormalizedFinding:
    details = _F.opt_obj(issue, "details", where)
    dwhere = at(where, "details")
    location = _F.opt_str(issue, "location", where) or default_location
    message = _F.opt_str(issue, "message", where)
    rule_code = _F.opt_str(issue, "rule_code", where)
    check_type = _F.opt_str(issue, "type", where)
    tool_rule = rule_code or check_type or "issue"
    severity = from_table(raw_severity, _SEVERITY, default="medium")
    import_name = (
        _F.opt_str(details, "import_reference", dwhere)
        or mf.normalize_import(
            _F.opt_str(details, "module", dwhere), _F.opt_str(details, "name", dwhere)
        )
        or _F.opt_str(details, "associated_global", dwhere)
    )
    evidence = {
        "message": message,
        "check_type": check_type,
        "why": _F.opt_str(issue, "why", where),
        "pickle_rule_code": _F.opt_str(details, "pickle_rule_code", dwhere),
        "opcode": _F.opt_str(details, "opcode", dwhere),
        "cve_id": _F.opt_str(details, "cve_id", dwhere),
    }
    evidence = {k: v for k, v in evidence.items() if v}
    if import_name:
        return mf.import_finding(
            tool="modelaudit",
            tool_rule=tool_rule,
            location=location,
            import_name=import_name,
            severity=severity,
            raw_severity=raw_severity,
            suspicious=raw_severity == "warning",
            description=message,
            evidence=evidence,
        )
    cve = evidence.get("cve_id", "")
    return mf.finding(
        tool="modelaudit",
        rule_id=f"modelaudit/{tool_rule}",
        tool_rule=tool_rule,
        title=message[:200] or tool_rule,
        severity=severity,
        location=location,
        raw_severity=raw_severity,
        description=message,
        references=[f"https://www.cve.org/CVERecord?id={cve}"] if cve else (),
        evidence=evidence,
    )


def _dedupe(passed: list[NormalizedFinding]) -> list[NormalizedFinding]:
    seen: set[str] = set()
    out = []
    for p in passed:
        if p.fingerprint not in seen:
            seen.add(p.fingerprint)
            out.append(p)
    return out
