"""Grype JSON (``grype -o json``): ``matches[]`` of ``vulnerability`` + ``artifact``.

- Fingerprint: ``(ecosystem from artifact.type, package, canonical id of vulnerability.id +
  relatedVulnerabilities ids)``. The package name comes from the purl when it has a namespace
  (Maven ``group:artifact``, npm ``@scope/name``), so it matches the other tools.
- Severities are title case; ``Negligible`` is ``low``, ``Unknown`` falls back to the CVSS band,
  else ``medium``.
- The fixed version is taken only when ``fix.state == "fixed"``.
- The same vulnerability of the same package found at several paths (or by several matchers)
  is one finding: locations are merged into ``evidence["locations"]``.
"""

from __future__ import annotations

from typing import Any

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._kit import (
    MAX_DESCRIPTION,
    UNRATED,
    Collector,
    DependencyIds,
    Purl,
    Reader,
    as_list,
    canonical,
    cut,
    cvss_score,
    majority_category,
    pick_fix,
    references,
)
from scanners.severity import from_cvss

SCAN_TYPE = "grype"
CATEGORY = "dependency"
DESCRIPTION = "Grype JSON (container/filesystem dependency vulnerabilities)"

_R = Reader(SCAN_TYPE)

_SEVERITY = {
    "critical": "critical",
    "high": "high",
    "medium": "medium",
    "low": "low",
    "negligible": "low",
}


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict) or not isinstance(data.get("matches"), list):
        return False
    descriptor = data.get("descriptor")
    if isinstance(descriptor, dict) and descriptor.get("name") == "grype":
        return True
    matches = data["matches"]
    return (
        bool(matches)
        and isinstance(matches[0], dict)
        and "artifact" in matches[0]
        and "vulnerability" in matches[0]
    )


def _best_cvss(entries: list[Any]) -> tuple[float | None, str]:
    """The preferred CVSS base score of a list of Grype cvss objects: v3/v4 before v2, the
    ``Primary`` source before secondary ones, then the highest score."""
    best: tuple[tuple[bool, bool, float], str] | None = None
    for c in entries:
        if not isinstance(c, dict):
            continue
        metrics = c.get("metrics")
        score = cvss_score(metrics.get("baseScore")) if isinstance(metrics, dict) else None
        if score is None:
            continue
        version = c.get("version")
        modern = not (isinstance(version, str) and version.startswith("2"))
        rank = (modern, c.get("type") in (None, "Primary"), score)
        if best is None or rank > best[0]:
            vector = c.get("vector")
            best = (rank, vector if isinstance(vector, str) else "")
    if best is None:
        return None, ""
    return best[0][2], cut(best[1], 200)


