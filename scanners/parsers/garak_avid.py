"""garak's AVID export (``garak -r report.jsonl`` writes ``*.avid.jsonl``): one AVID report
per probe, JSON Lines.

Each line names the probe in its problem description ("... using the probe
``dan.Dan_11_0``.") and carries garak's per-detector table in ``metrics[0].results``
(pandas' ``to_dict()``: ``{column: {row: value}}`` with the columns ``detector``,
``passed``, ``total_evaluated`` (``total`` before garak 0.14) and ``score``, a percentage).
One result per probe x detector, exactly as the report.jsonl it came from gives it: the
same fingerprint ``("garak", "probe/detector", "pass_rate")``, the pass rate as the metric,
``sample_count`` = total, ``failure_count`` = total - passed, DEFCON severity. The AVID
taxonomy (``impact.avid``: risk domain, SEP and lifecycle views) goes to evidence, the model
(``affects.artifacts``) to ``Report.target``.

Giskard writes AVID reports too; they are told apart by content (garak names itself in the
references and description): see :func:`scanners.parsers.garak.is_garak_avid`.
"""

from __future__ import annotations

import re
from typing import Any

from scanners.document import Document
from scanners.findings import Report
from scanners.parsers import garak
from scanners.parsers._fields import Fields, Lenient, as_number, at

SCAN_TYPE = "garak-avid"
CATEGORY = "assessment"
DESCRIPTION = "garak AVID export (garak -r: *.avid.jsonl, one AVID report per probe)"

_F = Fields(SCAN_TYPE)
_PROBE = re.compile(r"probe `([^`]+)`")


def sniff(doc: Document) -> bool:
    return garak.family(doc) == SCAN_TYPE


def parse(doc: Document) -> Report:
    data = doc.json
    return parse_rows([(1, data)] if isinstance(data, dict) else _F.jsonl(doc))


def _columns(results: Any) -> list[dict[str, Any]]:
    """garak's per-detector table as rows: pandas' ``{column: {row: value}}`` (what garak
    writes), or a list of row objects."""
    if isinstance(results, list):
        return [r for r in results if isinstance(r, dict)]
    if not isinstance(results, dict):
        return []
    columns = {k: v for k, v in results.items() if isinstance(v, dict)}
    detectors = columns.get("detector", {})
    return [{name: column.get(key) for name, column in columns.items()} for key in detectors]


def parse_rows(rows: list[tuple[int, Any]]) -> Report:
    if not rows:
        _F.fail("", "the report is empty")
    loose = Lenient(SCAN_TYPE)
    report = Report(tool=garak.TOOL, tool_version="", scan_type=SCAN_TYPE, category=CATEGORY)
    models: list[str] = []
    deployers: list[str] = []
    seen: set[str] = set()
    for line, raw in rows:
        where = f"line {line}"
        row = _F.obj(raw, where)
        if row.get("data_type") != "AVID":
            _F.fail(where, 'not an AVID report (data_type is not "AVID")')
        problem = loose.obj(row, "problemtype", where)
        text = loose.text(
            loose.obj(problem, "description", at(where, "problemtype")), "value", where
        )
        described = loose.text(loose.obj(row, "description", where), "value", where)
        match = _PROBE.search(text) or _PROBE.search(described)
        if match is None:
            loose.notes.add(where, "names no probe; skipped")
            continue
        probe = garak._probe_name(match.group(1))
        affects = loose.obj(row, "affects", where)
        for artifact in loose.arr(affects, "artifacts", at(where, "affects")):
            name = artifact.get("name") if isinstance(artifact, dict) else None
            if isinstance(name, str) and name and name not in models:
                models.append(name)
        for deployer in loose.texts(affects, "deployer", at(where, "affects")):
            if deployer not in deployers:
                deployers.append(deployer)
        avid = loose.obj(loose.obj(row, "impact", where), "avid", at(where, "impact"))
        taxonomy = {
            key: [str(v) for v in loose.arr(avid, key, at(where, "impact.avid"))][:20]
            for key in ("risk_domain", "sep_view", "lifecycle_view")
        }
        metrics = loose.arr(row, "metrics", where)
        table = (
            _columns(metrics[0].get("results")) if metrics and isinstance(metrics[0], dict) else []
        )
        if not table:
            loose.notes.add(where, f"probe {probe} has no per-detector results; skipped")
        for entry in table:
            detector = entry.get("detector")
            passed = as_number(entry.get("passed"))
            total = as_number(entry.get("total_evaluated", entry.get("total")))
            if not isinstance(detector, str) or passed is None or total is None:
                loose.notes.add(where, f"probe {probe}: a detector row without counts; skipped")
                continue
            if total <= 0 or passed > total:
                loose.notes.add(where, f"probe {probe} / {detector}: no usable counts; skipped")
                continue
            detector = garak._detector_name(detector)
            test_id = f"{probe}/{detector}"
            if test_id in seen:
                continue
            seen.add(test_id)
            rate = passed / total
            fails = int(total - passed)
            result = garak._result(
                probe,
                detector,
                rate,
                garak._defcon(rate),
                title=f"garak {probe} / {detector}: {fails} of {int(total)} outputs failed",
                sample_count=int(total),
                failure_count=fails,
                info={"tags": [], "description": text},
                evidence={
                    "passed": int(passed),
                    "fails": fails,
                    "total_evaluated": int(total),
                    "score_percent": as_number(entry.get("score")),
                    "line": line,
                    **{f"avid_{k}": v for k, v in taxonomy.items() if v},
                },
            )
            (report.passed if result.passed else report.findings).append(result)
    report.metadata = {"kind": "avid", "probes": len(rows), "models": models}
    if deployers:
        report.metadata["model_type"] = deployers[0][:200]
    if models:
        report.metadata["model_name"] = models[0][:2000]
        report.target = models[0][:500]
    report.warnings = loose.notes.all()
    if not report.findings and not report.passed:
        report.warnings.append(
            "garak-avid: no probe results: the export evaluated nothing, which is not a pass"
        )
    return report
