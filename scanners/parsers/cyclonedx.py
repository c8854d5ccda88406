"""CycloneDX 1.4-1.6 JSON BOMs with ``vulnerabilities`` (SBOM + VDR/VEX), including
pip-audit's CycloneDX output (spec 1.4, no purls, no ratings) and ML-BOMs.

- Each vulnerability gives one finding per affected component (``affects[].ref`` ->
  ``components[].bom-ref``, nested components and ``metadata.component`` included). The
  package identity comes from the component's purl (ecosystem = purl type); without a purl
  the ecosystem is inferred from the advisory id (``PYSEC-`` -> PyPI), so pip-audit's BOM and
  pip-audit's JSON give the same fingerprint.
- Severity: the worst explicit ``ratings[].severity``; else the band of the best CVSS score
  (v3/v4 before v2; a v3 vector without a score is computed); else ``medium`` (unrated).
- VEX ``analysis.state`` ``not_affected``, ``false_positive``, ``resolved`` and
  ``resolved_with_pedigree`` are not findings: they are listed in ``metadata["suppressed"]``.
- Components of type ``machine-learning-model`` are listed in ``metadata["models"]`` with
  their (trimmed) ``modelCard``.
"""

from __future__ import annotations

from typing import Any

from scanners.document import Document
from scanners.evidence import trim
from scanners.findings import NormalizedFinding, Report
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
    cvss3_base_score,
    cvss_score,
    ecosystem_from_ids,
    pick_fix,
    references,
    worse,
)
from scanners.severity import from_cvss

SCAN_TYPE = "cyclonedx"
CATEGORY = "dependency"
DESCRIPTION = "CycloneDX 1.4-1.6 JSON BOM/VEX (vulnerabilities, VEX states, ML-BOM model cards)"

_R = Reader(SCAN_TYPE)
_SUPPRESSED = frozenset({"not_affected", "false_positive", "resolved", "resolved_with_pedigree"})
_MAX_COMPONENTS = 500_000
_MAX_DEPTH = 64


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict):
        return False
    if data.get("bomFormat") == "CycloneDX":
        return True
    schema = data.get("$schema")
    return isinstance(schema, str) and "cyclonedx" in schema.lower() and "specVersion" in data


def _components(
    data: dict[str, Any],
) -> tuple[dict[str, tuple[dict[str, Any], str]], list[tuple[dict[str, Any], str]]]:
    """bom-ref -> (component, JSON path), and every component in document order."""
    by_ref: dict[str, tuple[dict[str, Any], str]] = {}
    ordered: list[tuple[dict[str, Any], str]] = []
    stack: list[tuple[Any, str, int]] = []
    roots = _R.opt_arr(data, "components", "")
    for i in range(len(roots) - 1, -1, -1):
        stack.append((roots[i], f"components[{i}]", 0))
    meta = data.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("component"), dict):
        stack.append((meta["component"], "metadata.component", 0))
    while stack:
        raw, where, depth = stack.pop()
        comp = _R.obj(raw, where)
        ordered.append((comp, where))
        if len(ordered) > _MAX_COMPONENTS:
            _R.fail(where, f"more than {_MAX_COMPONENTS} components")
        ref = comp.get("bom-ref")
        if isinstance(ref, str) and ref and ref not in by_ref:
            by_ref[ref] = (comp, where)
        children = comp.get("components")
        if children is not None:
            children = _R.arr(children, f"{where}.components")
            if depth >= _MAX_DEPTH:
                _R.fail(f"{where}.components", f"components nested deeper than {_MAX_DEPTH}")
            for j in range(len(children) - 1, -1, -1):
                stack.append((children[j], f"{where}.components[{j}]", depth + 1))
    return by_ref, ordered


def _tool(data: dict[str, Any]) -> tuple[str, str]:
    meta = data.get("metadata")
    tools = meta.get("tools") if isinstance(meta, dict) else None
    candidates: list[Any] = []
    if isinstance(tools, list):
        candidates = tools
    elif isinstance(tools, dict):
        candidates = as_list(tools.get("components")) + as_list(tools.get("services"))
    for t in candidates:
        if isinstance(t, dict) and isinstance(t.get("name"), str) and t["name"]:
            version = t.get("version")
            return cut(t["name"], 100), cut(version, 100) if isinstance(version, str) else ""
    return SCAN_TYPE, ""


