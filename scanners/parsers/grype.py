"""Grype JSON (``grype -o json``): ``matches[]`` of ``vulnerability`` + ``artifact``.

- Fingerprint: ``(ecosystem from artifact.type, package, canonical id of vulnerability.id +
  relatedVulnerabilities ids)``. The package name comes from the purl when it has a namespace
  (Maven ``group:artifact``, npm ``@scope/name``), so it matches the other tools.
- Severities are title case; ``Negligible`` is ``low``, ``Unknown`` falls back to the CVSS band,
  else ``medium``.
- The fixed version is taken only when ``fix.state == "fixed"``.
- The same vulnerability of the same package found at several paths (or by several matchers)
  is one finding: locations are merged into ``evidence["locations"]``.
- ``ignoredMatches`` (matches an ignore rule or a VEX document set aside) are kept as
  findings in a not-active ``state``: VEX ``not_affected`` -> ``not_affected``, VEX ``fixed``
  -> ``resolved``, any other ignore rule -> ``risk_accepted`` (``false_positive`` when its
  reason says so), with the rule's reason / VEX justification as ``justification``.
- Older Grype wrote ``matchDetails`` as one object instead of an array: both are read.

Image scans produce tens of thousands of matches with large artifact records (CPEs, licenses,
upstreams, metadata), so like Trivy this parser decodes with typed msgspec structs that keep
only the fields below (:mod:`scanners.parsers._typed`), and :func:`parse_direct` recognizes a
report from its bytes. A value of an unexpected type in an optional field is left out with a
notice in ``Report.warnings`` (:mod:`scanners.parsers._tolerant`); a match that is not an
object, or without a vulnerability id or package name, is a :class:`ReportError` naming its
path.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers import _tolerant, _typed
from scanners.parsers._kit import (
    MAX_DESCRIPTION,
    UNRATED,
    Collector,
    DependencyIds,
    Purl,
    canonical,
    cut,
    cvss_score,
    fail,
    gc_paused,
    majority_category,
    pick_fix,
    references,
)
from scanners.severity import from_cvss

SCAN_TYPE = "grype"
CATEGORY = "dependency"
DESCRIPTION = "Grype JSON (container/filesystem dependency vulnerabilities)"

_SEVERITY = {
    "critical": "critical",
    "high": "high",
    "medium": "medium",
    "low": "low",
    "negligible": "low",
}

# -- the shape of a report: only what Warden keeps (gc=False: no cycles to track) ------------


class _CvssMetrics(msgspec.Struct, gc=False):
    baseScore: Any = None  # a number, or a numeric string in some feeds


class _Cvss(msgspec.Struct, gc=False):
    version: str | None = None
    vector: str | None = None
    type: str | None = None
    metrics: _CvssMetrics | None = None


class _Fix(msgspec.Struct, gc=False):
    versions: list[str] | None = None
    state: str | None = None


class _Epss(msgspec.Struct, gc=False):
    epss: float | None = None


class _Vulnerability(msgspec.Struct, gc=False):
    IDENTITY: ClassVar[frozenset[str]] = frozenset({"id"})  # see _tolerant
    id: str
    dataSource: str | None = None
    namespace: str | None = None
    severity: str | None = None
    urls: list[str] | None = None
    description: str | None = None
    cvss: list[_Cvss] | None = None
    fix: _Fix | None = None
    epss: list[_Epss] | None = None


class _Related(msgspec.Struct, gc=False):
    id: str | None = None
    description: str | None = None
    cvss: list[_Cvss] | None = None


class _Location(msgspec.Struct, gc=False):
    path: str | None = None


class _Artifact(msgspec.Struct, gc=False):
    IDENTITY: ClassVar[frozenset[str]] = frozenset({"name"})
    name: str
    version: str | None = None
    type: str | None = None
    locations: list[_Location] | None = None
    purl: str | None = None


class _MatchDetail(msgspec.Struct, gc=False):
    matcher: str | None = None


class _Match(msgspec.Struct, gc=False):
    vulnerability: _Vulnerability | None = None
    relatedVulnerabilities: list[_Related] | None = None
    # one object in Grype before 0.12 (2021), an array since
    matchDetails: list[_MatchDetail] | _MatchDetail | None = None
    artifact: _Artifact | None = None


class _IgnoreRule(msgspec.Struct, gc=False):
    vulnerability: str | None = None
    reason: str | None = None
    namespace: str | None = None
    # "vex-status" / "vex-justification" in the JSON
    vex_status: str | None = msgspec.field(default=None, name="vex-status")
    vex_justification: str | None = msgspec.field(default=None, name="vex-justification")


class _IgnoredMatch(_Match, gc=False):
    appliedIgnoreRules: list[_IgnoreRule] | None = None


class _Descriptor(msgspec.Struct, gc=False):
    name: str | None = None
    version: str | None = None


class _Report(msgspec.Struct, gc=False):
    STRICT: ClassVar[frozenset[str]] = frozenset({"matches"})  # see _tolerant
    matches: list[_Match] | None = None
    ignoredMatches: list[_IgnoredMatch] | None = None
    source: Any = None
    distro: Any = None
    descriptor: _Descriptor | None = None
    alertsByPackage: Any = None


class _KnownReport(_Report, forbid_unknown_fields=True):
    """Only keys Grype writes: no earlier format's sniffer can claim such a document."""


