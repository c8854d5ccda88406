"""Dependabot alerts as GitHub's REST API lists them (``GET /repos/{owner}/{repo}/dependabot/
alerts``, or the organization / enterprise listings, saved as JSON): an array of alerts
``{number, state, dependency: {package: {ecosystem, name}, manifest_path, scope},
security_advisory: {ghsa_id, cve_id, summary, description, severity, identifiers, cvss,
cvss_severities, cwes, references}, security_vulnerability: {severity,
vulnerable_version_range, first_patched_version: {identifier}}, dismissed_reason,
dismissed_comment, html_url, ...}``; a single alert object is read too.

- Fingerprint: the shared dependency rule ``(ecosystem, package, canonical id of the GHSA id,
  the CVE and the advisory's identifiers)``. The API does not say which version is
  installed: ``package_version`` is empty and the vulnerable range is in evidence.
- ``state`` is kept: ``open`` is a problem; ``fixed`` -> ``resolved``; ``dismissed`` by
  ``dismissed_reason``: ``inaccurate`` -> ``false_positive``, ``not_used`` ->
  ``not_affected`` (the vulnerable code is not used), ``tolerable_risk``, ``no_bandwidth``
  and ``fix_started`` -> ``risk_accepted``; ``auto_dismissed`` (an auto-triage rule) ->
  ``risk_accepted``. ``justification`` is the dismissal comment (else the reason).
- ``file_path`` is the manifest; ``Report.target`` the repository when all alerts name one.
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
    references,
)

SCAN_TYPE = "dependabot"
CATEGORY = "dependency"
DESCRIPTION = "GitHub Dependabot alerts JSON (REST API list of alerts, repo/org/enterprise)"

_R = Reader(SCAN_TYPE)
_DISMISSED = {
    "inaccurate": "false_positive",
    "not_used": "not_affected",
    "tolerable_risk": "risk_accepted",
    "no_bandwidth": "risk_accepted",
    "fix_started": "risk_accepted",
}
#: Dependabot ecosystems that are not already Warden's names.
_ECOSYSTEMS = {"rust": "cargo", "actions": "github-actions", "erlang": "hex"}


def _is_alert(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("security_advisory"), dict)
        and isinstance(value.get("dependency"), dict)
        and "state" in value
    )


def sniff(doc: Document) -> bool:
    data = doc.json
    if isinstance(data, list):
        return bool(data) and _is_alert(data[0])
    return _is_alert(data)


def parse(doc: Document) -> Report:
    data = doc.json
    alerts = data if isinstance(data, list) else [data] if isinstance(data, dict) else None
    if alerts is None:
        _R.fail("", "expected an array of Dependabot alerts")
    loose = Lenient(SCAN_TYPE)
    ids = DependencyIds()
    out = Collector()
    repos: list[str] = []
    states: dict[str, int] = {}
    for i, raw in enumerate(alerts):
        where = f"[{i}]" if isinstance(data, list) else ""
        alert = _R.obj(raw, where or "alert")
        finding, repo = _finding(alert, where, ids, loose)
        if repo and repo not in repos:
            repos.append(repo)
        if finding.state:
            states[finding.state] = states.get(finding.state, 0) + 1
        out.add(finding)
    meta: dict[str, Any] = {"alerts": len(alerts), "repositories": repos[:50]}
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
        target=repos[0] if len(repos) == 1 else "",
    )


def _repository(alert: dict[str, Any]) -> str:
    repo = alert.get("repository")
    if isinstance(repo, dict) and isinstance(repo.get("full_name"), str):
        return str(repo["full_name"])
    url = alert.get("html_url")
    if isinstance(url, str) and "/security/dependabot/" in url:
        path = url.split("://", 1)[-1].split("/security/", 1)[0]
        parts = path.split("/")
        if len(parts) >= 3:
            return "/".join(parts[1:3])
    return ""


def _state(alert: dict[str, Any], where: str, loose: Lenient) -> tuple[str, str]:
    state = loose.text(alert, "state", where)
    comment = loose.text(alert, "dismissed_comment", where).strip()
    if state == "fixed":
        return "resolved", comment or "fixed (Dependabot saw the dependency updated)"
    if state == "dismissed":
        reason = loose.text(alert, "dismissed_reason", where)
        return _DISMISSED.get(reason, "risk_accepted"), cut(comment or f"dismissed: {reason}", 2000)
    if state == "auto_dismissed":
        return "risk_accepted", comment or "auto-dismissed by a Dependabot auto-triage rule"
    return "", ""


def _finding(
    alert: dict[str, Any], where: str, ids: DependencyIds, loose: Lenient
) -> tuple[NormalizedFinding, str]:
    dep = loose.obj(alert, "dependency", where)
    pkg = loose.obj(dep, "package", at(where, "dependency"))
    name = _R.req_str(pkg, "name", at(where, "dependency.package"))
    raw_eco = loose.text(pkg, "ecosystem", at(where, "dependency.package"))
    eco = ids.ecosystem(_ECOSYSTEMS.get(raw_eco.lower(), raw_eco))
    advisory = loose.obj(alert, "security_advisory", where)
    awhere = at(where, "security_advisory")
    ghsa = loose.text(advisory, "ghsa_id", awhere)
    cve = loose.text(advisory, "cve_id", awhere)
    others = [
        str(i.get("value"))
        for i in loose.arr(advisory, "identifiers", awhere)
        if isinstance(i, dict) and isinstance(i.get("value"), str)
    ]
    primary = ghsa or cve or (others[0] if others else "")
    if not primary:
        _R.fail(awhere, 'missing "ghsa_id"')
    vid, aliases = canonical(primary, [cve, *others])
    vuln = loose.obj(alert, "security_vulnerability", where)
    raw_sev = loose.text(vuln, "severity", where) or loose.text(advisory, "severity", awhere)
    score, vector = None, ""
    for entry in (
        loose.obj(loose.obj(advisory, "cvss_severities", awhere), "cvss_v3", awhere),
        loose.obj(loose.obj(advisory, "cvss_severities", awhere), "cvss_v4", awhere),
        loose.obj(advisory, "cvss", awhere),
    ):
        s = cvss_score(entry.get("score"))
        if s is not None and s > 0:
            score, vector = s, loose.text(entry, "vector_string", awhere)
            break
    patched = loose.obj(vuln, "first_patched_version", at(where, "security_vulnerability"))
    fixed = loose.text(patched, "identifier", where)
    manifest = loose.text(dep, "manifest_path", at(where, "dependency"))
    state, justification = _state(alert, where, loose)
    evidence: dict[str, Any] = {
        "locations": [cut(manifest, 500)] if manifest else [],
        "alert_state": cut(loose.text(alert, "state", where), 30),
    }
    for key, value in (
        ("number", alert.get("number")),
        ("vulnerable_version_range", vuln.get("vulnerable_version_range")),
        ("scope", dep.get("scope")),
        ("relationship", dep.get("relationship")),
        ("dismissed_reason", alert.get("dismissed_reason")),
    ):
        if isinstance(value, str | int) and not isinstance(value, bool):
            evidence[key] = cut(value, 200) if isinstance(value, str) else value
    cwes = [
        str(c.get("cwe_id"))
        for c in loose.arr(advisory, "cwes", awhere)
        if isinstance(c, dict) and isinstance(c.get("cwe_id"), str)
    ]
    if cwes:
        evidence["cwes"] = cwes[:20]
    urls: list[Any] = [alert.get("html_url")]
    urls += [r.get("url") for r in loose.arr(advisory, "references", awhere) if isinstance(r, dict)]
    finding = NormalizedFinding(
        fingerprint=ids.fingerprint(eco, name, vid),
        category=CATEGORY,
        tool=SCAN_TYPE,
        rule_id=cut(primary, 200),
        title=cut(loose.text(advisory, "summary", awhere) or f"{vid} in {name}", 500),
        severity=TEXT_SEVERITY.get(raw_sev.lower(), "") or UNRATED,
        description=cut(loose.text(advisory, "description", awhere), MAX_DESCRIPTION),
        raw_severity=cut(raw_sev, 50),
        cvss_score=score,
        cvss_vector=cut(vector, 200),
        vuln_id=cut(vid, 200),
        aliases=aliases,
        package=cut(name, 500),
        fixed_version=cut(fixed, 200),
        ecosystem=eco,
        file_path=cut(manifest, 1000),
        references=references(urls),
        remediation=f"Upgrade {name} to {fixed} or later." if fixed else "",
        evidence=evidence,
        state=state,
        justification=justification,
    )
    return finding, _repository(alert)
