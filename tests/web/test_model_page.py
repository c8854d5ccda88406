from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.evidence.models import ScanRun
from governance.inventory.models import ModelVersion

pytestmark = pytest.mark.django_db


def test_model_page_shows_gate_versions_and_open_findings(
    client_of: Any, member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    run = seed_findings(
        team_alpha, "churn", [("CVE-1", "critical"), ("CVE-2", "low")], version="1.0"
    )
    page = client_of(member).get(f"/models/{run.model.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-verdict="fail"' in html
    assert "no-open-critical" in html
    assert 'data-version="1.0"' in html
    assert html.count("data-finding=") == 2
    assert html.index("finding CVE-1") < html.index("finding CVE-2")  # most severe first


def test_model_page_query_count_is_fixed(
    client_of: Any, member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    run = seed_findings(team_alpha, "churn", [("CVE-1", "high")], version="1.0")
    c = client_of(member)
    with CaptureQueriesContext(connection) as few:
        c.get(f"/models/{run.model.pk}/")
    more = [("CVE-1", "high")] + [(f"CVE-{i}", "medium") for i in range(100, 160)]
    seed_findings(team_alpha, "churn", more, version="1.0")
    with CaptureQueriesContext(connection) as many:
        page = c.get(f"/models/{run.model.pk}/")
    assert page.content.count(b"data-finding=") == 61
    assert len(many) == len(few)


def test_another_teams_model_page_is_404(
    client_of: Any, outsider: Any, team_alpha: Any, seed_findings: Any
) -> None:
    run = seed_findings(team_alpha, "churn", [("CVE-1", "high")], version="1.0")
    c = client_of(outsider)
    assert c.get(f"/models/{run.model.pk}/").status_code == 404
    assert c.post(f"/models/{run.model.pk}/versions/1.0/scan/").status_code == 404


def test_scan_button_queues_a_server_scan(
    client_of: Any,
    member: Any,
    viewer: Any,
    team_alpha: Any,
    seed_findings: Any,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.WARDEN_ARTIFACT_ROOTS = [tmp_path.resolve()]
    (tmp_path / "w.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    run = seed_findings(team_alpha, "churn", [("CVE-1", "high")], version="1.0")
    ModelVersion.objects.filter(pk=run.version_id).update(
        artifact_uri=str(tmp_path / "w.safetensors")
    )
    url = f"/models/{run.model.pk}/versions/1.0/scan/"
    assert client_of(viewer).post(url).status_code == 403
    response = client_of(member).post(url, follow=True)
    assert b"queued" in response.content
    assert ScanRun.objects.filter(model=run.model, tool="warden-modelscan").count() == 1


def test_lead_changes_tier_from_the_page_and_member_cannot(
    client_of: Any, lead: Any, member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    model = seed_findings(team_alpha, "churn", [("CVE-1", "low")]).model
    url = f"/models/{model.pk}/edit/"
    form = {
        "description": "d",
        "use_case": "u",
        "owner": "",
        "tags": "a, b",
        "risk_tier": "critical",
        "stage": "production",
    }
    client_of(member).post(url, form)
    model.refresh_from_db()
    assert (model.description, model.tags, model.risk_tier) == (
        "d",
        ["a", "b"],
        "medium",
    )  # tier ignored
    page = client_of(lead).post(url, form, follow=True)
    assert b"Model saved." in page.content
    model.refresh_from_db()
    assert (model.risk_tier, model.stage) == ("critical", "production")


def test_viewer_and_outsider_cannot_edit(
    client_of: Any, viewer: Any, outsider: Any, team_alpha: Any, seed_findings: Any
) -> None:
    model = seed_findings(team_alpha, "churn", [("CVE-1", "low")]).model
    assert (
        client_of(viewer).post(f"/models/{model.pk}/edit/", {"description": "x"}).status_code == 403
    )
    assert (
        client_of(outsider).post(f"/models/{model.pk}/edit/", {"description": "x"}).status_code
        == 404
    )


def test_model_page_charts_this_models_trend(
    client_of: Any, member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    import html as html_lib
    import json
    import re
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from governance.findings.models import Finding
    from governance.metrics.services import posture_snapshot_take

    run = seed_findings(team_alpha, "churn", [("CVE-1", "high"), ("CVE-2", "high")])
    seed_findings(team_alpha, "other", [("CVE-7", "high")])  # another model: not in this chart
    with time_machine.travel(timezone.now() - timedelta(days=1)):
        posture_snapshot_take(day=timezone.localdate())
    Finding.objects.filter(rule_id="CVE-1").update(status="resolved")
    page = client_of(member).get(f"/models/{run.model.pk}/").content.decode()
    found = re.search(r'<script id="fig-trend" type="application/json">(.*?)</script>', page)
    assert found is not None
    lines = {t["name"]: t["y"] for t in json.loads(html_lib.unescape(found.group(1)))["data"]}
    assert lines["High"][-2:] == [2, 1]  # yesterday's rollup, today's live count
    assert lines["High"][0] is None  # no rollup 90 days ago
