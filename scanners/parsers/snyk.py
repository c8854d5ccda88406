"""Snyk Open Source / Container JSON (``snyk test --json``, ``snyk container test --json``):
one project object, or an array of them (``--all-projects``, several manifests).

- Each entry of ``vulnerabilities`` is one issue on one dependency path; the paths of one
  issue in one package are one finding (``evidence["locations"]`` keeps up to 50 ``from``
  paths). Fingerprint: the shared dependency rule ``(ecosystem from packageManager,
  packageName, canonical id of the Snyk id + identifiers.CVE/GHSA + alternativeIds)``, so a
  Snyk finding with a CVE matches Trivy's, Grype's and OSV-Scanner's.
- Severity: ``severity`` (``severityWithCritical`` in older CLIs); ``cvssScore`` and the
  ``CVSSv3`` vector are kept. Fixed version: ``fixedIn`` (the lowest above the installed one),
  else Snyk Container's ``nearestFixedInVersion``.
- License issues (``type: license``) are findings too, under the Snyk license id.
- ``filtered.ignore`` (issues a ``.snyk`` policy or the Snyk UI ignores) are kept in a
  not-active ``state``: reason type ``not-vulnerable`` -> ``false_positive``, ``wont-fix``
  and ``temporary-ignore`` -> ``risk_accepted``, with the ignore's reason as justification;
  ``filtered.patch`` (patched by Snyk) -> ``resolved``.
- ``Report.target``: the project name (several: joined), ``file_path`` its target file.
"""

from __future__ import annotations

from typing import Any

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._fields import Lenient, at
from scanners.parsers._kit import (
    MAX_DESCRIPTION,
    TEXT_SEVERITY,
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

SCAN_TYPE = "snyk"
CATEGORY = "dependency"
DESCRIPTION = "Snyk JSON (snyk test / snyk container test --json; one project or an array)"

_R = Reader(SCAN_TYPE)
_PROJECT_KEYS = ("packageManager", "projectName", "displayTargetFile", "dependencyCount")
_IGNORE_STATE = {"not-vulnerable": "false_positive"}


def _is_project(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("vulnerabilities"), list)
        and isinstance(value.get("ok"), bool)
        and any(k in value for k in _PROJECT_KEYS)
    )


def sniff(doc: Document) -> bool:
    data = doc.json
    if isinstance(data, list):
        return bool(data) and _is_project(data[0])
    return _is_project(data)


def parse(doc: Document) -> Report:
    data = doc.json
    projects = data if isinstance(data, list) else [data]
    if not projects or not all(isinstance(p, dict) for p in projects):
        _R.fail("", "expected a Snyk project object or an array of them")
    loose = Lenient(SCAN_TYPE)
    ids = DependencyIds()
    out = Collector()
    names: list[str] = []
    states: dict[str, int] = {}
    counts = {"dependencies": 0, "license_issues": 0, "projects": len(projects)}
    for pi, project in enumerate(projects):
        pwhere = f"[{pi}]" if isinstance(data, list) else ""
        if "error" in project and "vulnerabilities" not in project:
            loose.notes.add(pwhere, f"project not tested: {cut(str(project['error']), 300)}")
            continue
        manager = loose.text(project, "packageManager", pwhere)
        target_file = loose.text(project, "displayTargetFile", pwhere)
        name = loose.text(project, "projectName", pwhere) or loose.text(project, "path", pwhere)
        if name and name not in names:
            names.append(name)
        counts["dependencies"] += int(loose.number(project, "dependencyCount", pwhere) or 0)
        filtered = loose.obj(project, "filtered", pwhere)
        fwhere = at(pwhere, "filtered")
        lists = (
            (at(pwhere, "vulnerabilities"), loose.arr(project, "vulnerabilities", pwhere), ""),
            (at(fwhere, "ignore"), loose.arr(filtered, "ignore", fwhere), "ignore"),
            (at(fwhere, "patch"), loose.arr(filtered, "patch", fwhere), "patch"),
        )
        for where, entries, mode in lists:
            for i, raw in enumerate(entries):
                vwhere = f"{where}[{i}]"
                vuln = _R.obj(raw, vwhere)
                finding = _finding(vuln, vwhere, manager, target_file, ids, loose)
                if vuln.get("type") == "license":
                    counts["license_issues"] += 1
                if mode == "ignore":
                    finding.state, finding.justification = _ignored(vuln)
                elif mode == "patch":
                    finding.state, finding.justification = "resolved", "patched by Snyk"
                if finding.state:
                    states[finding.state] = states.get(finding.state, 0) + 1
                out.add(finding)
    meta: dict[str, Any] = {**counts, "projects_named": names[:50]}
    if states:
        meta["states"] = dict(sorted(states.items()))
    return Report(
        tool=SCAN_TYPE,
        tool_version="",
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        findings=out.findings(),
        metadata=meta,
        warnings=loose.notes.all(),
        target=cut(", ".join(names), 500),
    )


