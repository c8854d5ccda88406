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
  of the wrong JSON type is a :class:`ReportError` naming its path.

Image scans run to tens of thousands of vulnerabilities and 30 MB and more, so this parser
decodes with typed msgspec ``Struct`` classes (:mod:`scanners.parsers._typed`) instead of the
generic orjson document: only the fields below are built, already type-checked, and the hot
loop reads attributes. :func:`parse_direct` recognizes a report from its bytes, so automatic
detection does not decode the document a second time.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import msgspec

from scanners import fingerprint
from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers import _typed
from scanners.parsers._kit import (
    MAX_DESCRIPTION,
    MAX_REFERENCES,
    UNRATED,
    Collector,
    DependencyIds,
    canonical,
    cut,
    fail,
    gc_paused,
    majority_category,
    merge,
    pick_fix,
)
from scanners.severity import from_cvss

SCAN_TYPE = "trivy"
CATEGORY = "dependency"
DESCRIPTION = "Trivy JSON (image/fs/k8s: vulnerabilities, misconfigurations, secrets)"

# -- the shape of a report: only what Warden keeps; every other field is skipped unbuilt ------
# gc=False: these objects hold no cycles, so the cyclic GC never needs to track them.


class _Cvss(msgspec.Struct, gc=False):
    V3Score: float | None = None
    V3Vector: str | None = None
    V40Score: float | None = None
    V40Vector: str | None = None


class _PkgIdentifier(msgspec.Struct, gc=False):
    PURL: str | None = None


class _Vulnerability(msgspec.Struct, gc=False):
    VulnerabilityID: str | None = None
    VendorIDs: list[str] | None = None
    PkgName: str | None = None
    PkgPath: str | None = None
    PkgIdentifier: _PkgIdentifier | None = None
    InstalledVersion: str | None = None
    FixedVersion: str | None = None
    Status: str | None = None
    SeveritySource: str | None = None
    PrimaryURL: str | None = None
    Title: str | None = None
    Description: str | None = None
    Severity: str | None = None
    CweIDs: list[str] | None = None
    CVSS: dict[str, _Cvss] | None = None
    References: list[str] | None = None


class _CauseMetadata(msgspec.Struct, gc=False):
    StartLine: int | None = None
    EndLine: int | None = None


class _Misconfiguration(msgspec.Struct, gc=False):
    Type: str | None = None
    ID: str | None = None
    AVDID: str | None = None
    Title: str | None = None
    Description: str | None = None
    Message: str | None = None
    Namespace: str | None = None
    Resolution: str | None = None
    Severity: str | None = None
    References: list[str] | None = None
    Status: str | None = None
    CauseMetadata: _CauseMetadata | None = None


class _Secret(msgspec.Struct, gc=False):
    RuleID: str
    Category: str | None = None
    Severity: str | None = None
    Title: str | None = None
    StartLine: int | None = None
    Match: str | None = None


class _Result(msgspec.Struct, gc=False):
    Target: str | None = None
    Class: str | None = None
    Type: str | None = None
    Vulnerabilities: list[_Vulnerability] | None = None
    Misconfigurations: list[_Misconfiguration] | None = None
    Secrets: list[_Secret] | None = None


class _K8sResource(msgspec.Struct, gc=False):
    Namespace: str | None = None
    Kind: str | None = None
    Name: str | None = None
    Results: list[_Result] | None = None


class _Metadata(msgspec.Struct, gc=False):
    OS: dict[str, Any] | None = None


class _Version(msgspec.Struct, gc=False):
    Version: str | None = None


class _Report(msgspec.Struct, gc=False):
    SchemaVersion: int | str | None = None
    CreatedAt: str | None = None
    ArtifactID: Any = None
    ArtifactName: str | None = None
    ArtifactType: str | None = None
    Metadata: _Metadata | None = None
    Results: list[_Result] | None = None
    Trivy: _Version | None = None
    ReportID: Any = None
    # trivy k8s
    ClusterName: str | None = None
    Vulnerabilities: list[_K8sResource] | None = None
    Misconfigurations: list[_K8sResource] | None = None
    Resources: list[_K8sResource] | None = None


