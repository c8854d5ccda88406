"""GitLab security reports of dependencies: ``gl-dependency-scanning-report.json`` (schema
14.x and 15.x, Gemnasium and the analyzers that write it) and
``gl-container-scanning-report.json`` (the same shape for image packages).

``{version, scan: {type, scanner, analyzer, status}, vulnerabilities: [{id, name, description,
severity, solution, identifiers: [{type, name, value, url}], links, location: {file,
dependency: {package: {name}, version, direct}, operating_system, image}, cvss_vectors}],
remediations, dependency_files: [{path, package_manager, dependencies}]}``. Schema 14 also
has ``category``, ``message``, ``confidence``, ``scanner`` on each vulnerability.

- Fingerprint: the shared dependency rule. The ecosystem is the ``package_manager`` of the
  dependency file the vulnerability is in (``pip``, ``npm``, ``maven`` ...), else the lock
  file's name, else the image's operating system; the ids come from ``identifiers`` (CVE,
  GHSA, Gemnasium, OSV ...), the rule id is the first one (the primary identifier).
- Severity: ``Critical``/``High``/``Medium``/``Low``/``Info``; ``Unknown`` is ``medium``
  (unrated). The fixed version comes from ``solution`` ("Upgrade to version 2.0.2 or
  above."). A vulnerability GitLab flags as a likely false positive stays active, with the
  flag in evidence (it is a hint, not a decision).
- ``file_path``: the lock file; ``Report.target``: the image (container scanning), else the
  dependency files' common directory.
"""

from __future__ import annotations

import posixpath
import re
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
    cvss3_base_score,
    ecosystem_from_path,
    osv_ecosystem,
    pick_fix,
    references,
)
from scanners.severity import from_cvss

SCAN_TYPE = "gitlab-dependency-scanning"
CATEGORY = "dependency"
DESCRIPTION = "GitLab dependency / container scanning report (gl-*-scanning-report.json, 14/15)"

_R = Reader(SCAN_TYPE)
_SCAN_TYPES = ("dependency_scanning", "container_scanning")
_UPGRADE_TO = re.compile(r"\bversions?\s+(v?\d[\w.\-+]*(?:\s*,\s*v?\d[\w.\-+]*)*)", re.IGNORECASE)


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities"), list):
        return False
    scan = data.get("scan")
    if isinstance(scan, dict) and scan.get("type") in _SCAN_TYPES:
        return True
    return isinstance(data.get("version"), str) and isinstance(data.get("dependency_files"), list)


def parse(doc: Document) -> Report:
    data = doc.json
    if not isinstance(data, dict):
        _R.fail("", 'expected a GitLab security report object with "vulnerabilities"')
    loose = Lenient(SCAN_TYPE)
    scan = loose.obj(data, "scan", "")
    scanner = loose.obj(scan, "scanner", "scan")
    managers: dict[str, str] = {}
    files: list[str] = []
    for i, entry in enumerate(loose.arr(data, "dependency_files", "")):
        if isinstance(entry, dict):
            path = loose.text(entry, "path", f"dependency_files[{i}]")
            managers[path] = loose.text(entry, "package_manager", f"dependency_files[{i}]")
            files.append(path)
    ids = DependencyIds()
    out = Collector()
    images: list[str] = []
    for i, raw in enumerate(_R.arr(data.get("vulnerabilities"), "vulnerabilities")):
        where = f"vulnerabilities[{i}]"
        vuln = _R.obj(raw, where)
        finding, image = _finding(vuln, where, managers, ids, loose)
        if image and image not in images:
            images.append(image)
        out.add(finding)
    meta: dict[str, Any] = {
        "schema_version": loose.text(data, "version", ""),
        "scan_type": loose.text(scan, "type", "scan"),
        "status": loose.text(scan, "status", "scan"),
        "dependency_files": files[:200],
    }
    if meta["status"] and meta["status"] != "success":
        loose.notes.add("scan.status", f"the scan reports {meta['status']!r}: it may be partial")
    return Report(
        tool=cut(loose.text(scanner, "name", "scan.scanner") or "gitlab", 100),
        tool_version=cut(loose.text(scanner, "version", "scan.scanner"), 100),
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        findings=out.findings(),
        metadata=meta,
        warnings=loose.notes.all(),
        target=cut(images[0] if len(images) == 1 else _common(files), 500),
    )