def parse(doc: Document) -> Report:
    data = doc.json
    if not isinstance(data, dict):
        _R.fail("", 'expected an object with "matches"')
    matches = _R.arr(data.get("matches"), "matches")
    descriptor = _R.opt_obj(data, "descriptor", "")
    tool_version = _R.opt_str(descriptor, "version", "descriptor")
    ids = DependencyIds()
    out = Collector()
    for i, raw in enumerate(matches):
        where = f"matches[{i}]"
        match = _R.obj(raw, where)
        vuln = _R.obj(match.get("vulnerability"), f"{where}.vulnerability")
        art = _R.obj(match.get("artifact"), f"{where}.artifact")
        vwhere, awhere = f"{where}.vulnerability", f"{where}.artifact"
        tool_id = _R.req_str(vuln, "id", vwhere)
        name = _R.req_str(art, "name", awhere)
        version = _R.opt_str(art, "version", awhere)
        art_type = _R.opt_str(art, "type", awhere)
        purl_text = _R.opt_str(art, "purl", awhere)
        purl = Purl.parse(purl_text)
        eco = ids.ecosystem(art_type) if art_type else (ids.ecosystem(purl.type) if purl else "")
        package = (
            purl.package_name()
            if purl is not None and purl.namespace and eco in ("maven", "npm", "go", "composer")
            else name
        )

        related = _R.opt_arr(match, "relatedVulnerabilities", where)
        aliases: list[str] = []
        related_cvss: list[Any] = []
        for k, rel in enumerate(related):
            rel = _R.obj(rel, f"{where}.relatedVulnerabilities[{k}]")
            rid = rel.get("id")
            if isinstance(rid, str) and rid:
                aliases.append(rid)
            related_cvss.extend(as_list(rel.get("cvss")))
        vid, others = canonical(tool_id, aliases)

        sev_raw = _R.opt_str(vuln, "severity", vwhere)
        score, vector = _best_cvss(_R.opt_arr(vuln, "cvss", vwhere))
        if score is None:
            score, vector = _best_cvss(related_cvss)
        severity = _SEVERITY.get(sev_raw.strip().lower())
        if severity is None:
            severity = from_cvss(score) if score is not None else UNRATED

        fix = _R.opt_obj(vuln, "fix", vwhere)
        fix_state = _R.opt_str(fix, "state", f"{vwhere}.fix")
        fix_versions = _R.str_list(fix, "versions", f"{vwhere}.fix")
        fixed = pick_fix(version, fix_versions) if fix_state == "fixed" else ""

        description = _R.opt_str(vuln, "description", vwhere)
        if not description:
            for rel in related:
                if isinstance(rel, dict) and isinstance(rel.get("description"), str):
                    description = rel["description"]
                    break
        urls: list[Any] = []
        ds = vuln.get("dataSource")
        if isinstance(ds, str):
            urls.append(ds)
        urls.extend(as_list(vuln.get("urls")))

        locations: list[str] = []
        for loc in _R.opt_arr(art, "locations", awhere):
            path = loc.get("path") if isinstance(loc, dict) else None
            if isinstance(path, str) and path and path not in locations:
                locations.append(cut(path, 500))
        evidence: dict[str, Any] = {"locations": locations[:50], "fix_state": cut(fix_state, 50)}
        namespace = vuln.get("namespace")
        if isinstance(namespace, str):
            evidence["namespace"] = cut(namespace, 100)
        if fix_versions and fix_state != "fixed":
            evidence["fix_versions_not_applicable"] = fix_versions[:20]
        epss = as_list(vuln.get("epss"))
        if epss and isinstance(epss[0], dict) and isinstance(epss[0].get("epss"), int | float):
            evidence["epss"] = float(epss[0]["epss"])
        matchers: list[str] = [
            m["matcher"]
            for m in as_list(match.get("matchDetails"))
            if isinstance(m, dict) and isinstance(m.get("matcher"), str)
        ]
        if matchers:
            evidence["matchers"] = [cut(m, 100) for m in dict.fromkeys(matchers)][:10]

        out.add(
            NormalizedFinding(
                fingerprint=ids.fingerprint(eco, package, vid),
                category=CATEGORY,
                tool=SCAN_TYPE,
                rule_id=cut(tool_id, 200),
                title=cut(f"{vid} in {package} {version}".strip(), 500),
                severity=severity,
                description=cut(description, MAX_DESCRIPTION),
                raw_severity=cut(sev_raw, 50),
                cvss_score=score,
                cvss_vector=vector,
                vuln_id=vid,
                aliases=others,
                package=cut(package, 500),
                package_version=cut(version, 200),
                fixed_version=cut(fixed, 200),
                ecosystem=eco,
                purl=cut(purl_text, 500),
                file_path=locations[0] if locations else "",
                references=references(urls),
                remediation=f"Upgrade {package} to {fixed} or later." if fixed else "",
                evidence=evidence,
            )
        )
    findings = out.findings()
    meta: dict[str, Any] = {"matches": len(matches)}
    source = data.get("source")
    if isinstance(source, dict):
        meta["source_type"] = cut(str(source.get("type", "")), 50)
        target = source.get("target")
        if isinstance(target, dict) and isinstance(target.get("userInput"), str):
            meta["target"] = cut(target["userInput"], 500)
        elif isinstance(target, str):
            meta["target"] = cut(target, 500)
    distro = data.get("distro")
    if isinstance(distro, dict):
        meta["distro"] = {k: cut(v, 100) for k, v in distro.items() if isinstance(v, str)}
    return Report(
        tool=SCAN_TYPE,
        tool_version=tool_version,
        scan_type=SCAN_TYPE,
        category=majority_category(findings, CATEGORY),
        findings=findings,
        metadata=meta,
    )
