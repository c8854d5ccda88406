from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from governance.accounts.models import Membership
from governance.evidence.models import ScanRun
from governance.findings.models import Finding, FindingEvent
from governance.inventory.models import MLModel
from governance.policies.models import RiskPolicy, RiskPolicyRevision

pytestmark = pytest.mark.django_db


def _state() -> tuple[int, ...]:
    return (
        MLModel.objects.count(),
        Finding.objects.count(),
        ScanRun.objects.count(),
        FindingEvent.objects.count(),
        Membership.objects.count(),
        RiskPolicy.objects.count(),
        RiskPolicyRevision.objects.count(),
    )


def test_seed_demo_is_idempotent_and_covers_every_category(client: Any) -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=out)
    assert "0 skipped" in out.getvalue()
    first = _state()
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    assert _state() == first

    assert MLModel.objects.exclude(team__slug="outsiders").count() >= 19
    assert {t for (t,) in MLModel.objects.values_list("risk_tier").distinct()} == {
        "low",
        "medium",
        "high",
        "critical",
    }
    assert {s for (s,) in MLModel.objects.values_list("stage").distinct()} == {
        "development",
        "staging",
        "production",
        "retired",
    }
    categories = set(Finding.objects.values_list("category", flat=True))
    assert categories == {"dependency", "model_file", "assessment", "runtime", "code"}
    # Real sample reports went through the import pipeline, not hand-written rows.
    assert ScanRun.objects.filter(status="done").count() == ScanRun.objects.count() >= 30
    assert all(len(sha) == 64 for sha in ScanRun.objects.values_list("report_sha256", flat=True))
    # The shipped example policies govern the fraud team's high and critical models.
    assert set(
        RiskPolicy.objects.filter(team__slug="fraud-risk").values_list("name", flat=True)
    ) == {"example-high-tier", "example-critical-tier"}
    # A real remediation shows in the demo: a rescan of the same version after an upgrade.
    assert Finding.objects.filter(status="resolved", resolution="fixed").exists()
    # Two versions of one model with different findings, and two deployments of another.
    card = MLModel.objects.get(name="card-fraud-xgb")
    by_version = {
        v: set(
            Finding.objects.filter(
                model=card,
                occurrences__state="active",
                occurrences__subject__version__version=v,
            ).values_list("id", flat=True)
        )
        for v in ("1.4.0", "1.5.0")
    }
    assert by_version["1.4.0"]
    assert by_version["1.5.0"]
    assert by_version["1.4.0"] != by_version["1.5.0"]
    deployments = set(
        ScanRun.objects.filter(category="runtime", model__name="txn-anomaly-iforest").values_list(
            "subject__environment", flat=True
        )
    )
    assert deployments == {"prod-eu", "prod-us"}


def test_demo_users_have_their_roles_and_the_outsider_sees_nothing_else(client: Any) -> None:
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    roles = {
        (m.user.username, m.team.slug): m.role
        for m in Membership.objects.select_related("user", "team")
    }
    for slug in ("fraud-risk", "nlp-platform", "vision"):
        assert roles[("lead", slug)] == "lead"
        assert roles[("member", slug)] == "member"
        assert roles[("viewer", slug)] == "viewer"
    assert [team for (user, team) in roles if user == "outsider"] == ["outsiders"]

    assert (
        client.post(
            "/accounts/login/", {"login": "outsider", "password": "warden-demo"}
        ).status_code
        == 302
    )
    page = client.get("/").content.decode()
    assert "partner-scoring" in page
    assert "card-fraud-xgb" not in page
    client.logout()
    assert (
        client.post("/accounts/login/", {"login": "viewer", "password": "warden-demo"}).status_code
        == 302
    )
    page = client.get("/").content.decode()
    assert "card-fraud-xgb" in page
    assert "partner-scoring" not in page


def test_demo_password_comes_from_the_environment(settings: Any, client: Any) -> None:
    settings.WARDEN_DEMO_PASSWORD = "another-demo-pw"
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    assert (
        client.post(
            "/accounts/login/", {"login": "lead", "password": "another-demo-pw"}
        ).status_code
        == 302
    )