def _model(comp: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("bom-ref", "group", "name", "version", "purl", "description"):
        value = comp.get(key)
        if isinstance(value, str) and value:
            out[key.replace("-", "_")] = cut(value, 1000)
    hashes = [
        {"alg": cut(h["alg"], 20), "content": cut(h["content"], 200)}
        for h in as_list(comp.get("hashes"))
        if isinstance(h, dict)
        and isinstance(h.get("alg"), str)
        and isinstance(h.get("content"), str)
    ]
    if hashes:
        out["hashes"] = hashes[:10]
    card = comp.get("modelCard")
    if isinstance(card, dict):
        out["model_card"] = trim(card, 16384)
    return out


def _severity(ratings: list[Any], where: str) -> tuple[str, str, float | None, str]:
    """(severity, raw severity, cvss score, cvss vector) from CycloneDX ratings."""
    explicit = ""
    raw = ""
    best: tuple[int, float, str] | None = None
    for k, r in enumerate(ratings):
        r = _R.obj(r, f"{where}.ratings[{k}]")
        sev = r.get("severity")
        if isinstance(sev, str) and sev:
            mapped = TEXT_SEVERITY.get(sev.lower())
            if mapped and (not explicit or worse(mapped, explicit) != explicit):
                explicit, raw = mapped, sev
        method = r.get("method")
        method = method.upper() if isinstance(method, str) else ""
        vector = r.get("vector")
        vector = vector if isinstance(vector, str) else ""
        score = cvss_score(r.get("score"))
        if score is None and vector.startswith("CVSS:3"):
            score = cvss3_base_score(vector)
        if score is None or method in ("OWASP", "SSVC", "OTHER"):
            continue
        modern = method.startswith(("CVSSV3", "CVSSV4")) or vector.startswith(("CVSS:3", "CVSS:4"))
        rank = 1 if modern else 0
        if best is None or (rank, score) > (best[0], best[1]):
            best = (rank, score, vector)
    score_v = best[1] if best else None
    vector_v = cut(best[2], 200) if best else ""
    if explicit:
        return explicit, raw, score_v, vector_v
    if score_v is not None:
        return from_cvss(score_v), str(score_v), score_v, vector_v
    return UNRATED, "", None, vector_v


def _fixed(vuln: dict[str, Any], affect: dict[str, Any], installed: str) -> str:
    fixes: list[str] = []
    for v in as_list(affect.get("versions")):
        if (
            isinstance(v, dict)
            and v.get("status") == "unaffected"
            and isinstance(v.get("version"), str)
        ):
            fixes.append(v["version"])
    for prop in as_list(vuln.get("properties")):
        # Grype's CycloneDX output carries its fix list as a property.
        if isinstance(prop, dict) and prop.get("name") in (
            "grype:fixed_versions",
            "fixed_versions",
        ):
            value = prop.get("value")
            if isinstance(value, str):
                fixes.extend(p.strip() for p in value.split(",") if p.strip())
    return pick_fix(installed, fixes)


def parse(doc: Document) -> Report:
    data = doc.json
    if not isinstance(data, dict):
        _R.fail("", "expected a CycloneDX JSON object")
    if data.get("bomFormat") not in (None, "CycloneDX"):
        _R.fail("bomFormat", f'expected "CycloneDX", got {cut(str(data.get("bomFormat")), 50)!r}')
    spec = _R.opt_str(data, "specVersion", "")
    by_ref, ordered = _components(data)
    tool, tool_version = _tool(data)
    ids = DependencyIds()
    out = Collector()
    suppressed: list[dict[str, Any]] = []
    warnings: list[str] = []
    models: list[dict[str, Any]] = []
    for comp, _where in ordered:
        if comp.get("type") == "machine-learning-model":
            models.append(_model(comp))

    for i, raw in enumerate(_R.opt_arr(data, "vulnerabilities", "")):
        where = f"vulnerabilities[{i}]"
        vuln = _R.obj(raw, where)
        tool_id = _R.opt_str(vuln, "id", where)
        if not tool_id.strip():
            _R.fail(where, 'missing "id"')
        alias_ids: list[str] = []
        for k, ref in enumerate(_R.opt_arr(vuln, "references", where)):
            ref = _R.obj(ref, f"{where}.references[{k}]")
            rid = ref.get("id")
            if isinstance(rid, str) and rid:
                alias_ids.append(rid)
        vid, others = canonical(tool_id, alias_ids)
        severity, raw_sev, score, vector = _severity(_R.opt_arr(vuln, "ratings", where), where)
        analysis = _R.opt_obj(vuln, "analysis", where)
        state = _R.opt_str(analysis, "state", f"{where}.analysis")
        description = _R.opt_str(vuln, "description", where) or _R.opt_str(vuln, "detail", where)
        recommendation = _R.opt_str(vuln, "recommendation", where)
        urls: list[Any] = []
        source = vuln.get("source")
        if isinstance(source, dict):
            urls.append(source.get("url"))
        for adv in as_list(vuln.get("advisories")):
            if isinstance(adv, dict):
                urls.append(adv.get("url"))
        for ref in as_list(vuln.get("references")):
            if isinstance(ref, dict) and isinstance(ref.get("source"), dict):
                urls.append(ref["source"].get("url"))
        cwes = [
            f"CWE-{c}"
            for c in as_list(vuln.get("cwes"))
            if isinstance(c, int) and not isinstance(c, bool)
        ]

        affects = _R.opt_arr(vuln, "affects", where)
        targets: list[tuple[dict[str, Any], dict[str, Any] | None, str]] = []
        for k, aff_raw in enumerate(affects):
            aff = _R.obj(aff_raw, f"{where}.affects[{k}]")
            ref = _R.req_str(aff, "ref", f"{where}.affects[{k}]")
            found = by_ref.get(ref)
            if found is None and len(warnings) < 50:
                warnings.append(
                    f"cyclonedx: {where}.affects[{k}].ref: {cut(ref, 200)!r} "
                    "names no component in the BOM"
                )
            targets.append((aff, found[0] if found else None, ref))
        if not targets:
            if len(warnings) < 50:
                warnings.append(f'cyclonedx: {where}: no "affects"; the package is unknown')
            targets.append(({}, None, ""))

        for aff, component, ref in targets:
            name, version, purl_text, eco = _identity(component, ref, ids, [tool_id, *alias_ids])
            if state in _SUPPRESSED:
                suppressed.append(
                    {
                        "id": vid,
                        "package": name,
                        "version": version,
                        "state": state,
                        "justification": cut(
                            _R.opt_str(analysis, "justification", f"{where}.analysis"), 100
                        ),
                        "detail": cut(_R.opt_str(analysis, "detail", f"{where}.analysis"), 1000),
                    }
                )
                continue
            fixed = _fixed(vuln, aff, version)
            evidence: dict[str, Any] = {}
            if ref:
                evidence["bom_ref"] = cut(ref, 500)
            if state:
                evidence["analysis_state"] = cut(state, 50)
                detail = _R.opt_str(analysis, "detail", f"{where}.analysis")
                if detail:
                    evidence["analysis_detail"] = cut(detail, 1000)
            if cwes:
                evidence["cwes"] = cwes[:20]
            if isinstance(source, dict) and isinstance(source.get("name"), str):
                evidence["source"] = cut(source["name"], 100)
            out.add(
                NormalizedFinding(
                    fingerprint=ids.fingerprint(eco, name, vid),
                    category=CATEGORY,
                    tool=tool,
                    rule_id=cut(tool_id, 200),
                    title=cut(f"{vid} in {name} {version}".strip() if name else vid, 500),
                    severity=severity,
                    description=cut(description, MAX_DESCRIPTION),
                    raw_severity=cut(raw_sev, 50),
                    cvss_score=score,
                    cvss_vector=vector,
                    vuln_id=vid,
                    aliases=others,
                    package=cut(name, 500),
                    package_version=cut(version, 200),
                    fixed_version=cut(fixed, 200),
                    ecosystem=eco,
                    purl=cut(purl_text, 500),
                    references=references(urls),
                    remediation=cut(recommendation, 2000),
                    evidence=evidence,
                )
            )
    meta: dict[str, Any] = {
        "spec_version": spec,
        "components": len(ordered),
        "models": models,
        "suppressed": suppressed,
    }
    serial = data.get("serialNumber")
    if isinstance(serial, str):
        meta["serial_number"] = cut(serial, 200)
    return Report(
        tool=tool,
        tool_version=tool_version,
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        findings=out.findings(),
        metadata=meta,
        warnings=warnings,
        target=_main_component(data),
        # An SBOM without a vulnerabilities section is an inventory: no analysis was made,
        # so the absence of a finding proves nothing.
        complete=isinstance(data.get("vulnerabilities"), list),
    )


def _main_component(data: dict[str, Any]) -> str:
    """``metadata.component`` as "name@version" (what the BOM describes), or ""."""
    meta = data.get("metadata")
    comp = meta.get("component") if isinstance(meta, dict) else None
    if not isinstance(comp, dict) or not isinstance(comp.get("name"), str):
        return ""
    name = comp["name"]
    if isinstance(comp.get("group"), str) and comp["group"]:
        name = f"{comp['group']}/{name}"
    version = comp.get("version")
    return cut(f"{name}@{version}" if isinstance(version, str) and version else name, 500)


def _identity(
    comp: dict[str, Any] | None, ref: str, ids: DependencyIds, vuln_ids: list[str]
) -> tuple[str, str, str, str]:
    """(package name, version, purl, normalized ecosystem) of an affected component."""
    name = version = purl_text = group = ""
    if comp is not None:
        name, version, purl_text, group = (
            _text(comp, "name"),
            _text(comp, "version"),
            _text(comp, "purl"),
            _text(comp, "group"),
        )
    elif ref.startswith("pkg:"):
        purl_text = ref
    purl = Purl.parse(purl_text)
    if purl is not None:
        eco = ids.ecosystem(purl.type)
        if purl.namespace or not name:
            name = purl.package_name()
        version = version or purl.version
        return name, version, purl_text, eco
    eco = ecosystem_from_ids(vuln_ids)
    if group and eco == "maven":
        name = f"{group}:{name}"
    return name, version, purl_text, eco


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""