_DECODE_REPORT = msgspec.json.Decoder(_Report)
_DECODE_KNOWN = msgspec.json.Decoder(_KnownReport)


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


def parse_direct(data: bytes) -> Report | None:
    """The report, when ``data`` is recognizably a Grype report (:func:`sniff` on its typed
    form), else ``None``."""
    with gc_paused():
        report = _typed.decode_object_or_none(data, _DECODE_KNOWN)
        if report is None or report.matches is None:
            return None
        named = report.descriptor is not None and report.descriptor.name == "grype"
        first = report.matches[0] if report.matches else None
        shaped = (
            first is not None and first.artifact is not None and first.vulnerability is not None
        )
        if not (named or shaped):
            return None
        return _from_report(report)


def parse(doc: Document) -> Report:
    with gc_paused():
        if doc.first_byte() != b"{":
            fail(SCAN_TYPE, "", 'expected an object with "matches"')
        notes = _tolerant.Notes(SCAN_TYPE)
        report = _typed.decode_tolerant(
            SCAN_TYPE, doc.data, _DECODE_REPORT, _Report, notes, lambda: doc.json
        )
        return _from_report(report, notes)


def _best_cvss(entries: list[_Cvss]) -> tuple[float | None, str]:
    """The preferred CVSS base score of a list of Grype cvss objects: v3/v4 before v2, the
    ``Primary`` source before secondary ones, then the highest score."""
    best: tuple[tuple[bool, bool, float], str] | None = None
    for c in entries:
        score = cvss_score(c.metrics.baseScore) if c.metrics is not None else None
        if score is None:
            continue
        modern = not (c.version is not None and c.version.startswith("2"))
        rank = (modern, c.type in (None, "Primary"), score)
        if best is None or rank > best[0]:
            best = (rank, c.vector or "")
    if best is None:
        return None, ""
    return best[0][2], cut(best[1], 200)


def _package(purl_text: str, art_type: str, name: str, ids: DependencyIds) -> tuple[str, str]:
    """``(ecosystem, package name)``: the name from the purl when it has a namespace (Maven
    ``group:artifact``, npm ``@scope/name``), so that it matches the other tools."""
    purl = Purl.parse(purl_text)
    eco = ids.ecosystem(art_type) if art_type else (ids.ecosystem(purl.type) if purl else "")
    if purl is not None and purl.namespace and eco in ("maven", "npm", "go", "composer"):
        return eco, purl.package_name()
    return eco, name


#: VEX statuses of an ignore rule -> Warden states (other rules: risk_accepted).
_VEX_STATE = {"not_affected": "not_affected", "fixed": "resolved"}
_FALSE_POSITIVE_WORDS = ("false positive", "false-positive", "falsepositive", "not a bug")


def _ignored_state(rules: list[_IgnoreRule]) -> tuple[str, str]:
    """``(state, justification)`` of an ignored match from the rules that set it aside."""
    state, reasons = "", []
    for rule in rules:
        vex = (rule.vex_status or "").lower()
        reason = (rule.reason or "").strip()
        if vex in _VEX_STATE:
            state = state or _VEX_STATE[vex]
            text = f"VEX {vex}"
            if rule.vex_justification:
                text += f": {rule.vex_justification}"
            reasons.append(f"{text} ({reason})" if reason else text)
        elif reason:
            reasons.append(reason)
        elif rule.vulnerability:
            reasons.append(f"ignore rule for {rule.vulnerability}")
    if not state:
        text = " ".join(reasons).lower()
        state = "false_positive" if any(w in text for w in _FALSE_POSITIVE_WORDS) else ""
        state = state or "risk_accepted"
    return state, cut("; ".join(dict.fromkeys(reasons)) or "a Grype ignore rule", 2000)


