"""Safety JSON: ``safety check --json`` (Safety 2.x, and the bare list of 1.x) and
``safety scan --output json`` (Safety 3.x, report schema 3.0).

2.x: ``{report_meta, scanned_packages, vulnerabilities: [{vulnerability_id, package_name,
analyzed_version, vulnerable_spec, advisory, CVE, severity, fixed_versions, ignored, ...}],
ignored_vulnerabilities: [...]}``. 1.x: ``[[name, spec, version, advisory, id, ...]]``.
3.x: ``{meta, scan_results: {projects: [{location, files: [{location, results:
{dependencies: [{name, specifications: [{raw, vulnerabilities: {known_vulnerabilities:
[{id, ignored, vulnerable_spec}], remediation}}]}]}}]}], files: [...]}}`` (it names no CVE
or severity: those need Safety's platform).

- Fingerprint: ``("pypi", package, canonical id of the CVE and the Safety id)``, so a Safety
  2.x finding with a CVE matches pip-audit's, OSV-Scanner's and the others'.
- Severity: the CVSS v3 (else v2) base score Safety gives, else ``medium`` (unrated).
- Ignored vulnerabilities (a policy file, ``--ignore``, a severity threshold) are kept in
  the ``risk_accepted`` state with Safety's reason as justification.
"""

from __future__ import annotations

from typing import Any

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._fields import Lenient, at
from scanners.parsers._kit import (
    MAX_DESCRIPTION,
    UNRATED,
    Collector,
    DependencyIds,
    Reader,
    canonical,
    cut,
    cvss_score,
    pick_fix,
    references,
)
from scanners.severity import from_cvss

SCAN_TYPE = "safety"
CATEGORY = "dependency"
DESCRIPTION = "Safety JSON (safety check --json 1.x/2.x, safety scan --output json 3.x)"

_R = Reader(SCAN_TYPE)


def sniff(doc: Document) -> bool:
    data = doc.json
    if isinstance(data, dict):
        if isinstance(data.get("report_meta"), dict) and "vulnerabilities" in data:
            return True
        meta = data.get("meta")
        return (
            isinstance(meta, dict)
            and isinstance(data.get("scan_results"), dict)
            and ("schema_version" in meta or "scan_type" in meta)
        )
    if isinstance(data, list) and data:
        return _is_v1_row(data[0])
    return False


def _is_v1_row(row: Any) -> bool:
    return (
        isinstance(row, list)
        and len(row) >= 5
        and all(isinstance(v, str) or v is None for v in row[:5])
        and isinstance(row[0], str)
        and isinstance(row[4], str)
    )


class _Ctx:
    __slots__ = ("ids", "loose", "out", "states")

    def __init__(self) -> None:
        self.ids = DependencyIds()
        self.loose = Lenient(SCAN_TYPE)
        self.out = Collector()
        self.states: dict[str, int] = {}

    def add(self, finding: NormalizedFinding) -> None:
        if finding.state:
            self.states[finding.state] = self.states.get(finding.state, 0) + 1
        self.out.add(finding)


