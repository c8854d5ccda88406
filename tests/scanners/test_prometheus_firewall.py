"""AI firewall Prometheus metrics: the text exposition parser and the runtime findings, against
the Robust Intelligence AI Firewall scrape used by Datadog's integration tests."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from scanners import ReportError, parse
from scanners.document import Document
from scanners.fingerprint import make
from scanners.parsers import prometheus_firewall
from scanners.parsers.prometheus_firewall import parse_exposition

SCRAPE = (
    Path(__file__).resolve().parents[1] / "fixtures/ai-firewall/firewall_metrics.prom"
).read_bytes()
TOOL = "robust-intelligence-ai-firewall"


def test_one_finding_per_flagged_rule_and_direction() -> None:
    report = parse(SCRAPE)

    assert report.scan_type == "prometheus-firewall"
    assert report.category == "runtime"
    assert report.tool == TOOL
    got = {
        f.rule_id: (f.metric_value, f.failure_count, f.sample_count, f.severity)
        for f in report.findings
    }
    # flagged / (flagged + not flagged), from the scrape
    assert got == {
        "Prompt Injection (input)": (46.0, 46, 216, "high"),  # 21.3 %
        "Toxicity (input)": (8.0, 8, 216, "low"),  # 3.7 %
        "PII Detection (output)": (11.0, 11, 216, "medium"),  # 5.1 %
        "Toxicity (output)": (20.0, 20, 216, "medium"),  # 9.3 %
    }
    injection = report.findings[0]
    assert (injection.atlas, injection.owasp_llm) == (["AML.T0051"], ["LLM01:2025"])
    assert injection.metric_name == "flagged_count"
    assert injection.evidence["counter_created"] == pytest.approx(1699485785.6755664)
    assert injection.fingerprint == make(
        "runtime", TOOL, "", "firewall_block", "Prompt Injection (input)"
    )
    pii = report.findings[2]
    assert (pii.atlas, pii.owasp_llm) == (["AML.T0057"], ["LLM02:2025"])


def test_the_absolute_counters_are_kept_for_diffing_scrapes() -> None:
    report = parse(SCRAPE)

    counters = report.metadata["counters"]
    assert len(counters) == 12
    assert counters[0] == {
        "metric": "robust_intelligence_ai_firewall_rule_evaluated_total",
        "labels": {"flagged": "False", "rule": "Denial of Service", "validation_type": "input"},
        "value": 216.0,
        "created": pytest.approx(1699485785.6755283),
        "timestamp": None,
    }
    assert report.metadata["requests"] == {"flagged": 69.0, "not_flagged": 147.0}
    assert "difference between two scrapes" in report.metadata["note"]


def test_a_deployment_label_names_the_deployment() -> None:
    text = (
        'fw_rule_evaluated_total{deployment="prod-eu",flagged="true",rule="Jailbreak"} 4\n'
        'fw_rule_evaluated_total{deployment="prod-eu",flagged="false",rule="Jailbreak"} 96\n'
    )

    [finding] = parse(text.encode()).findings

    assert finding.rule_id == "Jailbreak"
    assert finding.title == "Firewall rule 'Jailbreak' flagged 4 of 100 on prod-eu"
    assert finding.fingerprint == make("runtime", "fw", "prod-eu", "firewall_block", "Jailbreak")
    assert finding.atlas == ["AML.T0054"]


def test_the_exposition_parser_handles_escapes_specials_and_timestamps() -> None:
    text = (
        "# HELP x_total A counter\n"
        "# TYPE x_total counter\n"
        "# a free comment\n"
        'x_total{rule="say \\"hi\\"",path="C:\\\\tmp",note="a\\nb",} +Inf 1700000000000\n'
        "y NaN\n"
        "z -Inf\n"
        "w 1.5e3\n"
        'v { a = "1" , b="2" } 3\n'
    )

    samples = parse_exposition(text)

    first = samples[0]
    assert first.labels == {"rule": 'say "hi"', "path": "C:\\tmp", "note": "a\nb"}
    assert (first.value, first.timestamp, first.line) == (math.inf, 1700000000000, 4)
    assert math.isnan(samples[1].value)
    assert samples[2].value == -math.inf
    assert samples[3].value == 1500.0
    assert samples[4].labels == {"a": "1", "b": "2"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'a_rule_evaluated_total{rule="x} 1\n',
            "prometheus-firewall: line 1: unterminated value of label rule",
        ),
        ('\n\na{rule="x"} one\n', "prometheus-firewall: line 3: bad sample value 'one'"),
        ("a{rule=x} 1\n", 'prometheus-firewall: line 1: expected ="..." after label rule'),
        ('a{rule="x" flagged="y"} 1\n', "prometheus-firewall: line 1: expected ',' or '}'"),
        ("a 1 2 3\n", "prometheus-firewall: line 1: expected '<name>[{labels}] <value>"),
        ('a{r="1",r="2"} 1\n', "prometheus-firewall: line 1: label r given twice"),
        ("{} 1\n", "prometheus-firewall: line 1: expected a metric name"),
        ("up 1\n", "prometheus-firewall: no *_rule_evaluated_total counters"),
        (
            'a_rule_evaluated_total{rule="x"} 1\n',
            "prometheus-firewall: line 1: a_rule_evaluated_total sample without",
        ),
    ],
)
def test_malformed_scrapes_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ReportError) as excinfo:
        parse(text.encode(), scan_type="prometheus-firewall")

    assert str(excinfo.value).startswith(message)


def test_a_nan_counter_is_skipped_with_a_warning() -> None:
    text = 'f_rule_evaluated_total{flagged="True",rule="Toxicity"} NaN\n'

    report = parse(text.encode(), scan_type="prometheus-firewall")

    assert report.findings == []
    assert report.warnings == ["line 1: counter f_rule_evaluated_total has value nan; skipped"]


def test_the_sniffer_needs_flagged_rule_counters() -> None:
    assert prometheus_firewall.sniff(Document(SCRAPE))
    assert not prometheus_firewall.sniff(Document(b"process_open_fds 27.0\n"))
    assert not prometheus_firewall.sniff(Document(b'{"a_rule_evaluated_total{flagged=\\"": 1}'))
