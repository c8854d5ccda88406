"""garak (NVIDIA LLM vulnerability scanner): ``report.jsonl``, ``*.hitlog.jsonl`` and the
digest JSON. What each file yields:

``*.report.jsonl`` (``entry_type`` rows)
    One result per ``eval`` row (probe x detector). It failed when ``passed < total``
    (``total_evaluated``, or ``total`` in older reports): a finding with metric
    ``pass_rate = passed / total`` (comparator ``>=``, threshold ``1.0``: garak counts every
    failing output), ``sample_count`` = total, ``failure_count`` = ``fails`` (else
    total - passed), confidence fields in evidence. Otherwise it goes to ``Report.passed``.
    ``attempt`` rows (written twice, status 1 then 2, with prompts and outputs) are not
    read: they are counted by uuid only. The ``start_run setup`` row copies the whole run
    configuration and can carry secrets: only the allow-listed keys in ``_SETUP_KEYS`` reach
    metadata. ``run.eval_threshold`` is garak's *detector score* cut-off (an output scoring
    at or above it is a hit), not a pass-rate bar, so it goes to metadata and evidence, not
    to ``metric_threshold``. Probe tags come from the trailing ``digest`` row when it has
    them: ``owasp:llmNN`` (OWASP LLM 2023 numbering) maps through
    ``OWASP_LLM_2023_TO_2025``; ``avid-effect:*`` and ``payload:*`` tags stay in evidence.
    A report without eval rows, or a run without a completion row, gives a warning: it
    evaluated nothing, which is not a pass.
``*.hitlog.jsonl`` (one row per failing output: probe, detector, score, prompt, output)
    One finding per probe x detector with ``failure_count`` = number of hits, metric
    ``hit_count``, the highest score in evidence with up to five sample hits; severity from
    the highest detector score: >= 0.9 high, >= 0.7 medium, else low. Hitlogs carry no
    totals, so there is no pass rate and nothing for ``Report.passed``.
digest (``entry_type: digest`` JSON, from ``garak.analyze``)
    One result per probe x detector from ``absolute_score`` (the pass rate): below 1.0 is
    a finding, 1.0 is passed; z-scores and DEFCON levels in evidence; ``total_evaluated``
    and ``passed`` (newer digests) give ``sample_count`` and ``failure_count``.
``*.avid.jsonl`` (``garak -r``: one AVID report per probe): see
    :mod:`scanners.parsers.garak_avid`.

Each family has its own scan type, which detection reports and ``Report.scan_type`` says:
``garak`` (report.jsonl and digest), ``garak-hitlog``, ``garak-avid``. This module reads all
of them whichever is chosen. ``Report.target`` is the model garak probed
(``plugins.target_name``, the hitlog's generator).

Severity of report and digest results follows garak's own DEFCON bands for a pass rate
(as in its analysis): < 0.05 -> DEFCON 1 critical, < 0.4 -> 2 high, < 0.8 -> 3 medium,
< 0.99 -> 4 low, otherwise 5 info (a failure garak calls "minimal risk"); the digest's own
``absolute_defcon`` is used when present.

All three fingerprint as ``("garak", "probe/detector", "pass_rate")`` so the report,
hitlog and digest of one run describe the same finding. Probe and detector names are
normalized by dropping garak's older ``probes.`` / ``detector.`` prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers._assessment_common import assessment_result
from scanners.parsers._fields import Fields, as_number, at
from scanners.taxonomy import OWASP_LLM_2023_TO_2025

SCAN_TYPE = "garak"
CATEGORY = "assessment"
DESCRIPTION = "garak report.jsonl (eval rows), *.hitlog.jsonl or digest JSON"

TOOL = "garak"
METRIC = "pass_rate"
_F = Fields(SCAN_TYPE)
_REPORT_ENTRIES = {"start_run setup", "init", "attempt", "eval", "completion", "digest"}
_META_ENTRIES = {"start_run setup", "config"}
#: Rows only a report.jsonl has (hitlogs may carry the setup and completion rows).
_OWN_REPORT_ENTRIES = {"init", "attempt", "eval", "digest", "completion"}
_DEFCON_SEVERITY = {1: "critical", 2: "high", 3: "medium", 4: "low", 5: "info"}
#: setup/config keys allowed into metadata (the rest can carry keys, tokens and paths).
_SETUP_KEYS = {
    "_config.version": "garak_version",
    "transient.run_id": "run_id",
    "transient.starttime_iso": "start_time",
    "plugins.target_type": "model_type",
    "plugins.target_name": "model_name",
    "plugins.model_type": "model_type",
    "plugins.model_name": "model_name",
    "plugins.probe_spec": "probe_spec",
    "plugins.detector_spec": "detector_spec",
    "plugins.buff_spec": "buff_spec",
    "run.generations": "generations",
    "run.seed": "seed",
    "run.eval_threshold": "eval_threshold",
    "reporting.taxonomy": "taxonomy",
}
_SAMPLES = 5


HITLOG = "garak-hitlog"
AVID = "garak-avid"


def family(doc: Document) -> str:
    """Which garak file this is: ``garak`` (report.jsonl, digest), ``garak-hitlog``,
    ``garak-avid`` (``garak -r``), or "" for none."""
    data = doc.json
    if isinstance(data, dict):
        if data.get("entry_type") == "digest" and isinstance(data.get("eval"), dict):
            return SCAN_TYPE
        if _is_hit(data):
            return HITLOG
        return AVID if is_garak_avid(data) else ""
    rows = doc.jsonl
    if not rows or not isinstance(rows[0], dict):
        return ""
    entry = rows[0].get("entry_type")
    if isinstance(entry, str) and entry in _REPORT_ENTRIES | _META_ENTRIES:
        # Hitlogs may open with the run's setup rows too: a report has rows of its own.
        for row in rows:
            if isinstance(row, dict):
                kind = row.get("entry_type")
                if not isinstance(kind, str) or kind in _OWN_REPORT_ENTRIES:
                    return SCAN_TYPE
                if _is_hit(row):
                    return HITLOG
        return HITLOG  # setup/config/completed only: read as a hitlog without hits
    if _is_hit(rows[0]):
        return HITLOG
    return AVID if is_garak_avid(rows[0]) else ""


def is_garak_avid(row: Any) -> bool:
    """An AVID report written by garak's ``-r`` export (not Giskard's): it names garak in
    its references or description, or its metric results are garak's per-detector table."""
    if not isinstance(row, dict) or row.get("data_type") != "AVID":
        return False
    for ref in _list(row.get("references")):
        if isinstance(ref, dict) and "garak" in f"{ref.get('url')} {ref.get('label')}".lower():
            return True
    desc = row.get("description")
    if isinstance(desc, dict) and "garak" in str(desc.get("value", "")).lower():
        return True
    for metric in _list(row.get("metrics")):
        results = metric.get("results") if isinstance(metric, dict) else None
        if isinstance(results, dict) and "detector" in results:
            return True
    return False


