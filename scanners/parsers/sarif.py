"""SARIF from any producer (bandit, ruff, semgrep, CodeQL, gitleaks, Checkov, Trivy, Grype,
SpotBugs, dependency-check, Black Duck, ModelAudit, Warden's own SARIF output ...), in the
versions tools still write: 2.1.0, the 2.0.0 drafts and 1.0.0 (the .NET compilers' default),
see :mod:`scanners.parsers._sarif_compat`.

Severity, first match wins:

0. Warden's own ``properties["warden-severity"]`` (round trip of ``--format sarif``).
1. GitHub-style ``properties["security-severity"]`` (a numeric string) on the result, else on
   its rule: the CVSS band (a value that is not a score is left out with a notice).
2. A CVSS base score in the result's properties (dependency-check's ``cvssv3_baseScore``).
3. A textual severity the producer puts in the result's properties (``severity``,
   ``issue_severity``, ``securityRisk``: bandit, dependency-check, Black Duck).
4. ``results[].level``, else the rule's default level, else ``warning`` (the SARIF default):
   error -> high, warning -> medium, note -> low, none -> info. Checkov writes ``error`` for
   every failed check when it has no severity to give: that is ``medium`` (unrated) there.

Results with ``kind`` ``pass``/``notApplicable`` are not findings (counted in metadata).
Kept as findings in a not-active ``state`` (the tool's decision, with its justification):

- an accepted suppression (``suppressions[]`` without ``status`` or ``accepted``; 1.0/2.0
  ``suppressionStates``): ``false_positive`` when the justification says so, or for an
  ``inSource`` suppression (``# nosec``, ``nosemgrep``, ``[SuppressMessage]``: the author
  marked the code as not a problem) without one that says otherwise; ``risk_accepted`` for
  an ``external`` one (a triage decision kept outside the code) or a justification that
  accepts the risk. ``underReview``/``rejected`` suppressions stay active findings;
- ``baselineState: absent`` (in the baseline run, gone from this one): ``resolved``.

Category: ``dependency`` when the tool or rule is clearly a dependency scanner
(dependency-check, Trivy, Grype, Snyk Open Source, OSV-Scanner, pip-audit, Black Duck,
rules tagged ``sbom``/``sca``/``dependency``) -- except rules tagged ``misconfiguration``,
``secret`` or ``license`` (Trivy writes all of them in one run), which are ``code`` --
``model_file`` for model-file scanners (ModelAudit; their results follow
:mod:`scanners.parsers._modelfile_common` so the SARIF and JSON outputs of one tool give the
same fingerprints), else ``code``.

Fingerprint (``code``): Warden's own ``wardenFingerprint/v1`` when present; else the tool's
``fingerprints``/``partialFingerprints`` with tool, rule and file; else
``(tool, rule id, file, line)``. ``dependency`` results whose package is known (a purl on the
result, artifact or rule -- Grype's ``purls`` --, ``component``/``componentVersion``
properties, or Trivy's ``Package:`` / ``Installed Version:`` message lines) use the shared
dependency fingerprint.

``Report.target``: the ``automationDetails.id``/``description``, else Trivy's ``imageName``
run property, else the ``originalUriBaseIds`` root (``%SRCROOT%``, ``ROOTPATH``), else "".

Message templates (``message.id`` + ``arguments``) are filled by plain ``{n}`` substitution,
never ``str.format``. Secrets that secret scanners put in properties (``offender``,
``secret``) are redacted from the evidence, snippet and message.
"""

from __future__ import annotations

import re
from typing import Any

from scanners import fingerprint
from scanners.document import Document
from scanners.evidence import trim
from scanners.findings import CATEGORIES, SEVERITIES, NormalizedFinding, Report
from scanners.parsers import _modelfile_common as mf
from scanners.parsers import _sarif_compat as compat
from scanners.parsers._fields import Lenient, Notes
from scanners.parsers._kit import (
    MAX_DESCRIPTION,
    TEXT_SEVERITY,
    UNRATED,
    Collector,
    DependencyIds,
    Purl,
    Reader,
    as_list,
    canonical,
    cut,
    cvss_score,
    ecosystem_from_path,
    majority_category,
    pick_fix,
    references,
)
from scanners.severity import from_cvss