class _KnownReport(_Report, forbid_unknown_fields=True):
    """A document with no key Trivy does not write: no other format's sniffer can claim it
    (they all need keys of their own), so recognizing it here agrees with :func:`detect`."""


_DECODE_REPORT = msgspec.json.Decoder(_Report)
_DECODE_KNOWN = msgspec.json.Decoder(_KnownReport)
_DECODE_LEGACY = msgspec.json.Decoder(list[_Result])

_SEVERITY = {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
_K8S_KEYS = ("Vulnerabilities", "Misconfigurations", "Resources")
_SUPPRESSED_STATUS = "not_affected"
_sha256 = hashlib.sha256
#: NormalizedFinding's fields in declaration order, as the positional fast path passes them.
_FIELD_ORDER = (
    "fingerprint", "category", "tool", "rule_id", "title", "severity", "description",
    "raw_severity", "cvss_score", "cvss_vector", "vuln_id", "aliases", "package",
    "package_version", "fixed_version", "ecosystem", "purl", "file_path", "archive_member",
    "line", "byte_offset", "metric_name", "metric_value", "metric_threshold", "comparator",
    "sample_count", "failure_count", "passed", "atlas", "owasp_ml", "owasp_llm", "references",
    "remediation", "evidence",
)  # fmt: skip
# Fields after "evidence" have defaults, so a positional call may stop there.
_POSITIONAL = (
    tuple(f.name for f in dataclasses.fields(NormalizedFinding))[: len(_FIELD_ORDER)]
    == _FIELD_ORDER
)
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


def _is_trivy(report: _Report) -> bool:
    """:func:`sniff` on a typed report (a key set to null counts as absent: only a yes must
    agree with :func:`sniff`; a no just leaves the report to the generic detection)."""
    if report.SchemaVersion is not None and (
        report.Results is not None or report.ArtifactName is not None
    ):
        return True
    return report.ClusterName is not None and (
        report.Vulnerabilities is not None
        or report.Misconfigurations is not None
        or report.Resources is not None
    )


def parse_direct(data: bytes) -> Report | None:
    """The report, when ``data`` is recognizably a Trivy object report, else ``None``.

    Cheap for other formats: their first top-level key is unknown to Trivy, and decoding
    stops right there."""
    with gc_paused():
        report = _typed.decode_object_or_none(data, _DECODE_KNOWN)
        if report is None or not _is_trivy(report):
            return None
        return _from_report(report)


def parse(doc: Document) -> Report:
    with gc_paused():
        head = _typed.first_byte(doc.data)
        if head == b"[":
            st = _State()
            _results(st, _typed.decode(SCAN_TYPE, doc.data, _DECODE_LEGACY), "", "")
            return _finish(st, {"legacy": True}, "")
        if head != b"{":
            fail(SCAN_TYPE, "", 'expected an object with "Results" or an array of results')
        return _from_report(_typed.decode(SCAN_TYPE, doc.data, _DECODE_REPORT))


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


def _from_report(data: _Report) -> Report:
    st = _State()
    meta: dict[str, Any] = {}
    tool_version = ""
    if data.Trivy is not None and data.Trivy.Version is not None:
        tool_version = data.Trivy.Version
    for key in ("SchemaVersion", "ArtifactName", "ArtifactType", "CreatedAt", "ClusterName"):
        value = getattr(data, key)
        if value is not None:
            meta[key] = cut(value, 500) if isinstance(value, str) else value
    if data.Metadata is not None and data.Metadata.OS is not None:
        os_info = data.Metadata.OS
        meta["os"] = {k: cut(v, 100) for k, v in os_info.items() if isinstance(v, str)}
    if data.ClusterName is not None and data.Results is None:
        for key in _K8S_KEYS:
            for i, resource in enumerate(getattr(data, key) or ()):
                where = f"{key}[{i}]"
                ns = resource.Namespace or ""
                label = "/".join(p for p in (ns, resource.Kind, resource.Name) if p)
                _results(st, resource.Results or (), f"{where}.Results", ns, label)
    elif data.Results is not None:
        _results(st, data.Results, "Results", "")
    elif data.SchemaVersion is None and data.ArtifactName is None:
        fail(SCAN_TYPE, "", 'missing "Results"')
    # else: Trivy omits an empty "Results" (a clean artifact): no findings
    return _finish(st, meta, tool_version)


def _finish(st: _State, meta: dict[str, Any], tool_version: str) -> Report:
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
        target=str(meta.get("ArtifactName") or "")[:500],
    )