def sniff(doc: Document) -> bool:
    return bool(family(doc))


def parse(doc: Document) -> Report:
    kind = family(doc)
    if kind == AVID:
        from scanners.parsers.garak_avid import parse_rows

        data = doc.json
        return parse_rows([(1, data)] if isinstance(data, dict) else _F.jsonl(doc))
    report = _parse(doc)
    if report.metadata.get("kind") == "hitlog":
        report.scan_type = HITLOG
    if not report.target:
        report.target = str(report.metadata.get("model_name") or "")[:500]
    return report


def _parse(doc: Document) -> Report:
    data = doc.json
    rows = [(1, data)] if isinstance(data, dict) else _F.jsonl(doc)
    if not rows:
        _F.fail("", "the report is empty")
    if len(rows) == 1 and isinstance(rows[0][1], dict) and rows[0][1].get("entry_type") == "digest":
        return _digest(_F.obj(rows[0][1], "digest"))
    run = _Run()
    for line, row in rows:
        run.add(line, _F.obj(row, f"line {line}"))
    if run.evals:
        return _report(run)
    if run.hits:
        return _hitlog(run)
    if run.digest is not None and run.digest.get("eval"):
        report = _digest(run.digest)
        report.metadata.update(run.metadata)
        return report
    # A hitlog without hits means nothing failed; a report (it has an init row) without eval
    # rows, or a run that never completed, evaluated nothing: not a passed assessment.
    report = _new_report(run.metadata, run.tool_version)
    report.metadata["kind"] = "report" if run.initialized else "hitlog"
    if run.initialized or not run.completed:
        report.warnings.append(
            "garak: no eval rows and no hits: the run evaluated nothing (unfinished or empty "
            "run?), which is not a passed assessment"
        )
    return report


