"""Policies through the API: who may edit, versions and audit, policy as code round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth import get_user_model

from governance.policies.models import PolicyEvent, RiskPolicy, RiskPolicyRevision

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "docs" / "policies"
DOC = {
    "schema": "warden.policy/v1",
    "name": "strict",
    "thresholds": [{"id": "no-crit", "severities": ["critical"]}],
}


def _create(client: Any, team: str | None = "alpha", document: Any = DOC, **extra: Any) -> Any:
    return client.post(
        "/api/v1/policies/",
        {"team": team, "document": document, **extra},
        content_type="application/json",
    )


def test_a_lead_creates_updates_and_deletes_with_revisions_and_audit_events(
    client_of: Any, lead: Any
) -> None:
    c = client_of(lead)
    created = _create(c, change_note="first cut")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["team"], body["name"], body["revision"], body["can_edit"]) == (
        "alpha",
        "strict",
        1,
        True,
    )
    assert body["document"]["thresholds"] == [
        {"id": "no-crit", "severities": ["critical"], "fixable_only": False, "max_open": 0}
    ]
    assert body["document"]["sla"]["days"] == {
        "critical": 7,
        "high": 30,
        "medium": 90,
        "low": 180,
        "info": None,
    }
    pk = body["id"]
    doc = body["document"]
    doc["exceptions"]["max_days"] = 30
    updated = c.put(
        f"/api/v1/policies/{pk}/",
        {"document": doc, "change_note": "shorter"},
        content_type="application/json",
    )
    assert updated.status_code == 200
    assert updated.json()["revision"] == 2
    same = c.put(
        f"/api/v1/policies/{pk}/",
        {"document": doc, "change_note": "no-op"},
        content_type="application/json",
    )
    assert same.json()["revision"] == 2, "an identical document is not a new revision"
    revisions = c.get(f"/api/v1/policies/{pk}/revisions/").json()["results"]
    assert [(r["number"], r["action"], r["author"], r["change_note"]) for r in revisions] == [
        (2, "updated", "lead", "shorter"),
        (1, "created", "lead", "first cut"),
    ]
    assert revisions[0]["document"]["exceptions"]["max_days"] == 30
    assert revisions[1]["document"]["exceptions"]["max_days"] == 90
    assert c.delete(f"/api/v1/policies/{pk}/").status_code == 204
    assert c.get(f"/api/v1/policies/{pk}/").status_code == 404
    assert RiskPolicyRevision.objects.filter(policy_id=pk).count() == 3  # history is kept
    events = list(PolicyEvent.objects.filter(policy_id=pk).values_list("kind", "actor_label"))
    assert events == [
        ("policy_created", "lead"),
        ("policy_updated", "lead"),
        ("policy_archived", "lead"),
    ]
    # The name is free again after a delete.
    assert _create(c).status_code == 201


@pytest.mark.parametrize("who", ["member", "viewer"])
def test_members_and_viewers_cannot_edit_policies(
    request: Any, client_of: Any, lead: Any, who: str
) -> None:
    pk = _create(client_of(lead)).json()["id"]
    c = client_of(request.getfixturevalue(who))
    assert c.get(f"/api/v1/policies/{pk}/").status_code == 200
    assert c.get(f"/api/v1/policies/{pk}/").json()["can_edit"] is False
    response = _create(c, document={**DOC, "name": "mine"})
    assert response.status_code == 403
    assert response.json()["error"] == "only a lead of the team can change this policy"
    assert (
        c.put(
            f"/api/v1/policies/{pk}/", {"document": DOC}, content_type="application/json"
        ).status_code
        == 403
    )
    assert c.delete(f"/api/v1/policies/{pk}/").status_code == 403
    assert RiskPolicy.objects.get(pk=pk).revision == 1


def test_tokens_are_never_leads(
    lead: Any, client_of: Any, api: Any, make_token: Any, team_alpha: Any
) -> None:
    pk = _create(client_of(lead)).json()["id"]
    c = api(make_token(team_alpha, "write"))
    assert c.get(f"/api/v1/policies/{pk}/").status_code == 200
    assert c.put(f"/api/v1/policies/{pk}/", {"document": DOC}, format="json").status_code == 403
    response = c.post("/api/v1/policies/", {"team": "alpha", "document": DOC}, format="json")
    assert response.status_code == 403


def test_other_teams_cannot_see_or_target_a_teams_policies(
    client_of: Any, lead: Any, outsider: Any
) -> None:
    pk = _create(client_of(lead)).json()["id"]
    c = client_of(outsider)  # a lead, of team Beta
    assert c.get(f"/api/v1/policies/{pk}/").status_code == 404
    assert (
        c.put(
            f"/api/v1/policies/{pk}/", {"document": DOC}, content_type="application/json"
        ).status_code
        == 404
    )
    assert c.delete(f"/api/v1/policies/{pk}/").status_code == 404
    assert _create(c, team="alpha").status_code == 404
    assert c.get("/api/v1/policies/").json()["results"] == []


def test_organization_defaults_are_read_by_all_and_edited_by_superusers_only(
    client_of: Any, lead: Any, outsider: Any
) -> None:
    assert _create(client_of(lead), team=None).status_code == 403
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root")
    created = _create(client_of(admin), team=None)
    assert created.status_code == 201, created.content
    assert created.json()["team"] is None
    pk = created.json()["id"]
    for user in (lead, outsider):
        body = client_of(user).get("/api/v1/policies/").json()["results"]
        assert [(p["id"], p["can_edit"]) for p in body] == [(pk, False)]
    assert client_of(lead).delete(f"/api/v1/policies/{pk}/").status_code == 403


def test_team_is_required_and_names_are_unique_per_team(client_of: Any, lead: Any) -> None:
    c = client_of(lead)
    missing = c.post("/api/v1/policies/", {"document": DOC}, content_type="application/json")
    assert missing.status_code == 400
    assert missing.json()["error"].startswith("team:")
    pk = _create(c).json()["id"]
    other = _create(c, document={**DOC, "name": "other"}).json()["id"]
    clash = c.put(f"/api/v1/policies/{other}/", {"document": DOC}, content_type="application/json")
    assert clash.status_code == 400
    assert clash.json()["error"] == "team alpha already has a policy named 'strict'"
    assert pk != other


@pytest.mark.parametrize(
    ("document", "error"),
    [
        ({"name": "x"}, 'invalid policy: missing required field "schema"'),
        (
            {**DOC, "schema": "warden.policy/v2"},
            "invalid policy: schema: must be 'warden.policy/v1'",
        ),
        (
            {**DOC, "thresholds": [{"id": "a", "category": "firmware"}]},
            "invalid policy: thresholds[0].category: must be one of dependency, model_file, "
            "model_code, "
            "assessment, runtime, code",
        ),
        (
            {**DOC, "thresholds": [{"id": "a"}, {"id": "a"}]},
            "invalid policy: thresholds[1].id: duplicate rule id 'a'",
        ),
        (
            {**DOC, "thresholds": [{"id": "sla-overdue"}]},
            "invalid policy: thresholds[0].id: 'sla-overdue' is reserved",
        ),
        (
            {**DOC, "evidence": [{"id": "e", "max_age_days": 0}]},
            "invalid policy: evidence[0].max_age_days: 0 is less than the minimum of 1",
        ),
        (
            {**DOC, "assessments": [{"id": "a", "metric": "m", "comparator": "=>", "value": 1}]},
            "invalid policy: assessments[0].comparator: must be one of >=, >, <=, <, ==, !=",
        ),
        ({**DOC, "surprise": 1}, "invalid policy: surprise: unknown field"),
        ("name: [unclosed", "the policy document is not valid YAML or JSON at line 1, column 16"),
        ("- a list", "the policy document must be a mapping (YAML) or an object (JSON)"),
        (
            "schema: warden.policy/v1\nname: &n x\ndescription: *n\n",
            "YAML anchors and aliases are not allowed in policy documents",
        ),
        (
            "!!python/object/apply:os.system ['id']",
            "the policy document is not valid YAML or JSON at line 1, column 1",
        ),
    ],
)
def test_invalid_documents_are_a_400_naming_the_problem(
    client_of: Any, lead: Any, document: Any, error: str
) -> None:
    response = _create(client_of(lead), document=document)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert not RiskPolicy.objects.exists()


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_then_import_round_trips_identically(
    client_of: Any, lead: Any, example: Path, fmt: str
) -> None:
    c = client_of(lead)
    created = _create(c, document=example.read_text())  # YAML text, as written by hand
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    first = c.get(f"/api/v1/policies/{pk}/export/?as={fmt}")
    assert first.status_code == 200
    assert first["Content-Type"].startswith(f"application/{fmt}")
    text = first.content.decode()
    parsed = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    assert parsed == created.json()["document"]
    # Import the export: same policy (matched by name), nothing changes, export is identical.
    again = _create(c, document=text)
    assert again.status_code == 200
    assert again.json()["revision"] == 1
    assert c.get(f"/api/v1/policies/{pk}/export/?as={fmt}").content.decode() == text
    assert RiskPolicy.objects.count() == 1


def test_import_updates_a_policy_of_the_same_name(client_of: Any, lead: Any) -> None:
    c = client_of(lead)
    _create(c)
    changed = _create(c, document={**DOC, "thresholds": []}, change_note="from git abc123")
    assert changed.status_code == 200
    assert (changed.json()["revision"], changed.json()["document"]["thresholds"]) == (2, [])
    assert RiskPolicyRevision.objects.filter(number=2).get().change_note == "from git abc123"