SCAN_TYPE = "sarif"
CATEGORY = "code"
DESCRIPTION = (
    "SARIF 2.1.0, 2.0.0 and 1.0.0 from any producer (bandit, ruff, semgrep, CodeQL, Checkov, "
    "Trivy, Grype, gitleaks, ...)"
)

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
#: Rule tags that make a result of a dependency scanner's run a code finding (Trivy).
_CODE_TAGS = frozenset({"misconfiguration", "secret", "license"})
_MODEL_FILE_TOOLS = frozenset({"modelaudit"})
#: Tools that write level "error" for every failed check they have no severity for.
_PLACEHOLDER_LEVEL_TOOLS = frozenset({"checkov", "prisma cloud", "prisma_cloud", "bridgecrew"})
_SECRET_KEYS = frozenset({"offender", "secret", "rawsecret", "secretvalue"})
_VULN_ID = re.compile(
    r"\b(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|PYSEC-\d{4}-\d+|"
    r"GO-\d{4}-\d+|RUSTSEC-\d{4}-\d+|BDSA-\d{4}-\d+)\b",
    re.IGNORECASE,
)
_CWE_TAG = re.compile(r"^(?:external/cwe/)?cwe[-_ ]?(\d+)\b", re.IGNORECASE)
_POS_SUFFIX = re.compile(r"\s*\(pos (\d+)\)\s*$")
#: Trivy's vulnerability result message: "Package: x\nInstalled Version: 1\n...".
_MESSAGE_FIELD = re.compile(
    r"^(Package|Installed Version|Fixed Version): *(.*?) *$", re.MULTILINE | re.IGNORECASE
)
#: Grype's: "A high vulnerability in python package: requests, version 2.0 was found ...".
_GRYPE_MESSAGE = re.compile(r"vulnerability in (\S+) package: (.+?), version (\S+) was found")
_WARDEN_FP = "wardenFingerprint/v1"
_FALSE_POSITIVE = ("false positive", "false-positive", "falsepositive", "not a bug", "not an issue")
_ACCEPTED = ("accept", "risk", "won't fix", "wont fix", "wontfix", "by design", "intended")


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        return False
    version = data.get("version")
    schema = data.get("$schema")
    return (isinstance(version, str) and version.startswith(("2.", "1.0"))) or (
        isinstance(schema, str) and "sarif" in schema.lower()
    )


_text = compat.text
_msg = compat.message_text


