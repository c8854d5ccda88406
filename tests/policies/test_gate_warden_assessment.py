"""The policy condition "a Warden assessment of this digest on a dataset newer than N days,
with demographic_parity_difference <= 0.1" (an evidence rule with ``warden_assessment``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
import time_machine
from django.utils import timezone

from governance.evidence.models import Assessment
from governance.ingest.services import report_submit
from governance.inventory.models import MLModel, ModelVersion
from governance.lib.api_errors import ApplicationError
from governance.policies.gate import gate_evaluate
from governance.policies.services import OPERATOR, policy_create
from scanners.assess import assess_predictions, to_json
from tests.assess import builders

pytestmark = pytest.mark.django_db

DIGEST = "d1" * 32
OTHER = "e2" * 32
RULE = {
    "id": "fair-on-fresh-data",
    "max_age_days": 90,
    "warden_assessment": {
        "metrics": [{"metric": "demographic_parity_difference", "comparator": "<=", "value": 0.1}]
    },
}


def _fair_table(n: int = 4000) -> pd.DataFrame:
    """Predictions independent of the sensitive feature: parity within sampling noise."""
    rng = np.random.default_rng(1)
    y = (rng.random(n) < 0.5).astype(int)
    return pd.DataFrame(
        {
            "sex": rng.choice(["a", "b"], size=n),
            "y": y,
            "yhat": np.where(rng.random(n) < 0.85, y, 1 - y),
        }
    )


@pytest.fixture
def model(team_alpha: Any) -> MLModel:
    model = MLModel.objects.create(team=team_alpha, name="credit")
    ModelVersion.objects.create(model=model, version="1.0", artifact_sha256=DIGEST)
    ModelVersion.objects.create(model=model, version="2.0", artifact_sha256=OTHER)
    policy_create(
        team=team_alpha,
        document={"schema": "warden.policy/v1", "name": "fairness", "evidence": [RULE]},
        actor=OPERATOR,
    )
    return model


def _assess(model: MLModel, frame: pd.DataFrame, version: str = "1.0", **kw: Any) -> Any:
    """``warden assess`` on ``frame``, uploaded for ``version`` (the CLI's path)."""
    doc = assess_predictions(
        frame.to_csv(index=False).encode(), label="y", prediction="yhat", sensitive=["sex"], **kw
    )
    result = report_submit(
        team=model.team, model_name=model.name, data=to_json(doc), version=version,
        scan_type="warden-assessment",
    )  # fmt: skip
    assert result.scan_run.status == "done", result.scan_run.error
    return result.scan_run


def _reasons(model: MLModel, version: str = "1.0") -> list[Any]:
    found = model.versions.get(version=version)
    return [r for r in gate_evaluate(model, found).reasons if r.rule == RULE["id"]]


def test_a_fresh_assessment_within_the_limit_passes(model: MLModel) -> None:
    run = _assess(model, _fair_table())

    record = Assessment.objects.get(scan_run=run)
    assert record.artifact_sha256 == DIGEST  # the version's digest: the subject of the figures
    assert _reasons(model) == []


def test_without_any_assessment_the_gate_says_how_to_get_one(model: MLModel) -> None:
    (reason,) = _reasons(model)

    assert reason.verdict == "fail"
    assert reason.message == (
        f"missing evidence: no Warden assessment of credit@1.0 (artifact {DIGEST[:12]}…)"
    )
    assert f"POST /api/v1/models/{model.pk}/versions/1.0/assess/" in reason.fix
    assert "warden assess ... --upload --model credit --version 1.0" in reason.fix


def test_a_stale_assessment_fails_and_one_about_to_expire_warns(model: MLModel) -> None:
    with time_machine.travel(timezone.now() - timedelta(days=91), tick=False):
        run = _assess(model, _fair_table())

    (reason,) = _reasons(model)
    assert reason.verdict == "fail"
    assert reason.message.startswith(
        f"evidence too old: the latest Warden assessment of credit@1.0 (artifact "
        f"{DIGEST[:12]}…) (scan {run.pk}, dataset "
    )
    assert reason.message.endswith("measured its dataset 91 days ago; the policy accepts 90 days")
    assert reason.fix.startswith("assess it again on current evaluation data")

    with time_machine.travel(timezone.now() - timedelta(days=85), tick=False):
        _assess(model, _fair_table(4001))
    (reason,) = _reasons(model)
    assert reason.verdict == "warn"
    assert "will be older than 90 days on" in reason.message


def test_a_metric_over_the_threshold_fails_with_the_worst_group_figure(model: MLModel) -> None:
    frame = builders.disparity_table(6000)
    run = _assess(model, frame)
    rates = frame.groupby("sex")["yhat"].mean()

    (reason,) = _reasons(model)

    assert reason.verdict == "fail"
    assert reason.message.startswith(
        f"demographic_parity_difference[sex] = {rates.max() - rates.min():g} in the latest "
        f"Warden assessment of credit@1.0 (artifact {DIGEST[:12]}…) (scan {run.pk}, dataset "
    )
    assert reason.message.endswith("the policy requires demographic_parity_difference <= 0.1")
    assert "exception for rule fair-on-fresh-data" in reason.fix


def test_an_assessment_of_another_digest_does_not_count(model: MLModel) -> None:
    _assess(model, _fair_table(), version="2.0")  # the other version: other bytes

    (reason,) = _reasons(model, "1.0")
    assert reason.message.startswith("missing evidence: no Warden assessment of credit@1.0")
    assert _reasons(model, "2.0") == []


def test_another_tools_assessment_document_is_not_a_warden_assessment(model: MLModel) -> None:
    doc = {
        "schema": "warden.assessment/v1",
        "tool": "fairlearn",
        "results": [
            {"test": "demographic_parity_difference", "category": "fairness",
             "value": 0.01, "threshold": 0.1, "comparator": "<="}
        ],
    }  # fmt: skip
    import json

    report_submit(team=model.team, model_name="credit", data=json.dumps(doc).encode(),
                  version="1.0")  # fmt: skip

    (reason,) = _reasons(model)
    assert reason.message.startswith("missing evidence: no Warden assessment")


def test_origin_server_ignores_assessments_uploaded_from_ci(
    model: MLModel, team_alpha: Any
) -> None:
    from governance.policies.models import RiskPolicy as Policy
    from governance.policies.services import policy_update

    rule = {**RULE, "warden_assessment": {**RULE["warden_assessment"], "origin": "server"}}
    policy = Policy.objects.get(team=team_alpha)
    policy_update(
        policy=policy,
        document={"schema": "warden.policy/v1", "name": "fairness", "evidence": [rule]},
        actor=OPERATOR,
    )
    _assess(model, _fair_table())

    (reason,) = _reasons(model)
    assert reason.message.startswith(
        "missing evidence: no Warden assessment computed on the server of credit@1.0"
    )


def test_a_figure_the_assessment_did_not_measure_fails_closed(
    model: MLModel, team_alpha: Any
) -> None:
    from governance.policies.models import RiskPolicy as Policy
    from governance.policies.services import policy_update

    rule = {**RULE, "warden_assessment": {"metrics": [
        {"metric": "roc_auc", "comparator": ">=", "value": 0.8}]}}  # fmt: skip
    policy_update(
        policy=Policy.objects.get(team=team_alpha),
        document={"schema": "warden.policy/v1", "name": "fairness", "evidence": [rule]},
        actor=OPERATOR,
    )
    _assess(model, _fair_table())  # no score column: no roc_auc

    (reason,) = _reasons(model)
    assert "did not measure roc_auc; the policy requires roc_auc >= 0.8" in reason.message
    assert "a score column for roc_auc" in reason.fix


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"warden_assessment": {"metrics": [
                {"metric": "demographic_parity_diference", "comparator": "<=", "value": 0.1}]}},
            "is not a metric Warden's assessment runner measures (did you mean "
            "demographic_parity_difference?)",
        ),
        ({"tools": ["warden"], "warden_assessment": {}}, "drop tools"),
        ({"scope": "version", "warden_assessment": {}}, "drop scope: version"),
    ],
)  # fmt: skip
def test_the_policy_language_refuses_a_condition_that_could_never_hold(
    team_alpha: Any, rule: dict[str, Any], message: str
) -> None:
    document = {"schema": "warden.policy/v1", "name": "p", "evidence": [{"id": "r", **rule}]}
    with pytest.raises(ApplicationError, match="invalid policy") as caught:
        policy_create(team=team_alpha, document=document, actor=OPERATOR)
    assert message in caught.value.message


def test_a_policy_without_the_condition_normalizes_as_before() -> None:
    from governance.policies.schema import policy_document_normalize

    plain = {"schema": "warden.policy/v1", "name": "p", "evidence": [{"id": "sbom"}]}
    assert policy_document_normalize(plain)["evidence"] == [{"id": "sbom", "scope": "version"}]
    with_condition = {"schema": "warden.policy/v1", "name": "p", "evidence": [RULE]}
    assert policy_document_normalize(with_condition)["evidence"] == [
        {**RULE, "scope": "artifact",
         "warden_assessment": {**RULE["warden_assessment"], "origin": "any"}}
    ]  # fmt: skip
