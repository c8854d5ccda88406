"""The model page shows where the model runs and charts what production reported, per
deployment and rule, from the hourly rollup."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from governance.inventory.models import MLModel
from tests.runtime.test_deployments import CLEAN, _scan

pytestmark = pytest.mark.django_db


def _figure(page: str) -> dict[str, Any]:
    found = re.search(r'<script id="fig-events" type="application/json">(.*?)</script>', page,
                      re.S)  # fmt: skip
    assert found is not None
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_deployments_and_event_rates_per_rule(
    client_of: Any, member: Any, make_token: Any, team_alpha: Any, upload: Any, api: Any
) -> None:
    token = make_token(team_alpha, "write")
    upload(token, _scan(CLEAN, []), model="m", version="1")
    client = api(token)
    for env in ("prod-eu", "prod-us"):
        r = client.post("/api/v1/deployments/", {"model": "m", "version": "1",
                        "environment": env}, format="json")  # fmt: skip
        assert r.status_code == 201, r.content
    now = timezone.now()
    an_hour_ago = (now - timedelta(hours=1)).isoformat()
    batch = {"deployment": {"model": "m", "environment": "prod-eu"}, "events": [
        {"time": an_hour_ago, "kind": "firewall_block", "rule": "prompt_injection", "count": 7},
        {"time": an_hour_ago, "kind": "firewall_block", "rule": "prompt_injection", "count": 5},
        {"time": now.isoformat(), "kind": "firewall_block", "rule": "pii", "count": 2},
    ]}  # fmt: skip
    assert client.post("/api/v1/events/", batch, format="json").status_code == 202
    model = MLModel.objects.get(name="m")
    page = client_of(member).get(f"/models/{model.pk}/").content.decode()
    section = page.split('id="deployments"')[1].split("</section>")[0]
    assert "prod-eu" in section
    assert "prod-us" in section
    assert section.count("<strong>running</strong>") == 2
    traces = {t["name"]: t for t in _figure(page)["data"]}
    assert set(traces) == {"prod-eu firewall_block/prompt_injection", "prod-eu firewall_block/pii"}
    assert sum(traces["prod-eu firewall_block/prompt_injection"]["y"]) == 12  # counts add up
    assert len(traces["prod-eu firewall_block/pii"]["y"]) == 7 * 24  # every hour, zeros included


def test_a_model_never_deployed_says_how_to_record_one(
    client_of: Any, member: Any, make_token: Any, team_alpha: Any, upload: Any
) -> None:
    upload(make_token(team_alpha, "write"), _scan(CLEAN, []), model="m", version="1")
    page = client_of(member).get(f"/models/{MLModel.objects.get(name='m').pk}/").content.decode()
    assert "warden deploy" in page
    assert 'id="fig-events"' not in page