class _Run:
    """Per-run lookups: rules by id and index, artifacts by index, whatever the version."""

    __slots__ = (
        "artifacts",
        "category",
        "loose",
        "placeholder_level",
        "rules_by_id",
        "rules_by_index",
        "run",
        "tool",
        "version",
    )

    def __init__(self, run: dict[str, Any], where: str, loose: Lenient) -> None:
        self.run = run
        self.loose = loose
        tool = loose.obj(run, "tool", where)
        if not tool:
            loose.notes.add(f"{where}.tool", "missing; the tool that wrote this run is unknown")
        driver = compat.driver(tool)
        self.tool = cut(_text(driver.get("name")).strip(), 200) or "sarif"
        self.version = cut(
            _text(driver.get("version")) or _text(driver.get("semanticVersion")), 100
        )
        self.rules_by_index: list[dict[str, Any]] = []
        self.rules_by_id: dict[str, dict[str, Any]] = {}
        for place, rules in compat.rule_lists(run, driver):
            self._add_rules(rules, f"{where}.{place}", index=True)
        for ei, ext in enumerate(loose.arr(tool, "extensions", f"{where}.tool")):
            if isinstance(ext, dict):
                rwhere = f"{where}.tool.extensions[{ei}].rules"
                self._add_rules(ext.get("rules"), rwhere, index=False)
        artifacts = run.get("artifacts", run.get("files"))
        self.artifacts: list[Any] = artifacts if isinstance(artifacts, list) else []
        props = run.get("properties")
        name = self.tool.lower()
        self.placeholder_level = name in _PLACEHOLDER_LEVEL_TOOLS
        warden_cat = props.get("category") if isinstance(props, dict) else None
        if isinstance(warden_cat, str) and warden_cat in CATEGORIES:
            self.category = warden_cat
        elif name in _MODEL_FILE_TOOLS:
            self.category = "model_file"
        elif any(t in name for t in _DEPENDENCY_TOOLS):
            self.category = "dependency"
        else:
            self.category = ""  # decided per rule

    def _add_rules(self, rules: Any, where: str, *, index: bool) -> None:
        if rules is None:
            return
        if isinstance(rules, dict):  # 1.0.0 / 2.0.0: {rule id: rule}
            items = [
                (f"{where}.{key}", {"id": key, **rule} if isinstance(rule, dict) else rule)
                for key, rule in rules.items()
            ]
        elif isinstance(rules, list):
            items = [(f"{where}[{i}]", rule) for i, rule in enumerate(rules)]
        else:
            self.loose.notes.add(where, f"expected an array of rules, got {_kind(rules)}; left out")
            return
        for rwhere, rule in items:
            if not isinstance(rule, dict):
                self.loose.notes.add(rwhere, f"expected an object, got {_kind(rule)}; left out")
                rule = {}
            if index:
                self.rules_by_index.append(rule)
            rid = rule.get("id")
            if isinstance(rid, str) and rid not in self.rules_by_id:
                self.rules_by_id[rid] = rule

    def rule(self, result: dict[str, Any], rule_id: str) -> dict[str, Any]:
        ref = result.get("rule")
        index = result.get("ruleIndex")
        if (
            isinstance(ref, dict)
            and isinstance(ref.get("index"), int)
            and not ref.get("toolComponent")
        ):
            index = ref["index"]
        if rule_id and rule_id in self.rules_by_id:
            by_id = self.rules_by_id[rule_id]
            if not (isinstance(index, int) and 0 <= index < len(self.rules_by_index)):
                return by_id
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


def _kind(value: Any) -> str:
    from scanners.parsers._fields import kind

    return kind(value)


def parse(doc: Document) -> Report:
    data = doc.json
    if not isinstance(data, dict):
        _R.fail("", "expected a SARIF log object")
    loose = Lenient(SCAN_TYPE, Notes(SCAN_TYPE))
    version = _text(data.get("version"))
    warnings: list[str] = []
    if not compat.version_known(version):
        warnings.append(
            f"sarif: version: {cut(version, 20)!r} is not a SARIF version; read as 2.1.0"
        )
    runs = _R.arr(data.get("runs"), "runs")
    out = Collector()
    ids = DependencyIds()
    model_findings: list[NormalizedFinding] = []
    runs_meta: list[dict[str, Any]] = []
    counts = {"passed": 0, "absent": 0}
    states: dict[str, int] = {}
    first_tool, first_version, target = "", "", ""
    default_category = CATEGORY
    for ri, raw_run in enumerate(runs):
        where = f"runs[{ri}]"
        run = _R.obj(raw_run, where)
        ctx = _Run(run, where, loose)
        if ri == 0:
            first_tool, first_version = ctx.tool, ctx.version
            default_category = ctx.category or CATEGORY
            target = compat.target(run)
        results = _R.opt_arr(run, "results", where)
        runs_meta.append({"tool": ctx.tool, "version": ctx.version, "results": len(results)})
        for i, raw in enumerate(results):
            rwhere = f"{where}.results[{i}]"
            result = _R.obj(raw, rwhere)
            finding = _result(ctx, result, rwhere, ids, counts)
            if finding is None:
                continue
            if finding.state:
                states[finding.state] = states.get(finding.state, 0) + 1
            if finding.category == "model_file" and not _is_warden(result):
                model_findings.append(finding)
            else:
                out.add(finding)
    findings = out.findings() + mf.merge(model_findings)
    meta: dict[str, Any] = {
        "runs": runs_meta,
        "sarif_version": cut(version, 40),
        "not_findings": {"passed_or_not_applicable": counts["passed"]},
    }
    if states:
        meta["states"] = dict(sorted(states.items()))
    return Report(
        tool=first_tool or SCAN_TYPE,
        tool_version=first_version,
        scan_type=SCAN_TYPE,
        category=majority_category(findings, default_category),
        findings=findings,
        metadata=meta,
        warnings=warnings + loose.notes.all(),
        target=target,
    )