def parse(doc: Document) -> Report:
    data = doc.json
    ctx = _Ctx()
    meta: dict[str, Any] = {}
    version, target = "", ""
    if isinstance(data, list):
        meta["shape"] = "1.x"
        for i, row in enumerate(data):
            if not _is_v1_row(row):
                _R.fail(f"[{i}]", "expected [package, spec, version, advisory, id, ...]")
            _v1(ctx, row)
    elif isinstance(data, dict) and "report_meta" in data:
        meta["shape"] = "2.x"
        report_meta = ctx.loose.obj(data, "report_meta", "")
        version = ctx.loose.text(report_meta, "safety_version", "report_meta")
        scanned = ctx.loose.texts(report_meta, "scanned", "report_meta")
        target = "; ".join(scanned) or ctx.loose.text(report_meta, "scan_target", "report_meta")
        packages = report_meta.get("packages_found")
        if isinstance(packages, int):
            meta["packages"] = packages
        for key in ("vulnerabilities", "ignored_vulnerabilities"):
            for i, raw in enumerate(ctx.loose.arr(data, key, "")):
                _v2(ctx, _R.obj(raw, f"{key}[{i}]"), f"{key}[{i}]", key != "vulnerabilities")
    elif isinstance(data, dict) and "scan_results" in data:
        meta["shape"] = "3.x"
        info = ctx.loose.obj(data, "meta", "")
        telemetry = ctx.loose.obj(info, "telemetry", "meta")
        version = ctx.loose.text(telemetry, "safety_version", "meta.telemetry")
        locations = ctx.loose.texts(info, "scan_locations", "meta")
        results = ctx.loose.obj(data, "scan_results", "")
        for pi, raw in enumerate(ctx.loose.arr(results, "projects", "scan_results")):
            pwhere = f"scan_results.projects[{pi}]"
            project = _R.obj(raw, pwhere)
            target = target or ctx.loose.text(project, "location", pwhere)
            for fi, file in enumerate(ctx.loose.arr(project, "files", pwhere)):
                _v3_file(ctx, _R.obj(file, f"{pwhere}.files[{fi}]"), f"{pwhere}.files[{fi}]")
        for fi, file in enumerate(ctx.loose.arr(results, "files", "scan_results")):
            _v3_file(ctx, _R.obj(file, f"scan_results.files[{fi}]"), f"scan_results.files[{fi}]")
        target = target or "; ".join(locations)
    else:
        _R.fail("", 'expected a Safety report ("report_meta", "scan_results" or a list)')
    if ctx.states:
        meta["states"] = dict(sorted(ctx.states.items()))
    return Report(
        tool=SCAN_TYPE,
        tool_version=cut(version, 100),
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        findings=ctx.out.findings(),
        metadata=meta,
        warnings=ctx.loose.notes.all(),
        target=cut(target, 500),
    )


def _finding(
    ctx: _Ctx,
    *,
    safety_id: str,
    package: str,
    version: str,
    cve: str,
    advisory: str,
    spec: str,
    fixes: list[str],
    score: float | None,
    raw_severity: str,
    urls: list[Any],
    file_path: str = "",
    state: str = "",
    justification: str = "",
) -> NormalizedFinding:
    eco = ctx.ids.ecosystem("pypi")
    vid, others = canonical(cve or safety_id, [safety_id] if cve else [])
    fixed = pick_fix(version, fixes)
    evidence: dict[str, Any] = {"vulnerable_spec": cut(spec, 500)}
    if file_path:
        evidence["locations"] = [cut(file_path, 500)]
    return NormalizedFinding(
        fingerprint=ctx.ids.fingerprint(eco, package, vid),
        category=CATEGORY,
        tool=SCAN_TYPE,
        rule_id=cut(safety_id, 200),
        title=cut(f"{vid} in {package} {version}".strip(), 500),
        severity=from_cvss(score) if score is not None else UNRATED,
        description=cut(advisory, MAX_DESCRIPTION),
        raw_severity=cut(raw_severity, 50),
        cvss_score=score,
        vuln_id=cut(vid, 200),
        aliases=others,
        package=cut(package, 500),
        package_version=cut(version, 200),
        fixed_version=cut(fixed, 200),
        ecosystem=eco,
        purl=f"pkg:pypi/{ctx.ids.package(package, eco)}@{version}" if version else "",
        file_path=cut(file_path, 1000),
        references=references(urls),
        remediation=f"Upgrade {package} to {fixed} or later." if fixed else "",
        evidence=evidence,
        state=state,
        justification=justification,
    )


def _v1(ctx: _Ctx, row: list[Any]) -> None:
    name, spec, version, advisory, safety_id = (str(v or "") for v in row[:5])
    cve = _cve(row[5] if len(row) > 5 and isinstance(row[5], str) else "")
    ctx.add(
        _finding(
            ctx,
            safety_id=safety_id,
            package=name,
            version=version,
            cve=cve,
            advisory=advisory,
            spec=spec,
            fixes=[],
            score=None,
            raw_severity="",
            urls=[],
        )
    )


def _cve(text: str) -> str:
    return text.strip() if text.strip().upper().startswith("CVE-") else ""


