"""CycloneDX 1.4-1.6 JSON BOMs with ``vulnerabilities`` (SBOM + VDR/VEX), including
pip-audit's CycloneDX output (spec 1.4, no purls, no ratings) and ML-BOMs.

- Each vulnerability gives one finding per affected component (``affects[].ref`` ->
  ``components[].bom-ref``, nested components and ``metadata.component`` included). The
  package identity comes from the component's purl (ecosystem = purl type); without a purl
  the ecosystem is inferred from the advisory id (``PYSEC-`` -> PyPI), so pip-audit's BOM and
  pip-audit's JSON give the same fingerprint.
  An ``affects[].ref`` that is a purl without a version (OSV-Scanner writes the advisory's
  package there) names the components whose purl is that package at any version: the
  installed version comes from the component's ``bom-ref``/``purl``.
- Severity: the worst explicit ``ratings[].severity``; else the band of the best CVSS score
  (v3/v4 before v2; a v3 vector without a score is computed); else ``medium`` (unrated).
- The fixed version: ``affects[].versions`` marked ``unaffected``, Grype's
  ``grype:fixed_versions`` property, else Trivy's ``recommendation`` ("Upgrade x to version
  1.2.3").
- VEX ``analysis`` is kept on the finding: ``state`` ``not_affected`` -> ``not_affected``,
  ``false_positive`` -> ``false_positive``, ``resolved``/``resolved_with_pedigree`` ->
  ``resolved``, ``exploitable`` with the response ``will_not_fix`` -> ``risk_accepted``;
  ``exploitable``/``in_triage`` stay active. ``justification`` is the VEX justification and
  detail; ``code_not_reachable`` also gives ``reachable=False``.
- Every component is listed in ``metadata["components_list"]`` as ``{name, version, purl,
  ecosystem}`` (the first :data:`MAX_LISTED`; the "which models use package X" inventory);
  components of type ``machine-learning-model`` also in ``metadata["models"]`` with their
  (trimmed) ``modelCard``. Vulnerabilities of Warden's own ML-BOM export whose
  ``warden:category`` property names another layer (model file, assessment...) are left out
  with a warning: they belong to the scans that found them. A BOM without a
  ``vulnerabilities`` array is an inventory: ``Report.complete`` is False (its silence
  proves nothing).
"""

from __future__ import annotations

import re
from typing import Any

from scanners.document import Document
from scanners.evidence import trim
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._fields import Lenient
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
    kind,
    pick_fix,
    references,
    worse,
)
from scanners.severity import from_cvss

SCAN_TYPE = "cyclonedx"
CATEGORY = "dependency"
DESCRIPTION = "CycloneDX 1.4-1.6 JSON BOM/VEX (vulnerabilities, VEX states, ML-BOM model cards)"

_R = Reader(SCAN_TYPE)
#: VEX analysis states -> Warden states ("exploitable" and "in_triage" stay active).
_STATES = {
    "not_affected": "not_affected",
    "false_positive": "false_positive",
    "resolved": "resolved",
    "resolved_with_pedigree": "resolved",
}
_MAX_COMPONENTS = 500_000
_MAX_DEPTH = 64
#: Components listed in metadata["components_list"] (an image SBOM has a few thousand).
MAX_LISTED = 5000
#: Trivy's recommendation: "Upgrade <package> to version 1.2.3, 1.3.1".
_RECOMMENDED_VERSION = re.compile(r"\bto version\s+(.+?)\s*\.?$", re.IGNORECASE)


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


def _severity(ratings: list[Any], where: str, loose: Lenient) -> tuple[str, str, float | None, str]:
    """(severity, raw severity, cvss score, cvss vector) from CycloneDX ratings."""
    explicit = ""
    raw = ""
    best: tuple[int, float, str] | None = None
    for k, r in enumerate(ratings):
        if not isinstance(r, dict):
            loose.notes.add(f"{where}.ratings[{k}]", "expected an object; left out")
            continue
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
    fixes = _fix_list(vuln, affect)
    if not fixes:
        recommendation = vuln.get("recommendation")
        match = (
            _RECOMMENDED_VERSION.search(recommendation.strip())
            if isinstance(recommendation, str)
            else None
        )
        if match is not None:
            fixes = [p.strip() for p in match.group(1).split(",") if p.strip()]
    return pick_fix(installed, fixes)


def _fix_list(vuln: dict[str, Any], affect: dict[str, Any]) -> list[str]:
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
    return fixes