@dataclass
class _Run:
    metadata: dict[str, Any] = field(default_factory=dict)
    tool_version: str = ""
    evals: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    hits: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    attempts: set[str] = field(default_factory=set)
    digest: dict[str, Any] | None = None
    completed: bool = False
    initialized: bool = False

    def add(self, line: int, row: dict[str, Any]) -> None:
        where = f"line {line}"
        entry = row.get("entry_type")
        if entry is not None and not isinstance(entry, str):
            _F.fail(at(where, "entry_type"), "expected a string")
        if entry == "eval":
            self.evals.append((line, row))
        elif entry == "attempt":
            uuid = row.get("uuid")
            if isinstance(uuid, str):
                self.attempts.add(uuid)
        elif entry in _META_ENTRIES:
            self.metadata.update(_allowed(row))
            version = row.get("_config.version")
            if isinstance(version, str) and not self.tool_version:
                self.tool_version = version
        elif entry == "init":
            self.initialized = True
            version = _F.opt_str(row, "garak_version", where)
            self.tool_version = version or self.tool_version
            self.metadata["garak_version"] = version
            self.metadata["start_time"] = _F.opt_str(row, "start_time", where)
            self.metadata["run_id"] = _F.opt_str(row, "run", where)
        elif entry in ("completion", "completed"):
            self.completed = True
            self.metadata["end_time"] = _F.opt_str(row, "end_time", where)
        elif entry == "digest":
            self.digest = row
        elif entry is None and _is_hit(row):
            self.hits.append((line, row))


def _report(run: _Run) -> Report:
    report = _new_report(run.metadata, run.tool_version)
    report.metadata["kind"] = "report"
    report.metadata["attempts"] = len(run.attempts)
    probe_info = _probe_info(run.digest.get("eval") if run.digest else None)
    eval_threshold = report.metadata.get("eval_threshold")
    seen: dict[str, int] = {}
    for line, row in run.evals:
        where = f"line {line}"
        for key in ("probe", "detector", "passed"):
            if row.get(key) is None:
                _F.fail(where, f'eval row missing "{key}"')
        probe = _probe_name(_F.req_str(row, "probe", where))
        detector = _detector_name(_F.req_str(row, "detector", where))
        passed = _F.opt_int(row, "passed", where) or 0
        total = _F.opt_int(row, "total_evaluated", where)
        if total is None:
            total = _F.opt_int(row, "total", where)
        if total is None:
            _F.fail(where, 'eval row missing "total_evaluated" (or "total")')
        if passed > total:
            _F.fail(where, f"eval row has passed ({passed}) > total ({total})")
        if total == 0:
            report.warnings.append(f"garak: {probe} / {detector} evaluated no output ({where})")
            continue
        fails = _F.opt_int(row, "fails", where)
        fails = total - passed if fails is None else fails
        test_id = f"{probe}/{detector}"
        if test_id in seen:
            report.warnings.append(
                f"garak: {test_id} has several eval rows (lines {seen[test_id]} and {line}); "
                "the last one is used"
            )
            _drop(report, test_id)
        seen[test_id] = line
        rate = passed / total
        info = probe_info.get(probe, {})
        evidence: dict[str, Any] = {
            "passed": passed,
            "fails": fails,
            "total_evaluated": total,
            "total_processed": _F.opt_int(row, "total_processed", where),
            "nones": _F.opt_int(row, "nones", where),
            "eval_threshold": eval_threshold,
            **{
                k: row[k]
                for k in ("confidence_method", "confidence", "confidence_lower", "confidence_upper")
                if k in row
            },
            **_tag_evidence(info.get("tags", [])),
        }
        result = _result(
            probe,
            detector,
            rate,
            _defcon(rate),
            title=f"garak {probe} / {detector}: {fails} of {total} outputs failed",
            sample_count=total,
            failure_count=fails,
            info=info,
            evidence={k: v for k, v in evidence.items() if v is not None},
        )
        (report.passed if result.passed else report.findings).append(result)
    return report


