"""OSV-Scanner JSON (``osv-scanner --format json``, v1 and v2).

``results[].packages[]`` carry ``vulnerabilities`` (full OSV records) and ``groups`` (the ids
OSV-Scanner considers one vulnerability, with ``max_severity``: a CVSS score as a string,
possibly empty). One finding per vulnerability per package: the groups, the records and
their aliases are joined by any id they share (a group listing ``GHSA-x`` and a record
``GO-2023-1`` whose aliases hold ``GHSA-x`` are one finding); without groups, one per record.

- A package found by its git commit (a submodule, a vendored C library) may have an empty
  name and ecosystem: it is named by its repository (the name when it is one, else the
  ``repo`` of the record's GIT range, else the commit) with ecosystem ``git`` and the commit
  as its version.
- ``file_path`` is the source (the lockfile, SBOM or directory scanned); ``Report.target``
  is that source, or the common directory of several, else their paths joined.
- Call analysis (``groups[].experimental_analysis``, ``experimentalAnalysis`` in v1):
  ``called: false`` for every analysed id -> ``reachable=False``; any ``called: true`` ->
  ``True``; no analysis -> ``None``.

Severity: the group's ``max_severity`` (CVSS band), else the best CVSS v3 vector among the
group's records (computed), else the advisory's own rating (GHSA ``database_specific.severity``),
else ``medium`` (unrated). The fixed version comes from the ``fixed`` events of the affected
ranges of this package.
"""

from __future__ import annotations

import posixpath
from typing import Any

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._fields import Lenient
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
#: Most records one package may carry (a hostile report must not make the grouping slow).
_MAX_RECORDS = 5000


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
    loose = Lenient(SCAN_TYPE)
    ids = DependencyIds()
    out = Collector()
    sources: list[str] = []
    packages_seen = 0
    for ri, rraw in enumerate(results):
        rwhere = f"results[{ri}]"
        result = _R.obj(rraw, rwhere)
        source = loose.obj(result, "source", rwhere)
        source_path = loose.text(source, "path", f"{rwhere}.source")
        if source_path and source_path not in sources and len(sources) < 200:
            sources.append(cut(source_path, 500))
        for pi, praw in enumerate(_R.opt_arr(result, "packages", rwhere)):
            pwhere = f"{rwhere}.packages[{pi}]"
            entry = _R.obj(praw, pwhere)
            pkg = _R.obj(entry.get("package"), f"{pwhere}.package")
            packages_seen += 1
            records: dict[str, dict[str, Any]] = {}
            for vi, vraw in enumerate(_R.opt_arr(entry, "vulnerabilities", pwhere)):
                vwhere = f"{pwhere}.vulnerabilities[{vi}]"
                v = _R.obj(vraw, vwhere)
                vid = _R.req_str(v, "id", vwhere)
                if vid not in records and len(records) < _MAX_RECORDS:
                    records[vid] = v
            groups: list[_Group] = []
            for gi, graw in enumerate(_R.opt_arr(entry, "groups", pwhere)):
                gwhere = f"{pwhere}.groups[{gi}]"
                group = _R.obj(graw, gwhere)
                gids = loose.texts(group, "ids", gwhere)
                if not gids:
                    _R.fail(gwhere, 'missing "ids"')
                analysis = group.get("experimental_analysis", group.get("experimentalAnalysis"))
                groups.append(
                    _Group(
                        gids,
                        loose.texts(group, "aliases", gwhere),
                        loose.text(group, "max_severity", gwhere),
                        _reachable(analysis, f"{gwhere}.experimental_analysis", loose),
                    )
                )
            name, version, raw_eco = _package(pkg, records, f"{pwhere}.package", loose)
            eco = osv_ecosystem(raw_eco)
            for component in _components(groups, records, loose, pwhere):
                out.add(_finding(ids, eco, raw_eco, name, version, component, records, source_path))
    findings = out.findings()
    return Report(
        tool=SCAN_TYPE,
        tool_version="",
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        findings=findings,
        metadata={"sources": sources, "packages": packages_seen},
        warnings=loose.notes.all(),
        target=_target(sources),
    )


def _target(sources: list[str]) -> str:
    """The one source scanned, else the directory all sources share, else their paths."""
    if len(sources) == 1:
        return sources[0]
    if not sources:
        return ""
    try:
        common = posixpath.commonpath([p.replace("\\", "/") for p in sources])
    except ValueError:  # absolute and relative paths mixed
        common = ""
    if common and common not in ("/", "."):
        return cut(common, 500)
    return cut("; ".join(sorted(sources)), 500)


class _Group:
    """One vulnerability of a package: the ids OSV-Scanner grouped, and what it says."""

    __slots__ = ("aliases", "ids", "max_severity", "reachable")

    def __init__(
        self, ids: list[str], aliases: list[str], max_severity: str, reachable: bool | None
    ) -> None:
        self.ids = ids
        self.aliases = aliases
        self.max_severity = max_severity
        self.reachable = reachable


def _reachable(analysis: Any, where: str, loose: Lenient) -> bool | None:
    """True when any analysed id is called, False when all are not, None without analysis."""
    if analysis is None:
        return None
    if not isinstance(analysis, dict):
        loose.notes.add(where, "expected an object; left out")
        return None
    called = [
        info.get("called")
        for info in analysis.values()
        if isinstance(info, dict) and isinstance(info.get("called"), bool)
    ]
    if not called:
        return None
    return any(called)


