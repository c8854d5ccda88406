"""SARIF 2.1.0 from any producer (bandit, ruff, semgrep, CodeQL, gitleaks, SpotBugs,
dependency-check, Black Duck, ModelAudit, Warden's own SARIF output ...).

Severity, first match wins:

0. Warden's own ``properties["warden-severity"]`` (round trip of ``--format sarif``).
1. GitHub-style ``properties["security-severity"]`` (a numeric string) on the result, else on
   its rule: the CVSS band.
2. A CVSS base score in the result's properties (dependency-check's ``cvssv3_baseScore``).
3. A textual severity the producer puts in the result's properties (``severity``,
   ``issue_severity``, ``securityRisk``: bandit, dependency-check, Black Duck).
4. ``results[].level``, else the rule's ``defaultConfiguration.level``, else ``warning`` (the
   SARIF default): error -> high, warning -> medium, note -> low, none -> info.

Results with ``kind`` ``pass``/``notApplicable`` or ``baselineState`` ``absent`` are not
findings (counted in metadata). A result with an accepted suppression (a suppression without
``status``, or ``status: accepted``) is not a finding either: it is listed in
``metadata["suppressed"]``; ``underReview``/``rejected`` suppressions stay findings.

Category: ``dependency`` when the tool or rule is clearly a dependency scanner
(dependency-check, Trivy, Grype, Snyk Open Source, OSV-Scanner, pip-audit, Black Duck,
rules tagged ``sbom``/``sca``/``dependency``), ``model_file`` for model-file scanners
(ModelAudit; their results follow :mod:`scanners.parsers._modelfile_common` so the SARIF and
JSON outputs of one tool give the same fingerprints), else ``code``.

Fingerprint (``code``): Warden's own ``wardenFingerprint/v1`` when present; else the tool's
``fingerprints``/``partialFingerprints`` with tool, rule and file; else
``(tool, rule id, file, line)``. ``dependency`` results whose package is known (a purl on the
artifact, or ``component``/``componentVersion``/``componentOrigin`` properties) use the
shared dependency fingerprint.

Message templates (``message.id`` + ``arguments``) are filled by plain ``{n}`` substitution,
never ``str.format``. Secrets that secret scanners put in properties (``offender``,
``secret``) are redacted from the evidence, snippet and message.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from scanners import fingerprint
from scanners.document import Document
from scanners.evidence import trim
from scanners.findings import CATEGORIES, SEVERITIES, NormalizedFinding, Report
from scanners.parsers import _modelfile_common as mf
from scanners.parsers._kit import (
    MAX_DESCRIPTION,
    TEXT_SEVERITY,
    Collector,
    DependencyIds,
    Purl,
    Reader,
    as_list,
    canonical,
    cut,
    cvss_score,
    majority_category,
    references,
)
from scanners.severity import from_cvss

SCAN_TYPE = "sarif"
CATEGORY = "code"
DESCRIPTION = "SARIF 2.1.0 from any producer (bandit, ruff, semgrep, CodeQL, gitleaks, ...)"

_R = Reader(SCAN_TYPE)

_LEVEL = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
_NOT_FINDING_KINDS = frozenset({"pass", "notapplicable"})
#: Numeric CVSS base scores producers put in result properties (dependency-check).
_SCORE_PROPS = ("cvssv3_baseScore", "cvssv4_baseScore")
_TEXT_PROPS = ("severity", "issue_severity", "securityRisk", "security_severity_level")
_DEPENDENCY_TOOLS = (
    "dependency-check",
    "trivy",
    "grype",
    "snyk open source",
    "osv-scanner",
    "pip-audit",
    "black duck",
    "blackduck",
    "npm audit",
    "retire",
    "dependabot",
    "mend",
    "whitesource",
)
_DEPENDENCY_TAGS = frozenset({"sbom", "sca", "dependency", "dependencies", "vulnerable-dependency"})
_MODEL_FILE_TOOLS = frozenset({"modelaudit"})
_SECRET_KEYS = frozenset({"offender", "secret", "rawsecret", "secretvalue"})
_VULN_ID = re.compile(
    r"\b(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|PYSEC-\d{4}-\d+|"
    r"GO-\d{4}-\d+|RUSTSEC-\d{4}-\d+|BDSA-\d{4}-\d+)\b",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"\{(\d+)\}")
_POS_SUFFIX = re.compile(r"\s*\(pos (\d+)\)\s*$")
_WARDEN_FP = "wardenFingerprint/v1"


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        return False
    version = data.get("version")
    schema = data.get("$schema")
    return (isinstance(version, str) and version.startswith("2.")) or (
        isinstance(schema, str) and "sarif" in schema.lower()
    )


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _msg(obj: Any) -> str:
    """``obj["text"]`` of a SARIF message-like object (``shortDescription``, ``help``)."""
    if isinstance(obj, dict):
        return _text(obj.get("text")) or _text(obj.get("markdown"))
    return ""


def _fill(template: str, args: list[Any]) -> str:
    """Substitute ``{n}`` placeholders with ``args[n]`` (plain text, no format spec)."""
    if not args or "{" not in template:
        return template

    def repl(m: re.Match[str]) -> str:
        i = int(m.group(1))
        return (
            str(args[i]) if i < len(args) and isinstance(args[i], str | int | float) else m.group(0)
        )

    return _PLACEHOLDER.sub(repl, template)


def _clean_uri(uri: str) -> str:
    """A report path from an artifact URI: percent-decoded, ``file://`` dropped, no ``./``."""
    path = unquote(uri) if "%" in uri else uri
    if path.startswith("file://"):
        path = path[7:]
        # file:///C:/x -> C:/x ; file:///home/x -> /home/x ; file://app.py -> app.py
        if len(path) > 3 and path[0] == "/" and path[2] == ":" and path[1].isalpha():
            path = path[1:]
        while path.startswith("//"):
            path = path[1:]
    while path.startswith("./"):
        path = path[2:]
    return path