def _results(
    st: _State, results: list[_Result] | tuple[()], base: str, ns: str, resource: str = ""
) -> None:
    for i, result in enumerate(results):
        where = f"{base}[{i}]"
        st.targets += 1
        target = result.Target or ""
        if result.Vulnerabilities is not None:
            _vulnerabilities(
                st,
                result.Vulnerabilities,
                where,
                target,
                result.Class or "",
                result.Type or "",
                resource,
            )
        if result.Misconfigurations is not None:
            _misconfigurations(st, result.Misconfigurations, where, target, ns)
        if result.Secrets is not None:
            _secrets(st, result.Secrets, where, target, ns)


def _score(entry: _Cvss) -> tuple[float | None, str]:
    """An entry's V3 score and vector, else its V4 ones (scores outside [0, 10] are ignored)."""
    score = entry.V3Score
    if score is not None and 0 <= score <= 10:
        return score, (entry.V3Vector or "")[:200]
    score = entry.V40Score
    if score is not None and 0 <= score <= 10:
        return score, (entry.V40Vector or "")[:200]
    return None, ""


def _pick_cvss(cvss: dict[str, _Cvss], source: str) -> tuple[float | None, str]:
    """The CVSS score Trivy's ``SeveritySource`` gave (V3, else V4), else NVD's, else any."""
    order: list[_Cvss] = []
    pref = cvss.get(source) if source else None
    if pref is not None:
        order.append(pref)
    nvd = cvss.get("nvd")
    if nvd is not None and nvd is not pref:
        order.append(nvd)
    order.extend(v for v in cvss.values() if v is not pref and v is not nvd)
    for entry in order:
        score, vector = _score(entry)
        if score is not None:
            return score, vector
    return None, ""


def _vulnerabilities(
    st: _State,
    vulns: list[_Vulnerability],
    where: str,
    target: str,
    rclass: str,
    rtype: str,
    resource: str,
) -> None:
    # Hot loop: locals for everything looked up per entry, no per-entry regex or deep copy.
    # The values are already type-checked by the decoder and belong to no one else.
    ids = st.ids
    eco = ids.ecosystem(rtype) if rtype else ""
    by_fp = st.collector.by_fp
    package_cache: dict[str, str] = {}
    normalize = ids.package
    sha256 = _sha256
    severity_table = _SEVERITY
    finding = NormalizedFinding
    target_loc = (f"{resource}: {target}" if resource else target)[:500]
    for j, v in enumerate(vulns):
        vid = v.VulnerabilityID
        if not vid:
            st.skipped += 1
            if len(st.warnings) < 20:
                st.warnings.append(
                    f'trivy: {where}.Vulnerabilities[{j}]: missing "VulnerabilityID"; entry skipped'
                )
            continue
        pkg = v.PkgName
        if pkg is None:
            fail(SCAN_TYPE, f"{where}.Vulnerabilities[{j}]", 'missing "PkgName"')
        installed = v.InstalledVersion or ""
        fixed_raw = v.FixedVersion or ""
        sev_raw = v.Severity or ""
        source = v.SeveritySource or ""
        status = v.Status or ""

        vendor = v.VendorIDs
        if vendor:
            cid, aliases = canonical(vid, vendor)
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
        cvss = v.CVSS
        if cvss:
            entry = cvss.get(source) if source else None
            if entry is not None:
                score = entry.V3Score
                if score is not None and 0 <= score <= 10:
                    vector = (entry.V3Vector or "")[:200]
                else:
                    score = None
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

        refs = v.References or []
        if len(refs) > MAX_REFERENCES:
            refs = refs[:MAX_REFERENCES]
        primary = v.PrimaryURL
        if primary and primary not in refs:
            refs = [primary, *refs]

        pkg_norm = package_cache.get(pkg)
        if pkg_norm is None:
            pkg_norm = package_cache[pkg] = normalize(pkg, eco)
        fp = sha256(
            f"dependency\x1f{eco}\x1f{pkg_norm}\x1f{cid}".encode("utf-8", "surrogatepass")
        ).hexdigest()

        evidence: dict[str, Any] = {
            "locations": [(v.PkgPath or "")[:500] or target_loc],
            "target": target_loc,
            "class": rclass,
            "status": status[:50],
            "severity_source": source[:50],
        }
        if fixes:
            evidence["fix_versions"] = fixes[:20]
        cwe = v.CweIDs
        if cwe:
            evidence["cwes"] = [c[:50] for c in cwe[:20]]
        ident = v.PkgIdentifier
        purl = ""
        if ident is not None and ident.PURL:
            purl = ident.PURL[:500]

        title = v.Title
        title = title[:500] if title else f"{cid} in {pkg} {installed}".strip()
        desc = v.Description or ""
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