def _hitlog(run: _Run) -> Report:
    report = _new_report(run.metadata, run.tool_version)
    groups: dict[tuple[str, str], list[tuple[int, dict[str, Any]]]] = {}
    run_ids: set[str] = set()
    generators: set[str] = set()
    for line, row in run.hits:
        where = f"line {line}"
        probe = _probe_name(_F.req_str(row, "probe", where))
        detector = _detector_name(_F.req_str(row, "detector", where))
        if as_number(row.get("score")) is None:
            _F.fail(at(where, "score"), "hit row has no numeric score")
        groups.setdefault((probe, detector), []).append((line, row))
        for key, bucket in (("run_id", run_ids), ("generator", generators)):
            value = row.get(key)
            if isinstance(value, str) and value:
                bucket.add(value)
    for (probe, detector), hits in groups.items():
        scores = [as_number(row.get("score")) or 0.0 for _, row in hits]
        top = max(scores)
        triggers = sorted({str(t) for _, row in hits for t in _list(row.get("triggers"))})
        samples = [_sample(row) for _, row in hits[:_SAMPLES]]
        severity = "high" if top >= 0.9 else "medium" if top >= 0.7 else "low"
        finding = assessment_result(
            tool=TOOL,
            test_id=f"{probe}/{detector}",
            metric=METRIC,
            metric_name="hit_count",
            metric_value=float(len(hits)),
            title=f"garak {probe} / {detector}: {len(hits)} failing output(s) in the hitlog",
            passed=False,
            severity=severity,
            failure_count=len(hits),
            raw_severity=f"score {top:g}",
            references=[_probe_link(probe)],
            remediation=_REMEDIATION,
            evidence={
                "max_score": top,
                "min_score": min(scores),
                "triggers": triggers[:50],
                "goals": sorted({str(row.get("goal")) for _, row in hits if row.get("goal")})[:20],
                "lines": [line for line, _ in hits][:50],
                "samples": samples,
            },
        )
        report.findings.append(finding)
    report.metadata["kind"] = "hitlog"
    report.metadata["hits"] = len(run.hits)
    report.metadata["run_ids"] = sorted(run_ids)[:20]
    report.metadata["generators"] = sorted(generators)[:20]
    if len(generators) == 1 and not report.metadata.get("model_name"):
        report.target = next(iter(generators))[:500]
    return report