class _Run:
    """Per-run lookups: rules by id and index, artifacts by index."""

    __slots__ = ("artifacts", "category", "rules_by_id", "rules_by_index", "tool", "version")

    def __init__(self, run: dict[str, Any], where: str) -> None:
        tool = _R.obj(run.get("tool"), f"{where}.tool")
        driver = _R.obj(tool.get("driver"), f"{where}.tool.driver")
        self.tool = cut(_text(driver.get("name")).strip(), 200) or "sarif"
        self.version = cut(
            _text(driver.get("version")) or _text(driver.get("semanticVersion")), 100
        )
        self.rules_by_index: list[dict[str, Any]] = []
        self.rules_by_id: dict[str, dict[str, Any]] = {}
        components = [driver] + [
            e for e in _R.opt_arr(tool, "extensions", f"{where}.tool") if isinstance(e, dict)
        ]
        for ci, comp in enumerate(components):
            cwhere = f"{where}.tool.driver" if ci == 0 else f"{where}.tool.extensions[{ci - 1}]"
            for ri, rule in enumerate(_R.opt_arr(comp, "rules", cwhere)):
                rule = _R.obj(rule, f"{cwhere}.rules[{ri}]")
                if ci == 0:
                    self.rules_by_index.append(rule)
                rid = rule.get("id")
                if isinstance(rid, str) and rid not in self.rules_by_id:
                    self.rules_by_id[rid] = rule
        self.artifacts = _R.opt_arr(run, "artifacts", where)
        props = run.get("properties")
        name = self.tool.lower()
        warden_cat = props.get("category") if isinstance(props, dict) else None
        if isinstance(warden_cat, str) and warden_cat in CATEGORIES:
            self.category = warden_cat
        elif name in _MODEL_FILE_TOOLS:
            self.category = "model_file"
        elif any(t in name for t in _DEPENDENCY_TOOLS):
            self.category = "dependency"
        else:
            self.category = ""  # decided per rule

    def rule(self, result: dict[str, Any], rule_id: str) -> dict[str, Any]:
        ref = result.get("rule")
        index = result.get("ruleIndex")
        if (
            isinstance(ref, dict)
            and isinstance(ref.get("index"), int)
            and not ref.get("toolComponent")
        ):
            index = ref["index"]
        if (
            isinstance(index, int)
            and not isinstance(index, bool)
            and 0 <= index < len(self.rules_by_index)
        ):
            return self.rules_by_index[index]
        rule = self.rules_by_id.get(rule_id)
        if rule is None and "/" in rule_id:
            rule = self.rules_by_id.get(rule_id.split("/", 1)[0])
        return rule or {}

    def artifact(self, index: Any) -> dict[str, Any]:
        if (
            isinstance(index, int)
            and not isinstance(index, bool)
            and 0 <= index < len(self.artifacts)
        ):
            art = self.artifacts[index]
            return art if isinstance(art, dict) else {}
        return {}


