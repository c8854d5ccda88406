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


def test_seed_demo_lays_down_90_days_of_history(client: Any) -> None:
    import time
    from datetime import timedelta

    from django.utils import timezone

    from governance.metrics.models import PostureTeamDay
    from governance.metrics.selectors import posture_trend
    from governance.metrics.sla import mttr, sla_metrics

    started = time.monotonic()
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    assert time.monotonic() - started < 60  # set-based: seconds, not minutes (CI is slow)
    today = timezone.localdate()
    demo = Finding.objects.exclude(team__slug="outsiders")

    # The trend: a rollup for (nearly) every day of the window, and a real shape.
    points = posture_trend(
        PostureTeamDay.objects.exclude(team__slug="outsiders"),  # what the dashboard reads
        today=today,
        today_by_severity={},
        days=90,
    )
    past = [p for p in points if p.by_severity is not None and not p.live]
    assert len({p.day for p in past}) >= 60
    totals = [sum(p.by_severity.values()) for p in past]  # type: ignore[union-attr]
    assert min(totals) < max(totals)  # it moves: findings arrive and get fixed
    assert totals[0] < max(totals)

    # First seen spread over the window; fixes after the finding appeared, never in the future.
    ages = {(today - d).days for d in demo.values_list("first_seen__date", flat=True)}
    assert max(ages) >= 80
    assert len(ages) >= 60
    fixed = demo.filter(status="resolved", resolution="fixed")
    assert fixed.count() >= 25  # of ~125 demo findings
    for first_seen, resolved_at in fixed.values_list("first_seen", "resolved_at"):
        assert first_seen < resolved_at <= timezone.now()

    # MTTR and SLA from those real remediations: the dashboard's figures are not empty.
    window = mttr(demo, since=timezone.now() - timedelta(days=90))
    assert window.days is not None
    assert window.days > 0
    assert (
        window.resolved
        == fixed.filter(resolved_at__gte=timezone.now() - timedelta(days=90)).count()
    )
    assert window.resolved >= 25
    metrics = sla_metrics(demo, today=today, days=90)
    assert metrics["sla_met"] + metrics["sla_missed"] > 0
    # The history's status changes are in the audit trail, dated when they happened.
    events = FindingEvent.objects.filter(finding__in=fixed, to_value="resolved")
    assert events.count() >= fixed.count() - 5
    assert events.filter(created_at__lt=timezone.now() - timedelta(days=7)).exists()

    # The dashboard draws it.
    client.post("/accounts/login/", {"login": "lead", "password": "warden-demo"})
    page = client.get("/dashboard/").content.decode()
    assert "MTTR" in page or "mttr" in page.lower()


def test_home_and_dashboard_say_which_demo_user_sees_what(client: Any) -> None:
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    client.post("/accounts/login/", {"login": "member", "password": "warden-demo"})
    for path in ("/", "/dashboard/"):
        page = client.get(path).content.decode()
        assert 'data-demo-user="member"' in page
        assert "a data scientist in the same three teams" in page
        assert "<strong>outsider</strong>" in page
