"""The dashboard's headline "in production, failing their gate": models with an active
deployment whose version's gate fails now, and which deployments they are."""

from __future__ import annotations

from typing import Any

import pytest

from governance.findings.models import Finding
from governance.findings.services import finding_triage
from tests.runtime.test_deployments import CLEAN, CRITICAL, EVIL, _scan
from tests.web.test_dashboard import _metric

pytestmark = pytest.mark.django_db


def test_counts_deployed_models_whose_gate_fails_and_follows_every_change(
    client_of: Any, lead: Any, make_token: Any, team_alpha: Any, upload: Any, api: Any
) -> None:
    token = make_token(team_alpha, "write")
    upload(token, _scan(CLEAN, []), model="safe", version="1")
    upload(token, _scan(EVIL, [CRITICAL]), model="risky", version="2")
    upload(token, _scan(EVIL, [CRITICAL]), model="shelved", version="1")  # never deployed
    client = client_of(lead)
    assert _metric(client.get("/dashboard/").content.decode(), "production-failing") == "0"
    for model, version in (("safe", "1"), ("risky", "2")):
        r = api(token).post("/api/v1/deployments/", {"model": model, "version": version,
                            "environment": "prod-eu"}, format="json")  # fmt: skip
        assert r.status_code == 201, r.content
    page = client.get("/dashboard/").content.decode()
    assert _metric(page, "production-failing") == "1"
    assert "of 2 deployed models" in page
    assert "Running now, failing their gate" in page
    assert "risky" in page.split("Running now, failing their gate")[1].split("</table>")[0]
    assert "shelved" not in page.split("Running now, failing their gate")[1].split("</table>")[0]
    # a lead marks the critical (and the refusal its deployment raised) false positives:
    # the next load says so at once (the cached verdict is under the old stamp)
    for finding in Finding.objects.filter(model__name="risky", severity="critical"):
        finding_triage(finding=finding, actor=lead, status="false_positive", reason="test")
    page = client.get("/dashboard/").content.decode()
    assert _metric(page, "production-failing") == "0"
    assert "Running now, failing their gate" not in page
    assert "of 2 deployed models" in page


def test_other_teams_deployments_are_never_counted(
    client_of: Any, outsider: Any, make_token: Any, team_alpha: Any, upload: Any, api: Any
) -> None:
    token = make_token(team_alpha, "write")
    upload(token, _scan(EVIL, [CRITICAL]), model="risky", version="2")
    r = api(token).post("/api/v1/deployments/", {"model": "risky", "version": "2",
                        "environment": "prod"}, format="json")  # fmt: skip
    assert r.status_code == 201
    page = client_of(outsider).get("/dashboard/").content.decode()
    assert _metric(page, "production-failing") == "0"
    assert "risky</a>" not in page
    assert "of 0 deployed models" in page