def parse(doc: Document) -> Report:
    data = doc.json
    if not isinstance(data, dict):
        _R.fail("", "expected a SARIF log object")
    version = _text(data.get("version"))
    warnings: list[str] = []
    if version != "2.1.0":
        warnings.append(f"sarif: version: {cut(version, 20)!r} is not 2.1.0; read as 2.1.0")
    runs = _R.arr(data.get("runs"), "runs")
    out = Collector()
    ids = DependencyIds()
    model_findings: list[NormalizedFinding] = []
    suppressed: list[dict[str, Any]] = []
    runs_meta: list[dict[str, Any]] = []
    counts = {"passed": 0, "absent": 0}
    first_tool, first_version = "", ""
    default_category = CATEGORY
    for ri, raw_run in enumerate(runs):
        where = f"runs[{ri}]"
        run = _R.obj(raw_run, where)
        ctx = _Run(run, where)
        if ri == 0:
            first_tool, first_version = ctx.tool, ctx.version
            default_category = ctx.category or CATEGORY
        results = _R.opt_arr(run, "results", where)
        runs_meta.append({"tool": ctx.tool, "version": ctx.version, "results": len(results)})
        for i, raw in enumerate(results):
            rwhere = f"{where}.results[{i}]"
            result = _R.obj(raw, rwhere)
            _result(ctx, result, rwhere, out, ids, model_findings, suppressed, counts)
    findings = out.findings() + mf.merge(model_findings)
    meta: dict[str, Any] = {
        "runs": runs_meta,
        "suppressed": suppressed,
        "not_findings": {"passed_or_not_applicable": counts["passed"], "absent": counts["absent"]},
    }
    return Report(
        tool=first_tool or SCAN_TYPE,
        tool_version=first_version,
        scan_type=SCAN_TYPE,
        category=majority_category(findings, default_category),
        findings=findings,
        metadata=meta,
        warnings=warnings,
    )


def _severity(
    result: dict[str, Any], rule: dict[str, Any], level: str, rwhere: str
) -> tuple[str, str, float | None]:
    props = result.get("properties")
    props = props if isinstance(props, dict) else {}
    rprops = rule.get("properties")
    rprops = rprops if isinstance(rprops, dict) else {}
    warden = props.get("warden-severity")
    if isinstance(warden, str) and warden in SEVERITIES:
        return warden, warden, None
    for source in (props, rprops):
        raw = source.get("security-severity")
        if raw is not None and raw != "":
            score = cvss_score(raw)
            if score is None:
                _R.fail(
                    f"{rwhere}.properties.security-severity",
                    f"not a score 0-10: {cut(str(raw), 30)!r}",
                )
            return from_cvss(score), cut(str(raw), 20), score
    for key in _SCORE_PROPS:
        score = cvss_score(props.get(key))
        if score is not None:
            return from_cvss(score), cut(str(props[key]), 20), score
    for key in _TEXT_PROPS:
        raw = props.get(key)
        if isinstance(raw, str) and raw.strip().lower() in TEXT_SEVERITY:
            return TEXT_SEVERITY[raw.strip().lower()], cut(raw, 50), None
    return _LEVEL.get(level, "medium"), level, None


def _level(result: dict[str, Any], rule: dict[str, Any], kind: str) -> str:
    level = result.get("level")
    if isinstance(level, str) and level in _LEVEL:
        return level
    config = rule.get("defaultConfiguration")
    if (
        isinstance(config, dict)
        and isinstance(config.get("level"), str)
        and config["level"] in _LEVEL
    ):
        return str(config["level"])
    return "warning" if kind == "fail" else "none"