def _analysis(
    analysis: dict[str, Any], where: str, loose: Lenient
) -> tuple[str, str, bool | None, str]:
    """``(Warden state, justification, reachable, raw VEX state)`` of a VEX analysis."""
    raw = loose.text(analysis, "state", where)
    state = _STATES.get(raw, "")
    responses = loose.texts(analysis, "response", where)
    if raw == "exploitable" and "will_not_fix" in responses:
        state = "risk_accepted"
    why = loose.text(analysis, "justification", where)
    detail = loose.text(analysis, "detail", where).strip()
    parts = [p for p in (why, detail) if p]
    if not parts and responses:
        parts = ["response: " + ", ".join(responses)]
    justification = cut(": ".join(parts), 2000)
    reachable = False if why == "code_not_reachable" else None
    return state, justification, reachable, raw


def _by_package(
    ordered: list[tuple[dict[str, Any], str]],
) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """Components by the package their purl names, whatever its version (for an
    ``affects[].ref`` that is a purl without one)."""
    out: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for comp, _where in ordered:
        for key in ("purl", "bom-ref"):
            value = comp.get(key)
            purl = Purl.parse(value) if isinstance(value, str) else None
            if purl is not None:
                bucket = out.setdefault((purl.type, purl.namespace, purl.name), [])
                if comp not in bucket:
                    bucket.append(comp)
                break
    return out


