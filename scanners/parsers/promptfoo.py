"""promptfoo eval / red-team output (``promptfoo eval -o results.json``).

``results.results[]`` (or a top-level ``results[]`` in older exports) is one row per test
case x prompt x provider with ``success``, ``score`` and ``failureReason`` (0 none,
1 assertion failed, 2 error). Rows are grouped by red-team plugin x strategy -- the plugin
id and strategy id are read from ``gradingResult.metadata``, then the row's ``metadata``,
then ``testCase.metadata``, then the grading components' metadata; no strategy means
``basic``. Rows of a plain (non red-team) eval have no plugin and are grouped by test
(``testCase.description``, else ``#<testIdx>``).

A group with at least one failed row is a finding: metric ``pass_rate`` (passed / (passed +
failed)) ``>= 1.0``, ``sample_count``, ``failure_count``, up to five failing prompts and
reasons in evidence. A group where everything passed goes to ``Report.passed``. Errored rows
(failureReason 2) are neither: they are counted, and a group that only errored gives a
warning. Severity is the plugin's own (``metadata.severity``: critical/high/medium/low),
else medium for red-team plugins and low for plain eval tests.

OWASP LLM Top 10 2025 / ATLAS, where the plugin id makes it clear:

=========================================================  ==========  ===============
plugin ids                                                 OWASP LLM   ATLAS
=========================================================  ==========  ===============
indirect-prompt-injection                                  LLM01:2025  AML.T0051.001
prompt-injection, ascii-smuggling, hijacking               LLM01:2025  AML.T0051
pii, pii:*, cross-session-leak, harmful:privacy            LLM02:2025  AML.T0057
prompt-extraction, system-prompt-*                         LLM07:2025  AML.T0056
excessive-agency                                           LLM06:2025
hallucination, overreliance, unverifiable-claims,          LLM09:2025
harmful:misinformation-disinformation
reasoning-dos                                              LLM10:2025  AML.T0029
=========================================================  ==========  ===============

and by strategy: ``jailbreak*`` / ``crescendo`` / ``goat`` -> LLM01:2025 + AML.T0054,
``prompt-injection`` -> LLM01:2025 + AML.T0051.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scanners.document import Document
from scanners.findings import Report
from scanners.parsers._assessment_common import assessment_result
from scanners.parsers._fields import Fields, at

SCAN_TYPE = "promptfoo"
CATEGORY = "assessment"
DESCRIPTION = "promptfoo eval/red-team JSON (results[] by plugin x strategy)"

TOOL = "promptfoo"
_F = Fields(SCAN_TYPE)
_SEVERITIES = {"critical", "high", "medium", "low"}
_PLUGINS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("indirect-prompt-injection",), "LLM01:2025", "AML.T0051.001"),
    (("prompt-injection", "ascii-smuggling", "hijacking"), "LLM01:2025", "AML.T0051"),
    (("pii", "cross-session-leak", "harmful:privacy"), "LLM02:2025", "AML.T0057"),
    (("prompt-extraction", "system-prompt"), "LLM07:2025", "AML.T0056"),
    (("excessive-agency",), "LLM06:2025", ""),
    (
        (
            "hallucination",
            "overreliance",
            "unverifiable-claims",
            "harmful:misinformation-disinformation",
        ),
        "LLM09:2025",
        "",
    ),
    (("reasoning-dos",), "LLM10:2025", "AML.T0029"),
)
_SAMPLES = 5
_REMEDIATION = (
    "Review the failing prompts and responses; tighten the system prompt, add input/output "
    "guardrails or tool permissions for this attack class, and re-run the red team."
)


def sniff(doc: Document) -> bool:
    data = doc.json
    if not isinstance(data, dict):
        return False
    rows = _rows(data)
    if not rows or not isinstance(rows[0], dict) or "success" not in rows[0]:
        return False
    meta = data.get("metadata")
    return (
        "evalId" in data
        or (isinstance(meta, dict) and "promptfooVersion" in meta)
        or ("gradingResult" in rows[0] and "testCase" in rows[0])
    )


@dataclass
class _Group:
    test_id: str
    plugin: str
    strategy: str
    title: str
    severity: str
    passed: int = 0
    failed: int = 0
    errors: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    goals: set[str] = field(default_factory=set)


def parse(doc: Document) -> Report:
    data = _F.obj(_F.json(doc), "")
    results = data.get("results")
    where = "results.results" if isinstance(results, dict) else "results"
    rows = _rows(data)
    if rows is None:
        _F.fail(where, "missing the results array")
    meta = _F.opt_obj(data, "metadata", "")
    report = Report(
        tool=TOOL,
        tool_version=_F.opt_str(meta, "promptfooVersion", "metadata"),
        scan_type=SCAN_TYPE,
        category=CATEGORY,
    )
    groups: dict[str, _Group] = {}
    for i, raw in enumerate(rows):
        rwhere = at(where, i)
        row = _F.obj(raw, rwhere)
        if not isinstance(row.get("success"), bool):
            _F.fail(rwhere, 'missing boolean "success"')
        md = _metadata(row)
        plugin = _str(md.get("pluginId"))
        strategy = _str(md.get("strategyId")) or ("basic" if plugin else "")
        if plugin:
            test_id = f"{plugin}/{strategy}"
            title = f"promptfoo red team {plugin} ({strategy})"
            default_severity = "medium"
        else:
            case = _F.opt_obj(row, "testCase", rwhere)
            label = _str(case.get("description")) or f"#{row.get('testIdx', i)}"
            test_id = f"eval/{label}"
            title = f"promptfoo test {label}"
            default_severity = "low"
        severity = _str(md.get("severity")).lower()
        group = groups.setdefault(
            test_id,
            _Group(
                test_id,
                plugin,
                strategy,
                title,
                severity if severity in _SEVERITIES else default_severity,
            ),
        )
        if isinstance(md.get("goal"), str):
            group.goals.add(md["goal"])
        if row.get("failureReason") == 2 or (not row["success"] and _is_error(row)):
            group.errors += 1
        elif row["success"]:
            group.passed += 1
        else:
            group.failed += 1
            if len(group.samples) < _SAMPLES:
                group.samples.append(_sample(row))

    stats = _F.opt_obj(results, "stats", "results") if isinstance(results, dict) else {}
    for group in groups.values():
        evaluated = group.passed + group.failed
        if evaluated == 0:
            report.warnings.append(f"promptfoo: every row of {group.test_id} errored")
            continue
        owasp, atlas = _taxonomy(group.plugin, group.strategy)
        result = assessment_result(
            tool=TOOL,
            test_id=group.test_id,
            metric="pass_rate",
            metric_value=group.passed / evaluated,
            threshold=1.0,
            comparator=">=",
            title=f"{group.title}: {group.failed} of {evaluated} failed"
            if group.failed
            else group.title,
            passed=group.failed == 0,
            severity=group.severity,
            raw_severity=group.severity,
            sample_count=evaluated,
            failure_count=group.failed,
            description="; ".join(sorted(group.goals))[:1000],
            owasp_llm=owasp,
            atlas=atlas,
            remediation=_REMEDIATION,
            evidence={
                "plugin": group.plugin,
                "strategy": group.strategy,
                "passed": group.passed,
                "failed": group.failed,
                "errors": group.errors,
                "samples": group.samples,
            },
        )
        (report.passed if result.passed else report.findings).append(result)

    config = _F.opt_obj(data, "config", "")
    providers = [
        p.get("id") if isinstance(p, dict) else p for p in _F.opt_arr(config, "providers", "config")
    ]
    report.metadata = {
        "eval_id": _F.opt_str(data, "evalId", ""),
        "description": _F.opt_str(config, "description", "config")[:500],
        "providers": [str(p) for p in providers if isinstance(p, str)][:20],
        "rows": len(rows),
        "errors": sum(g.errors for g in groups.values()),
        "stats": {
            k: stats[k]
            for k in ("successes", "failures", "errors")
            if isinstance(stats.get(k), int) and not isinstance(stats[k], bool)
        },
        "created_at": _F.opt_str(meta, "evaluationCreatedAt", "metadata"),
    }
    # What was evaluated: the eval's description, else the test set it read from a file.
    tests_source = config.get("tests")
    report.target = report.metadata["description"] or (
        tests_source[:500] if isinstance(tests_source, str) else ""
    )
    declared = report.metadata["stats"]
    if declared and declared.get("successes", 0) + declared.get("failures", 0) != sum(
        g.passed + g.failed for g in groups.values()
    ):
        report.warnings.append(
            "promptfoo: results.stats does not match the rows in the file (trimmed export?); "
            "the rows were counted"
        )
    return report


def _rows(data: dict[str, Any]) -> list[Any] | None:
    results = data.get("results")
    if isinstance(results, dict):
        rows = results.get("results")
        return rows if isinstance(rows, list) else None
    return results if isinstance(results, list) else None


def _metadata(row: dict[str, Any]) -> dict[str, Any]:
    """Plugin/strategy/severity/goal from the first metadata that has a plugin id."""
    grading = _dict(row.get("gradingResult"))
    case = _dict(row.get("testCase"))
    candidates: list[Any] = [grading.get("metadata"), row.get("metadata"), case.get("metadata")]
    components = grading.get("componentResults")
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict):
            candidates.append(component.get("metadata"))
    merged: dict[str, Any] = {}
    for candidate in candidates:
        if isinstance(candidate, dict):
            for key in ("pluginId", "strategyId", "severity", "goal"):
                if key not in merged and isinstance(candidate.get(key), str):
                    merged[key] = candidate[key]
    return merged


def _taxonomy(plugin: str, strategy: str) -> tuple[list[str], list[str]]:
    owasp: list[str] = []
    atlas: list[str] = []
    for prefixes, llm, technique in _PLUGINS:
        if any(
            plugin == p or plugin.startswith(p + ":") or plugin.startswith(p + "-")
            for p in prefixes
        ):
            owasp.append(llm)
            if technique:
                atlas.append(technique)
            break
    if strategy.startswith(("jailbreak", "crescendo", "goat")):
        owasp.append("LLM01:2025")
        atlas.append("AML.T0054")
    elif strategy == "prompt-injection":
        owasp.append("LLM01:2025")
        atlas.append("AML.T0051")
    return owasp, atlas


def _is_error(row: dict[str, Any]) -> bool:
    response = row.get("response")
    return (
        isinstance(response, dict) and bool(response.get("error")) and not row.get("gradingResult")
    )


def _sample(row: dict[str, Any]) -> dict[str, Any]:
    prompt = row.get("prompt")
    response = row.get("response")
    grading = _dict(row.get("gradingResult"))
    return {
        "prompt": _str(prompt.get("raw") if isinstance(prompt, dict) else prompt)[:500],
        "output": _str(response.get("output") if isinstance(response, dict) else "")[:500],
        "reason": _str(grading.get("reason") or row.get("error"))[:500],
        "score": row.get("score"),
    }


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""
