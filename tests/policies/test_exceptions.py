"""Exception requests: who may ask, for what, for how long; expiry; listing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from governance.findings.models import Finding
from governance.policies.gate import gate_evaluate
from governance.policies.models import PolicyEvent, RiskException
from governance.policies.services import exception_approve, exception_request, exceptions_expire

pytestmark = pytest.mark.django_db


@pytest.fixture
def finding(team_alpha: Any, make_model: Any, import_report: Any) -> Finding:
    model = make_model(team_alpha, name="churn")
    import_report(model, findings=[{"id": "CVE-1", "severity": "critical"}])
    return Finding.objects.get()


def _ask(client: Any, finding: Finding, **body: Any) -> Any:
    payload = {"finding": finding.pk, "days": 30, "justification": "compensating control X", **body}
    return client.post("/api/v1/exceptions/", payload, content_type="application/json")


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"days": 91}, 400, "allows exceptions of at most 90 days"),
        (
            {"days": None, "expires_at": "2000-01-01T00:00:00Z"},
            400,
            "expires_at must be in the future",
        ),
        ({"justification": "because"}, 400, "a justification of at least 10 characters"),
        ({"rule": "x"}, 400, "rule: name a model with a rule, not a finding"),
        ({"model": "churn"}, 400, "name either a finding, or a model and a rule"),
    ],
)
def test_requests_are_validated(
    client_of: Any, member: Any, finding: Finding, body: Any, status: int, error: str
) -> None:
    payload = {k: v for k, v in body.items() if v is not None}
    if body.get("days", 0) is None:
        response = client_of(member).post(
            "/api/v1/exceptions/",
            {"finding": finding.pk, "justification": "compensating control X", **payload},
            content_type="application/json",
        )
    else:
        response = _ask(client_of(member), finding, **payload)
    assert response.status_code == status, response.content
    assert error in response.json()["error"]
    assert not RiskException.objects.exists()


def test_viewers_tokens_and_other_teams_cannot_request(
    client_of: Any,
    viewer: Any,
    outsider: Any,
    api: Any,
    make_token: Any,
    team_alpha: Any,
    finding: Finding,
) -> None:
    r = _ask(client_of(viewer), finding)
    assert (r.status_code, r.json()["error"]) == (403, "viewers cannot request exceptions")
    r = api(make_token(team_alpha, "write")).post(
        "/api/v1/exceptions/",
        {"finding": finding.pk, "days": 5, "justification": "compensating control X"},
        format="json",
    )
    assert r.status_code == 403
    assert _ask(client_of(outsider), finding).status_code == 404
    assert not RiskException.objects.exists()


def test_one_open_request_per_finding_and_only_for_open_findings(
    client_of: Any, member: Any, teammate: Any, finding: Finding
) -> None:
    assert _ask(client_of(member), finding).status_code == 201
    again = _ask(client_of(teammate), finding)
    assert again.status_code == 409
    assert again.json()["error"].endswith("for this finding is already requested")
    Finding.objects.update(status="resolved")
    RiskException.objects.update(status="rejected")
    closed = _ask(client_of(member), finding)
    assert closed.status_code == 400
    assert closed.json()["error"] == (
        f"finding #{finding.pk} is resolved; only open findings need an exception"
    )


def test_approving_a_finding_that_was_fixed_meanwhile_is_refused(
    member: Any, lead: Any, finding: Finding
) -> None:
    exception = exception_request(
        actor=member,
        finding=finding,
        justification="for a week only",
        expires_at=timezone.now() + timedelta(days=7),
    )
    Finding.objects.update(status="resolved")
    with pytest.raises(Exception, match="is resolved now; there is no open risk to accept"):
        exception_approve(exception=exception, actor=lead)
    exception.refresh_from_db()
    assert exception.status == "requested"


def test_an_unapproved_request_expires_without_touching_the_finding(
    member: Any, finding: Finding
) -> None:
    exception = exception_request(
        actor=member,
        finding=finding,
        justification="for a week only",
        expires_at=timezone.now() + timedelta(days=7),
    )
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        assert exceptions_expire() == [finding.model_id]
    exception.refresh_from_db()
    finding.refresh_from_db()
    assert (exception.status, finding.status) == ("expired", "open")
    assert exception.ended_at is not None
    assert (
        PolicyEvent.objects.filter(kind="exception_expired")
        .get()
        .message.endswith("expired (requested)")
    )


def test_expiry_leaves_a_finding_the_team_triaged_since(
    member: Any, lead: Any, finding: Finding
) -> None:
    exception = exception_request(
        actor=member,
        finding=finding,
        justification="for a week only",
        expires_at=timezone.now() + timedelta(days=7),
    )
    exception_approve(exception=exception, actor=lead)
    Finding.objects.update(status="false_positive")
    with time_machine.travel(timezone.now() + timedelta(days=8), tick=False):
        exceptions_expire()
    finding.refresh_from_db()
    assert finding.status == "false_positive"
    assert RiskException.objects.get().status == "expired"


def test_the_gate_warns_before_accepted_risks_end(member: Any, lead: Any, finding: Finding) -> None:
    exception = exception_request(
        actor=member,
        finding=finding,
        justification="for a while",
        expires_at=timezone.now() + timedelta(days=20),
    )
    exception_approve(exception=exception, actor=lead)
    model, version = finding.model, finding.version
    assert gate_evaluate(model, version).verdict == "pass"
    later = gate_evaluate(model, version, now=timezone.now() + timedelta(days=15))
    assert later.verdict == "warn"
    assert [(r.rule, r.findings) for r in later.reasons] == [("exceptions-ending", [finding.pk])]


def test_listing_is_team_scoped_and_filterable(
    client_of: Any, member: Any, viewer: Any, outsider: Any, finding: Finding
) -> None:
    pk = _ask(client_of(member), finding).json()["id"]
    rows = client_of(viewer).get("/api/v1/exceptions/?status=requested").json()["results"]
    assert [(r["id"], r["requested_by"], r["model"], r["finding"]) for r in rows] == [
        (pk, "member", "churn", finding.pk)
    ]
    assert client_of(viewer).get("/api/v1/exceptions/?status=approved").json()["results"] == []
    assert client_of(viewer).get("/api/v1/exceptions/?status=bogus").status_code == 400
    assert client_of(outsider).get("/api/v1/exceptions/").json()["results"] == []
    assert client_of(outsider).get(f"/api/v1/exceptions/{pk}/").status_code == 404
