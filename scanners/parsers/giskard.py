"""Giskard v2 scan results, in either export:

``ScanReport.to_json()`` -- ``{detector: {level: [description, ...]}}``
    Every detector that ran is a key, with no levels when it found nothing. Each
    description is one finding; level major -> high, medium -> medium, minor -> low. A
    detector with no issue goes to ``Report.passed``. There are no numbers in this export.
``ScanReport.to_avid()`` -- JSON Lines, one AVID report per issue
    ``problemtype.description.value`` is the issue, ``metrics[0]`` its metric name and
    ``results.value``, ``impact.avid`` its AVID risk domain / SEP view (kept in evidence),
    ``affects.artifacts`` the model and dataset (metadata). AVID carries no Giskard level:
    severity is high when the risk domain is Security, else medium.

The two exports have their own scan types, ``giskard`` and ``giskard-avid``; an AVID file
written by garak (``garak -r``) chosen as either is read as garak's
(:mod:`scanners.parsers.garak_avid`). ``Report.target`` is the dataset the AVID reports name,
else the model.

Both exports of one scan give the same fingerprints: ``("giskard", description with its
numbers masked, "")``. Masking (``10.5%`` -> ``#``) keeps a finding stable when a re-run
moves its numbers; the metric is left out because ``to_json`` does not name it.

OWASP / ATLAS for ``to_json`` come from the detector name where clear: prompt or character
injection -> LLM01:2025 (AML.T0051), information disclosure -> LLM02:2025 (AML.T0057),
sycophancy / implausible output / faithfulness / hallucination -> LLM09:2025, text
perturbation / robustness -> ML01:2023. Other detectors (harmful content, stereotypes,
performance bias, data leakage, over/underconfidence, spurious correlation) have none.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._assessment_common import assessment_result
from scanners.parsers._fields import Fields, as_number, at

SCAN_TYPE = "giskard"
CATEGORY = "assessment"
DESCRIPTION = "Giskard v2 scan: ScanReport.to_json() or to_avid() JSON Lines"

TOOL = "giskard"
_F = Fields(SCAN_TYPE)
_LEVELS = {"major": "high", "medium": "medium", "minor": "low"}
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?%?", re.IGNORECASE)
_VERSION = re.compile(r"Giskard Scanner (\S+?)\.?$")
_DETECTOR_REFS: tuple[tuple[tuple[str, ...], list[str], list[str], list[str]], ...] = (
    (("promptinjection", "charsinjection"), ["LLM01:2025"], [], ["AML.T0051"]),
    (("informationdisclosure",), ["LLM02:2025"], [], ["AML.T0057"]),
    (("sycophancy", "implausible", "faithfulness", "hallucination"), ["LLM09:2025"], [], []),
    (("perturbation", "robustness"), [], ["ML01:2023"], []),
)
_REMEDIATION = (
    "Reproduce the issue with the test Giskard generates for it (generate_test_suite), then "
    "fix the model, prompt or data slice and re-run the scan."
)


AVID_SCAN_TYPE = "giskard-avid"


def is_avid(doc: Document) -> bool:
    """One AVID report or JSON Lines of them (Giskard's or anyone's)."""
    data = doc.json
    if isinstance(data, dict):
        return data.get("data_type") == "AVID"
    rows = doc.jsonl
    return (
        rows is not None
        and bool(rows)
        and isinstance(rows[0], dict)
        and (rows[0].get("data_type") == "AVID")
    )


def sniff(doc: Document) -> bool:
    data = doc.json
    if isinstance(data, dict) and data.get("data_type") != "AVID":
        return _is_scan_json(data)
    return is_avid(doc)


def parse(doc: Document) -> Report:
    from scanners.parsers import garak

    if garak.family(doc) == garak.AVID:
        return garak.parse(doc)  # garak's AVID export, whichever of the two was chosen
    report = _parse(doc)
    if report.metadata.get("export") == "avid":
        report.scan_type = AVID_SCAN_TYPE
        datasets, models = report.metadata.get("datasets") or [], report.metadata.get("models")
        report.target = str((datasets or models or [""])[0])[:500]
    return report


def _parse(doc: Document) -> Report:
    data = doc.json
    if isinstance(data, str):  # to_json() output saved as a JSON string
        try:
            data = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            _F.fail("", f"the JSON string does not hold JSON ({exc.msg})")
    if isinstance(data, dict) and data.get("data_type") != "AVID":
        return _scan_json(data)
    rows = [(1, data)] if isinstance(data, dict) else _F.jsonl(doc)
    if not rows:
        _F.fail("", "the report is empty")
    return _avid(rows)


def _scan_json(data: dict[str, Any]) -> Report:
    report = Report(tool=TOOL, tool_version="", scan_type=SCAN_TYPE, category=CATEGORY)
    issues = 0
    for detector, levels in data.items():
        levels = _F.obj(levels, detector)
        owasp_llm, owasp_ml, atlas = _detector_refs(detector)
        if not any(_F.arr(v, at(detector, k)) for k, v in levels.items()):
            report.passed.append(
                assessment_result(
                    tool=TOOL,
                    test_id=detector,
                    metric="",
                    title=f"Giskard {detector}: no issue found",
                    passed=True,
                    severity="info",
                    owasp_llm=owasp_llm,
                    owasp_ml=owasp_ml,
                    atlas=atlas,
                )
            )
            continue
        for level_key, descriptions in levels.items():
            level = _level(level_key)
            if level not in _LEVELS:
                _F.fail(at(detector, level_key), "unknown level (expected major, medium or minor)")
            for i, description in enumerate(_F.arr(descriptions, at(detector, level_key))):
                if not isinstance(description, str) or not description.strip():
                    _F.fail(at(at(detector, level_key), i), "expected a non-empty description")
                issues += 1
                report.findings.append(
                    _issue(
                        description,
                        severity=_LEVELS[level],
                        raw=level,
                        detector=detector,
                        owasp=(owasp_llm, owasp_ml, atlas),
                        evidence={"detector": detector, "level": level},
                    )
                )
    report.metadata = {"export": "to_json", "detectors": len(data), "issues": issues}
    return report


def _avid(rows: list[tuple[int, Any]]) -> Report:
    report = Report(tool=TOOL, tool_version="", scan_type=SCAN_TYPE, category=CATEGORY)
    models: set[str] = set()
    datasets: set[str] = set()
    for line, raw in rows:
        where = f"line {line}"
        row = _F.obj(raw, where)
        if row.get("data_type") != "AVID":
            _F.fail(where, 'not an AVID report (data_type is not "AVID")')
        problem = _F.obj(_F.req(row, "problemtype", where), at(where, "problemtype"))
        pdesc = _F.obj(
            _F.req(problem, "description", at(where, "problemtype")),
            at(where, "problemtype.description"),
        )
        description = _F.req_str(pdesc, "value", at(where, "problemtype.description"))
        metrics = _F.opt_arr(row, "metrics", where)
        metric_name = ""
        metric_value: float | None = None
        detection = ""
        if metrics:
            metric = _F.obj(metrics[0], at(where, "metrics[0]"))
            metric_name = _F.opt_str(metric, "name", at(where, "metrics[0]"))
            results = _F.opt_obj(metric, "results", at(where, "metrics[0]"))
            metric_value = as_number(results.get("value"))
            method = _F.opt_obj(metric, "detection_method", at(where, "metrics[0]"))
            detection = _F.opt_str(method, "name", at(where, "metrics[0].detection_method"))
        avid = _F.opt_obj(_F.opt_obj(row, "impact", where), "avid", at(where, "impact"))
        risk_domain = [str(d) for d in _F.opt_arr(avid, "risk_domain", at(where, "impact.avid"))]
        sep_view = [str(s) for s in _F.opt_arr(avid, "sep_view", at(where, "impact.avid"))]
        affects = _F.opt_obj(row, "affects", where)
        for artifact in _F.opt_arr(affects, "artifacts", at(where, "affects")):
            if isinstance(artifact, dict) and isinstance(artifact.get("name"), str):
                kind = str(artifact.get("type", "")).lower()
                (models if kind == "model" else datasets if kind == "dataset" else set()).add(
                    artifact["name"]
                )
        report_desc = _F.opt_obj(row, "description", where).get("value")
        for text in (detection, report_desc if isinstance(report_desc, str) else ""):
            version = _VERSION.search(text.strip())
            if version and not report.tool_version:
                report.tool_version = version.group(1)
        security = any(d.lower() == "security" for d in risk_domain)
        report.findings.append(
            _issue(
                description,
                severity="high" if security else "medium",
                raw=", ".join(risk_domain),
                detector="",
                owasp=([], [], []),
                metric_name=metric_name,
                metric_value=metric_value,
                evidence={
                    "risk_domain": risk_domain,
                    "sep_view": sep_view,
                    "lifecycle_view": [
                        str(v) for v in _F.opt_arr(avid, "lifecycle_view", at(where, "impact.avid"))
                    ],
                    "reported_date": row.get("reported_date"),
                    "line": line,
                },
            )
        )
    report.metadata = {
        "export": "avid",
        "issues": len(rows),
        "models": sorted(models),
        "datasets": sorted(datasets),
    }
    return report


def _issue(
    description: str,
    *,
    severity: str,
    raw: str,
    detector: str,
    owasp: tuple[list[str], list[str], list[str]],
    evidence: dict[str, Any],
    metric_name: str = "",
    metric_value: float | None = None,
) -> NormalizedFinding:
    title = " ".join(description.split())
    return assessment_result(
        tool=TOOL,
        test_id=issue_key(description),
        metric="",
        metric_name=metric_name,
        metric_value=metric_value,
        title=f"Giskard: {title[:180]}",
        passed=False,
        severity=severity,
        raw_severity=raw,
        description=description,
        owasp_llm=owasp[0],
        owasp_ml=owasp[1],
        atlas=owasp[2],
        remediation=_REMEDIATION,
        evidence=evidence if not detector else {**evidence, "detector": detector},
    )


def issue_key(description: str) -> str:
    """The test id of a Giskard issue: its description, whitespace collapsed and numbers
    masked with ``#``, so a re-run that moves the numbers keeps the finding."""
    return _NUMBER.sub("#", " ".join(description.split()))


def _detector_refs(detector: str) -> tuple[list[str], list[str], list[str]]:
    name = re.sub(r"[^a-z]", "", detector.lower())
    for words, llm, ml, atlas in _DETECTOR_REFS:
        if any(w in name for w in words):
            return list(llm), list(ml), list(atlas)
    return [], [], []


def _level(key: str) -> str:
    return key.strip().lower().removeprefix("issuelevel.")


def _is_scan_json(data: dict[str, Any]) -> bool:
    if not data:
        return False
    any_level = False
    for levels in data.values():
        if not isinstance(levels, dict):
            return False
        for level, items in levels.items():
            if _level(level) not in _LEVELS or not isinstance(items, list):
                return False
            any_level = True
    return any_level or all(k.endswith("Detector") for k in data)
