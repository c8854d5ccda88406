"""The gate evaluator, table-driven over every rule type.

Each case: a policy (None: no stored policy, the built-in default governs), what was imported,
how long after the import the gate is read, and the exact set of ``{rule: verdict}`` reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from governance.findings.models import Finding
from governance.inventory.models import ModelVersion
from governance.policies.gate import gate_evaluate

pytestmark = pytest.mark.django_db

DIGEST = "ab" * 32


@dataclass
class Case:
    name: str
    policy: dict[str, Any] | None
    setup: Callable[[Any, Any], None]
    verdict: str
    rules: dict[str, str]
    later: timedelta = timedelta(0)
    messages: dict[str, str] = field(default_factory=dict)  # rule -> substring of message


def crit_dep(imp: Any, model: Any) -> None:
    imp(model, findings=[{"id": "CVE-1", "severity": "critical"}])


def crit_model_file(imp: Any, model: Any) -> None:
    imp(
        model,
        tool="modelscan",
        category="model_file",
        findings=[{"id": "unsafe-import", "severity": "critical"}],
    )


def highs(n: int, fixed: str = "") -> Callable[[Any, Any], None]:
    def setup(imp: Any, model: Any) -> None:
        imp(
            model,
            findings=[
                {"id": f"CVE-{i}", "severity": "high", "fixed_version": fixed} for i in range(n)
            ],
        )

    return setup


def one_low(imp: Any, model: Any) -> None:
    imp(model, findings=[{"id": "CVE-L", "severity": "low"}])


def triaged(status: str) -> Callable[[Any, Any], None]:
    def setup(imp: Any, model: Any) -> None:
        crit_dep(imp, model)
        Finding.objects.update(status=status)

    return setup


def medium_dep(imp: Any, model: Any) -> None:
    imp(model, findings=[{"id": "CVE-M", "severity": "medium"}])


def scans(*specs: tuple[str, str]) -> Callable[[Any, Any], None]:
    def setup(imp: Any, model: Any) -> None:
        for tool, category in specs:
            imp(model, tool=tool, category=category)

    return setup


def scan_of_same_artifact(imp: Any, model: Any) -> None:
    ModelVersion.objects.filter(model=model, version="1.0").update(artifact_sha256=DIGEST)
    ModelVersion.objects.create(model=model, version="1.0-rebuild", artifact_sha256=DIGEST)
    imp(model, version="1.0-rebuild", tool="modelscan", category="model_file")


def scan_of_other_version(imp: Any, model: Any) -> None:
    imp(model, version="0.9", tool="modelscan", category="model_file")


def metric(
    value: float, *, passed: bool, tool: str = "art", name: str = "adversarial_accuracy"
) -> Callable[[Any, Any], None]:
    def setup(imp: Any, model: Any) -> None:
        spec = {
            "id": name,
            "metric_name": name,
            "metric_value": value,
            "metric_threshold": 0.5,
            "comparator": ">=",
            "severity": "high",
        }
        if passed:
            imp(model, tool=tool, category="assessment", passed=[spec])
        else:
            imp(model, tool=tool, category="assessment", findings=[spec])

    return setup


def metric_then(first: float, second: float) -> Callable[[Any, Any], None]:
    def setup(imp: Any, model: Any) -> None:
        metric(first, passed=False)(imp, model)
        metric(second, passed=True)(imp, model)  # newer run, passed per the tool

    return setup


def nothing(imp: Any, model: Any) -> None:
    pass


ROBUST = {
    "assessments": [
        {"id": "robust", "metric": "adversarial_accuracy", "comparator": ">=", "value": 0.7}
    ]
}
EVIDENCE = {"evidence": [{"id": "model-scan", "category": "model_file", "max_age_days": 30}]}

CASES = [
    # --- built-in default: no open critical or high ---------------------------------------
    Case(
        "default fails on critical",
        None,
        crit_dep,
        "fail",
        {"no-open-critical": "fail"},
        messages={"no-open-critical": "1 open critical finding"},
    ),
    Case(
        "default fails on high",
        None,
        highs(2),
        "fail",
        {"no-open-high": "fail"},
        messages={"no-open-high": "2 open high findings"},
    ),
    Case("default passes medium", None, medium_dep, "pass", {}),
    Case("default: risk accepted does not count", None, triaged("risk_accepted"), "pass", {}),
    Case("default: false positive does not count", None, triaged("false_positive"), "pass", {}),
    # --- thresholds -----------------------------------------------------------------------
    Case(
        "category threshold ignores other categories (due soon: a warning)",
        {
            "thresholds": [
                {"id": "no-crit-mf", "category": "model_file", "severities": ["critical"]}
            ]
        },
        crit_dep,
        "warn",
        {"sla-due-soon": "warn"},
    ),
    Case(
        "category threshold catches its category",
        {
            "thresholds": [
                {"id": "no-crit-mf", "category": "model_file", "severities": ["critical"]}
            ]
        },
        crit_model_file,
        "fail",
        {"no-crit-mf": "fail"},
        messages={"no-crit-mf": "1 open critical model file finding"},
    ),
    Case(
        "fixable-only ignores findings without a fix",
        {
            "thresholds": [
                {
                    "id": "fixable-high",
                    "category": "dependency",
                    "severities": ["high"],
                    "fixable_only": True,
                }
            ]
        },
        highs(2),
        "pass",
        {},
    ),
    Case(
        "fixable-only catches findings with a fix",
        {
            "thresholds": [
                {
                    "id": "fixable-high",
                    "category": "dependency",
                    "severities": ["high"],
                    "fixable_only": True,
                }
            ]
        },
        highs(2, fixed="2.0"),
        "fail",
        {"fixable-high": "fail"},
        messages={"fixable-high": "2 open high dependency findings with a fixed version"},
    ),
    Case(
        "max_open allows up to the limit",
        {"thresholds": [{"id": "few-highs", "severities": ["high"], "max_open": 2}]},
        highs(2),
        "pass",
        {},
    ),
    Case(
        "max_open fails above the limit",
        {"thresholds": [{"id": "few-highs", "severities": ["high"], "max_open": 2}]},
        highs(3),
        "fail",
        {"few-highs": "fail"},
        messages={"few-highs": "3 open high findings (the policy allows 2)"},
    ),
    Case(
        "no severities means every severity",
        {"thresholds": [{"id": "nothing-open"}]},
        one_low,
        "fail",
        {"nothing-open": "fail"},
        messages={"nothing-open": "1 open finding"},
    ),
    Case(
        "a policy without the rule passes what the default would fail",
        {"thresholds": [], "sla": {"days": {"critical": 30}}},
        crit_dep,
        "pass",
        {},
    ),
    Case(
        "a finding a threshold already fails gets no due-soon warning too",
        {
            "thresholds": [{"id": "fixable", "severities": ["high"], "fixable_only": True}],
            "sla": {"days": {"high": 5}},
        },
        lambda imp, m: imp(
            m,
            findings=[
                {"id": "F", "severity": "high", "fixed_version": "2"},
                {"id": "N", "severity": "high"},
            ],
        ),
        "fail",
        {"fixable": "fail", "sla-due-soon": "warn"},
        messages={"sla-due-soon": "1 open finding is due"},
    ),
    # --- SLA ------------------------------------------------------------------------------
    Case(
        "overdue finding fails",
        {"sla": {"days": {"medium": 10}}},
        medium_dep,
        "fail",
        {"sla-overdue": "fail"},
        later=timedelta(days=12),
        messages={"sla-overdue": "1 open finding is past the remediation due date"},
    ),
    Case(
        "overdue finding only warns in warn mode",
        {"sla": {"days": {"medium": 10}, "overdue": "warn"}},
        medium_dep,
        "warn",
        {"sla-overdue": "warn"},
        later=timedelta(days=12),
    ),
    Case(
        "overdue ignored in ignore mode",
        {"sla": {"days": {"medium": 10}, "overdue": "ignore"}},
        medium_dep,
        "pass",
        {},
        later=timedelta(days=12),
    ),
    Case(
        "due within the warning window warns",
        {"sla": {"days": {"medium": 10}}},
        medium_dep,
        "warn",
        {"sla-due-soon": "warn"},
        later=timedelta(days=5),
        messages={"sla-due-soon": "due within 7 days"},
    ),
    Case(
        "not yet due is silent",
        {"sla": {"days": {"medium": 30}}},
        medium_dep,
        "pass",
        {},
        later=timedelta(days=5),
    ),
    Case(
        "no clock for info",
        {"sla": {"days": {"medium": 10}}},
        lambda imp, m: imp(m, findings=[{"id": "I", "severity": "info"}]),
        "pass",
        {},
        later=timedelta(days=400),
    ),
    # --- evidence -------------------------------------------------------------------------
    Case(
        "missing evidence fails naming it",
        EVIDENCE,
        nothing,
        "fail",
        {"model-scan": "fail"},
        messages={"model-scan": "missing evidence: no model file scan of m@1.0"},
    ),
    Case(
        "evidence of another version does not count",
        EVIDENCE,
        scan_of_other_version,
        "fail",
        {"model-scan": "fail"},
    ),
    Case("fresh evidence passes", EVIDENCE, scans(("modelscan", "model_file")), "pass", {}),
    Case(
        "evidence about to expire warns",
        EVIDENCE,
        scans(("modelscan", "model_file")),
        "warn",
        {"model-scan": "warn"},
        later=timedelta(days=25),
        messages={"model-scan": "evidence expires soon"},
    ),
    Case(
        "evidence too old fails",
        EVIDENCE,
        scans(("modelscan", "model_file")),
        "fail",
        {"model-scan": "fail"},
        later=timedelta(days=31),
        messages={
            "model-scan": "evidence too old: the latest model file scan of m@1.0 "
            "finished 31 days ago; the policy accepts 30 days"
        },
    ),
    Case(
        "evidence of the wrong tool does not count",
        {"evidence": [{"id": "fairness", "category": "assessment", "tools": ["fairlearn"]}]},
        scans(("art", "assessment")),
        "fail",
        {"fairness": "fail"},
        messages={"fairness": "no assessment scan (fairlearn) of m@1.0"},
    ),
    Case(
        "evidence of the right tool counts",
        {"evidence": [{"id": "fairness", "category": "assessment", "tools": ["fairlearn"]}]},
        scans(("fairlearn", "assessment")),
        "pass",
        {},
    ),
    Case(
        "artifact evidence needs a digest",
        {"evidence": [{"id": "artifact-scan", "category": "model_file", "scope": "artifact"}]},
        scans(("modelscan", "model_file")),
        "fail",
        {"artifact-scan": "fail"},
        messages={"artifact-scan": "has no artifact digest registered"},
    ),
    Case(
        "a scan of the same artifact under another version counts",
        {"evidence": [{"id": "artifact-scan", "category": "model_file", "scope": "artifact"}]},
        scan_of_same_artifact,
        "pass",
        {},
    ),
    # --- assessments (override the tool's pass/fail) --------------------------------------
    Case(
        "tool passed but the policy is stricter",
        ROBUST,
        metric(0.6, passed=True),
        "fail",
        {"robust": "fail"},
        messages={"robust": "adversarial_accuracy = 0.6 (art, scan"},
    ),
    Case(
        "tool failed but the policy accepts it (and the finding does not count)",
        ROBUST,
        metric(0.72, passed=False),
        "pass",
        {},
    ),
    Case("the latest result wins", ROBUST, metric_then(0.9, 0.65), "fail", {"robust": "fail"}),
    Case(
        "a required metric that was never recorded fails",
        ROBUST,
        nothing,
        "fail",
        {"robust": "fail"},
        messages={"robust": "missing evidence: no adversarial_accuracy result recorded"},
    ),
    Case(
        "an optional metric may be missing",
        {"assessments": [{**ROBUST["assessments"][0], "required": False}]},
        nothing,
        "pass",
        {},
    ),
    Case(
        "a tool-specific rule ignores other tools",
        {"assessments": [{**ROBUST["assessments"][0], "tool": "fairlearn"}]},
        metric(0.9, passed=True),
        "fail",
        {"robust": "fail"},
        messages={"robust": "no adversarial_accuracy result by fairlearn"},
    ),
    Case(
        "comparator <= ",
        {"assessments": [{"id": "parity", "metric": "dpd", "comparator": "<=", "value": 0.1}]},
        metric(0.15, passed=True, name="dpd"),
        "fail",
        {"parity": "fail"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_gate_rule(
    case: Case, team_alpha: Any, make_model: Any, make_policy: Any, import_report: Any
) -> None:
    model = make_model(team_alpha)
    if case.policy is not None:
        make_policy(team_alpha, **case.policy)
    case.setup(import_report, model)
    version = ModelVersion.objects.get(model=model, version="1.0")
    result = gate_evaluate(model, version, now=timezone.now() + case.later)
    assert {r.rule: r.verdict for r in result.reasons} == case.rules, result.reasons
    assert result.verdict == case.verdict
    for rule, text in case.messages.items():
        message = next(r.message for r in result.reasons if r.rule == rule)
        assert text in message, message
    for reason in result.reasons:
        assert reason.fix, f"{reason.rule} says what would fix it"


def test_failing_threshold_names_the_offending_findings(
    team_alpha: Any, make_model: Any, make_policy: Any, import_report: Any
) -> None:
    model = make_model(team_alpha)
    make_policy(team_alpha, thresholds=[{"id": "no-crit", "severities": ["critical"]}])
    import_report(
        model, findings=[{"id": "A", "severity": "critical"}, {"id": "B", "severity": "low"}]
    )
    result = gate_evaluate(model, model.versions.get())
    crit = Finding.objects.get(rule_id="A")
    assert result.reasons[0].findings == [crit.pk]
    assert result.policy == "p r1"


# --- which policy governs a model --------------------------------------------------------


@pytest.mark.parametrize(
    ("policies", "tier", "stage", "expected"),
    [
        ([], "high", "production", "built-in default"),
        ([("org", "org-all", [], [])], "high", "production", "org-all"),
        (
            [("org", "org-all", [], []), ("team", "team-all", [], [])],
            "high",
            "production",
            "team-all",
        ),
        (
            [("team", "team-all", [], []), ("team", "team-high", ["high"], [])],
            "high",
            "production",
            "team-high",
        ),
        (
            [
                ("team", "team-high", ["high"], []),
                ("team", "team-high-prod", ["high"], ["production"]),
            ],
            "high",
            "production",
            "team-high-prod",
        ),
        ([("team", "team-high", ["high"], [])], "low", "production", "built-in default"),
        ([("team", "team-prod", [], ["production"])], "low", "staging", "built-in default"),
        (
            [("org", "org-high", ["high"], []), ("team", "team-low", ["low"], [])],
            "high",
            "staging",
            "org-high",
        ),
        (
            [("team", "wide", ["high", "critical"], []), ("team", "narrow", ["high"], [])],
            "high",
            "staging",
            "narrow",
        ),
    ],
)
def test_the_most_specific_matching_policy_governs(
    team_alpha: Any,
    make_model: Any,
    make_policy: Any,
    policies: list[Any],
    tier: str,
    stage: str,
    expected: str,
) -> None:
    from governance.policies.selectors import policy_effective_for

    for scope, name, tiers, stages in policies:
        make_policy(
            team_alpha if scope == "team" else None,
            name=name,
            applies_to={"risk_tiers": tiers, "stages": stages},
        )
    model = make_model(team_alpha, risk_tier=tier, stage=stage)
    assert policy_effective_for(model).name == expected


def test_another_teams_policy_never_governs(
    team_alpha: Any, team_beta: Any, make_model: Any, make_policy: Any, import_report: Any
) -> None:
    make_policy(team_beta, thresholds=[])
    model = make_model(team_alpha)
    import_report(model, findings=[{"id": "C", "severity": "critical"}])
    assert gate_evaluate(model, model.versions.get()).verdict == "fail"


def test_the_gate_costs_a_fixed_number_of_queries_whatever_the_findings(
    team_alpha: Any, make_model: Any, make_policy: Any, import_report: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_policy(
        team_alpha, **ROBUST, **EVIDENCE, thresholds=[{"id": "no-high", "severities": ["high"]}]
    )
    small, large = make_model(team_alpha, name="small"), make_model(team_alpha, name="large")
    import_report(small, findings=[{"id": f"S{i}", "severity": "high"} for i in range(3)])
    import_report(large, findings=[{"id": f"L{i}", "severity": "high"} for i in range(300)])
    counts = []
    for model in (small, large):
        version = model.versions.get()
        with CaptureQueriesContext(connection) as queries:
            result = gate_evaluate(model, version)
        counts.append(len(queries))
        assert result.verdict == "fail"
    # One aggregate over the findings, ids only for failing rules (at most 50 each).
    assert counts[0] == counts[1]
    assert len(gate_evaluate(large, large.versions.get()).reasons[0].findings) == 50
