"""Admission answers are cached, and any change of the digest's model is seen at once: a
scan, a triage, an exception, a policy, a retirement. A cached answer costs two queries."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.findings.models import Finding

pytestmark = pytest.mark.django_db

WEIGHTS = b"model weights"
DIGEST = hashlib.sha256(WEIGHTS).hexdigest()


def _scan(findings: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {
            "schema": "warden.modelscan/v1",
            "tool": "warden-modelscan",
            "version": "0.1.0",
            "files": [
                {
                    "path": "model.pt",
                    "format": "pytorch",
                    "sha256": DIGEST,
                    "size": len(WEIGHTS),
                    "findings": findings,
                }
            ],
        }
    )


CRITICAL = {"fingerprint": "c" * 64, "rule_id": "pickle-dangerous-callable",
            "title": "pickle calls posix.system", "severity": "critical"}  # fmt: skip


@pytest.fixture
def token(team_alpha: Any, make_token: Any) -> str:
    return make_token(team_alpha, "read")


@pytest.fixture
def writer(team_alpha: Any, make_token: Any) -> str:
    return make_token(team_alpha, "write")


def _allowed(api: Any, token: str) -> bool:
    body = api(token).get(f"/api/v1/artifacts/{DIGEST}/admission").json()
    allowed: bool = body["allowed"]
    return allowed


def test_a_cached_answer_costs_two_queries(upload: Any, api: Any, token: str, writer: str) -> None:
    upload(writer, _scan([]), model="m", version="1")
    client = api(token)
    assert client.get(f"/api/v1/artifacts/{DIGEST}/admission").json()["allowed"] is True
    with CaptureQueriesContext(connection) as cached:
        assert client.get(f"/api/v1/artifacts/{DIGEST}/admission").json()["allowed"] is True
    # the token, and the versions carrying the digest with their models' gate stamps
    assert len(cached) == 2, [q["sql"][:80] for q in cached.captured_queries]


def test_a_new_scan_finding_invalidates_the_cached_answer(
    upload: Any, api: Any, token: str, writer: str
) -> None:
    upload(writer, _scan([]), model="m", version="1")
    assert _allowed(api, token) is True
    upload(writer, _scan([CRITICAL]) + b" ", model="m", version="1")
    assert _allowed(api, token) is False


def test_a_triage_and_its_reversal_are_seen_at_once(
    upload: Any, api: Any, token: str, writer: str, client_of: Any, lead: Any
) -> None:
    upload(writer, _scan([CRITICAL]), model="m", version="1")
    assert _allowed(api, token) is False
    finding = Finding.objects.get()
    c = client_of(lead)
    c.patch(f"/api/v1/findings/{finding.pk}/", {"status": "false_positive", "reason": "benign"},
            content_type="application/json")  # fmt: skip
    assert _allowed(api, token) is True
    c.patch(f"/api/v1/findings/{finding.pk}/", {"status": "open"}, content_type="application/json")
    assert _allowed(api, token) is False


def test_an_approved_exception_is_seen_at_once(
    upload: Any, api: Any, token: str, writer: str, client_of: Any, member: Any, lead: Any
) -> None:
    upload(writer, _scan([CRITICAL]), model="m", version="1")
    assert _allowed(api, token) is False
    finding = Finding.objects.get()
    requested = client_of(member).post(
        "/api/v1/exceptions/",
        {"finding": finding.pk, "justification": "sandboxed loader only", "days": 10},
        content_type="application/json",
    )
    assert requested.status_code == 201
    client_of(lead).post(f"/api/v1/exceptions/{requested.json()['id']}/approve/", {})
    assert _allowed(api, token) is True


def test_a_policy_change_is_seen_at_once(
    upload: Any, api: Any, token: str, writer: str, client_of: Any, lead: Any
) -> None:
    upload(writer, _scan([{**CRITICAL, "severity": "medium"}]), model="m", version="1")
    assert _allowed(api, token) is True
    strict = {"schema": "warden.policy/v1", "name": "no-medium",
              "thresholds": [{"id": "no-medium", "severities": ["medium"]}]}  # fmt: skip
    created = client_of(lead).post(
        "/api/v1/policies/", {"team": "alpha", "document": strict}, content_type="application/json"
    )
    assert created.status_code == 201
    assert _allowed(api, token) is False


def test_a_retirement_is_seen_at_once(
    upload: Any, api: Any, token: str, writer: str, client_of: Any, lead: Any
) -> None:
    upload(writer, _scan([]), model="m", version="1")
    assert _allowed(api, token) is True
    client_of(lead).patch(
        "/api/v1/models/m/versions/1/", {"retired": True}, content_type="application/json"
    )
    assert _allowed(api, token) is False


def test_an_exception_expiring_is_seen_at_once(
    upload: Any, api: Any, token: str, writer: str, client_of: Any, member: Any, lead: Any
) -> None:
    from governance.policies.services import exceptions_expire

    upload(writer, _scan([CRITICAL]), model="m", version="1")
    finding = Finding.objects.get()
    requested = (
        client_of(member)
        .post(
            "/api/v1/exceptions/",
            {"finding": finding.pk, "justification": "sandboxed loader only", "days": 1},
            content_type="application/json",
        )
        .json()
    )
    client_of(lead).post(f"/api/v1/exceptions/{requested['id']}/approve/", {})
    assert _allowed(api, token) is True
    exceptions_expire(now=timezone.now() + timedelta(days=2))
    assert _allowed(api, token) is False


def test_each_question_is_recorded_once_a_minute_with_its_answer(
    upload: Any, api: Any, token: str, writer: str, client_of: Any, lead: Any
) -> None:
    from governance.policies.models import AdmissionQuery

    upload(writer, _scan([CRITICAL]), model="m", version="1")
    client = api(token)
    for _ in range(5):
        client.get(f"/api/v1/artifacts/{DIGEST}/admission?environment=prod-eu")
    client.get(f"/api/v1/artifacts/{DIGEST}/admission", HTTP_X_WARDEN_ENVIRONMENT="prod-us")
    rows = list(AdmissionQuery.objects.order_by("environment"))
    assert [(r.environment, r.allowed, r.verdict, r.version) for r in rows] == [
        ("prod-eu", False, "fail", "1"),
        ("prod-us", False, "fail", "1"),
    ]
    assert rows[0].asked_by == "token:ci-read"
    log = client_of(lead).get(f"/api/v1/admission-log/?digest={DIGEST}").json()["results"]
    assert {(r["environment"], r["allowed"], r["model"]) for r in log} == {
        ("prod-eu", False, "m"), ("prod-us", False, "m"),
    }  # fmt: skip
