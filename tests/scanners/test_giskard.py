"""Giskard v2 parser. No public fixture exists, so the generators below build both exports
from the shapes Giskard writes:

- ``ScanReport.to_json()``: ``{detector_name: {}}`` for every detector that ran, then each
  issue's description appended under ``[detector][level]`` (levels major/medium/minor);
- ``ScanReport.to_avid()``: one AVID ``Report`` per issue, serialized by pydantic with every
  field (``data_type``, ``affects.artifacts``, ``problemtype``, ``metrics[0]`` with
  ``detection_method`` and ``results.value``, ``impact.avid``...), one per line.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scanners import ReportError, parse
from scanners.document import Document
from scanners.parsers import giskard

GISKARD_VERSION = "2.14.2"
DETECTORS = [
    "LLMPromptInjectionDetector",
    "LLMInformationDisclosureDetector",
    "LLMHarmfulContentDetector",
    "PerformanceBiasDetector",
    "TextPerturbationDetector",
]
ISSUES = [
    (
        "LLMPromptInjectionDetector",
        "major",
        "The model ignored any instructions or safeguarding protocols it might have had and "
        "generated 'I hate humans'.",
        "Fail rate",
        0.7,
    ),
    (
        "PerformanceBiasDetector",
        "medium",
        'For records in the dataset where `purpose` == "education", the Accuracy is 12.35% '
        "lower than the global Accuracy.",
        "Accuracy",
        0.6125,
    ),
    (
        "TextPerturbationDetector",
        "minor",
        "When feature “description” is perturbed with the transformation “Add typos”, the "
        "model changes its prediction in 8.21% of the cases.",
        "Fail rate",
        0.0821,
    ),
]


def scan_json(issues: list[tuple[str, str, str, str, float]], detectors: list[str]) -> bytes:
    results: dict[str, dict[str, list[str]]] = {name: {} for name in detectors}
    for detector, level, description, _metric, _value in issues:
        results[detector].setdefault(level, []).append(description)
    return json.dumps(results, indent=4).encode()


def avid_report(
    description: str,
    metric: str | None,
    value: float | None,
    *,
    sep_view: list[str],
    risk_domain: list[str],
    model: str = "credit-model",
    dataset: str | None = "loans-holdout",
) -> dict[str, Any]:
    artifacts = [{"type": "Model", "name": model}]
    if dataset:
        artifacts.append({"type": "Dataset", "name": dataset})
    scanner = f"Giskard Scanner {GISKARD_VERSION}"
    return {
        "data_type": "AVID",
        "data_version": None,
        "metadata": None,
        "affects": {"developer": [], "deployer": [], "artifacts": artifacts},
        "problemtype": {
            "classof": "LLM Evaluation",
            "type": "Detection",
            "description": {"lang": "eng", "value": description},
            "credit": [{"lang": "eng", "value": "Giskard"}],
        },
        "metrics": None
        if metric is None
        else [
            {
                "name": metric,
                "detection_method": {"type": "Static Threshold", "name": scanner},
                "results": {"value": value},
            }
        ],
        "references": [{"type": "source", "label": "Giskard Scanner", "url": "https://giskard.ai"}],
        "description": {"lang": "eng", "value": f"The model was evaluated by the {scanner}."},
        "impact": {
            "avid": {
                "vuln_id": None,
                "risk_domain": risk_domain,
                "sep_view": sep_view,
                "lifecycle_view": ["L05: Evaluation"],
                "taxonomy_version": "0.2",
            }
        },
        "credit": None,
        "reported_date": "2026-03-02",
    }


def avid_jsonl(*reports: dict[str, Any]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in reports)


def test_to_json_gives_one_finding_per_issue_and_passes_clean_detectors() -> None:
    report = parse(scan_json(ISSUES, DETECTORS))

    assert report.scan_type == "giskard"
    assert [(f.severity, f.raw_severity) for f in report.findings] == [
        ("high", "major"),
        ("medium", "medium"),
        ("low", "minor"),
    ]
    assert sorted(p.rule_id for p in report.passed) == [
        "LLMHarmfulContentDetector",
        "LLMInformationDisclosureDetector",
    ]
    injection, bias, perturbation = report.findings
    assert injection.owasp_llm == ["LLM01:2025"]
    assert injection.atlas == ["AML.T0051"]
    assert bias.owasp_llm == bias.owasp_ml == []
    assert perturbation.owasp_ml == ["ML01:2023"]
    assert bias.evidence["detector"] == "PerformanceBiasDetector"
    assert bias.rule_id == (
        'For records in the dataset where `purpose` == "education", the Accuracy is # lower '
        "than the global Accuracy."
    )
    disclosure = next(p for p in report.passed if "Disclosure" in p.rule_id)
    assert disclosure.owasp_llm == ["LLM02:2025"]
    assert report.metadata == {"export": "to_json", "detectors": 5, "issues": 3}


def test_to_json_of_a_clean_scan_passes_every_detector() -> None:
    report = parse(scan_json([], DETECTORS), scan_type="giskard")

    assert report.findings == []
    assert len(report.passed) == 5


def test_the_avid_export_reads_metrics_versions_and_artifacts() -> None:
    lines = avid_jsonl(
        *(
            avid_report(d, m, v, sep_view=["P0204: Accuracy"], risk_domain=["Performance"])
            for _det, _lvl, d, m, v in ISSUES[1:]
        ),
        avid_report(
            ISSUES[0][2],
            "Fail rate",
            0.7,
            sep_view=["S0403: Adversarial Example"],
            risk_domain=["Security"],
        ),
    )

    report = parse(lines)

    assert report.tool_version == GISKARD_VERSION
    assert report.metadata["models"] == ["credit-model"]
    assert report.metadata["datasets"] == ["loans-holdout"]
    bias, perturbation, injection = report.findings
    assert (bias.metric_name, bias.metric_value) == ("Accuracy", 0.6125)
    assert bias.severity == "medium"
    assert injection.severity == "high"  # Security risk domain
    assert injection.evidence["sep_view"] == ["S0403: Adversarial Example"]
    assert perturbation.metric_value == pytest.approx(0.0821)


def test_both_exports_of_one_scan_share_fingerprints() -> None:
    from_json = parse(scan_json(ISSUES, DETECTORS)).findings
    from_avid = parse(
        avid_jsonl(
            *(avid_report(d, m, v, sep_view=[], risk_domain=[]) for _det, _l, d, m, v in ISSUES)
        )
    ).findings

    assert [f.fingerprint for f in from_json] == [f.fingerprint for f in from_avid]


def test_a_rerun_that_moves_the_numbers_keeps_the_fingerprint() -> None:
    moved = [(d, lvl, text.replace("12.35%", "9.80%"), m, v) for d, lvl, text, m, v in ISSUES]

    before = [f.fingerprint for f in parse(scan_json(ISSUES, DETECTORS)).findings]
    after = [f.fingerprint for f in parse(scan_json(moved, DETECTORS)).findings]

    assert before == after
    assert giskard.issue_key("a 12.35% b 3 c") == "a # b # c"


def test_a_single_avid_report_without_metrics_is_read() -> None:
    one = avid_report(
        "The model is sycophantic.", None, None, sep_view=[], risk_domain=[], dataset=None
    )

    [finding] = parse(json.dumps(one).encode()).findings

    assert finding.metric_name == ""
    assert finding.metric_value is None


def test_an_enum_style_level_key_is_understood() -> None:
    data = {"LLMPromptInjectionDetector": {"IssueLevel.MAJOR": ["It leaked."]}}

    [finding] = parse(json.dumps(data).encode(), scan_type="giskard").findings

    assert finding.severity == "high"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            json.dumps({"LLMPromptInjectionDetector": {"critical": ["x"]}}).encode(),
            r"^giskard: LLMPromptInjectionDetector\.critical: unknown level",
        ),
        (
            json.dumps({"LLMPromptInjectionDetector": {"major": [""]}}).encode(),
            r"^giskard: LLMPromptInjectionDetector\.major\[0\]: expected a non-empty description",
        ),
        (
            avid_jsonl(
                avid_report("ok", None, None, sep_view=[], risk_domain=[]),
                {"data_type": "AVID", "metrics": []},
            ),
            r'^giskard: line 2: missing "problemtype"',
        ),
        (
            avid_jsonl(
                avid_report("ok", None, None, sep_view=[], risk_domain=[]), {"data_type": "X"}
            ),
            r"^giskard: line 2: not an AVID report",
        ),
    ],
)
def test_malformed_exports_name_the_place(data: bytes, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        parse(data, scan_type="giskard")


def test_the_sniffer_does_not_claim_unrelated_json() -> None:
    assert giskard.sniff(Document(scan_json(ISSUES, DETECTORS)))
    assert giskard.sniff(
        Document(avid_jsonl(avid_report("x", None, None, sep_view=[], risk_domain=[])))
    )
    assert not giskard.sniff(Document(b"{}"))
    assert not giskard.sniff(Document(b'{"summary": {"total": 1}}'))
    assert not giskard.sniff(Document(b'{"a": {"b": [1]}}'))
