"""GET /api/v1/models/{id or name}/mlbom/?version=V: a CycloneDX 1.6 ML-BOM that the official
schema accepts, whose VEX says what Warden decided, and that Warden reads back the same."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from tests.exports.conftest import DIGEST, MODEL, VERSION

pytestmark = pytest.mark.django_db


def _bom(client: Any, model: Any, version: str = VERSION) -> dict[str, Any]:
    response = client.get(f"/api/v1/models/{model.pk}/mlbom/?version={version}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/vnd.cyclonedx+json"
    assert "attachment" in response["Content-Disposition"]
    body: dict[str, Any] = json.loads(response.content)
    return body


def _by_id(bom: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["id"]: v for v in bom["vulnerabilities"]}


def test_the_ml_bom_validates_against_the_official_1_6_schema(
    mlbom_world: Any, client_of: Any, member: Any
) -> None:
    bom = _bom(client_of(member), mlbom_world["model"])
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bom))
    assert errors is None, errors
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["specVersion"] == "1.6"


def test_the_model_is_a_machine_learning_model_with_its_hashes_and_card(
    mlbom_world: Any, client_of: Any, member: Any
) -> None:
    root = _bom(client_of(member), mlbom_world["model"])["metadata"]["component"]
    assert root["type"] == "machine-learning-model"
    assert (root["name"], root["version"], root["group"]) == (MODEL, VERSION, "alpha")
    assert {"alg": "SHA-256", "content": DIGEST} in root["hashes"]
    props = {p["name"]: p["value"] for p in root["properties"]}
    assert props["warden:framework"] == "xgboost"
    card = root["modelCard"]
    # model parameters from the ingested ML-BOM's card, datasets from it and the assessment
    params = card["modelParameters"]
    assert params["task"] == "classification"
    assert params["approach"] == {"type": "supervised"}
    datasets = {d["name"] for d in params["datasets"]}
    assert {"transactions-2025Q3", "holdout-2026-q1"} <= datasets
    # quantitative analysis: the ingested card's metrics and Warden's results, thresholds named
    metrics = {
        (m["type"], m.get("value")) for m in card["quantitativeAnalysis"]["performanceMetrics"]
    }
    assert {
        ("auc", "0.941"),
        ("accuracy", "0.91"),
        ("demographic_parity_difference", "0.12"),
    } <= metrics
    card_props = {p["name"]: p["value"] for p in card["properties"]}
    assert card_props["warden:threshold:accuracy"].startswith("value >= 0.88 to pass")
    assert "failed" in card_props["warden:threshold:demographic_parity_difference"]
    assert card_props["warden:policy"] == "built-in default"
    considerations = card["considerations"]
    assert considerations["useCases"] == ["real-time card transaction scoring"]
    fairness = considerations["fairnessAssessments"]
    assert any(f["groupAtRisk"] == "female, male" for f in fairness)
    assert considerations["ethicalConsiderations"]  # the policy's notes


def test_dependency_components_come_from_sboms_and_findings(
    mlbom_world: Any, client_of: Any, member: Any
) -> None:
    bom = _bom(client_of(member), mlbom_world["model"])
    purls = {c.get("purl") for c in bom["components"]}
    assert {"pkg:pypi/torch@2.1.0", "pkg:pypi/pillow@9.0.0", "pkg:pypi/xgboost@2.1.0"} <= purls
    refs = {c["bom-ref"] for c in bom["components"]} | {bom["metadata"]["component"]["bom-ref"]}
    for vulnerability in bom["vulnerabilities"]:  # every "affects" names a component
        assert {a["ref"] for a in vulnerability["affects"]} <= refs


def test_each_finding_is_a_vex_statement_of_its_state(
    mlbom_world: Any, client_of: Any, member: Any
) -> None:
    vex = _by_id(_bom(client_of(member), mlbom_world["model"]))
    assert vex["CVE-2024-0001"]["analysis"] == {"state": "in_triage"}
    assert vex["CVE-2024-0002"]["analysis"] == {
        "state": "false_positive",
        "detail": "pillow is vendored but never loaded",
    }
    assert vex["CVE-2024-0003"]["analysis"]["state"] == "exploitable"
    assert vex["CVE-2024-0004"]["analysis"] == {"state": "resolved", "detail": "upgraded"}
    assert vex["CVE-2024-0005"]["analysis"] == {
        "state": "exploitable",
        "response": ["will_not_fix"],
        "detail": "only reachable from the offline trainer",
    }
    assert vex["CVE-2022-21797"]["analysis"] == {
        "state": "not_affected",
        "justification": "code_not_reachable",
        "detail": "Installed version is 1.2.0; listed to exercise VEX states.",
    }
    rating = vex["CVE-2024-0001"]["ratings"][0]
    assert rating["severity"] == "critical"
    assert rating["score"] == 9.8
    assert rating["vector"] == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert vex["CVE-2024-0001"]["affects"] == [{"ref": "pkg:pypi/torch@2.1.0"}]
    # an assessment finding affects the model itself
    fairness = vex["demographic_parity_difference"]
    assert fairness["affects"] == [
        {"ref": _bom(client_of(member), mlbom_world["model"])["metadata"]["component"]["bom-ref"]}
    ]


def test_reimporting_the_ml_bom_round_trips_the_findings_states(
    mlbom_world: Any, client_of: Any, member: Any, upload: Any
) -> None:
    from governance.inventory.models import MLModel

    exported = _bom(client_of(member), mlbom_world["model"])
    response = upload(mlbom_world["token"], json.dumps(exported).encode(), model="fraud-copy")
    assert response.status_code in (201, 202), response.content
    copy = MLModel.objects.get(name="fraud-copy")
    states = {f.vuln_id: f.status for f in copy.findings.all()}
    original = {f.vuln_id: f.status for f in mlbom_world["model"].findings.all() if f.vuln_id}
    assert states["CVE-2024-0002"] == original["CVE-2024-0002"] == "false_positive"
    assert states["CVE-2022-21797"] == original["CVE-2022-21797"] == "not_affected"
    assert states["CVE-2024-0004"] == original["CVE-2024-0004"] == "resolved"
    assert states["CVE-2024-0005"] == original["CVE-2024-0005"] == "risk_accepted"
    # active stays active (VEX has no word for "confirmed" as against "open")
    assert original["CVE-2024-0001"] == "open"
    assert states["CVE-2024-0001"] == "open"
    assert original["CVE-2024-0003"] == "confirmed"
    assert states["CVE-2024-0003"] == "open"
    # findings of other layers stay with the scans that found them (not package findings)
    assert "demographic_parity_difference" not in states
    run = copy.scan_runs.get()
    assert any("assessment layer" in w for w in run.warnings)
    # the person's reason travels with the decision
    fp = copy.findings.get(vuln_id="CVE-2024-0002")
    assert "pillow is vendored but never loaded" in fp.justification


def test_reimporting_the_ml_bom_into_its_own_model_changes_no_state(
    mlbom_world: Any, client_of: Any, member: Any, upload: Any
) -> None:
    model = mlbom_world["model"]
    before = {f.pk: (f.status, f.category) for f in model.findings.all()}
    exported = _bom(client_of(member), model)
    response = upload(mlbom_world["token"], json.dumps(exported).encode(), model=MODEL)
    assert response.status_code in (201, 202), response.content
    assert {f.pk: (f.status, f.category) for f in model.findings.all()} == before


def test_the_ml_bom_of_the_model_by_name(mlbom_world: Any, client_of: Any, member: Any) -> None:
    response = client_of(member).get(f"/api/v1/models/{MODEL}/mlbom/?version={VERSION}")
    assert response.status_code == 200


def test_a_version_is_required_and_must_exist(
    mlbom_world: Any, client_of: Any, member: Any
) -> None:
    client = client_of(member)
    model = mlbom_world["model"]
    missing = client.get(f"/api/v1/models/{model.pk}/mlbom/")
    assert missing.status_code == 400
    assert "version" in missing.json()["error"]
    assert client.get(f"/api/v1/models/{model.pk}/mlbom/?version=9.9").status_code == 404


def test_another_teams_model_is_404(mlbom_world: Any, client_of: Any, outsider: Any) -> None:
    model = mlbom_world["model"]
    response = client_of(outsider).get(f"/api/v1/models/{model.pk}/mlbom/?version={VERSION}")
    assert response.status_code == 404
    by_name = client_of(outsider).get(f"/api/v1/models/{MODEL}/mlbom/?version={VERSION}")
    assert by_name.status_code == 404


def test_the_ml_bom_costs_a_fixed_number_of_queries(
    mlbom_world: Any,
    client_of: Any,
    member: Any,
    seed_findings: Any,
    team_alpha: Any,
    django_assert_max_num_queries: Any,
) -> None:
    client = client_of(member)
    model = mlbom_world["model"]
    client.get(f"/api/v1/models/{model.pk}/mlbom/?version={VERSION}")  # warm the session
    # Many more findings and packages must not add queries: everything is read in bulk.
    seed_findings(
        team_alpha, MODEL, [(f"CVE-2025-{i}", "high") for i in range(60)], version=VERSION
    )
    # session + user + memberships, model, version, then the evidence (subjects, packages,
    # findings, status events, exceptions, runs, checks) and the policy
    with django_assert_max_num_queries(13):
        bom = _bom(client, model)
    assert len(bom["vulnerabilities"]) >= 66


def test_a_version_without_evidence_still_gives_a_valid_ml_bom(
    client_of: Any, member: Any, team_alpha: Any
) -> None:
    from governance.inventory.services import model_get_or_create, version_get_or_create

    model, _ = model_get_or_create(team=team_alpha, name="bare", create=True)
    version_get_or_create(model=model, version="0.1")
    bom = _bom(client_of(member), model, "0.1")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bom)) is None
    assert bom["metadata"]["component"]["modelCard"]["properties"] == [
        {"name": "warden:policy", "value": "built-in default"}
    ]
    assert bom.get("vulnerabilities", []) == []
