"""Shared shape of assessment and runtime findings.

Fingerprints (the rules in :mod:`scanners.findings`)
    assessment: ``make("assessment", tool, test id, metric)`` -- the test id is the tool's
    test name (garak: ``probe/detector``); the metric is what the test measures.
    runtime: ``make("runtime", tool, deployment, event kind, rule)``.

Comparators describe the *passing* condition: a test passes when
``value <comparator> threshold`` holds (``pass_rate >= 1.0``, ``dpd <= 0.1``).

Runtime taxonomy (:func:`runtime_taxonomy`): the first of these keyword rules that matches a
rule or detector name (case-insensitive, ``_``/``-`` read as spaces) gives its references;
none match -> no reference.

=================================================  ===============  ===========  =========
keywords                                           ATLAS            OWASP LLM    OWASP ML
=================================================  ===============  ===========  =========
indirect prompt injection                          AML.T0051.001    LLM01:2025
prompt injection                                   AML.T0051        LLM01:2025
jailbreak                                          AML.T0054        LLM01:2025
system prompt (leak, extraction)                   AML.T0056        LLM07:2025
model extraction / model theft / stealing          AML.T0024.002                 ML05:2023
extraction                                         AML.T0024.002                 ML05:2023
evasion / adversarial                              AML.T0015                     ML01:2023
membership inference                               AML.T0024.000                 ML04:2023
model inversion                                    AML.T0024.001                 ML03:2023
pii / personal data / data leak / sensitive        AML.T0057        LLM02:2025
denial of service / dos / resource exhaustion      AML.T0029        LLM10:2025
=================================================  ===============  ===========  =========
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from scanners.evidence import trim
from scanners.findings import COMPARATORS, NormalizedFinding
from scanners.fingerprint import make

__all__ = [
    "COMPARATORS",
    "assessment_fingerprint",
    "assessment_result",
    "holds",
    "runtime_fingerprint",
    "runtime_taxonomy",
]


def holds(value: float, comparator: str, threshold: float) -> bool:
    """Whether ``value <comparator> threshold`` holds (the test passes)."""
    if comparator == ">=":
        return value >= threshold
    if comparator == ">":
        return value > threshold
    if comparator == "<=":
        return value <= threshold
    if comparator == "<":
        return value < threshold
    if comparator == "==":
        return value == threshold
    if comparator == "!=":
        return value != threshold
    raise ValueError(f"unknown comparator {comparator!r}")


def assessment_fingerprint(tool: str, test_id: str, metric: str) -> str:
    return make("assessment", tool, test_id, metric)


def runtime_fingerprint(tool: str, deployment: str, kind: str, rule: str) -> str:
    return make("runtime", tool, deployment, kind, rule)


def assessment_result(
    *,
    tool: str,
    test_id: str,
    metric: str,
    title: str,
    passed: bool,
    severity: str,
    metric_name: str | None = None,
    metric_value: float | None = None,
    threshold: float | None = None,
    comparator: str = "",
    sample_count: int | None = None,
    failure_count: int | None = None,
    raw_severity: str = "",
    description: str = "",
    remediation: str = "",
    owasp_ml: Iterable[str] = (),
    owasp_llm: Iterable[str] = (),
    atlas: Iterable[str] = (),
    references: Iterable[str] = (),
    evidence: dict[str, Any] | None = None,
) -> NormalizedFinding:
    """A failed test (a finding) or, with ``passed``, a passed one (severity ``info``)."""
    return NormalizedFinding(
        fingerprint=assessment_fingerprint(tool, test_id, metric),
        category="assessment",
        tool=tool,
        rule_id=test_id,
        title=title,
        severity="info" if passed else severity,
        description=description,
        raw_severity=raw_severity,
        metric_name=metric if metric_name is None else metric_name,
        metric_value=metric_value,
        metric_threshold=threshold,
        comparator=comparator,
        sample_count=sample_count,
        failure_count=failure_count,
        passed=passed,
        atlas=_unique(atlas),
        owasp_ml=_unique(owasp_ml),
        owasp_llm=_unique(owasp_llm),
        references=_unique(references),
        remediation="" if passed else remediation,
        evidence=trim(evidence or {}),
    )


_RUNTIME_RULES: tuple[tuple[re.Pattern[str], str, str, str], ...] = tuple(
    (re.compile(pattern), atlas, llm, ml)
    for pattern, atlas, llm, ml in (
        (r"\bindirect prompt injection\b", "AML.T0051.001", "LLM01:2025", ""),
        (r"\bprompt injection\b", "AML.T0051", "LLM01:2025", ""),
        (r"\bjailbreak", "AML.T0054", "LLM01:2025", ""),
        (r"\bsystem prompt\b", "AML.T0056", "LLM07:2025", ""),
        (r"\bmodel (extraction|theft|stealing)\b", "AML.T0024.002", "", "ML05:2023"),
        (r"\bextraction\b", "AML.T0024.002", "", "ML05:2023"),
        (r"\b(evasion|adversarial)\b", "AML.T0015", "", "ML01:2023"),
        (r"\bmembership inference\b", "AML.T0024.000", "", "ML04:2023"),
        (r"\bmodel inversion\b", "AML.T0024.001", "", "ML03:2023"),
        (r"\b(pii|personal data|data leak\w*|sensitive)\b", "AML.T0057", "LLM02:2025", ""),
        (r"\b(denial of service|dos|resource exhaustion)\b", "AML.T0029", "LLM10:2025", ""),
    )
)


def runtime_taxonomy(*names: str) -> tuple[list[str], list[str], list[str]]:
    """``(atlas, owasp_llm, owasp_ml)`` for a rule/detector name (table in module docs)."""
    text = " ".join(names).lower().replace("_", " ").replace("-", " ")
    for pattern, atlas, llm, ml in _RUNTIME_RULES:
        if pattern.search(text):
            return [atlas], [llm] if llm else [], [ml] if ml else []
    return [], [], []


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and item not in out:
            out.append(item)
    return out
