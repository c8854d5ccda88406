"""OSV-Scanner JSON (``osv-scanner --format json``).

``results[].packages[]`` carry ``vulnerabilities`` (full OSV records) and ``groups`` (the ids
OSV-Scanner considers one vulnerability, with ``max_severity``: a CVSS score as a string,
possibly empty). One finding per group per package; without groups, one per vulnerability.

Severity: the group's ``max_severity`` (CVSS band), else the best CVSS v3 vector among the
group's records (computed), else the advisory's own rating (GHSA ``database_specific.severity``),
else ``medium`` (unrated). The fixed version comes from the ``fixed`` events of the affected
ranges of this package.
"""

from __future__ import annotations

from typing import Any

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._kit import (
    TEXT_SEVERITY,
    UNRATED,
    Collector,
    DependencyIds,
    Reader,
    as_list,
    canonical,
    cut,
    cvss3_base_score,
    cvss_score,
    osv_ecosystem,
    pick_fix,
    references,
    worse,
)
from scanners.severity import from_cvss

SCAN_TYPE = "osv-scanner"
CATEGORY = "dependency"
DESCRIPTION = "OSV-Scanner JSON (lockfile/SBOM/container dependency vulnerabilities)"

_R = Reader(SCAN_TYPE)


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict):
        return False
    results = data.get("results")
    if not isinstance(results, list):
        return False
    if not results:
        # An empty run: {"results": []} (possibly with experimental_config).
        return data.keys() <= {
            "results",
            "experimental_config",
            "image_metadata",
            "license_summary",
        }
    first = results[0]
    return isinstance(first, dict) and "packages" in first and "source" in first


def _fixes(vuln: dict[str, Any], name: str, eco: str) -> list[str]:
    out: list[str] = []
    affected = vuln.get("affected")
    if not isinstance(affected, list):
        return out
    for entry in affected:
        if not isinstance(entry, dict):
            continue
        pkg = entry.get("package")
        if isinstance(pkg, dict):
            pname, peco = pkg.get("name"), pkg.get("ecosystem")
            if isinstance(pname, str) and pname != name:
                continue
            if isinstance(peco, str) and osv_ecosystem(peco) != eco:
                continue
        ranges = entry.get("ranges")
        if not isinstance(ranges, list):
            continue
        for rng in ranges:
            events = rng.get("events") if isinstance(rng, dict) else None
            if not isinstance(events, list):
                continue
            for ev in events:
                fixed = ev.get("fixed") if isinstance(ev, dict) else None
                if isinstance(fixed, str) and fixed and fixed not in out:
                    out.append(fixed)
    return out


def _vector_score(vuln: dict[str, Any]) -> tuple[float | None, str]:
    """The highest CVSS v3 base score among the record's ``severity`` vectors."""
    best: tuple[float | None, str] = (None, "")
    sev = vuln.get("severity")
    if not isinstance(sev, list):
        return best
    for entry in sev:
        if not isinstance(entry, dict):
            continue
        vector = entry.get("score")
        if not isinstance(vector, str):
            continue
        score = cvss3_base_score(vector)
        if score is None:
            score = cvss_score(vector)  # some producers put the number itself there
            if score is None:
                if not best[1] and vector.startswith("CVSS:"):
                    best = (None, vector)
                continue
        if best[0] is None or score > best[0]:
            best = (score, vector if vector.startswith("CVSS:") else "")
    return best


def _text_severity(vuln: dict[str, Any]) -> str:
    db = vuln.get("database_specific")
    raw = db.get("severity") if isinstance(db, dict) else None
    return raw if isinstance(raw, str) else ""


def parse(doc: Document) -> Report:
    data = doc.json
    if not isinstance(data, dict):
        _R.fail("", 'expected an object with "results"')
    results = _R.arr(data.get("results"), "results")
    ids = DependencyIds()
    out = Collector()
    sources: list[str] = []
    packages_seen = 0
    for ri, rraw in enumerate(results):
        rwhere = f"results[{ri}]"
        result = _R.obj(rraw, rwhere)
        source = _R.opt_obj(result, "source", rwhere)
        source_path = _R.opt_str(source, "path", f"{rwhere}.source")
        if source_path and len(sources) < 200:
            sources.append(cut(source_path, 500))
        for pi, praw in enumerate(_R.opt_arr(result, "packages", rwhere)):
            pwhere = f"{rwhere}.packages[{pi}]"
            entry = _R.obj(praw, pwhere)
            pkg = _R.obj(entry.get("package"), f"{pwhere}.package")
            name = _R.req_str(pkg, "name", f"{pwhere}.package")
            version = _R.opt_str(pkg, "version", f"{pwhere}.package")
            raw_eco = _R.opt_str(pkg, "ecosystem", f"{pwhere}.package")
            eco = osv_ecosystem(raw_eco)
            packages_seen += 1
            vulns: dict[str, dict[str, Any]] = {}
            order: list[str] = []
            for vi, vraw in enumerate(_R.opt_arr(entry, "vulnerabilities", pwhere)):
                vwhere = f"{pwhere}.vulnerabilities[{vi}]"
                v = _R.obj(vraw, vwhere)
                vid = _R.req_str(v, "id", vwhere)
                _R.str_list(v, "aliases", vwhere)
                if vid not in vulns:
                    vulns[vid] = v
                    order.append(vid)
            groups: list[tuple[list[str], list[str], str]] = []
            grouped: set[str] = set()
            for gi, graw in enumerate(_R.opt_arr(entry, "groups", pwhere)):
                gwhere = f"{pwhere}.groups[{gi}]"
                group = _R.obj(graw, gwhere)
                gids = _R.str_list(group, "ids", gwhere)
                if not gids:
                    _R.fail(gwhere, 'missing "ids"')
                galiases = _R.str_list(group, "aliases", gwhere)
                max_sev = _R.opt_str(group, "max_severity", gwhere)
                groups.append((gids, galiases, max_sev))
                grouped.update(gids)
            for vid in order:
                if vid not in grouped:
                    groups.append(([vid], [], ""))
            for gids, galiases, max_sev in groups:
                records = [vulns[g] for g in gids if g in vulns]
                out.add(
                    _finding(
                        ids,
                        eco,
                        raw_eco,
                        name,
                        version,
                        gids,
                        galiases,
                        max_sev,
                        records,
                        source_path,
                    )
                )
    findings = out.findings()
    return Report(
        tool=SCAN_TYPE,
        tool_version="",
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        findings=findings,
        metadata={"sources": sources, "packages": packages_seen},
    )


