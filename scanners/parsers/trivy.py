"""Trivy JSON (``trivy image|fs|repo --format json``): schema v2
``{SchemaVersion, Results: [{Target, Class, Type, Vulnerabilities, Misconfigurations,
Secrets}]}``, the legacy bare list of results, and ``trivy k8s`` reports
(``{ClusterName, Vulnerabilities|Misconfigurations|Resources: [{Namespace, Kind, Name,
Results}]}``).

- Vulnerabilities are ``dependency`` findings: fingerprint ``(ecosystem from Type, PkgName,
  canonical id of VulnerabilityID + VendorIDs)``. Severity is Trivy's own ``Severity`` (already
  chosen by Trivy from ``SeveritySource``); ``UNKNOWN`` falls back to the CVSS band, else
  ``medium``. ``cvss_score`` is ``CVSS[SeveritySource].V3Score`` (else its ``V40Score``, else
  NVD's, else any). ``FixedVersion`` is comma separated and may be empty. ``Status:
  not_affected`` (a vendor VEX statement) is not a finding: it is listed in
  ``metadata["suppressed"]``.
- Misconfigurations (``Status`` ``FAIL``) and secrets are ``code`` findings fingerprinted by
  ``(tool, rule id, target, line)``.
- An entry without ``VulnerabilityID`` (seen in old reports) is skipped with a warning; a value
  of the wrong JSON type is a :class:`ReportError`.

This parser is on the hot path for very large image scans: no per-finding regex, evidence
built directly from the few fields kept (strings cut, not deep-trimmed).
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, NoReturn

from scanners import fingerprint
from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._kit import (
    MAX_DESCRIPTION,
    MAX_REFERENCES,
    UNRATED,
    Collector,
    DependencyIds,
    Reader,
    canonical,
    cut,
    gc_paused,
    kind,
    majority_category,
    merge,
    pick_fix,
)
from scanners.severity import from_cvss

SCAN_TYPE = "trivy"
CATEGORY = "dependency"
DESCRIPTION = "Trivy JSON (image/fs/k8s: vulnerabilities, misconfigurations, secrets)"

_R = Reader(SCAN_TYPE)

_SEVERITY = {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
_RESULT_KEYS = ("Vulnerabilities", "Misconfigurations", "Secrets", "Packages", "Licenses")
_K8S_KEYS = ("Vulnerabilities", "Misconfigurations", "Resources")
_SUPPRESSED_STATUS = "not_affected"
_sha256 = hashlib.sha256
_ONLY_STR = {str}
#: NormalizedFinding's fields in declaration order, as the positional fast path passes them.
_FIELD_ORDER = (
    "fingerprint", "category", "tool", "rule_id", "title", "severity", "description",
    "raw_severity", "cvss_score", "cvss_vector", "vuln_id", "aliases", "package",
    "package_version", "fixed_version", "ecosystem", "purl", "file_path", "archive_member",
    "line", "byte_offset", "metric_name", "metric_value", "metric_threshold", "comparator",
    "sample_count", "failure_count", "passed", "atlas", "owasp_ml", "owasp_llm", "references",
    "remediation", "evidence",
)  # fmt: skip
_POSITIONAL = tuple(f.name for f in dataclasses.fields(NormalizedFinding)) == _FIELD_ORDER
_ROTATE = "Revoke and rotate the secret, then remove it from the source and its history."


def sniff(doc: Document) -> bool:
    data = doc.json
    if isinstance(data, dict):
        if "SchemaVersion" in data and ("Results" in data or "ArtifactName" in data):
            return True
        return "ClusterName" in data and any(k in data for k in _K8S_KEYS)
    if isinstance(data, list) and data:
        first = data[0]
        return (
            isinstance(first, dict)
            and "Target" in first
            and any(k in first for k in ("Vulnerabilities", "Misconfigurations", "Secrets", "Type"))
        )
    return False


class _State:
    __slots__ = (
        "collector",
        "ids",
        "misconf_passed",
        "skipped",
        "suppressed",
        "targets",
        "warnings",
    )

    def __init__(self) -> None:
        self.collector = Collector()
        self.ids = DependencyIds()
        self.suppressed: list[dict[str, str]] = []
        self.warnings: list[str] = []
        self.skipped = 0
        self.misconf_passed = 0
        self.targets = 0


def parse(doc: Document) -> Report:
    with gc_paused():
        return _parse(doc)


def _parse(doc: Document) -> Report:
    data = doc.json
    st = _State()
    meta: dict[str, Any] = {}
    tool_version = ""
    if isinstance(data, list):
        meta["legacy"] = True
        _results(st, data, "", "")
    elif isinstance(data, dict):
        trivy = data.get("Trivy")
        if isinstance(trivy, dict) and isinstance(trivy.get("Version"), str):
            tool_version = trivy["Version"]
        for key in ("SchemaVersion", "ArtifactName", "ArtifactType", "CreatedAt", "ClusterName"):
            value = data.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                meta[key] = cut(str(value), 500) if isinstance(value, str) else value
        md = data.get("Metadata")
        if isinstance(md, dict) and isinstance(md.get("OS"), dict):
            os_info = md["OS"]
            meta["os"] = {k: cut(v, 100) for k, v in os_info.items() if isinstance(v, str)}
        if "ClusterName" in data and "Results" not in data:
            for key in _K8S_KEYS:
                for i, res in enumerate(_R.opt_arr(data, key, "")):
                    where = f"{key}[{i}]"
                    resource = _R.obj(res, where)
                    ns = _R.opt_str(resource, "Namespace", where)
                    kind_ = _R.opt_str(resource, "Kind", where)
                    name = _R.opt_str(resource, "Name", where)
                    label = "/".join(p for p in (ns, kind_, name) if p)
                    _results(
                        st, _R.opt_arr(resource, "Results", where), f"{where}.Results", ns, label
                    )
        else:
            if "Results" not in data:
                _R.fail("", 'missing "Results"')
            _results(st, _R.opt_arr(data, "Results", ""), "Results", "")
    else:
        _R.fail("", 'expected an object with "Results" or an array of results')

    findings = st.collector.findings()
    meta["targets"] = st.targets
    if st.suppressed:
        meta["suppressed"] = st.suppressed
    if st.misconf_passed:
        meta["misconfigurations_passed"] = st.misconf_passed
    if st.skipped > len(st.warnings):
        st.warnings.append(f"trivy: {st.skipped} entries without an id were skipped in total")
    return Report(
        tool=SCAN_TYPE,
        tool_version=tool_version,
        scan_type=SCAN_TYPE,
        category=majority_category(findings, CATEGORY),
        findings=findings,
        metadata=meta,
        warnings=st.warnings,
    )


def _results(st: _State, results: list[Any], base: str, ns: str, resource: str = "") -> None:
    for i, raw in enumerate(results):
        where = f"{base}[{i}]"
        result = _R.obj(raw, where)
        st.targets += 1
        target = _R.opt_str(result, "Target", where)
        rclass = _R.opt_str(result, "Class", where)
        rtype = _R.opt_str(result, "Type", where)
        vulns = result.get("Vulnerabilities")
        if vulns is not None:
            _vulnerabilities(
                st,
                _R.arr(vulns, f"{where}.Vulnerabilities"),
                where,
                target,
                rclass,
                rtype,
                resource,
            )
        misconfs = result.get("Misconfigurations")
        if misconfs is not None:
            _misconfigurations(
                st, _R.arr(misconfs, f"{where}.Misconfigurations"), where, target, ns
            )
        secrets = result.get("Secrets")
        if secrets is not None:
            _secrets(st, _R.arr(secrets, f"{where}.Secrets"), where, target, ns)


def _bad(where: str, j: int, key: str, value: Any, expected: str = "a string") -> NoReturn:
    _R.fail(f"{where}.Vulnerabilities[{j}].{key}", f"expected {expected}, got {kind(value)}")


def _pick_cvss(cvss: dict[str, Any], source: str) -> tuple[float | None, str]:
    """The CVSS score Trivy's ``SeveritySource`` gave (V3, else V4), else NVD's, else any."""
    order: list[Any] = []
    pref = cvss.get(source) if source else None
    if pref is not None:
        order.append(pref)
    nvd = cvss.get("nvd")
    if nvd is not None and nvd is not pref:
        order.append(nvd)
    order.extend(v for v in cvss.values() if v is not pref and v is not nvd)
    for entry in order:
        if type(entry) is not dict:
            continue
        for score_key, vector_key in (("V3Score", "V3Vector"), ("V40Score", "V40Vector")):
            score = entry.get(score_key)
            if (type(score) is float or type(score) is int) and 0 <= score <= 10:
                vector = entry.get(vector_key)
                return float(score), vector[:200] if type(vector) is str else ""
    return None, ""


#: String fields of a vulnerability entry, validated in one pass when any is not a string.
_STR_FIELDS = (
    "InstalledVersion",
    "FixedVersion",
    "Severity",
    "Title",
    "Description",
    "SeveritySource",
    "Status",
    "PkgPath",
)


def _vulnerabilities(
    st: _State,
    vulns: list[Any],
    where: str,
    target: str,
    rclass: str,
    rtype: str,
    resource: str,
) -> None:
    # Hot loop: locals for everything looked up per entry, no per-entry regex or deep copy.
    ids = st.ids
    eco = ids.ecosystem(rtype) if rtype else ""
    by_fp = st.collector.by_fp
    package_cache: dict[str, str] = {}
    normalize = ids.package
    sha256 = _sha256
    severity_table = _SEVERITY
    finding = NormalizedFinding
    target_loc = (f"{resource}: {target}" if resource else target)[:500]
    str_type = str
    for j, v in enumerate(vulns):
        if type(v) is not dict:
            _R.fail(f"{where}.Vulnerabilities[{j}]", f"expected an object, got {kind(v)}")
        get = v.get
        vid = get("VulnerabilityID")
        if type(vid) is not str_type or not vid:
            if vid is not None and type(vid) is not str_type:
                _bad(where, j, "VulnerabilityID", vid)
            st.skipped += 1
            if len(st.warnings) < 20:
                st.warnings.append(
                    f'trivy: {where}.Vulnerabilities[{j}]: missing "VulnerabilityID"; entry skipped'
                )
            continue
        pkg = get("PkgName")
        if type(pkg) is not str_type:
            if pkg is None:
                _R.fail(f"{where}.Vulnerabilities[{j}]", 'missing "PkgName"')
            _bad(where, j, "PkgName", pkg)
        installed = get("InstalledVersion") or ""
        fixed_raw = get("FixedVersion") or ""
        sev_raw = get("Severity") or ""
        title = get("Title") or ""
        desc = get("Description") or ""
        source = get("SeveritySource") or ""
        status = get("Status") or ""
        pkg_path = get("PkgPath") or ""
        if not (
            type(installed) is str_type
            and type(fixed_raw) is str_type
            and type(sev_raw) is str_type
            and type(title) is str_type
            and type(desc) is str_type
            and type(source) is str_type
            and type(status) is str_type
            and type(pkg_path) is str_type
        ):
            for key in _STR_FIELDS:
                if type(get(key) or "") is not str_type:
                    _bad(where, j, key, get(key))

        vendor = get("VendorIDs")
        if vendor:
            if type(vendor) is not list:
                _bad(where, j, "VendorIDs", vendor, "an array")
            cid, aliases = canonical(vid, [x for x in vendor if type(x) is str_type])
        elif vid[:4] == "CVE-" and vid.isprintable() and vid.strip() == vid:
            cid, aliases = vid.upper(), []
        else:
            cid, aliases = canonical(vid, ())

        if status == _SUPPRESSED_STATUS:
            if len(st.suppressed) < 10000:
                st.suppressed.append(
                    {"id": cid, "package": pkg[:200], "target": target[:200], "status": status}
                )
            continue

        score: float | None = None
        vector = ""
        cvss = get("CVSS")
        if type(cvss) is dict and cvss:
            entry = cvss.get(source) if source else None
            if type(entry) is dict:
                raw_score = entry.get("V3Score")
                if (type(raw_score) is float or type(raw_score) is int) and 0 <= raw_score <= 10:
                    score = float(raw_score)
                    raw_vector = entry.get("V3Vector")
                    vector = raw_vector[:200] if type(raw_vector) is str_type else ""
            if score is None:
                score, vector = _pick_cvss(cvss, source)

        severity = severity_table.get(sev_raw)
        if severity is None:
            severity = severity_table.get(sev_raw.upper())
            if severity is None:
                severity = from_cvss(score) if score is not None else UNRATED

        fixes: list[str] | None = None
        if "," in fixed_raw:
            fixes = [f.strip() for f in fixed_raw.split(",") if f.strip()]
            fixed = pick_fix(installed, fixes)
        else:
            fixed = fixed_raw.strip()

        raw_refs = get("References")
        refs: list[Any] = []
        if type(raw_refs) is list and raw_refs:
            refs = raw_refs if len(raw_refs) <= MAX_REFERENCES else raw_refs[:MAX_REFERENCES]
            if set(map(type, refs)) != _ONLY_STR:
                refs = [r for r in refs if type(r) is str_type]
        primary = get("PrimaryURL")
        if type(primary) is str_type and primary and primary not in refs:
            refs = [primary, *refs]
        elif refs is raw_refs:
            refs = list(refs)  # never hand out (and later mutate) the decoded document

        pkg_norm = package_cache.get(pkg)
        if pkg_norm is None:
            pkg_norm = package_cache[pkg] = normalize(pkg, eco)
        fp = sha256(
            f"dependency\x1f{eco}\x1f{pkg_norm}\x1f{cid}".encode("utf-8", "surrogatepass")
        ).hexdigest()

        evidence: dict[str, Any] = {
            "locations": [pkg_path[:500] or target_loc],
            "target": target_loc,
            "class": rclass,
            "status": status[:50],
            "severity_source": source[:50],
        }
        if fixes:
            evidence["fix_versions"] = fixes[:20]
        cwe = get("CweIDs")
        if type(cwe) is list and cwe:
            evidence["cwes"] = [c[:50] for c in cwe[:20] if type(c) is str_type]
        ident = get("PkgIdentifier")
        purl = ""
        if type(ident) is dict:
            p = ident.get("PURL")
            if type(p) is str_type:
                purl = p[:500]

        title = title[:500] if title else f"{cid} in {pkg} {installed}".strip()
        if len(desc) > MAX_DESCRIPTION:
            desc = cut(desc, MAX_DESCRIPTION)
        remediation = f"Upgrade {pkg} to {fixed} or later." if fixed else ""
        if _POSITIONAL:
            # every field in declaration order: no keyword matching, no default factories
            new = finding(
                fp, "dependency", SCAN_TYPE, vid[:200], title, severity, desc, sev_raw[:50],
                score, vector, cid[:200], aliases, pkg[:500], installed[:200], fixed[:200], eco,
                purl, "", "", None, None, "", None, None, "", None, None, False, [], [], [], refs,
                remediation, evidence,
            )  # fmt: skip
        else:  # pragma: no cover - only if NormalizedFinding's fields change
            new = finding(
                fingerprint=fp,
                category="dependency",
                tool=SCAN_TYPE,
                rule_id=vid[:200],
                title=title,
                severity=severity,
                description=desc,
                raw_severity=sev_raw[:50],
                cvss_score=score,
                cvss_vector=vector,
                vuln_id=cid[:200],
                aliases=aliases,
                package=pkg[:500],
                package_version=installed[:200],
                fixed_version=fixed[:200],
                ecosystem=eco,
                purl=purl,
                references=refs,
                remediation=remediation,
                evidence=evidence,
            )
        have = by_fp.get(fp)
        if have is None:
            by_fp[fp] = new
        else:
            merge(have, new)


def _code_fp(rule: str, path: str, line: int | None) -> str:
    return fingerprint.make("code", SCAN_TYPE, rule, path, line)


def _line(obj: dict[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if type(value) is int and value > 0:
        return value
    return None


def _misconfigurations(st: _State, items: list[Any], where: str, target: str, ns: str) -> None:
    path = f"{ns}/{target}" if ns else target
    for j, raw in enumerate(items):
        mwhere = f"{where}.Misconfigurations[{j}]"
        m = _R.obj(raw, mwhere)
        status = _R.opt_str(m, "Status", mwhere)
        if status and status.upper() != "FAIL":
            st.misconf_passed += 1
            continue
        rule = _R.opt_str(m, "ID", mwhere) or _R.opt_str(m, "AVDID", mwhere)
        if not rule:
            _R.fail(mwhere, 'missing "ID"')
        sev_raw = _R.opt_str(m, "Severity", mwhere)
        cause = _R.opt_obj(m, "CauseMetadata", mwhere)
        line = _line(cause, "StartLine")
        refs = [
            r for r in _R.opt_arr(m, "References", mwhere)[:MAX_REFERENCES] if isinstance(r, str)
        ]
        message = _R.opt_str(m, "Message", mwhere)
        description = _R.opt_str(m, "Description", mwhere)
        evidence: dict[str, Any] = {"locations": [cut(path, 500)], "status": status or "FAIL"}
        for key in ("Type", "Namespace"):
            value = m.get(key)
            if isinstance(value, str) and value:
                evidence[key.lower()] = cut(value, 200)
        if message:
            evidence["message"] = cut(message, 2000)
        end = _line(cause, "EndLine")
        if end is not None:
            evidence["end_line"] = end
        st.collector.add(
            NormalizedFinding(
                fingerprint=_code_fp(rule, path, line),
                category="code",
                tool=SCAN_TYPE,
                rule_id=cut(rule, 200),
                title=cut(_R.opt_str(m, "Title", mwhere) or rule, 500),
                severity=_SEVERITY.get(sev_raw.upper(), UNRATED),
                description=cut(message or description, MAX_DESCRIPTION)
                if not description
                else cut(f"{description}\n\n{message}".strip(), MAX_DESCRIPTION),
                raw_severity=cut(sev_raw, 50),
                file_path=cut(path, 1000),
                line=line,
                references=refs,
                remediation=cut(_R.opt_str(m, "Resolution", mwhere), 2000),
                evidence=evidence,
            )
        )


def _secrets(st: _State, items: list[Any], where: str, target: str, ns: str) -> None:
    path = f"{ns}/{target}" if ns else target
    for j, raw in enumerate(items):
        swhere = f"{where}.Secrets[{j}]"
        s = _R.obj(raw, swhere)
        rule = _R.req_str(s, "RuleID", swhere)
        sev_raw = _R.opt_str(s, "Severity", swhere)
        line = _line(s, "StartLine")
        title = _R.opt_str(s, "Title", swhere) or rule
        evidence: dict[str, Any] = {"locations": [cut(path, 500)]}
        category = _R.opt_str(s, "Category", swhere)
        if category:
            evidence["secret_category"] = cut(category, 100)
        match = _R.opt_str(s, "Match", swhere)
        if match:
            # Trivy masks the secret itself with asterisks; keep only that masked line.
            evidence["match"] = cut(match, 300)
        st.collector.add(
            NormalizedFinding(
                fingerprint=_code_fp(rule, path, line),
                category="code",
                tool=SCAN_TYPE,
                rule_id=cut(rule, 200),
                title=cut(f"Secret: {title}", 500),
                severity=_SEVERITY.get(sev_raw.upper(), UNRATED),
                description=cut(
                    f"{title} found in {path}" + (f" line {line}" if line else ""), 2000
                ),
                raw_severity=cut(sev_raw, 50),
                file_path=cut(path, 1000),
                line=line,
                remediation=_ROTATE,
                evidence=evidence,
            )
        )
