"""garak parser: report.jsonl (eval rows), hitlogs and the digest, against garak's own test
assets and DefectDojo's hitlog fixtures."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from scanners import ReportError, parse
from scanners.document import Document
from scanners.fingerprint import make
from scanners.parsers import garak

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "garak"
ALLOWED_METADATA = set(garak._SETUP_KEYS.values()) | {
    "end_time",
    "kind",
    "attempts",
    "hits",
    "run_ids",
    "generators",
    "digest_time",
    "calibration",
    "group_aggregation_function",
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def jsonl(*rows: dict[str, Any]) -> bytes:
    return b"\n".join(json.dumps(r).encode() for r in rows) + b"\n"


SETUP = {
    "entry_type": "start_run setup",
    "_config.version": "0.13.0",
    "transient.run_id": "run-1",
    "transient.report_filename": "/home/alice/.local/share/garak/run-1.report.jsonl",
    "_config.config_files": ["/home/alice/secret-config.yaml"],
    "plugins.target_type": "openai",
    "plugins.target_name": "gpt-4o-mini",
    "plugins.generators": {"openai": {"api_key": "sk-live-DO-NOT-LEAK"}},
    "run.eval_threshold": 0.5,
}


def test_a_failed_eval_row_is_a_finding_with_its_pass_rate() -> None:
    report = parse(fixture("report_with_ci.report.jsonl"))

    assert report.scan_type == "garak"
    assert report.tool_version == "0.14.0.pre1"
    [finding] = report.findings
    assert report.passed == []
    assert finding.rule_id == "test.Test/always.Pass"
    assert finding.fingerprint == make("assessment", "garak", "test.Test/always.Pass", "pass_rate")
    assert finding.metric_name == "pass_rate"
    assert finding.metric_value == pytest.approx(37 / 50)
    assert (finding.metric_threshold, finding.comparator) == (1.0, ">=")
    assert (finding.sample_count, finding.failure_count) == (50, 13)
    assert finding.severity == "medium"  # 0.74 is DEFCON 3
    assert finding.raw_severity == "DEFCON 3"
    assert finding.evidence["confidence_method"] == "bootstrap"
    assert finding.evidence["confidence"] == "0.95"
    assert (finding.evidence["confidence_lower"], finding.evidence["confidence_upper"]) == (
        0.14,
        0.38,
    )
    assert finding.references == ["https://reference.garak.ai/en/latest/garak.probes.test.html"]


def test_run_metadata_keeps_only_allow_listed_setup_keys() -> None:
    report = parse(fixture("report_with_ci.report.jsonl"))

    assert report.metadata["run_id"] == "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
    assert report.metadata["model_type"] == "test"
    assert report.metadata["end_time"] == "2025-08-28T14:07:01.000000"
    assert report.metadata["attempts"] == 4
    assert set(report.metadata) <= ALLOWED_METADATA
    assert "test_with_ci.report.jsonl" not in json.dumps(report.to_dict())


def test_secrets_in_the_setup_row_never_reach_the_report() -> None:
    row = {"entry_type": "eval", "probe": "dan.Dan_11_0", "detector": "dan.DAN"}
    data = jsonl(SETUP, {**row, "passed": 3, "total_evaluated": 4})

    report = parse(data)

    dumped = json.dumps(report.to_dict())
    assert "sk-live" not in dumped
    assert "/home/alice" not in dumped
    assert report.metadata["model_name"] == "gpt-4o-mini"
    assert report.metadata["eval_threshold"] == 0.5
    assert report.findings[0].evidence["eval_threshold"] == 0.5


def test_a_passing_eval_goes_to_passed_and_duplicated_attempts_count_once() -> None:
    report = parse(fixture("quack_with_digest.report.jsonl"))

    assert report.findings == []
    [passed] = report.passed
    assert passed.passed is True
    assert passed.severity == "info"
    assert passed.rule_id == "lmrc.QuackMedicine/lmrc.QuackMedicine"
    assert (passed.metric_value, passed.sample_count, passed.failure_count) == (1.0, 1, 0)
    assert report.metadata["attempts"] == 1  # the attempt row is written twice


def test_probe_tags_from_the_digest_row_map_owasp_2023_to_2025() -> None:
    digest = {
        "entry_type": "digest",
        "eval": {
            "dan": {
                "dan.Dan_11_0": {
                    "_summary": {
                        "probe_name": "dan.Dan_11_0",
                        "probe_tags": [
                            "avid-effect:security:S0403",
                            "owasp:llm01",
                            "payload:jailbreak",
                        ],
                        "probe_descr": "Do Anything Now",
                    }
                }
            }
        },
    }
    eval_row = {
        "entry_type": "eval",
        "probe": "dan.Dan_11_0",
        "detector": "mitigation.MitigationBypass",
        "passed": 0,
        "total_evaluated": 10,
        "fails": 10,
    }

    [finding] = parse(jsonl(SETUP, eval_row, digest)).findings

    assert finding.owasp_llm == ["LLM01:2025"]
    assert finding.severity == "critical"  # pass rate 0 is DEFCON 1
    assert finding.description == "Do Anything Now"
    assert finding.evidence["avid"] == ["avid-effect:security:S0403"]
    assert finding.evidence["payload"] == ["payload:jailbreak"]


def test_older_reports_with_total_and_prefixed_names_read_the_same() -> None:
    old = {
        "entry_type": "eval",
        "probe": "probes.encoding.InjectBase64",
        "detector": "detector.encoding.DecodeMatch",
        "passed": 90,
        "total": 100,
    }

    report = parse(jsonl({"entry_type": "init", "garak_version": "0.9.0.9"}, old))

    assert report.tool_version == "0.9.0.9"
    [finding] = report.findings

    assert finding.rule_id == "encoding.InjectBase64/encoding.DecodeMatch"
    assert (finding.sample_count, finding.failure_count) == (100, 10)
    assert finding.severity == "low"  # 0.9 is DEFCON 4


def test_the_digest_gives_one_result_per_probe_and_detector() -> None:
    report = parse(fixture("digest_real_run.json"))

    assert report.metadata["kind"] == "digest"
    assert report.tool_version == "0.14.0.pre1"
    assert report.metadata["run_id"] == "5930727c-beeb-421c-9303-a5392434b3cb"
    assert len(report.findings) == 29
    [passed] = report.passed
    assert passed.rule_id == "encoding.InjectBase2048/encoding.DecodeApprox"
    # severities follow each detector's absolute_defcon (counted by hand from the digest)
    assert Counter(f.severity for f in report.findings) == {
        "high": 12,
        "medium": 5,
        "low": 7,
        "info": 5,
    }
    first = next(
        f for f in report.findings if f.rule_id == "encoding.InjectBase16/encoding.DecodeMatch"
    )
    assert first.metric_value == pytest.approx(0.24413145539906103)
    assert first.severity == "high"
    assert first.owasp_llm == ["LLM01:2025"]
    assert first.evidence["relative_score"] == pytest.approx(-1.5493297948184228)
    assert first.evidence["avid"] == ["avid-effect:security:S0403"]
    assert first.sample_count is None  # the digest has no counts


def test_a_hitlog_gives_one_finding_per_probe_and_detector() -> None:
    report = parse(fixture("many_hits.hitlog.jsonl"))

    assert report.metadata["kind"] == "hitlog"
    assert report.metadata["hits"] == 8
    assert report.metadata["generators"] == ["huggingface gpt2"]
    got = {
        f.rule_id: (f.failure_count, f.severity, f.evidence["max_score"]) for f in report.findings
    }
    assert got == {
        "continuation.ContinueSlursReclaimedSlurs/continuation.Continuation": (3, "high", 1.0),
        "lmrc.Profanity/unsafe_content.SurgeProfanityAnimalReferences": (3, "high", 1.0),
        "lmrc.SlurUsage/unsafe_content.SurgeProfanityRacialEthnic": (2, "high", 1.0),
    }
    profanity = report.findings[1]
    assert profanity.evidence["min_score"] == 0.4
    assert profanity.metric_name == "hit_count"
    assert len(profanity.evidence["samples"]) == 3
    assert profanity.evidence["samples"][0]["prompt"].startswith("Tell me exactly")


def test_hitlog_severity_follows_the_highest_score() -> None:
    report = parse(fixture("varied_scores.hitlog.jsonl"))

    got = {f.rule_id.split("/")[0]: f.severity for f in report.findings}
    assert got == {
        "promptinject.HijackHateHumans": "high",  # 0.95
        "dan.DanInTheWild": "medium",  # 0.8
        "xss.MarkdownImageExfil": "low",  # 0.6
        "leakreplay.LiteratureCloze": "medium",  # 0.75
        "misleading.FalseAssertion": "low",  # 0.3
        "malwaregen.TopLevel": "high",  # 0.92
        "continuation.ContinueSlursReclaimedSlurs": "low",  # 0.5
    }


def test_a_single_hit_hitlog_is_read_although_it_is_one_json_object() -> None:
    [finding] = parse(fixture("one_hit.hitlog.jsonl")).findings

    assert finding.rule_id == "promptinject.HijackHateHumans/promptinject.AttackRogueString"
    assert finding.evidence["triggers"] == ["hate-humans"]


def test_report_and_hitlog_of_the_same_probe_share_a_fingerprint() -> None:
    [from_hitlog] = parse(fixture("one_hit.hitlog.jsonl")).findings
    eval_row = {
        "entry_type": "eval",
        "probe": "promptinject.HijackHateHumans",
        "detector": "promptinject.AttackRogueString",
        "passed": 9,
        "total_evaluated": 10,
    }

    [from_report] = parse(jsonl(SETUP, eval_row)).findings

    assert from_report.fingerprint == from_hitlog.fingerprint


def test_a_hitlog_without_hits_is_clean_and_keeps_the_model() -> None:
    report = parse(fixture("no_hits.hitlog.jsonl"))

    assert report.findings == []
    assert report.warnings == []
    assert report.metadata["model_name"] == "gpt2"


@pytest.mark.parametrize(
    "rows",
    [
        [SETUP, {"entry_type": "init", "garak_version": "0.13.0"}],
        [SETUP, {"entry_type": "init"}, {"entry_type": "completion", "end_time": "x"}],
    ],
)
def test_a_run_without_evals_warns(rows: list[dict[str, Any]]) -> None:
    report = parse(jsonl(*rows))

    assert report.findings == []
    assert report.passed == []
    assert report.metadata["kind"] == "report"
    assert "evaluated nothing" in report.warnings[0]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [SETUP, {"entry_type": "eval", "detector": "d.D", "passed": 1, "total_evaluated": 2}],
            r'^garak: line 2: eval row missing "probe"$',
        ),
        (
            [SETUP, {"entry_type": "eval", "probe": "p.P", "detector": "d.D", "passed": 1}],
            r'^garak: line 2: eval row missing "total_evaluated" \(or "total"\)$',
        ),
        (
            [
                SETUP,
                {"entry_type": "eval", "probe": "p.P", "detector": "d.D", "passed": 3, "total": 2},
            ],
            r"^garak: line 2: eval row has passed \(3\) > total \(2\)$",
        ),
        (
            [
                SETUP,
                {
                    "entry_type": "eval",
                    "probe": "p.P",
                    "detector": "d.D",
                    "passed": "x",
                    "total": 2,
                },
            ],
            r"^garak: line 2\.passed: expected a number",
        ),
    ],
)
def test_malformed_eval_rows_name_the_line(rows: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse(jsonl(*rows), scan_type="garak")


def test_a_broken_line_is_named() -> None:
    data = jsonl(SETUP) + b'{"entry_type": "eval", "probe": \n'

    with pytest.raises(
        ReportError, match=r"^garak: not valid JSON Lines: line 2 column 33 is not valid JSON"
    ):
        parse(data, scan_type="garak")


def test_the_sniffer_takes_garak_files_only() -> None:
    for name in ("report_with_ci.report.jsonl", "many_hits.hitlog.jsonl", "digest_real_run.json"):
        assert garak.sniff(Document(fixture(name))), name
    assert not garak.sniff(Document(b'{"entry_type": "something"}\n{"a": 1}\n'))
    assert not garak.sniff(Document(b'{"probe": "x", "detector": "y"}'))


def test_a_non_string_entry_type_is_a_clean_error() -> None:
    with pytest.raises(ReportError, match=r"^garak: line 2\.entry_type: expected a string"):
        garak.parse(Document(jsonl(SETUP, {"entry_type": ["eval"]})))
