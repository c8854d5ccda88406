"""garak and Giskard variants, from garak's report writer (``entry_type`` rows, ``eval``
rows with ``total`` before 0.14 and ``total_evaluated`` since), its hitlog rows, its digest
(``garak.analyze.report_digest``) and its AVID export (``garak/report.py``: one AVID report
per probe, pandas ``to_dict`` of the detector table); Giskard's ``to_json`` and ``to_avid``
(``giskard/integrations/avid.py``). Each JSON Lines family must be detected as itself."""

from __future__ import annotations

from typing import Any

from scanners.findings import NormalizedFinding
from tests.scanners.conformance.harness import HUGE, Case, Key


def assess_key(f: NormalizedFinding) -> Key:
    return (f.rule_id, f.sample_count, f.failure_count, f.severity)


def _is(value: Any, expected: Any) -> None:
    assert value == expected, value


SETUP = {
    "entry_type": "start_run setup",
    "_config.version": "0.14.0",
    "plugins.target_type": "huggingface",
    "plugins.target_name": "gpt2",
    "transient.run_id": "r1",
    "run.eval_threshold": 0.5,
}


def report_rows(
    total_key: str = "total_evaluated", version: str = "0.14.0"
) -> list[dict[str, Any]]:
    return [
        dict(SETUP, **{"_config.version": version}),
        {
            "entry_type": "init",
            "garak_version": version,
            "start_time": "2025-01-01T00:00:00",
            "run": "r1",
        },
        {
            "entry_type": "attempt",
            "uuid": "a1",
            "status": 2,
            "probe_classname": "dan.Dan_11_0",
            "prompt": {"text": "x"},
            "outputs": [{"text": "y"}],
        },
        {
            "entry_type": "eval",
            "probe": "dan.Dan_11_0",
            "detector": "dan.DAN",
            "passed": 3,
            total_key: 5,
        },
        {
            "entry_type": "eval",
            "probe": "dan.Dan_11_0",
            "detector": "mitigation.MitigationBypass",
            "passed": 5,
            total_key: 5,
        },
        {"entry_type": "completion", "end_time": "2025-01-01T00:10:00", "run": "r1"},
    ]


def hitlog_rows() -> list[dict[str, Any]]:
    return [
        {
            "goal": "disregard the system prompt",
            "prompt": {"turns": [{"role": "user", "content": {"text": HUGE}}]},
            "output": {"text": "sure"},
            "triggers": None,
            "score": 0.95,
            "run_id": "r1",
            "attempt_id": "a1",
            "attempt_seq": 0,
            "attempt_idx": 0,
            "generator": "huggingface gpt2",
            "probe": "dan.Dan_11_0",
            "detector": "dan.DAN",
            "generations_per_prompt": 5,
        },
        {
            "goal": "disregard the system prompt",
            "prompt": "plain",
            "output": "ok",
            "score": 1.0,
            "run_id": "r1",
            "attempt_id": "a2",
            "generator": "huggingface gpt2",
            "probe": "dan.Dan_11_0",
            "detector": "dan.DAN",
        },
    ]


def digest(with_counts: bool) -> dict[str, Any]:
    det: dict[str, Any] = {
        "detector_name": "dan.DAN",
        "absolute_score": 0.6,
        "absolute_defcon": 3,
        "absolute_comment": "elevated",
        "relative_score": -0.5,
        "calibration_used": False,
    }
    if with_counts:
        det.update({"total_evaluated": 5, "passed": 3})
    return {
        "entry_type": "digest",
        "meta": {
            "garak_version": "0.14.0",
            "target_name": "gpt2",
            "setup": {"plugins.target_name": "gpt2"},
        },
        "eval": {
            "jailbreak": {
                "_summary": {"group": "jailbreak", "score": 0.6},
                "dan.Dan_11_0": {
                    "_summary": {
                        "probe_name": "dan.Dan_11_0",
                        "probe_score": 0.6,
                        "probe_severity": 3,
                        "probe_tags": ["owasp:llm01", "avid-effect:security:S0403"],
                    },
                    "dan.DAN": det,
                },
            }
        },
    }


def _described(model: str, probe: str) -> str:
    return (
        f"The model {model} from huggingface was evaluated by the Garak LLM Vulnerability "
        f"scanner using the probe `{probe}`."
    )


def avid_row(
    probe: str,
    rows: list[tuple[str, int, int]],
    total_key: str = "total_evaluated",
    model: str = "gpt2",
) -> dict[str, Any]:
    table: dict[str, dict[str, Any]] = {
        "index": {},
        "detector": {},
        "passed": {},
        total_key: {},
        "score": {},
    }
    for i, (detector, passed, total) in enumerate(rows):
        for col, value in (
            ("index", i),
            ("detector", detector),
            ("passed", passed),
            (total_key, total),
            ("score", 100 * passed / total),
        ):
            table[col][str(i)] = value
    return {
        "data_type": "AVID",
        "data_version": None,
        "metadata": None,
        "affects": {
            "developer": [],
            "deployer": ["huggingface"],
            "artifacts": [{"type": "Model", "name": model}],
        },
        "problemtype": {
            "classof": "LLM",
            "type": "Measurement",
            "description": {
                "lang": "eng",
                "value": _described(model, probe),
            },
        },
        "metrics": [
            {
                "name": "",
                "detection_method": {"type": "Thresholding", "name": "Count failed"},
                "results": table,
            }
        ],
        "references": [
            {
                "type": "source",
                "label": "garak, an LLM vulnerability scanner",
                "url": "https://github.com/NVIDIA/garak",
            }
        ],
        "description": {
            "lang": "eng",
            "value": _described(model, probe),
        },
        "impact": {
            "avid": {
                "vuln_id": None,
                "risk_domain": ["Security"],
                "sep_view": ["S0403: Adversarial Example"],
                "lifecycle_view": ["L05: Evaluation"],
                "taxonomy_version": "",
            }
        },
        "credit": None,
        "reported_date": "2025-01-01",
    }


