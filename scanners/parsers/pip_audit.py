"""pip-audit JSON (``pip-audit -f json``): the old bare list of dependencies and the newer
``{"dependencies": [...], "fixes": [...]}`` object.

pip-audit reports no severity: every vulnerability gets ``medium`` (see
:data:`scanners.parsers._kit.UNRATED`) with ``raw_severity`` ``""``. A dependency with a
``skip_reason`` was *not audited* - that is not the same as clean: it is listed in
``Report.metadata["not_audited"]`` and in ``Report.warnings``.
"""

from __future__ import annotations

from typing import Any

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._kit import (
    UNRATED,
    Collector,
    DependencyIds,
    Reader,
    canonical,
    cut,
    pick_fix,
)

SCAN_TYPE = "pip-audit"
CATEGORY = "dependency"
DESCRIPTION = "pip-audit JSON (Python dependency vulnerabilities; skipped packages = not audited)"

_R = Reader(SCAN_TYPE)
_DEP_KEYS = frozenset({"name", "version", "vulns", "skip_reason"})


def _looks_like_dependency(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and "name" in item
        and ("vulns" in item or "skip_reason" in item)
        and item.keys() <= _DEP_KEYS
    )


def sniff(doc: Document) -> bool:
    data = doc.json
    if isinstance(data, dict):
        deps = data.get("dependencies")
        if not isinstance(deps, list) or not (data.keys() <= {"dependencies", "fixes"}):
            return False
        return not deps or _looks_like_dependency(deps[0])
    if isinstance(data, list) and data:
        return _looks_like_dependency(data[0])
    return False


def parse(doc: Document) -> Report:
    data = doc.json
    if data is None:
        _R.fail("", "not a JSON document")
    if isinstance(data, dict):
        deps = _R.arr(data.get("dependencies"), "dependencies")
        base = "dependencies"
        fixes = _R.opt_arr(data, "fixes", "")
    elif isinstance(data, list):
        deps, base, fixes = data, "", []
    else:
        _R.fail("", 'expected an object with "dependencies" or an array of dependencies')

    ids = DependencyIds()
    eco = ids.ecosystem("pypi")
    out = Collector()
    not_audited: list[dict[str, str]] = []
    audited = 0
    for i, raw in enumerate(deps):
        where = f"{base}[{i}]"
        dep = _R.obj(raw, where)
        name = _R.req_str(dep, "name", where)
        version = _R.opt_str(dep, "version", where)
        skip = _R.opt_str(dep, "skip_reason", where)
        if skip or ("vulns" not in dep and "skip_reason" in dep):
            not_audited.append({"name": name, "version": version, "reason": cut(skip, 500)})
            continue
        audited += 1
        for j, vraw in enumerate(_R.opt_arr(dep, "vulns", where)):
            vwhere = f"{where}.vulns[{j}]"
            v = _R.obj(vraw, vwhere)
            tool_id = _R.req_str(v, "id", vwhere)
            aliases = _R.str_list(v, "aliases", vwhere)
            fix_versions = _R.str_list(v, "fix_versions", vwhere)
            description = _R.opt_str(v, "description", vwhere)
            vid, others = canonical(tool_id, aliases)
            fixed = pick_fix(version, fix_versions)
            out.add(
                NormalizedFinding(
                    fingerprint=ids.fingerprint(eco, name, vid),
                    category=CATEGORY,
                    tool=SCAN_TYPE,
                    rule_id=tool_id,
                    title=f"{vid} in {name} {version}".strip(),
                    severity=UNRATED,
                    description=cut(description, 8192),
                    vuln_id=vid,
                    aliases=others,
                    package=name,
                    package_version=version,
                    fixed_version=fixed,
                    ecosystem=eco,
                    purl=f"pkg:pypi/{ids.package(name, eco)}@{version}" if version else "",
                    remediation=f"Upgrade {name} to {fixed} or later." if fixed else "",
                    evidence={"fix_versions": fix_versions[:20]} if fix_versions else {},
                )
            )
    report = Report(
        tool=SCAN_TYPE,
        tool_version="",
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        findings=out.findings(),
        metadata={
            "dependencies": len(deps),
            "audited": audited,
            "not_audited": not_audited,
        },
    )
    if fixes:
        report.metadata["fixes"] = [
            {
                k: f.get(k)
                for k in ("name", "old_version", "new_version")
                if isinstance(f.get(k), str)
            }
            for f in fixes[:500]
            if isinstance(f, dict)
        ]
    if not_audited:
        names = ", ".join(d["name"] for d in not_audited[:10])
        extra = f" and {len(not_audited) - 10} more" if len(not_audited) > 10 else ""
        report.warnings.append(
            f"pip-audit: {len(not_audited)} of {len(deps)} dependencies were NOT audited "
            f"(skipped: {names}{extra}); their vulnerability status is unknown, not clean"
        )
    return report