def _digest(digest: dict[str, Any]) -> Report:
    meta = _F.opt_obj(digest, "meta", "digest")
    metadata: dict[str, Any] = _allowed(_F.opt_obj(meta, "setup", "meta"))
    for key, name in (
        ("garak_version", "garak_version"),
        ("run_uuid", "run_id"),
        ("start_time", "start_time"),
        ("target_type", "model_type"),
        ("target_name", "model_name"),
        ("report_digest_time", "digest_time"),
        ("group_aggregation_function", "group_aggregation_function"),
    ):
        value = meta.get(key)
        if isinstance(value, str | int | float | bool):
            metadata[name] = value
    calibration = meta.get("calibration")
    if isinstance(calibration, dict):
        metadata["calibration"] = {
            k: calibration[k] for k in ("calibration_date", "model_count") if k in calibration
        }
    report = _new_report(metadata, str(metadata.get("garak_version", "")))
    report.metadata["kind"] = "digest"
    tree = _F.opt_obj(digest, "eval", "digest")
    for group_name, group in tree.items():
        gwhere = at("eval", group_name)
        for probe_key, probe_data in _F.obj(group, gwhere).items():
            if probe_key == "_summary":
                continue
            pwhere = at(gwhere, probe_key)
            probe_data = _F.obj(probe_data, pwhere)
            summary = _F.opt_obj(probe_data, "_summary", pwhere)
            probe = _probe_name(str(summary.get("probe_name") or probe_key))
            info = _info_from_summary(summary)
            for detector_key, det in probe_data.items():
                if detector_key == "_summary":
                    continue
                dwhere = at(pwhere, detector_key)
                det = _F.obj(det, dwhere)
                detector = _detector_name(str(det.get("detector_name") or detector_key))
                score = _F.opt_num(det, "absolute_score", dwhere)
                if score is None:
                    _F.fail(dwhere, 'missing "absolute_score"')
                defcon = det.get("absolute_defcon")
                level = defcon if isinstance(defcon, int) and defcon in _DEFCON_SEVERITY else None
                evidence: dict[str, Any] = {
                    k: det[k]
                    for k in (
                        "absolute_defcon",
                        "absolute_comment",
                        "relative_score",
                        "relative_defcon",
                        "relative_comment",
                        "zscore",
                        "zscore_defcon",
                        "zscore_comment",
                        "detector_defcon",
                        "calibration_used",
                    )
                    if k in det
                }
                evidence.update(
                    {
                        k: summary[k]
                        for k in ("probe_score", "probe_severity", "probe_tier")
                        if k in summary
                    }
                )
                evidence.update(_tag_evidence(info.get("tags", [])))
                total = _F.opt_int(det, "total_evaluated", dwhere)
                passed = _F.opt_int(det, "passed", dwhere)
                failures = total - passed if total is not None and passed is not None else None
                if failures is not None and failures < 0:
                    failures = None
                counted = f" ({failures} of {total} outputs failed)" if failures is not None else ""
                result = _result(
                    probe,
                    detector,
                    score,
                    level or _defcon(score),
                    title=f"garak {probe} / {detector}: pass rate {score:.1%}{counted}",
                    sample_count=total,
                    failure_count=failures,
                    info=info,
                    evidence=evidence,
                )
                (report.passed if result.passed else report.findings).append(result)
    return report


_REMEDIATION = (
    "Review the failing prompts and outputs; harden the system prompt, add input/output "
    "guardrails for this probe's attack class, and re-run the probe."
)


def _result(
    probe: str,
    detector: str,
    rate: float,
    defcon: int,
    *,
    title: str,
    sample_count: int | None,
    failure_count: int | None,
    info: dict[str, Any],
    evidence: dict[str, Any],
) -> NormalizedFinding:
    return assessment_result(
        tool=TOOL,
        test_id=f"{probe}/{detector}",
        metric=METRIC,
        metric_value=rate,
        threshold=1.0,
        comparator=">=",
        title=title,
        passed=rate >= 1.0,
        severity=_DEFCON_SEVERITY[defcon],
        raw_severity=f"DEFCON {defcon}",
        sample_count=sample_count,
        failure_count=failure_count,
        description=str(info.get("description", "")),
        owasp_llm=_owasp(info.get("tags", [])),
        references=[_probe_link(probe)],
        remediation=_REMEDIATION,
        evidence=evidence,
    )