def _affected(
    ref: str,
    by_ref: dict[str, tuple[dict[str, Any], str]],
    by_package: dict[tuple[str, str, str], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    found = by_ref.get(ref)
    if found is not None:
        return [found[0]]
    purl = Purl.parse(ref)
    if purl is not None and not purl.version:
        return by_package.get((purl.type, purl.namespace, purl.name), [])
    return []


def _warden_category(vuln: dict[str, Any]) -> str:
    """The ``warden:category`` property of a vulnerability in Warden's own ML-BOM export."""
    for prop in as_list(vuln.get("properties")):
        if isinstance(prop, dict) and prop.get("name") == "warden:category":
            value = prop.get("value")
            return value if isinstance(value, str) else ""
    return ""


def parse(doc: Document) -> Report:
    data = doc.json
    if not isinstance(data, dict):
        _R.fail("", "expected a CycloneDX JSON object")
    if data.get("bomFormat") not in (None, "CycloneDX"):
        _R.fail("bomFormat", f'expected "CycloneDX", got {cut(str(data.get("bomFormat")), 50)!r}')
    loose = Lenient(SCAN_TYPE)
    spec = loose.text(data, "specVersion", "")
    by_ref, ordered = _components(data)
    by_package: dict[tuple[str, str, str], list[dict[str, Any]]] | None = None
    tool, tool_version = _tool(data)
    ids = DependencyIds()
    out = Collector()
    warnings: list[str] = []
    models: list[dict[str, Any]] = []
    listed: list[dict[str, str]] = []
    for comp, _where in ordered:
        if comp.get("type") == "machine-learning-model":
            models.append(_model(comp))
        if len(listed) < MAX_LISTED and comp is not _metadata_component(data):
            entry = _listed(comp, ids)
            if entry is not None:
                listed.append(entry)
    states: dict[str, int] = {}
    skipped_layers: dict[str, int] = {}

    vulnerabilities = data.get("vulnerabilities")
    if vulnerabilities is not None and not isinstance(vulnerabilities, list):
        _R.fail("vulnerabilities", f"expected an array, got {kind(vulnerabilities)}")
    for i, raw in enumerate(vulnerabilities or ()):
        where = f"vulnerabilities[{i}]"
        vuln = _R.obj(raw, where)
        tool_id = loose.text(vuln, "id", where)
        if not tool_id.strip():
            _R.fail(where, 'missing "id"')
        layer = _warden_category(vuln)
        if layer and layer != CATEGORY:
            skipped_layers[layer] = skipped_layers.get(layer, 0) + 1
            continue
        alias_ids: list[str] = []
        for k, ref in enumerate(loose.arr(vuln, "references", where)):
            if not isinstance(ref, dict):
                loose.notes.add(f"{where}.references[{k}]", "expected an object; left out")
                continue
            rid = ref.get("id")
            if isinstance(rid, str) and rid:
                alias_ids.append(rid)
        vid, others = canonical(tool_id, alias_ids)
        severity, raw_sev, score, vector = _severity(
            loose.arr(vuln, "ratings", where), where, loose
        )
        analysis = loose.obj(vuln, "analysis", where)
        state, justification, reachable, raw_state = _analysis(analysis, f"{where}.analysis", loose)
        description = loose.text(vuln, "description", where) or loose.text(vuln, "detail", where)
        recommendation = loose.text(vuln, "recommendation", where)
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

        targets: list[tuple[dict[str, Any], dict[str, Any] | None, str]] = []
        for k, aff in enumerate(loose.arr(vuln, "affects", where)):
            awhere = f"{where}.affects[{k}]"
            if not isinstance(aff, dict):
                loose.notes.add(awhere, "expected an object; left out")
                continue
            ref = loose.text(aff, "ref", awhere)
            if not ref:
                loose.notes.add(awhere, 'no "ref": the affected package is unknown')
                targets.append((aff, None, ""))
                continue
            if ref not in by_ref and by_package is None:
                by_package = _by_package(ordered)
            found = _affected(ref, by_ref, by_package or {})
            if not found and len(warnings) < 50:
                warnings.append(
                    f"cyclonedx: {awhere}.ref: {cut(ref, 200)!r} names no component in the BOM"
                )
            if found:
                targets.extend((aff, comp, ref) for comp in found)
            else:
                targets.append((aff, None, ref))
        if not targets:
            if len(warnings) < 50:
                warnings.append(f'cyclonedx: {where}: no "affects"; the package is unknown')
            targets.append(({}, None, ""))

        for aff, component, ref in targets:
            name, version, purl_text, eco = _identity(component, ref, ids, [tool_id, *alias_ids])
            if not version:
                version = _affected_version(aff)
            fixed = _fixed(vuln, aff, version)
            evidence: dict[str, Any] = {}
            if ref:
                evidence["bom_ref"] = cut(ref, 500)
            if raw_state:
                evidence["analysis_state"] = cut(raw_state, 50)
                if justification:
                    evidence["analysis_detail"] = cut(justification, 1000)
            if cwes:
                evidence["cwes"] = cwes[:20]
            if isinstance(source, dict) and isinstance(source.get("name"), str):
                evidence["source"] = cut(source["name"], 100)
            if state:
                states[state] = states.get(state, 0) + 1
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
                    state=state,
                    justification=justification if state else "",
                    reachable=reachable,
                )
            )
    meta: dict[str, Any] = {
        "spec_version": spec,
        "components": len(ordered),
        "components_list": listed,
        "models": models,
    }
    if len(ordered) > len(listed) + 1:
        meta["components_listed"] = len(listed)
    if states:
        meta["states"] = dict(sorted(states.items()))
    for layer, n in sorted(skipped_layers.items()):
        # Warden's own ML-BOM: findings of the other layers (model file, assessment...) stay
        # with the scans that found them; only the dependency layer is this format's.
        warnings.append(
            f"cyclonedx: {n} vulnerabilit{'y' if n == 1 else 'ies'} of Warden's {layer} layer "
            "(warden:category) left out: they belong to the scans that reported them"
        )
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
        warnings=warnings + loose.notes.all(),
        target=_main_component(data),
        # An SBOM without a vulnerabilities section is an inventory: no analysis was made,
        # so the absence of a finding proves nothing.
        complete=isinstance(vulnerabilities, list),
    )


def _metadata_component(data: dict[str, Any]) -> Any:
    meta = data.get("metadata")
    return meta.get("component") if isinstance(meta, dict) else None


def _listed(comp: dict[str, Any], ids: DependencyIds) -> dict[str, str] | None:
    """``{name, version, purl, ecosystem}`` of a component, for the inventory."""
    name, version, purl_text = _text(comp, "name"), _text(comp, "version"), _text(comp, "purl")
    purl = Purl.parse(purl_text)
    eco = ids.ecosystem(purl.type) if purl is not None else ""
    if purl is not None and (purl.namespace or not name):
        name = purl.package_name()
    if not name:
        return None
    return {
        "name": cut(name, 300),
        "version": cut(version or (purl.version if purl else ""), 100),
        "purl": cut(purl_text, 500),
        "ecosystem": eco,
    }


def _affected_version(aff: dict[str, Any]) -> str:
    """The installed version an ``affects`` entry marks ``affected`` (Trivy writes it)."""
    for v in as_list(aff.get("versions")):
        if (
            isinstance(v, dict)
            and v.get("status") == "affected"
            and isinstance(v.get("version"), str)
        ):
            return str(v["version"])
    return ""


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
