"""``warden gate`` (the CI client) reads the policy-driven verdict from a live server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from governance.findings.models import Finding
from governance.policies.services import exception_approve, exception_request
from tests.test_cli_client import warden

FIXTURE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "modelscan" / "malicious_os_system.json"
)
pytestmark = pytest.mark.django_db(transaction=True)


def test_cli_gate_fails_on_an_unsafe_pickle_and_passes_once_the_risk_is_accepted(
    live_server: Any, team_alpha: Any, make_token: Any, member: Any, lead: Any
) -> None:
    token = make_token(team_alpha, "write")
    result = warden(
        "upload",
        "--create-model",
        str(FIXTURE),
        "--model",
        "churn",
        "--version",
        "1.0",
        "--fail-on-gate",
        url=live_server.url,
        token=token,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[fail] no-open-critical: 1 open critical finding" in result.stdout

    gate = warden("gate", "--model", "churn", "--version", "1.0", url=live_server.url, token=token)
    assert gate.returncode == 1
    assert "gate: FAIL" in gate.stdout

    finding = Finding.objects.get()
    exception = exception_request(
        actor=member,
        finding=finding,
        expires_at=timezone.now() + timedelta(days=30),
        justification="isolated loader, tracked",
    )
    exception_approve(exception=exception, actor=lead)
    gate = warden("gate", "--model", "churn", "--version", "1.0", url=live_server.url, token=token)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "gate: PASS" in gate.stdout