def _from_report(data: _Report, notes: _tolerant.Notes | None = None) -> Report:
    if data.matches is None:
        fail(SCAN_TYPE, "matches", "expected an array, got null")
    matches = data.matches
    tool_version = (data.descriptor.version or "") if data.descriptor is not None else ""
    ids = DependencyIds()
    out = Collector()
    packages: dict[tuple[str, str, str], tuple[str, str]] = {}
    for i, match in enumerate(matches):
        out.add(_finding(match, f"matches[{i}]", ids, packages))
    states: dict[str, int] = {}
    for i, ignored in enumerate(data.ignoredMatches or ()):
        finding = _finding(ignored, f"ignoredMatches[{i}]", ids, packages)
        finding.state, finding.justification = _ignored_state(ignored.appliedIgnoreRules or [])
        states[finding.state] = states.get(finding.state, 0) + 1
        out.add(finding)
    findings = out.findings()
    meta: dict[str, Any] = {"matches": len(matches)}
    if states:
        meta["states"] = dict(sorted(states.items()))
    source = data.source
    if isinstance(source, dict):
        meta["source_type"] = cut(str(source.get("type", "")), 50)
        target = source.get("target")
        if isinstance(target, dict) and isinstance(target.get("userInput"), str):
            meta["target"] = cut(target["userInput"], 500)
        elif isinstance(target, str):
            meta["target"] = cut(target, 500)
    distro = data.distro
    if isinstance(distro, dict):
        meta["distro"] = {k: cut(v, 100) for k, v in distro.items() if isinstance(v, str)}
    return Report(
        tool=SCAN_TYPE,
        tool_version=tool_version,
        scan_type=SCAN_TYPE,
        category=majority_category(findings, CATEGORY),
        findings=findings,
        metadata=meta,
        warnings=notes.all() if notes is not None else [],
        target=str(meta.get("target") or ""),
    )


def _finding(
    match: _Match,
    where: str,
    ids: DependencyIds,
    packages: dict[tuple[str, str, str], tuple[str, str]],
) -> NormalizedFinding:
    vuln, art = match.vulnerability, match.artifact
    if vuln is None:
        fail(SCAN_TYPE, f"{where}.vulnerability", "expected an object, got null")
    if art is None:
        fail(SCAN_TYPE, f"{where}.artifact", "expected an object, got null")
    tool_id, name = vuln.id, art.name
    if not tool_id.strip():
        fail(SCAN_TYPE, f"{where}.vulnerability.id", "must not be empty")
    if not name.strip():
        fail(SCAN_TYPE, f"{where}.artifact.name", "must not be empty")
    version = art.version or ""
    art_type = art.type or ""
    purl_text = art.purl or ""
    key = (purl_text, art_type, name)
    known = packages.get(key)  # image scans repeat a package once per vulnerability
    if known is None:
        known = packages[key] = _package(purl_text, art_type, name, ids)
    eco, package = known

    related = match.relatedVulnerabilities or []
    aliases = [rel.id for rel in related if rel.id]
    vid, others = canonical(tool_id, aliases)

    sev_raw = vuln.severity or ""
    score, vector = _best_cvss(vuln.cvss or [])
    if score is None:
        score, vector = _best_cvss([c for rel in related for c in rel.cvss or ()])
    severity = _SEVERITY.get(sev_raw.strip().lower())
    if severity is None:
        severity = from_cvss(score) if score is not None else UNRATED

    fix_state = (vuln.fix.state or "") if vuln.fix is not None else ""
    fix_versions = (vuln.fix.versions or []) if vuln.fix is not None else []
    fixed = pick_fix(version, fix_versions) if fix_state == "fixed" else ""

    description = vuln.description or ""
    if not description:
        description = next((rel.description for rel in related if rel.description), "")
    urls: list[str] = [vuln.dataSource] if vuln.dataSource is not None else []
    urls.extend(vuln.urls or ())

    locations: list[str] = []
    for loc in art.locations or ():
        if loc.path and loc.path not in locations:
            locations.append(cut(loc.path, 500))
    evidence: dict[str, Any] = {"locations": locations[:50], "fix_state": cut(fix_state, 50)}
    if vuln.namespace is not None:
        evidence["namespace"] = cut(vuln.namespace, 100)
    if fix_versions and fix_state != "fixed":
        evidence["fix_versions_not_applicable"] = fix_versions[:20]
    if vuln.epss and vuln.epss[0].epss is not None:
        evidence["epss"] = vuln.epss[0].epss
    details = match.matchDetails
    if isinstance(details, _MatchDetail):
        details = [details]
    matchers = [m.matcher for m in details or () if m.matcher is not None]
    if matchers:
        evidence["matchers"] = [cut(m, 100) for m in dict.fromkeys(matchers)][:10]

    return NormalizedFinding(
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