def _is_warden(result: dict[str, Any]) -> bool:
    partial = result.get("partialFingerprints")
    fp = partial.get(_WARDEN_FP) if isinstance(partial, dict) else None
    return isinstance(fp, str) and len(fp) == 64


def _severity(
    ctx: _Run, result: dict[str, Any], rule: dict[str, Any], level: str, rwhere: str
) -> tuple[str, str, float | None]:
    props = result.get("properties")
    props = props if isinstance(props, dict) else {}
    rprops = rule.get("properties")
    rprops = rprops if isinstance(rprops, dict) else {}
    warden = props.get("warden-severity")
    if isinstance(warden, str) and warden in SEVERITIES:
        return warden, warden, None
    for source, swhere in ((props, f"{rwhere}.properties"), (rprops, "rule properties")):
        raw = source.get("security-severity")
        if raw is not None and raw != "":
            score = cvss_score(raw)
            if score is not None:
                return from_cvss(score), cut(str(raw), 20), score
            ctx.loose.notes.add(
                f"{swhere}.security-severity", f"not a score 0-10: {cut(str(raw), 30)!r}; left out"
            )
    for key in _SCORE_PROPS:
        score = cvss_score(props.get(key))
        if score is not None:
            return from_cvss(score), cut(str(props[key]), 20), score
    for key in _TEXT_PROPS:
        raw = props.get(key)
        if isinstance(raw, str) and raw.strip().lower() in TEXT_SEVERITY:
            return TEXT_SEVERITY[raw.strip().lower()], cut(raw, 50), None
    if ctx.placeholder_level and level == "error":
        return UNRATED, level, None  # Checkov without severities: "error" says nothing
    return _LEVEL.get(level, "medium"), level, None


def _level(result: dict[str, Any], rule: dict[str, Any], kind: str) -> str:
    level = result.get("level")
    if isinstance(level, str) and level in _LEVEL:
        return level
    default = compat.default_level(rule)
    if default in _LEVEL:
        return default
    return "warning" if kind == "fail" else "none"


def _location(
    ctx: _Run, result: dict[str, Any], rwhere: str
) -> tuple[str, int | None, str, dict[str, Any]]:
    """(path, start line, snippet, artifact object) of the first location naming a file."""
    for li, loc in enumerate(ctx.loose.arr(result, "locations", rwhere)):
        if not isinstance(loc, dict):
            ctx.loose.notes.add(f"{rwhere}.locations[{li}]", "expected an object; left out")
            continue
        art_loc, region = compat.file_location(loc)
        if not art_loc and not region:
            continue
        index = art_loc.get("index", art_loc.get("fileIndex"))
        artifact = ctx.artifact(index)
        uri = _text(art_loc.get("uri"))
        if not uri:
            art_location = artifact.get("location", artifact.get("fileLocation"))
            uri = _text(art_location.get("uri")) if isinstance(art_location, dict) else ""
        line: int | None = None
        start = region.get("startLine")
        if isinstance(start, int) and not isinstance(start, bool) and start > 0:
            line = start
        snippet = _msg(region.get("snippet"))
        return compat.clean_uri(uri), line, snippet, artifact
    target = result.get("analysisTarget")
    if isinstance(target, dict):
        return (
            compat.clean_uri(_text(target.get("uri"))),
            None,
            "",
            ctx.artifact(target.get("index")),
        )
    return "", None, "", {}