def _finding(
    ids: DependencyIds,
    eco: str,
    raw_eco: str,
    name: str,
    version: str,
    gids: list[str],
    galiases: list[str],
    max_sev: str,
    records: list[dict[str, Any]],
    source_path: str,
) -> NormalizedFinding:
    all_ids: list[str] = []
    for i in [*gids, *galiases]:
        if i not in all_ids:
            all_ids.append(i)
    for rec in records:
        for a in as_list(rec.get("aliases")):
            if isinstance(a, str) and a not in all_ids:
                all_ids.append(a)
    tool_id = gids[0]
    vid, others = canonical(tool_id, all_ids)

    score = cvss_score(max_sev) if max_sev else None
    vector = ""
    raw = max_sev
    severity = ""
    if score is not None:
        severity = from_cvss(score)
    for rec in records:
        s, vec = _vector_score(rec)
        if s is not None and score is None:
            score, vector = s, vec
            severity, raw = from_cvss(s), vec
        elif vec and not vector and score is not None and s == score:
            vector = vec
    if not severity:
        for rec in records:
            text = _text_severity(rec)
            mapped = TEXT_SEVERITY.get(text.lower(), "")
            if mapped:
                severity = worse(severity, mapped) if severity else mapped
                raw = text
    if not severity:
        severity = UNRATED

    summary = ""
    details = ""
    refs: list[Any] = []
    fixes: list[str] = []
    cwes: list[str] = []
    for rec in records:
        if not summary and isinstance(rec.get("summary"), str):
            summary = rec["summary"]
        if not details and isinstance(rec.get("details"), str):
            details = rec["details"]
        for ref in as_list(rec.get("references")):
            if isinstance(ref, dict):
                refs.append(ref.get("url"))
        for f in _fixes(rec, name, eco):
            if f not in fixes:
                fixes.append(f)
        db = rec.get("database_specific")
        if isinstance(db, dict) and isinstance(db.get("cwe_ids"), list):
            cwes.extend(c for c in db["cwe_ids"] if isinstance(c, str) and c not in cwes)
        for aff in as_list(rec.get("affected")):
            adb = aff.get("database_specific") if isinstance(aff, dict) else None
            if isinstance(adb, dict) and isinstance(adb.get("cwes"), list):
                for c in adb["cwes"]:
                    cid = c.get("cweId") if isinstance(c, dict) else None
                    if isinstance(cid, str) and cid not in cwes:
                        cwes.append(cid)
    fixed = pick_fix(version, fixes)
    evidence: dict[str, Any] = {"locations": [cut(source_path, 500)] if source_path else []}
    if raw_eco:
        evidence["osv_ecosystem"] = cut(raw_eco, 100)
    if fixes:
        evidence["fix_versions"] = fixes[:20]
    if cwes:
        evidence["cwes"] = cwes[:20]
    if len(gids) > 1:
        evidence["group"] = gids[:20]
    return NormalizedFinding(
        fingerprint=ids.fingerprint(eco, name, vid),
        category=CATEGORY,
        tool=SCAN_TYPE,
        rule_id=tool_id,
        title=cut(summary, 500) if summary else f"{vid} in {name} {version}".strip(),
        severity=severity,
        description=cut(details or summary, 8192),
        raw_severity=cut(raw, 200),
        cvss_score=score,
        cvss_vector=cut(vector, 200),
        vuln_id=vid,
        aliases=others,
        package=name,
        package_version=version,
        fixed_version=fixed,
        ecosystem=eco,
        references=references(refs),
        remediation=f"Upgrade {name} to {fixed} or later." if fixed else "",
        evidence=evidence,
    )
