from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from governance.findings.models import Finding
from governance.policies.models import PolicyEvent
from governance.policies.services import OPERATOR, policy_create

pytestmark = pytest.mark.django_db


def test_member_edits_description_owner_and_tags(
    client_of: Any, member: Any, teammate: Any, team_alpha: Any, seed_findings: Any
) -> None:
    model = seed_findings(team_alpha, "churn", [("CVE-1", "low")]).model
    response = client_of(member).patch(
        f"/api/v1/models/{model.pk}/",
        {"description": "Churn model", "owner": "teammate", "tags": ["tabular"]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["owner"] == "teammate"
    assert response.json()["tags"] == ["tabular"]
    model.refresh_from_db()
    assert model.description == "Churn model"


def test_owner_must_be_in_the_team(
    client_of: Any, member: Any, outsider: Any, team_alpha: Any, seed_findings: Any
) -> None:
    model = seed_findings(team_alpha, "churn", [("CVE-1", "low")]).model
    response = client_of(member).patch(
        f"/api/v1/models/{model.pk}/", {"owner": "outsider"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "'outsider' is not a member of this team"


def test_only_a_lead_changes_the_risk_tier(
    client_of: Any, member: Any, viewer: Any, team_alpha: Any, seed_findings: Any
) -> None:
    model = seed_findings(team_alpha, "churn", [("CVE-1", "low")]).model
    assert (
        client_of(member)
        .patch(f"/api/v1/models/{model.pk}/", {"risk_tier": "low"}, content_type="application/json")
        .status_code
        == 403
    )
    assert (
        client_of(viewer)
        .patch(f"/api/v1/models/{model.pk}/", {"description": "x"}, content_type="application/json")
        .status_code
        == 403
    )
    model.refresh_from_db()
    assert model.risk_tier == "medium"


def test_tier_change_applies_the_new_policys_sla_and_is_audited(
    client_of: Any, lead: Any, team_alpha: Any, seed_findings: Any
) -> None:
    policy_create(
        team=team_alpha,
        document={
            "schema": "warden.policy/v1",
            "name": "critical-tier",
            "applies_to": {"risk_tiers": ["critical"]},
            "sla": {"days": {"critical": 2, "high": 5, "medium": 10, "low": 20}},
        },
        actor=OPERATOR,
    )
    model = seed_findings(team_alpha, "churn", [("CVE-1", "high")]).model
    finding = Finding.objects.get(model=model)
    assert finding.sla_due == (finding.first_seen + timedelta(days=30)).date()  # built-in default
    response = client_of(lead).patch(
        f"/api/v1/models/{model.pk}/", {"risk_tier": "critical"}, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    finding.refresh_from_db()
    assert finding.sla_due == (finding.first_seen + timedelta(days=5)).date()
    event = PolicyEvent.objects.get(kind="model_governance")
    assert event.actor == lead
    assert event.message == "churn: risk_tier medium -> critical"
    # The gate now reads the critical-tier policy.
    gate = client_of(lead).get(f"/api/v1/models/{model.pk}/gate/").json()
    assert gate["verdict"] in ("pass", "warn", "fail")


def test_bad_values_are_400(client_of: Any, lead: Any, team_alpha: Any, seed_findings: Any) -> None:
    model = seed_findings(team_alpha, "churn", [("CVE-1", "low")]).model
    response = client_of(lead).patch(
        f"/api/v1/models/{model.pk}/", {"stage": "beta"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("stage:")