def _common(paths: list[str]) -> str:
    if len(paths) == 1:
        return paths[0]
    if not paths:
        return ""
    try:
        common = posixpath.commonpath(paths)
    except ValueError:
        common = ""
    return common if common not in ("", ".", "/") else "; ".join(sorted(paths))


def _finding(
    vuln: dict[str, Any],
    where: str,
    managers: dict[str, str],
    ids: DependencyIds,
    loose: Lenient,
) -> tuple[NormalizedFinding, str]:
    location = loose.obj(vuln, "location", where)
    lwhere = at(where, "location")
    dependency = loose.obj(location, "dependency", lwhere)
    package = loose.text(loose.obj(dependency, "package", lwhere), "name", lwhere)
    if not package:
        _R.fail(f"{lwhere}.dependency.package", 'missing "name"')
    version = loose.text(dependency, "version", lwhere)
    file = loose.text(location, "file", lwhere)
    image = loose.text(location, "image", lwhere)
    system = loose.text(location, "operating_system", lwhere)
    manager = managers.get(file, "")
    eco = ids.ecosystem(manager) if manager else ecosystem_from_path(file)
    if not eco and system:  # "debian:11", "alpine 3.19.1"
        eco = osv_ecosystem(system.replace(" ", ":", 1))
    identifiers = [i for i in loose.arr(vuln, "identifiers", where) if isinstance(i, dict)]
    values = [str(i.get("value") or i.get("name") or "") for i in identifiers]
    values = [v for v in values if v]
    if not values:
        _R.fail(where, 'no "identifiers": the vulnerability has no id')
    primary = values[0]
    vid, aliases = canonical(primary, values[1:])
    raw_sev = loose.text(vuln, "severity", where)
    severity = TEXT_SEVERITY.get(raw_sev.lower(), "")
    score, vector = None, ""
    for entry in loose.arr(vuln, "cvss_vectors", where):
        if isinstance(entry, dict) and isinstance(entry.get("vector"), str):
            s = cvss3_base_score(entry["vector"])
            if s is not None and (score is None or s > score):
                score, vector = s, entry["vector"]
    if not severity:
        severity = from_cvss(score) if score is not None else UNRATED
    solution = loose.text(vuln, "solution", where)
    match = _UPGRADE_TO.search(solution)
    fixes = [f.strip() for f in match.group(1).split(",")] if match else []
    fixed = pick_fix(version, fixes)
    evidence: dict[str, Any] = {"locations": [cut(file or image, 500)] if file or image else []}
    if isinstance(dependency.get("direct"), bool):
        evidence["direct"] = dependency["direct"]
    if system:
        evidence["operating_system"] = cut(system, 100)
    flags = [
        cut(str(f.get("type")), 100)
        for f in loose.arr(vuln, "flags", where)
        if isinstance(f, dict) and f.get("type")
    ]
    if flags:
        evidence["flags"] = flags[:10]
    gitlab_id = loose.text(vuln, "id", where)
    if gitlab_id:
        evidence["gitlab_id"] = cut(gitlab_id, 100)
    urls: list[Any] = [i.get("url") for i in identifiers]
    urls += [ln.get("url") for ln in loose.arr(vuln, "links", where) if isinstance(ln, dict)]
    name = loose.text(vuln, "name", where) or loose.text(vuln, "message", where)
    finding = NormalizedFinding(
        fingerprint=ids.fingerprint(eco, package, vid),
        category=CATEGORY,
        tool=SCAN_TYPE,
        rule_id=cut(primary, 200),
        title=cut(name or f"{vid} in {package} {version}".strip(), 500),
        severity=severity,
        description=cut(loose.text(vuln, "description", where), MAX_DESCRIPTION),
        raw_severity=cut(raw_sev, 50),
        cvss_score=score,
        cvss_vector=cut(vector, 200),
        vuln_id=cut(vid, 200),
        aliases=aliases,
        package=cut(package, 500),
        package_version=cut(version, 200),
        fixed_version=cut(fixed, 200),
        ecosystem=eco,
        file_path=cut(file, 1000),
        references=references(urls),
        remediation=cut(solution, 2000),
        evidence=evidence,
    )
    return finding, image