def _ignored(vuln: dict[str, Any]) -> tuple[str, str]:
    """``(state, justification)`` of an issue ``filtered.ignore`` lists."""
    filtered = vuln.get("filtered")
    rules = filtered.get("ignored") if isinstance(filtered, dict) else None
    reason, reason_type = "", ""
    for rule in rules if isinstance(rules, list) else ():
        if isinstance(rule, dict):
            reason = reason or str(rule.get("reason") or "")
            reason_type = reason_type or str(rule.get("reasonType") or "")
            expires = rule.get("expires")
            if isinstance(expires, str) and expires and "until" not in reason:
                reason = f"{reason} (until {expires})".strip()
    state = _IGNORE_STATE.get(reason_type, "risk_accepted")
    if "false positive" in reason.lower():
        state = "false_positive"
    why = reason or f"ignored in Snyk ({reason_type or 'no reason given'})"
    return state, cut(why, 2000)


def _finding(
    vuln: dict[str, Any],
    where: str,
    manager: str,
    target_file: str,
    ids: DependencyIds,
    loose: Lenient,
) -> NormalizedFinding:
    tool_id = _R.req_str(vuln, "id", where)
    package = loose.text(vuln, "packageName", where) or loose.text(vuln, "moduleName", where)
    if not package:
        package = loose.text(vuln, "name", where)
    if not package:
        _R.fail(where, 'missing "packageName"')
    version = loose.text(vuln, "version", where)
    eco = ids.ecosystem(loose.text(vuln, "packageManager", where) or manager)
    identifiers = loose.obj(vuln, "identifiers", where)
    alias_ids: list[str] = []
    for key in ("CVE", "GHSA"):
        alias_ids += loose.texts(identifiers, key, f"{where}.identifiers")
    alias_ids += loose.texts(vuln, "alternativeIds", where)
    vid, others = canonical(tool_id, alias_ids)
    raw = loose.text(vuln, "severity", where) or loose.text(vuln, "severityWithCritical", where)
    score = cvss_score(vuln.get("cvssScore"))
    severity = TEXT_SEVERITY.get(raw.lower(), "") or UNRATED
    fixes = loose.texts(vuln, "fixedIn", where)
    fixed = pick_fix(version, fixes) or loose.text(vuln, "nearestFixedInVersion", where)
    title = loose.text(vuln, "title", where)
    # one dependency path per entry; the entries of one issue unite them when merged
    path = " > ".join(loose.texts(vuln, "from", where))
    evidence: dict[str, Any] = {"locations": [cut(path, 500)] if path else []}
    cwes = loose.texts(identifiers, "CWE", f"{where}.identifiers")
    if cwes:
        evidence["cwes"] = [cut(c, 50) for c in cwes[:20]]
    if fixes:
        evidence["fix_versions"] = [cut(f, 100) for f in fixes[:20]]
    for key in ("exploit", "isUpgradable", "isPatchable", "malicious", "license"):
        value = vuln.get(key)
        if isinstance(value, str | bool):
            evidence[key] = cut(value, 200) if isinstance(value, str) else value
    upgrade = [u for u in vuln.get("upgradePath") or () if isinstance(u, str)]
    if upgrade:
        evidence["upgrade_path"] = [cut(u, 200) for u in upgrade[:10]]
    urls: list[Any] = [vuln.get("url")]
    for ref in loose.arr(vuln, "references", where):
        if isinstance(ref, dict):
            urls.append(ref.get("url"))
    remediation = f"Upgrade {package} to {fixed} or later." if fixed else ""
    if not remediation and upgrade:
        remediation = f"Upgrade {upgrade[0]} (it brings in the fixed {package})."
    return NormalizedFinding(
        fingerprint=ids.fingerprint(eco, package, vid),
        category=CATEGORY,
        tool=SCAN_TYPE,
        rule_id=cut(tool_id, 200),
        title=cut(title or f"{vid} in {package} {version}".strip(), 500),
        severity=severity,
        description=cut(loose.text(vuln, "description", where), MAX_DESCRIPTION),
        raw_severity=cut(raw, 50),
        cvss_score=score,
        cvss_vector=cut(loose.text(vuln, "CVSSv3", where), 200),
        vuln_id=cut(vid, 200),
        aliases=others,
        package=cut(package, 500),
        package_version=cut(version, 200),
        fixed_version=cut(fixed, 200),
        ecosystem=eco,
        file_path=cut(target_file, 1000),
        references=references(urls),
        remediation=remediation,
        evidence=evidence,
    )
