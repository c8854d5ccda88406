"""Every real sample report in tests/fixtures imports through the HTTP API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from governance.findings.models import Finding

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Inputs to the tools, not reports: bandit scanned this file to produce its reports.
NOT_REPORTS = {"bandit/insecure_app.py.txt"}
SAMPLES = sorted(
    str(p.relative_to(FIXTURES))
    for p in FIXTURES.rglob("*")
    if p.is_file() and str(p.relative_to(FIXTURES)) not in NOT_REPORTS
)


@pytest.mark.django_db
@pytest.mark.parametrize("sample", SAMPLES)
def test_sample_report_imports_and_reimports_idempotently(
    upload: Any, make_token: Any, team_alpha: Any, sample: str
) -> None:
    token = make_token(team_alpha)
    data = (FIXTURES / sample).read_bytes()
    response = upload(token, data, model="sample-model", version="1")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "done"
    assert body["scan_type"]
    assert body["counts"]["total"] == body["counts"]["new"]
    assert Finding.objects.filter(model__name="sample-model").count() == body["counts"]["total"]
    assert body["gate"]["verdict"] in ("pass", "warn", "fail")
    again = upload(token, data, model="sample-model", version="1")
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]


def test_the_sample_set_is_not_empty() -> None:
    assert len(SAMPLES) >= 60