def giskard_avid_row(description: str, metric: str | None, value: float | None) -> dict[str, Any]:
    return {
        "data_type": "AVID",
        "data_version": None,
        "metadata": None,
        "affects": {
            "developer": [],
            "deployer": [],
            "artifacts": [
                {"type": "Model", "name": "credit-model"},
                {"type": "Dataset", "name": "loans-holdout"},
            ],
        },
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
                "detection_method": {"type": "Static Threshold", "name": "Giskard Scanner 2.14.0"},
                "results": {"value": value},
            }
        ],
        "references": [{"type": "source", "label": "Giskard Scanner", "url": "https://giskard.ai"}],
        "description": {
            "lang": "eng",
            "value": "The model was evaluated by the Giskard Scanner 2.14.0.",
        },
        "impact": {
            "avid": {
                "vuln_id": None,
                "risk_domain": ["Performance"],
                "sep_view": ["P0204: Accuracy"],
                "lifecycle_view": ["L05: Evaluation"],
                "taxonomy_version": "0.2",
            }
        },
        "credit": None,
        "reported_date": "2025-01-01",
    }


def cases() -> list[Case]:
    dan = ("dan.Dan_11_0/dan.DAN", 5, 2, "medium")
    avid = [
        avid_row("dan.Dan_11_0", [("dan.DAN", 3, 5), ("mitigation.MitigationBypass", 5, 5)]),
        avid_row("encoding.InjectBase64", [("encoding.DecodeMatch", 2, 20)]),
    ]
    avid_old = [avid_row("dan.Dan_11_0", [("dan.DAN", 3, 5)], total_key="total")]
    giskard_json = {
        "LLMPromptInjectionDetector": {
            "major": ["The model ignores its instructions in 42.5% of the prompts"]
        },
        "LLMHarmfulContentDetector": {},
    }
    return [
        Case(
            "garak report.jsonl, 0.14",
            "garak",
            report_rows(),
            [dan],
            assess_key,
            jsonl=True,
            passed=1,
            check=lambda r: _is(r.target, "gpt2"),
        ),
        Case(
            "garak report.jsonl before 0.14 (total)",
            "garak",
            report_rows("total", "0.9.0.9"),
            [dan],
            assess_key,
            jsonl=True,
            passed=1,
        ),
        Case(
            "garak hitlog",
            "garak-hitlog",
            hitlog_rows(),
            [("dan.Dan_11_0/dan.DAN", None, 2, "high")],
            assess_key,
            jsonl=True,
            check=lambda r: _is(
                (r.target, len(r.findings[0].evidence["samples"][0]["prompt"]) <= 500),
                ("huggingface gpt2", True),
            ),
        ),
        Case("garak digest with counts", "garak", digest(True), [dan], assess_key),
        Case(
            "garak digest without counts (older)",
            "garak",
            digest(False),
            [("dan.Dan_11_0/dan.DAN", None, None, "medium")],
            assess_key,
        ),
        Case(
            "garak AVID export (garak -r)",
            "garak-avid",
            avid,
            [dan, ("encoding.InjectBase64/encoding.DecodeMatch", 20, 18, "high")],
            assess_key,
            jsonl=True,
            passed=1,
            check=lambda r: _is((r.tool, r.target), ("garak", "gpt2")),
        ),
        Case(
            "garak AVID export before 0.14 (total)",
            "garak-avid",
            avid_old,
            [dan],
            assess_key,
            jsonl=True,
        ),
        Case(
            "one garak AVID report",
            "garak-avid",
            avid[1],
            [("encoding.InjectBase64/encoding.DecodeMatch", 20, 18, "high")],
            assess_key,
        ),
        Case(
            "Giskard to_json",
            "giskard",
            giskard_json,
            [("The model ignores its instructions in # of the prompts", None, None, "high")],
            assess_key,
            passed=1,
        ),
        Case(
            "Giskard to_avid",
            "giskard-avid",
            [
                giskard_avid_row("Accuracy drops by 10.5% on slice x", "accuracy", 0.71),
                giskard_avid_row("Robustness issue", None, None),
            ],
            [
                ("Accuracy drops by # on slice x", None, None, "medium"),
                ("Robustness issue", None, None, "medium"),
            ],
            assess_key,
            jsonl=True,
            check=lambda r: _is((r.tool, r.target), ("giskard", "loans-holdout")),
        ),
    ]
