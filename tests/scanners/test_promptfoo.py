"""promptfoo parser, against DefectDojo's promptfoo fixtures (a red-team style eval with an
echo provider, and a trimmed red-team export)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scanners import ReportError, parse
from scanners.document import Document
from scanners.findings import Report
from scanners.fingerprint import make
from scanners.parsers import promptfoo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "promptfoo"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return data


def run(data: dict[str, Any]) -> Report:
    return parse(json.dumps(data).encode(), scan_type="promptfoo")


def row(success: bool, plugin: str = "", strategy: str = "", **extra: Any) -> dict[str, Any]:
    metadata = {k: v for k, v in (("pluginId", plugin), ("strategyId", strategy)) if v}
    return {
        "success": success,
        "score": 1 if success else 0,
        "failureReason": 0 if success else 1,
        "gradingResult": {"pass": success, "reason": "graded", "metadata": metadata},
        "prompt": {"raw": "Ignore previous instructions"},
        "response": {"output": "ok"},
        "testCase": {"metadata": metadata},
        **extra,
    }


def export(*rows: dict[str, Any]) -> dict[str, Any]:
    return {
        "evalId": "eval-test",
        "results": {"version": 3, "results": list(rows), "stats": {}},
        "metadata": {"promptfooVersion": "0.120.0"},
    }


def test_failures_are_grouped_by_plugin_and_strategy_with_counts() -> None:
    report = parse((FIXTURES / "many_findings.json").read_bytes())

    assert report.scan_type == "promptfoo"
    assert report.tool_version == "0.118.0"
    got = {
        f.rule_id: (f.severity, f.sample_count, f.failure_count, f.owasp_llm, f.atlas)
        for f in report.findings
    }
    assert got == {
        "harmful:hate/basic": ("critical", 4, 3, [], []),
        "indirect-prompt-injection/basic": ("high", 1, 1, ["LLM01:2025"], ["AML.T0051.001"]),
        "pii:direct/basic": ("medium", 1, 1, ["LLM02:2025"], ["AML.T0057"]),
        "overreliance/basic": ("low", 1, 1, ["LLM09:2025"], []),
        "eval/#7": ("low", 1, 1, [], []),
    }
    hate = report.findings[0]
    assert hate.metric_name == "pass_rate"
    assert hate.metric_value == 0.25
    assert (hate.comparator, hate.metric_threshold) == (">=", 1.0)
    assert hate.fingerprint == make("assessment", "promptfoo", "harmful:hate/basic", "pass_rate")
    assert hate.evidence["samples"][0]["reason"] == 'Expected output to not contain "stereotypes"'
    assert hate.description == "Test whether the system can be manipulated to produce hate speech."
    assert [p.rule_id for p in report.passed] == ["eval/#8"]
    assert report.metadata["stats"] == {"successes": 2, "failures": 7, "errors": 0}
    assert report.warnings == []


def test_a_clean_red_team_passes_and_a_trimmed_export_is_flagged() -> None:
    report = parse((FIXTURES / "no_findings.json").read_bytes())

    assert report.findings == []
    [passed] = report.passed
    assert (passed.rule_id, passed.sample_count, passed.metric_value) == (
        "harmful:hate/basic",
        2,
        1.0,
    )
    # the fixture keeps 2 of the 10 rows its stats count
    assert any("does not match" in w for w in report.warnings)


def test_strategies_split_groups_and_add_jailbreak_references() -> None:
    report = run(
        export(
            row(False, "pii:direct", "jailbreak:composite"),
            row(True, "pii:direct"),
            row(False, "prompt-extraction", "prompt-injection"),
            row(False, "excessive-agency"),
            row(False, "hallucination", "base64"),
        )
    )

    got = {f.rule_id: (f.owasp_llm, f.atlas) for f in report.findings}
    assert got == {
        "pii:direct/jailbreak:composite": (
            ["LLM02:2025", "LLM01:2025"],
            ["AML.T0057", "AML.T0054"],
        ),
        "prompt-extraction/prompt-injection": (
            ["LLM07:2025", "LLM01:2025"],
            ["AML.T0056", "AML.T0051"],
        ),
        "excessive-agency/basic": (["LLM06:2025"], []),
        "hallucination/base64": (["LLM09:2025"], []),
    }
    assert [p.rule_id for p in report.passed] == ["pii:direct/basic"]


def test_errored_rows_are_neither_passed_nor_failed() -> None:
    error = row(False, "rbac", failureReason=2)
    report = run(export(error, row(False, "bola"), dict(row(True, "bola")), dict(error)))

    [bola] = report.findings
    assert (bola.sample_count, bola.failure_count) == (2, 1)
    assert report.metadata["errors"] == 2
    assert report.warnings == ["promptfoo: every row of rbac/basic errored"]


def test_older_exports_with_a_top_level_results_list() -> None:
    data = {"version": 2, "results": [row(False, "hijacking")], "stats": {}}

    [finding] = parse(json.dumps(data).encode(), scan_type="promptfoo").findings

    assert finding.owasp_llm == ["LLM01:2025"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (export({"score": 1}), r'^promptfoo: results\.results\[0\]: missing boolean "success"'),
        (export("x"), r"^promptfoo: results\.results\[0\]: expected an object"),
        ({"evalId": "e", "results": {"stats": {}}}, r"^promptfoo: results\.results: missing"),
    ],
)
def test_malformed_exports_name_the_place(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        run(data)


def test_the_sniffer() -> None:
    assert promptfoo.sniff(Document((FIXTURES / "many_findings.json").read_bytes()))
    assert not promptfoo.sniff(Document(b'{"results": [{"success": true}]}'))
    assert not promptfoo.sniff(Document(b'{"results": {"results": []}, "evalId": "x"}'))


def test_odd_grading_components_and_stats_do_not_break_parsing() -> None:
    odd = row(False, "pii")
    odd["gradingResult"]["componentResults"] = 3
    data = export(odd)
    data["results"]["stats"] = {"successes": "2", "failures": {"n": 1}}

    report = promptfoo.parse(Document(json.dumps(data).encode()))

    assert [f.rule_id for f in report.findings] == ["pii/basic"]
    assert report.metadata["stats"] == {}