def _defcon(rate: float) -> int:
    """garak's DEFCON level for a pass rate (its analysis bounds 0.05 / 0.4 / 0.8 / 0.99)."""
    if rate < 0.05:
        return 1
    if rate < 0.4:
        return 2
    if rate < 0.8:
        return 3
    if rate < 0.99:
        return 4
    return 5


def _probe_info(tree: Any) -> dict[str, dict[str, Any]]:
    """probe -> {"tags", "description"} from a digest ``eval`` tree (empty when absent)."""
    out: dict[str, dict[str, Any]] = {}
    if not isinstance(tree, dict):
        return out
    for group in tree.values():
        if not isinstance(group, dict):
            continue
        for key, probe_data in group.items():
            if key == "_summary" or not isinstance(probe_data, dict):
                continue
            summary = probe_data.get("_summary")
            if isinstance(summary, dict):
                out[_probe_name(str(summary.get("probe_name") or key))] = _info_from_summary(
                    summary
                )
    return out


def _info_from_summary(summary: dict[str, Any]) -> dict[str, Any]:
    tags = [str(t) for t in _list(summary.get("probe_tags"))]
    description = summary.get("probe_descr")
    return {"tags": tags, "description": description if isinstance(description, str) else ""}


def _owasp(tags: list[str]) -> list[str]:
    out = []
    for tag in tags:
        if tag.lower().startswith("owasp:"):
            mapped = OWASP_LLM_2023_TO_2025.get(tag.split(":", 1)[1].lower())
            if mapped and mapped not in out:
                out.append(mapped)
    return out


def _tag_evidence(tags: list[str]) -> dict[str, Any]:
    if not tags:
        return {}
    return {
        "tags": tags,
        "avid": [t for t in tags if t.startswith("avid")],
        "payload": [t for t in tags if t.startswith("payload:")],
    }


def _allowed(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, name in _SETUP_KEYS.items():
        value = row.get(key)
        if isinstance(value, str):
            out[name] = value[:2000]
        elif isinstance(value, int | float | bool):
            out[name] = value
    return out


def _new_report(metadata: dict[str, Any], version: str) -> Report:
    return Report(
        tool=TOOL,
        tool_version=version or str(metadata.get("garak_version", "")),
        scan_type=SCAN_TYPE,
        category=CATEGORY,
        metadata=dict(metadata),
    )


def _drop(report: Report, test_id: str) -> None:
    report.findings = [f for f in report.findings if f.rule_id != test_id]
    report.passed = [f for f in report.passed if f.rule_id != test_id]


def _probe_name(name: str) -> str:
    return name.removeprefix("probes.")


def _detector_name(name: str) -> str:
    return name.removeprefix("detectors.").removeprefix("detector.")


def _probe_link(probe: str) -> str:
    return f"https://reference.garak.ai/en/latest/garak.probes.{probe.split('.')[0]}.html"


def _is_hit(row: dict[str, Any]) -> bool:
    return (
        "entry_type" not in row
        and isinstance(row.get("probe"), str)
        and isinstance(row.get("detector"), str)
        and "score" in row
        and ("attempt_id" in row or "run_id" in row or "generator" in row)
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    """Text of a garak prompt/output: a string, ``{"text": ...}`` or ``{"turns": [...]}``
    (the last user turn)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            return str(value["text"])
        turns = value.get("turns")
        if isinstance(turns, list):
            for turn in reversed(turns):
                if isinstance(turn, dict) and turn.get("role", "user") == "user":
                    return _text(turn.get("content"))
    return ""


def _sample(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "score": row.get("score"),
        "goal": row.get("goal"),
        "triggers": _list(row.get("triggers"))[:10],
        "prompt": _text(row.get("prompt"))[:500],
        "output": _text(row.get("output"))[:500],
        "attempt_id": row.get("attempt_id"),
    }