def _suppression(result: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """``(state, justification, evidence)`` of a result's accepted suppression, else None."""
    for sup in compat.suppression_entries(result):
        status = sup.get("status")
        if status not in (None, "accepted"):
            continue  # underReview / rejected: still a finding
        kind = _text(sup.get("kind"))
        justification = _text(sup.get("justification")).strip()
        lowered = justification.lower()
        if any(w in lowered for w in _FALSE_POSITIVE):
            state = "false_positive"
        elif any(w in lowered for w in _ACCEPTED):
            state = "risk_accepted"
        else:
            state = "false_positive" if kind == "inSource" else "risk_accepted"
        shown = justification or f"suppressed ({kind or 'no kind given'})"
        evidence = {"kind": cut(kind, 30), "status": cut(_text(status) or "accepted", 30)}
        return state, cut(shown, 2000), evidence
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
    result: dict[str, Any],
    rule: dict[str, Any],
    artifact: dict[str, Any],
    text: str,
    path: str,
    ids: DependencyIds,
) -> tuple[str, str, str, str, str]:
    """(normalized ecosystem, package, version, purl, fixed version) of a dependency
    result, or empty: from a purl (result, artifact or rule properties; Grype's rule
    ``purls``), the ``component`` properties, or the tool's message (Trivy, Grype)."""
    props = result.get("properties")
    props = props if isinstance(props, dict) else {}
    aprops = artifact.get("properties")
    aprops = aprops if isinstance(aprops, dict) else {}
    rprops = rule.get("properties")
    rprops = rprops if isinstance(rprops, dict) else {}
    for source in (props, aprops, rprops):
        for key, value in source.items():
            if isinstance(value, list) and value and "purl" in key.lower():
                value = value[0]
            if (
                isinstance(value, str)
                and value.startswith("pkg:")
                and (key.startswith("id") or "purl" in key.lower())
            ):
                purl = Purl.parse(value)
                if purl is not None:
                    return ids.ecosystem(purl.type), purl.package_name(), purl.version, value, ""
    comp = props.get("component")
    if isinstance(comp, str) and comp:
        origin = _text(props.get("componentOrigin"))
        return ids.ecosystem(origin), comp, _text(props.get("componentVersion")), "", ""
    fields = {k.lower(): v for k, v in _MESSAGE_FIELD.findall(text)}
    if fields.get("package"):
        eco = ecosystem_from_path(path)
        fixes = [f.strip() for f in fields.get("fixed version", "").split(",") if f.strip()]
        version = fields.get("installed version", "")
        return eco, fields["package"], version, "", pick_fix(version, fixes)
    grype = _GRYPE_MESSAGE.search(text)
    if grype is not None:
        return ids.ecosystem(grype.group(1)), grype.group(2), grype.group(3), "", ""
    return "", "", "", "", ""