def _package(
    pkg: dict[str, Any], records: dict[str, dict[str, Any]], where: str, loose: Lenient
) -> tuple[str, str, str]:
    """``(name, version, raw ecosystem)``; a package known only by its git commit is named
    by its repository with ecosystem ``git`` and the commit as its version."""
    name = loose.text(pkg, "name", where).strip()
    version = loose.text(pkg, "version", where)
    raw_eco = loose.text(pkg, "ecosystem", where)
    commit = loose.text(pkg, "commit", where).strip()
    if commit and not raw_eco:
        raw_eco = "git"
        version = version or commit
        if not name:
            name = _repo_of(records) or f"commit {commit}"
        name = _repo_name(name)
    if not name:
        _R.fail(where, 'missing "name" (and no "commit")')
    return name, version, raw_eco


def _repo_of(records: dict[str, dict[str, Any]]) -> str:
    for rec in records.values():
        for aff in as_list(rec.get("affected")):
            for rng in as_list(aff.get("ranges")) if isinstance(aff, dict) else ():
                if isinstance(rng, dict) and isinstance(rng.get("repo"), str) and rng["repo"]:
                    return str(rng["repo"])
    return ""


def _repo_name(name: str) -> str:
    """A repository URL as one stable name: no scheme, no ``.git``, no trailing slash
    (``https://github.com/curl/curl.git`` -> ``github.com/curl/curl``)."""
    for prefix in ("https://", "http://", "git://", "ssh://", "git+https://"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
            break
    name = name.removeprefix("git@").rstrip("/")
    return name.removesuffix(".git")


class _Component:
    """The groups and records of one package that share an id: one finding."""

    __slots__ = ("groups", "ids", "records")

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.groups: list[_Group] = []
        self.records: list[str] = []


def _components(
    groups: list[_Group], records: dict[str, dict[str, Any]], loose: Lenient, where: str
) -> list[_Component]:
    """Groups and records joined by shared ids (union-find over ids, first-seen order)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(items: list[str]) -> None:
        roots = []
        for item in items:
            key = item.strip().upper()
            if not key:
                continue
            parent.setdefault(key, key)
            roots.append(find(key))
        for r in roots[1:]:
            if r != roots[0]:
                parent[r] = roots[0]

    for group in groups:
        union([*group.ids, *group.aliases])
    for vid, rec in records.items():
        aliases = [a for a in as_list(rec.get("aliases")) if isinstance(a, str)]
        union([vid, *aliases])
    by_root: dict[str, _Component] = {}
    order: list[_Component] = []

    def component(key: str) -> _Component:
        root = find(key.strip().upper())
        comp = by_root.get(root)
        if comp is None:
            comp = by_root[root] = _Component()
            order.append(comp)
        return comp

    for group in groups:
        comp = component(group.ids[0])
        comp.groups.append(group)
        for i in [*group.ids, *group.aliases]:
            if i not in comp.ids:
                comp.ids.append(i)
    for vid, rec in records.items():
        comp = component(vid)
        comp.records.append(vid)
        for i in [vid, *(a for a in as_list(rec.get("aliases")) if isinstance(a, str))]:
            if i not in comp.ids:
                comp.ids.append(i)
    if len(groups) > 1 and len(order) < len(groups):
        loose.notes.add(where, f"{len(groups)} groups share ids: read as {len(order)} finding(s)")
    return order


def _finding(
    ids: DependencyIds,
    eco: str,
    raw_eco: str,
    name: str,
    version: str,
    comp: _Component,
    all_records: dict[str, dict[str, Any]],
    source_path: str,
) -> NormalizedFinding:
    records = [all_records[r] for r in comp.records]
    group_ids = [i for g in comp.groups for i in g.ids]
    # The tool's own id for the advisory: a grouped id it has the record of, else a record.
    tool_id = next((i for i in group_ids if i in all_records), "") or (
        comp.records[0] if comp.records else group_ids[0]
    )
    vid, others = canonical(tool_id, comp.ids)

    max_sev = ""
    score: float | None = None
    for group in comp.groups:
        s = cvss_score(group.max_severity) if group.max_severity else None
        if s is not None and (score is None or s > score):
            score, max_sev = s, group.max_severity
    vector = ""
    raw = max_sev
    severity = from_cvss(score) if score is not None else ""
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
    fixed = "" if eco == "git" else pick_fix(version, fixes)
    evidence: dict[str, Any] = {"locations": [cut(source_path, 500)] if source_path else []}
    if raw_eco:
        evidence["osv_ecosystem"] = cut(raw_eco, 100)
    if fixes:
        evidence["fix_versions"] = fixes[:20]
    if cwes:
        evidence["cwes"] = cwes[:20]
    if len(group_ids) > 1:
        evidence["group"] = group_ids[:20]
    reachable: bool | None = None
    for group in comp.groups:
        if group.reachable is not None:
            reachable = group.reachable or bool(reachable)
    if reachable is not None:
        evidence["called"] = reachable
    return NormalizedFinding(
        fingerprint=ids.fingerprint(eco, name, vid),
        category=CATEGORY,
        tool=SCAN_TYPE,
        rule_id=cut(tool_id, 200),
        title=cut(summary, 500) if summary else cut(f"{vid} in {name} {version}".strip(), 500),
        severity=severity,
        description=cut(details or summary, 8192),
        raw_severity=cut(raw, 200),
        cvss_score=score,
        cvss_vector=cut(vector, 200),
        vuln_id=vid,
        aliases=others,
        package=cut(name, 500),
        package_version=cut(version, 200),
        fixed_version=fixed,
        ecosystem=eco,
        file_path=cut(source_path, 1000),
        references=references(refs),
        remediation=f"Upgrade {name} to {fixed} or later." if fixed else "",
        evidence=evidence,
        reachable=reachable,
    )
