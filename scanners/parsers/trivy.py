"""Trivy JSON (``trivy image|fs|repo|k8s --format json``), every shape of the last releases:
schema v2 ``{SchemaVersion, ArtifactName, Results: [{Target, Class, Type, Vulnerabilities,
Misconfigurations, Secrets, ExperimentalModifiedFindings}]}``, the object form without
``SchemaVersion`` (``{ImageID, RepoTags, Results}``), the legacy bare list of results, and
``trivy k8s`` reports (``{ClusterName, Vulnerabilities|Misconfigurations|Resources:
[{Namespace, Kind, Name, Results}]}``).

- Vulnerabilities are ``dependency`` findings: fingerprint ``(ecosystem from Type, PkgName,
  canonical id of VulnerabilityID + VendorIDs)``. Severity is Trivy's own ``Severity`` (already
  chosen by Trivy from ``SeveritySource``); ``UNKNOWN`` falls back to the CVSS band, else
  ``medium``. ``cvss_score`` is ``CVSS[SeveritySource].V3Score`` (else its ``V40Score``, else
  NVD's, else any). ``FixedVersion`` is comma separated and may be empty.
- Misconfigurations (``Status`` ``FAIL``) and secrets are ``code`` findings fingerprinted by
  ``(tool, rule id, target, line)``; passed checks are counted.
- Kept, in a not-active ``state`` with the tool's words as ``justification``: a vulnerability
  whose vendor status is ``not_affected`` (state ``not_affected``); a misconfiguration
  ``EXCEPTION`` (an exception policy: ``risk_accepted``); and what ``--show-suppressed``
  lists in ``ExperimentalModifiedFindings``: ``ignored`` (``.trivyignore``, ignore policy:
  ``risk_accepted``, or ``false_positive`` when its statement says so), VEX ``not_affected``
  (``not_affected``) and ``fixed`` (``resolved``).
- An entry without ``VulnerabilityID`` (seen in old reports) is skipped with a warning. A
  value of an unexpected type in an optional field is left out with a notice in
  ``Report.warnings`` (the tolerant path, :mod:`scanners.parsers._tolerant`); an entry that is
  not an object is a :class:`ReportError` naming its path.

Image scans run to tens of thousands of vulnerabilities and 30 MB and more, so this parser
decodes with typed msgspec ``Struct`` classes (:mod:`scanners.parsers._typed`) instead of the
generic orjson document: only the fields below are built, already type-checked, and the hot
loop reads attributes. :func:`parse_direct` recognizes a report from its bytes, so automatic
detection does not decode the document a second time.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any, ClassVar

import msgspec

from scanners import fingerprint
from scanners.document import Document
from scanners.findings import NormalizedFinding, Report, ReportError
from scanners.parsers import _tolerant, _typed
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
    IDENTITY: ClassVar[frozenset[str]] = frozenset({"VulnerabilityID", "PkgName"})  # _tolerant
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
    IDENTITY: ClassVar[frozenset[str]] = frozenset({"RuleID"})
    RuleID: str
    Category: str | None = None
    Severity: str | None = None
    Title: str | None = None
    StartLine: int | None = None
    Match: str | None = None


class _ModifiedFinding(msgspec.Struct, gc=False):
    """``--show-suppressed``: a finding an ignore file, a policy or a VEX document changed."""

    Type: str | None = None
    Status: str | None = None
    Statement: str | None = None
    Source: str | None = None
    Finding: Any = None  # a vulnerability, misconfiguration or secret (few: decoded as is)


class _Result(msgspec.Struct, gc=False):
    Target: str | None = None
    Class: str | None = None
    Type: str | None = None
    Vulnerabilities: list[_Vulnerability] | None = None
    Misconfigurations: list[_Misconfiguration] | None = None
    Secrets: list[_Secret] | None = None
    ExperimentalModifiedFindings: list[_ModifiedFinding] | None = None


class _K8sResource(msgspec.Struct, gc=False):
    Namespace: str | None = None
    Kind: str | None = None
    Name: str | None = None
    Results: list[_Result] | None = None


class _Metadata(msgspec.Struct, gc=False):
    OS: dict[str, Any] | None = None
    ImageID: str | None = None
    RepoTags: list[str] | None = None


class _Version(msgspec.Struct, gc=False):
    Version: str | None = None


class _Report(msgspec.Struct, gc=False):
    STRICT: ClassVar[frozenset[str]] = frozenset({"Results"})  # see _tolerant
    SchemaVersion: int | str | None = None
    CreatedAt: str | None = None
    ArtifactID: Any = None
    ArtifactName: str | None = None
    ArtifactType: str | None = None
    Metadata: _Metadata | None = None
    Results: list[_Result] | None = None
    Trivy: _Version | None = None
    ReportID: Any = None
    # the object form before SchemaVersion
    ImageID: str | None = None
    RepoTags: list[str] | None = None
    RepoDigests: Any = None
    DiffIDs: Any = None
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
_FINDING_TYPES: dict[str, type[Any]] = {
    "vulnerability": _Vulnerability,
    "misconfiguration": _Misconfiguration,
    "secret": _Secret,
}
#: ExperimentalModifiedFindings statuses -> Warden states ("" keeps the finding active).
_MODIFIED_STATE = {
    "ignored": "risk_accepted",
    "not_affected": "not_affected",
    "fixed": "resolved",
    "false_positive": "false_positive",
}
_FALSE_POSITIVE_WORDS = ("false positive", "false-positive", "falsepositive", "not a bug")

_SEVERITY = {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
_K8S_KEYS = ("Vulnerabilities", "Misconfigurations", "Resources")
_RESULT_KEYS = ("Vulnerabilities", "Misconfigurations", "Secrets", "Type", "Class")
_NOT_AFFECTED = "not_affected"
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


def _is_result(item: Any) -> bool:
    return isinstance(item, dict) and "Target" in item and any(k in item for k in _RESULT_KEYS)


def sniff(doc: Document) -> bool:
    data = doc.json
    if isinstance(data, dict):
        if "SchemaVersion" in data and ("Results" in data or "ArtifactName" in data):
            return True
        results = data.get("Results")
        if isinstance(results, list) and results and _is_result(results[0]):
            return True  # the object form written before SchemaVersion
        return "ClusterName" in data and any(k in data for k in _K8S_KEYS)
    if isinstance(data, list) and data:
        return _is_result(data[0])
    return False


def _is_trivy(report: _Report) -> bool:
    """:func:`sniff` on a typed report (a key set to null counts as absent: only a yes must
    agree with :func:`sniff`; a no just leaves the report to the generic detection)."""
    if report.SchemaVersion is not None and (
        report.Results is not None or report.ArtifactName is not None
    ):
        return True
    if report.Results:
        first = report.Results[0]
        if first.Target is not None and (
            first.Vulnerabilities is not None
            or first.Misconfigurations is not None
            or first.Secrets is not None
            or first.Type is not None
            or first.Class is not None
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
        head = doc.first_byte()
        notes = _tolerant.Notes(SCAN_TYPE)

        def tree() -> object:
            return doc.json

        if head == b"[":
            st = _State(notes)
            results = _typed.decode_list_tolerant(
                SCAN_TYPE, doc.data, _DECODE_LEGACY, _Result, notes, tree
            )
            _results(st, results, "", "")
            target = (results[0].Target or "") if results else ""
            return _finish(st, {"legacy": True}, "", target)
        if head != b"{":
            if head in (b"", b'"') or head.isalnum() or head == b"-":
                if not doc.data.strip():
                    fail(SCAN_TYPE, "", "the report is empty")
                fail(SCAN_TYPE, "", 'expected an object with "Results" or an array of results')
            _typed.not_json(SCAN_TYPE, doc.data)
        report = _typed.decode_tolerant(SCAN_TYPE, doc.data, _DECODE_REPORT, _Report, notes, tree)
        return _from_report(report, notes)


class _State:
    __slots__ = (
        "collector",
        "ids",
        "misconf_passed",
        "notes",
        "skipped",
        "states",
        "targets",
        "warnings",
    )

    def __init__(self, notes: _tolerant.Notes | None = None) -> None:
        self.collector = Collector()
        self.ids = DependencyIds()
        self.notes = notes or _tolerant.Notes(SCAN_TYPE)
        self.warnings: list[str] = []
        self.skipped = 0
        self.misconf_passed = 0
        self.targets = 0
        self.states: dict[str, int] = {}


def _from_report(data: _Report, notes: _tolerant.Notes | None = None) -> Report:
    st = _State(notes)
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
    return _finish(st, meta, tool_version, _target(data))


def _target(data: _Report) -> str:
    """What was scanned: ``ArtifactName``, else the image's first tag or its id (the object
    form before SchemaVersion), else the k8s cluster."""
    if data.ArtifactName:
        return data.ArtifactName
    tags = data.RepoTags or (data.Metadata.RepoTags if data.Metadata is not None else None)
    if tags:
        return tags[0]
    image = data.ImageID or (data.Metadata.ImageID if data.Metadata is not None else None)
    return image or data.ClusterName or ""


def _finish(st: _State, meta: dict[str, Any], tool_version: str, target: str) -> Report:
    findings = st.collector.findings()
    meta["targets"] = st.targets
    if st.states:
        meta["states"] = dict(sorted(st.states.items()))
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
        warnings=st.notes.all() + st.warnings,
        target=cut(target, 500) if len(target) > 500 else target,
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
        if result.ExperimentalModifiedFindings is not None:
            _modified(st, result, f"{where}.ExperimentalModifiedFindings", target, ns, resource)


def _modified(st: _State, result: _Result, where: str, target: str, ns: str, resource: str) -> None:
    """Findings ``--show-suppressed`` lists as changed by an ignore file, policy or VEX:
    kept with the state the change means and its statement as the justification."""
    for i, mod in enumerate(result.ExperimentalModifiedFindings or ()):
        mwhere = f"{where}[{i}]"
        kind = (mod.Type or "").lower()
        cls = _FINDING_TYPES.get(kind)
        if cls is None or not isinstance(mod.Finding, dict):
            if kind != "license":  # licenses are not findings here
                st.notes.add(mwhere, f"a modified finding of type {cut(kind, 30)!r} was skipped")
            continue
        entry = _decode_finding(mod.Finding, cls, f"{mwhere}.Finding", st.notes)
        status = (mod.Status or "").lower()
        state = _MODIFIED_STATE.get(status, "")
        statement = (mod.Statement or "").strip()
        if state == "risk_accepted" and any(w in statement.lower() for w in _FALSE_POSITIVE_WORDS):
            state = "false_positive"
        source = (mod.Source or "").strip()
        why = statement or f"Trivy status {status or 'unknown'}"
        justification = cut(f"{why} ({source})" if source else why, 2000)
        if isinstance(entry, _Vulnerability):
            _vulnerabilities(
                st,
                [entry],
                f"{mwhere}.Finding",
                target,
                result.Class or "",
                result.Type or "",
                resource,
                state=state,
                justification=justification,
            )
        elif isinstance(entry, _Misconfiguration):
            _misconfigurations(st, [entry], mwhere, target, ns, state, justification)
        elif isinstance(entry, _Secret):
            _secrets(st, [entry], mwhere, target, ns, state, justification)


def _decode_finding(raw: dict[str, Any], cls: type[Any], where: str, notes: _tolerant.Notes) -> Any:
    try:
        return msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError:
        try:
            return _tolerant.convert(SCAN_TYPE, raw, cls, notes)
        except ReportError as exc:  # a shape that does not fit at all: note, skip
            notes.add(where, f"{' '.join(str(exc).split())[:200]}; skipped")
            return None


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
    state: str = "",
    justification: str = "",
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
        if state:
            new.state, new.justification = state, justification
            st.states[state] = st.states.get(state, 0) + 1
        elif status == _NOT_AFFECTED:
            # The vendor's own statement (a distribution's VEX data) that this package is
            # not affected: kept as evidence of that decision, not as an open problem.
            new.state = _NOT_AFFECTED
            new.justification = f"vendor status not_affected ({source or 'vendor'})"
            st.states[_NOT_AFFECTED] = st.states.get(_NOT_AFFECTED, 0) + 1
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
    st: _State,
    items: list[_Misconfiguration],
    where: str,
    target: str,
    ns: str,
    state: str = "",
    justification: str = "",
) -> None:
    path = f"{ns}/{target}" if ns else target
    for j, m in enumerate(items):
        status = m.Status or ""
        upper = status.upper()
        entry_state, entry_justification = state, justification
        if upper == "EXCEPTION" and not state:
            # Failed, but an exception policy (a Rego exception) accepts it.
            entry_state = "risk_accepted"
            entry_justification = "excepted by a Trivy exception policy"
        elif status and upper not in ("FAIL", "EXCEPTION") and not state:
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
        if entry_state:
            st.states[entry_state] = st.states.get(entry_state, 0) + 1
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
                state=entry_state,
                justification=entry_justification,
            )
        )


def _secrets(
    st: _State,
    items: list[_Secret],
    where: str,
    target: str,
    ns: str,
    state: str = "",
    justification: str = "",
) -> None:
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
                state=state,
                justification=justification,
            )
        )
        if state:
            st.states[state] = st.states.get(state, 0) + 1