def _v2(ctx: _Ctx, vuln: dict[str, Any], where: str, ignored_list: bool) -> None:
    loose = ctx.loose
    safety_id = loose.text(vuln, "vulnerability_id", where)
    package = loose.text(vuln, "package_name", where)
    if not safety_id or not package:
        _R.fail(where, 'missing "vulnerability_id" or "package_name"')
    spec = vuln.get("vulnerable_spec")
    spec_text = ", ".join(s for s in spec if isinstance(s, str)) if isinstance(spec, list) else ""
    spec_text = spec_text or (spec if isinstance(spec, str) else "")
    score, raw = None, ""
    severity = vuln.get("severity")
    if isinstance(severity, dict):
        for key in ("cvssv3", "cvssv2"):
            entry = severity.get(key)
            if isinstance(entry, dict):
                score = cvss_score(entry.get("base_score"))
                if score is not None:
                    raw = str(entry.get("base_severity") or score)
                    break
    ignored = vuln.get("ignored")
    state, justification = "", ""
    if ignored_list or (ignored not in (None, False, {}, "")):
        reason = loose.text(vuln, "ignored_reason", where)
        expires = loose.text(vuln, "ignored_expires", where)
        if isinstance(ignored, dict):
            reason = reason or str(ignored.get("reason") or "")
            expires = expires or str(ignored.get("expires") or "")
        state = "risk_accepted"
        justification = reason or "ignored in the Safety policy"
        if expires:
            justification += f" (until {expires})"
    ctx.add(
        _finding(
            ctx,
            safety_id=safety_id,
            package=package,
            version=loose.text(vuln, "analyzed_version", where),
            cve=_cve(loose.text(vuln, "CVE", where)),
            advisory=loose.text(vuln, "advisory", where),
            spec=spec_text,
            fixes=[f for f in loose.texts(vuln, "fixed_versions", where) if f],
            score=score,
            raw_severity=raw,
            urls=[vuln.get("more_info_url"), *loose.texts(vuln, "resources", where)],
            state=state,
            justification=cut(justification, 2000),
        )
    )


def _pinned(raw: str) -> str:
    """The version a requirement pins (``django==3.2`` -> ``3.2``), else ""."""
    _, sep, version = raw.partition("==")
    return version.split(";")[0].split(",")[0].strip() if sep else ""


def _v3_file(ctx: _Ctx, file: dict[str, Any], where: str) -> None:
    loose = ctx.loose
    location = loose.text(file, "location", where)
    results = loose.obj(file, "results", where)
    for di, raw in enumerate(loose.arr(results, "dependencies", at(where, "results"))):
        dwhere = f"{where}.results.dependencies[{di}]"
        dep = _R.obj(raw, dwhere)
        package = _R.req_str(dep, "name", dwhere)
        for si, spec in enumerate(loose.arr(dep, "specifications", dwhere)):
            swhere = f"{dwhere}.specifications[{si}]"
            if not isinstance(spec, dict):
                loose.notes.add(swhere, "expected an object; left out")
                continue
            version = _pinned(loose.text(spec, "raw", swhere))
            vulns = loose.obj(spec, "vulnerabilities", swhere)
            remediation = loose.obj(vulns, "remediation", f"{swhere}.vulnerabilities")
            recommended = loose.text(remediation, "recommended", swhere)  # Safety's pick
            known = loose.arr(vulns, "known_vulnerabilities", f"{swhere}.vulnerabilities")
            for ki, entry in enumerate(known):
                kwhere = f"{swhere}.vulnerabilities.known_vulnerabilities[{ki}]"
                vuln = _R.obj(entry, kwhere)
                safety_id = _R.req_str(vuln, "id", kwhere)
                ignored = vuln.get("ignored")
                state, justification = "", ""
                if isinstance(ignored, dict):
                    state = "risk_accepted"
                    reason = str(ignored.get("reason") or "")
                    code = str(ignored.get("code") or "")
                    justification = reason or f"ignored by Safety ({code or 'policy'})"
                    if ignored.get("expires"):
                        justification += f" (until {ignored['expires']})"
                ctx.add(
                    _finding(
                        ctx,
                        safety_id=safety_id,
                        package=package,
                        version=version,
                        cve="",
                        advisory="",
                        spec=loose.text(vuln, "vulnerable_spec", kwhere),
                        fixes=[recommended] if recommended else [],
                        score=None,
                        raw_severity="",
                        urls=[],
                        file_path=location,
                        state=state,
                        justification=cut(justification, 2000),
                    )
                )