def _location(
    ctx: _Run, result: dict[str, Any], rwhere: str
) -> tuple[str, int | None, str, dict[str, Any]]:
    """(path, start line, snippet, artifact object) of the first physical location."""
    for li, loc in enumerate(_R.opt_arr(result, "locations", rwhere)):
        loc = _R.obj(loc, f"{rwhere}.locations[{li}]")
        phys = loc.get("physicalLocation")
        if not isinstance(phys, dict):
            continue
        art_loc = phys.get("artifactLocation")
        art_loc = art_loc if isinstance(art_loc, dict) else {}
        artifact = ctx.artifact(art_loc.get("index"))
        uri = _text(art_loc.get("uri"))
        if not uri:
            art_location = artifact.get("location")
            uri = _text(art_location.get("uri")) if isinstance(art_location, dict) else ""
        region = phys.get("region")
        line: int | None = None
        snippet = ""
        if isinstance(region, dict):
            start = region.get("startLine")
            if isinstance(start, int) and not isinstance(start, bool) and start > 0:
                line = start
            snip = region.get("snippet")
            snippet = _msg(snip)
        return _clean_uri(uri), line, snippet, artifact
    target = result.get("analysisTarget")
    if isinstance(target, dict):
        return _clean_uri(_text(target.get("uri"))), None, "", ctx.artifact(target.get("index"))
    return "", None, "", {}


def _suppressed(result: dict[str, Any], rwhere: str) -> dict[str, Any] | None:
    for si, sup in enumerate(_R.opt_arr(result, "suppressions", rwhere)):
        sup = _R.obj(sup, f"{rwhere}.suppressions[{si}]")
        status = sup.get("status")
        if status is None or status == "accepted":
            return {
                "kind": cut(_text(sup.get("kind")), 30),
                "status": cut(_text(status) or "accepted", 30),
                "justification": cut(_text(sup.get("justification")), 500),
            }
    return None