def _rule_from_message(ctx: _Run, result: dict[str, Any]) -> str:
    """A rule id for a result without ``ruleId`` whose message starts with a rule's id
    (gitleaks 7: rule ``AWS Access Key``, message ``AWS Access Key secret detected``)."""
    text = compat.message(result)[0]
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
    ids: DependencyIds,
    counts: dict[str, int],
) -> NormalizedFinding | None:
    kind = _text(result.get("kind")) or "fail"
    raw_level = _text(result.get("level")).lower()
    if raw_level in compat.LEVEL_KINDS:  # 2.0.0 drafts: the kind was in "level"
        kind = compat.LEVEL_KINDS[raw_level]
    if kind.lower() in _NOT_FINDING_KINDS:
        counts["passed"] += 1
        return None
    rule_ref = result.get("rule")
    rule_id = _text(result.get("ruleId")) or (
        _text(rule_ref.get("id")) if isinstance(rule_ref, dict) else ""
    )
    rule = ctx.rule(result, rule_id)
    if not rule_id:
        rule_id = _text(rule.get("id")) or _rule_from_message(ctx, result) or "unknown"
        rule = rule or ctx.rules_by_id.get(rule_id, {})
    path, line, snippet, artifact = _location(ctx, result, rwhere)

    state, justification = "", ""
    suppression = _suppression(result)
    if suppression is not None:
        state, justification, sup_evidence = suppression
    elif result.get("baselineState") == "absent":
        counts["absent"] += 1
        state, justification = "resolved", "absent from this run (it was in the baseline)"

    level = _level(result, rule, kind)
    severity, raw_severity, score = _severity(ctx, result, rule, level, rwhere)

    text, message_id, arguments = compat.message(result)
    if not text and message_id:
        text = compat.rule_message(rule, message_id)
    text = compat.fill(text, arguments)
    if not text:
        msg = result.get("message")
        text = _text(msg.get("markdown")) if isinstance(msg, dict) else ""
    props_raw = result.get("properties")
    props, secrets = _redact(props_raw) if isinstance(props_raw, dict) else ({}, [])
    text = _scrub(text, secrets)
    snippet = _scrub(snippet, secrets)
    short = _msg(rule.get("shortDescription")) or _msg(rule.get("name"))
    if not short or "{" in short:  # ruff's short descriptions are templates ("{name}")
        short = ""
    title = short or (text.strip().splitlines()[0] if text.strip() else rule_id)
    rprops = rule.get("properties")
    tags = (
        [t for t in as_list(rprops.get("tags")) if isinstance(t, str)]
        if isinstance(rprops, dict)
        else []
    )
    lowered_tags = {t.lower() for t in tags}

    warden_fp = _WARDEN_FP if _is_warden(result) else None
    category = ctx.category
    if warden_fp is not None:
        # Warden's own SARIF: keep its fingerprint and category as they were.
        own = props.get("category")
        category = own if isinstance(own, str) and own in CATEGORIES else category or "code"
    elif category == "dependency" and lowered_tags & _CODE_TAGS:
        category = "code"  # Trivy's misconfigurations and secrets in a vulnerability run
    elif not category:
        category = "dependency" if lowered_tags & _DEPENDENCY_TAGS else "code"

    if category == "model_file" and warden_fp is None:
        finding = _model_finding(ctx, result, rule_id, path, text, severity, raw_severity, level)
        finding.state, finding.justification = state, justification
        return finding

    refs: list[Any] = [rule.get("helpUri")]
    help_text = _msg(rule.get("help")) or _msg(rule.get("fullDescription"))
    fixes = [
        _msg(f.get("description")) for f in as_list(result.get("fixes")) if isinstance(f, dict)
    ]
    remediation = "; ".join(f for f in fixes if f) or help_text
    cwes = sorted(
        {f"CWE-{m.group(1)}" for t in tags if (m := _CWE_TAG.match(t.strip())) is not None}
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
    if suppression is not None:
        evidence["suppression"] = sup_evidence
    tool_key = ctx.tool.lower()

    vuln_id = ""
    aliases: list[str] = []
    package = version = eco = purl = fixed = ""
    if category == "dependency":
        eco, package, version, purl, fixed = _package(result, rule, artifact, text, path, ids)
        found = _VULN_ID.findall(f"{rule_id} {_msg(rule.get('name'))}")
        if found or package:
            vuln_id, aliases = canonical(found[0] if found else rule_id, found[1:])
    if warden_fp is not None:
        fp = str(result["partialFingerprints"][_WARDEN_FP])
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

    return NormalizedFinding(
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
        fixed_version=cut(fixed, 200),
        ecosystem=eco,
        purl=cut(purl, 500),
        file_path=cut(path, 1000),
        line=line,
        references=references(refs),
        remediation=cut(
            remediation or (f"Upgrade {package} to {fixed} or later." if fixed else ""), 4000
        ),
        evidence=evidence,
        state=state,
        justification=justification,
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