def _line(value: int | None) -> int | None:
    return value if value is not None and value > 0 else None


def _misconfigurations(
    st: _State, items: list[_Misconfiguration], where: str, target: str, ns: str
) -> None:
    path = f"{ns}/{target}" if ns else target
    for j, m in enumerate(items):
        status = m.Status or ""
        if status and status.upper() != "FAIL":
            st.misconf_passed += 1
            continue
        rule = m.ID or m.AVDID
        if not rule:
            fail(SCAN_TYPE, f"{where}.Misconfigurations[{j}]", 'missing "ID"')
        sev_raw = m.Severity or ""
        cause = m.CauseMetadata
        line = _line(cause.StartLine) if cause is not None else None
        end = _line(cause.EndLine) if cause is not None else None
        refs = (m.References or [])[:MAX_REFERENCES]
        message = m.Message or ""
        description = m.Description or ""
        evidence: dict[str, Any] = {"locations": [cut(path, 500)], "status": status or "FAIL"}
        if m.Type:
            evidence["type"] = cut(m.Type, 200)
        if m.Namespace:
            evidence["namespace"] = cut(m.Namespace, 200)
        if message:
            evidence["message"] = cut(message, 2000)
        if end is not None:
            evidence["end_line"] = end
        st.collector.add(
            NormalizedFinding(
                fingerprint=_code_fp(rule, path, line),
                category="code",
                tool=SCAN_TYPE,
                rule_id=cut(rule, 200),
                title=cut(m.Title or rule, 500),
                severity=_SEVERITY.get(sev_raw.upper(), UNRATED),
                description=cut(message or description, MAX_DESCRIPTION)
                if not description
                else cut(f"{description}\n\n{message}".strip(), MAX_DESCRIPTION),
                raw_severity=cut(sev_raw, 50),
                file_path=cut(path, 1000),
                line=line,
                references=refs,
                remediation=cut(m.Resolution or "", 2000),
                evidence=evidence,
            )
        )


def _secrets(st: _State, items: list[_Secret], where: str, target: str, ns: str) -> None:
    path = f"{ns}/{target}" if ns else target
    for j, s in enumerate(items):
        rule = s.RuleID
        if not rule.strip():
            fail(SCAN_TYPE, f"{where}.Secrets[{j}].RuleID", "must not be empty")
        sev_raw = s.Severity or ""
        line = _line(s.StartLine)
        title = s.Title or rule
        evidence: dict[str, Any] = {"locations": [cut(path, 500)]}
        if s.Category:
            evidence["secret_category"] = cut(s.Category, 100)
        if s.Match:
            # Trivy masks the secret itself with asterisks; keep only that masked line.
            evidence["match"] = cut(s.Match, 300)
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