def _fingerprints(result: dict[str, Any]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for key in ("fingerprints", "partialFingerprints"):
        block = result.get(key)
        if not isinstance(block, dict):
            continue
        for name, value in block.items():
            if isinstance(value, dict):  # Black Duck nests {"value": ...}
                value = value.get("value")
            if isinstance(value, str | int) and not isinstance(value, bool):
                items.append((f"{key}.{name}", str(value)))
        if items:
            break  # full fingerprints win over partial ones
    return sorted(items)


def _redact(props: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    secrets: list[str] = []
    clean: dict[str, Any] = {}
    for key, value in props.items():
        if key.lower() in _SECRET_KEYS:
            if isinstance(value, str) and len(value) >= 4:
                secrets.append(value)
            clean[key] = "[redacted]"
        else:
            clean[key] = value
    return clean, secrets


def _scrub(text: str, secrets: list[str]) -> str:
    for s in secrets:
        text = text.replace(s, "[redacted]")
    return text


def _package(
    result: dict[str, Any], artifact: dict[str, Any], ids: DependencyIds
) -> tuple[str, str, str, str]:
    """(normalized ecosystem, package, version, purl) of a dependency result, or empty."""
    props = result.get("properties")
    props = props if isinstance(props, dict) else {}
    aprops = artifact.get("properties")
    aprops = aprops if isinstance(aprops, dict) else {}
    for source in (props, aprops):
        for key, value in source.items():
            if (
                isinstance(value, str)
                and value.startswith("pkg:")
                and (key.startswith("id") or "purl" in key.lower())
            ):
                purl = Purl.parse(value)
                if purl is not None:
                    return ids.ecosystem(purl.type), purl.package_name(), purl.version, value
    comp = props.get("component")
    if isinstance(comp, str) and comp:
        origin = _text(props.get("componentOrigin"))
        return ids.ecosystem(origin), comp, _text(props.get("componentVersion")), ""
    return "", "", "", ""


def _rule_from_message(ctx: _Run, result: dict[str, Any]) -> str:
    """A rule id for a result without ``ruleId`` whose message starts with a rule's id
    (gitleaks 7: rule ``AWS Access Key``, message ``AWS Access Key secret detected``)."""
    message = result.get("message")
    text = _text(message.get("text")) if isinstance(message, dict) else ""
    if not text:
        return ""
    best = ""
    for n, rid in enumerate(ctx.rules_by_id):
        if n >= 2000:
            break
        if (
            len(rid) > len(best)
            and text.startswith(rid)
            and text[len(rid) : len(rid) + 1] in ("", " ")
        ):
            best = rid
    return best


def _result(
    ctx: _Run,
    result: dict[str, Any],
    rwhere: str,
    out: Collector,
    ids: DependencyIds,
    model_findings: list[NormalizedFinding],
    suppressed: list[dict[str, Any]],
    counts: dict[str, int],
) -> None:
    kind = _text(result.get("kind")) or "fail"
    if kind.lower() in _NOT_FINDING_KINDS:
        counts["passed"] += 1
        return
    if result.get("baselineState") == "absent":
        counts["absent"] += 1
        return
    rule_ref = result.get("rule")
    rule_id = _text(result.get("ruleId")) or (
        _text(rule_ref.get("id")) if isinstance(rule_ref, dict) else ""
    )
    rule = ctx.rule(result, rule_id)
    if not rule_id:
        rule_id = _text(rule.get("id")) or _rule_from_message(ctx, result) or "unknown"
        rule = rule or ctx.rules_by_id.get(rule_id, {})
    path, line, snippet, artifact = _location(ctx, result, rwhere)
    sup = _suppressed(result, rwhere)
    if sup is not None:
        if len(suppressed) < 10000:
            sup.update(
                {
                    "tool": ctx.tool,
                    "rule_id": cut(rule_id, 200),
                    "file": cut(path, 500),
                    "line": line,
                }
            )
            suppressed.append(sup)
        return

    level = _level(result, rule, kind)
    severity, raw_severity, score = _severity(result, rule, level, rwhere)

    message = result.get("message")
    text = ""
    if isinstance(message, dict):
        text = _text(message.get("text"))
        if not text:
            mid = _text(message.get("id"))
            strings = rule.get("messageStrings")
            if mid and isinstance(strings, dict):
                text = _msg(strings.get(mid))
        text = _fill(text, as_list(message.get("arguments")))
        if not text:
            text = _text(message.get("markdown"))
    props_raw = result.get("properties")
    props, secrets = _redact(props_raw) if isinstance(props_raw, dict) else ({}, [])
    text = _scrub(text, secrets)
    snippet = _scrub(snippet, secrets)
    short = _msg(rule.get("shortDescription")) or _text(rule.get("name"))
    if not short or "{" in short:  # ruff's short descriptions are templates ("{name}")
        short = ""
    title = short or (text.strip().splitlines()[0] if text.strip() else rule_id)
    rprops = rule.get("properties")
    tags = (
        [t for t in as_list(rprops.get("tags")) if isinstance(t, str)]
        if isinstance(rprops, dict)
        else []
    )

    partial = result.get("partialFingerprints")
    warden_fp = partial.get(_WARDEN_FP) if isinstance(partial, dict) else None
    if not (isinstance(warden_fp, str) and len(warden_fp) == 64):
        warden_fp = None
    category = ctx.category
    if warden_fp is not None:
        # Warden's own SARIF: keep its fingerprint and category as they were.
        own = props.get("category")
        category = own if isinstance(own, str) and own in CATEGORIES else category or "code"
    elif not category:
        category = "dependency" if any(t.lower() in _DEPENDENCY_TAGS for t in tags) else "code"

    if category == "model_file" and warden_fp is None:
        model_findings.append(
            _model_finding(ctx, result, rule_id, path, text, severity, raw_severity, level)
        )
        return

    refs: list[Any] = [rule.get("helpUri")]
    help_text = _msg(rule.get("help"))
    fixes = [
        _msg(f.get("description")) for f in as_list(result.get("fixes")) if isinstance(f, dict)
    ]
    remediation = "; ".join(f for f in fixes if f) or help_text
    cwes = sorted(
        {
            "CWE-" + t.rsplit("-", 1)[-1]
            for t in tags
            if t.lower().startswith(("external/cwe/cwe-", "cwe-"))
            and t.rsplit("-", 1)[-1].isdigit()
        }
    )
    evidence: dict[str, Any] = {
        "locations": [f"{cut(path, 500)}:{line}" if line else cut(path, 500)] if path else [],
        "level": level,
        "kind": kind,
        "run_tool": ctx.tool,
    }
    if snippet:
        evidence["snippet"] = cut(snippet, 2000)
    if tags:
        evidence["tags"] = [cut(t, 100) for t in tags[:30]]
    if cwes:
        evidence["cwes"] = cwes[:20]
    if props:
        evidence["properties"] = trim(props, 2048)
    baseline = result.get("baselineState")
    if isinstance(baseline, str):
        evidence["baseline_state"] = cut(baseline, 30)
    tool_key = ctx.tool.lower()

    vuln_id = ""
    aliases: list[str] = []
    package = version = eco = purl = ""
    if category == "dependency":
        eco, package, version, purl = _package(result, artifact, ids)
        found = _VULN_ID.findall(f"{rule_id} {_text(rule.get('name'))}")
        if found or package:
            vuln_id, aliases = canonical(found[0] if found else rule_id, found[1:])
    if warden_fp is not None:
        fp = warden_fp
    elif category == "dependency" and package and vuln_id:
        fp = ids.fingerprint(eco, package, vuln_id)
    else:
        tool_fps = _fingerprints(result)
        if tool_fps:
            fp = fingerprint.make(
                "code", tool_key, rule_id, path, *[f"{k}={v}" for k, v in tool_fps]
            )
        else:
            fp = fingerprint.make("code", tool_key, rule_id, path, line)

    out.add(
        NormalizedFinding(
            fingerprint=fp,
            category=category,
            tool=tool_key,
            rule_id=cut(rule_id, 200),
            title=cut(title, 500),
            severity=severity,
            description=cut(text, MAX_DESCRIPTION),
            raw_severity=raw_severity,
            cvss_score=score,
            vuln_id=vuln_id,
            aliases=aliases,
            package=cut(package, 500),
            package_version=cut(version, 200),
            ecosystem=eco,
            purl=cut(purl, 500),
            file_path=cut(path, 1000),
            line=line,
            references=references(refs),
            remediation=cut(remediation, 4000),
            evidence=evidence,
        )
    )


def _model_finding(
    ctx: _Run,
    result: dict[str, Any],
    rule_id: str,
    path: str,
    text: str,
    severity: str,
    raw_severity: str,
    level: str,
) -> NormalizedFinding:
    """A model-file scanner's SARIF result, named and fingerprinted like its JSON parser."""
    tool = ctx.tool.lower()
    props = result.get("properties")
    props = props if isinstance(props, dict) else {}
    rank = result.get("rank")
    if level == "error" and isinstance(rank, int | float) and rank >= 90:
        severity = "critical"  # ModelAudit writes its "critical" issues as error, rank 90
    import_name = (
        _text(props.get("import_reference"))
        or mf.normalize_import(_text(props.get("module")), _text(props.get("name")))
        or _text(props.get("associated_global"))
    )
    evidence = {"message": cut(text, 2000), "level": level}
    m = _POS_SUFFIX.search(path)
    if import_name:
        f = mf.import_finding(
            tool=tool,
            tool_rule=rule_id,
            location=path,
            import_name=import_name,
            severity=severity,
            raw_severity=raw_severity,
            suspicious=level == "warning",
            description=text,
            evidence=evidence,
        )
    else:
        f = mf.finding(
            tool=tool,
            rule_id=f"{tool}/{rule_id}",
            tool_rule=rule_id,
            title=cut(text, 200) or rule_id,
            severity=severity,
            location=path,
            raw_severity=raw_severity,
            description=text,
            evidence=evidence,
        )
    if m:
        f.byte_offset = int(m.group(1))
    return f
