"""Exceptions in the browser's pages: request from a finding or a selection, the lists by
state, decisions with a comment, who can decide (four eyes), and refusals said inline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from governance.findings.models import Finding
from governance.policies.models import RiskException, RiskPolicy
from governance.policies.services import exception_request
from tests.conftest import _user

pytestmark = pytest.mark.django_db


@pytest.fixture
def finding(team_alpha: Any, seed_findings: Any) -> Finding:
    seed_findings(team_alpha, "churn", [("CVE-1", "critical"), ("CVE-2", "high")])
    return Finding.objects.get(vuln_id="CVE-1")


def test_members_are_not_offered_risk_acceptance_and_are_told_why(
    client_of: Any, member: Any, finding: Finding
) -> None:
    c = client_of(member)
    actions = c.get("/findings/").content.decode().split('<form id="bulk"')[1]
    assert 'value="risk_accepted"' not in actions  # neither in the bulk form nor the rows
    detail = c.get(f"/findings/{finding.pk}/").content.decode()
    assert 'value="risk_accepted"' not in detail
    assert "Request an exception" in detail
    # forced anyway: the row comes back with the server's reason, not a bare 403
    response = c.post(
        f"/findings/{finding.pk}/triage/",
        {"status": "risk_accepted", "reason": "fine"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "only a team lead can accept a risk; request an exception instead" in html
    assert "data-refused" in html
    assert f'data-status="{finding.status}"' in html
    # and on the detail page (no htmx), a message after the redirect
    page = c.post(
        f"/findings/{finding.pk}/triage/", {"status": "risk_accepted", "reason": "x"}, follow=True
    )
    assert "request an exception instead" in page.content.decode()


def test_leads_are_offered_risk_acceptance(client_of: Any, lead: Any, finding: Finding) -> None:
    page = client_of(lead).get("/findings/").content.decode()
    assert 'value="risk_accepted"' in page.split('<form id="bulk"')[1]


def test_a_member_requests_from_the_finding_and_a_second_lead_approves(
    client_of: Any, member: Any, lead: Any, team_alpha: Any, finding: Finding
) -> None:
    c = client_of(member)
    response = c.post(
        "/policies/exceptions/request/",
        {"finding": finding.pk, "justification": "compensating WAF rule", "days": "10"},
        follow=True,
    )
    assert response.redirect_chain == [(f"/findings/{finding.pk}/", 302)]
    exception = RiskException.objects.get()
    assert (exception.finding, exception.requested_by) == (finding, member)
    assert "Requested 1 exception(s)" in response.content.decode()
    # the pending list links the subject and names who may decide
    pending = c.get("/policies/exceptions/").content.decode()
    assert f'href="/findings/{finding.pk}/" data-subject' in pending
    assert "Can decide: lead" in pending
    assert 'value="approve"' not in pending  # a member cannot decide
    # the lead decides with a comment, in place (htmx)
    html = (
        client_of(lead)
        .post(
            f"/policies/exceptions/{exception.pk}/decide/",
            {"decision": "approve", "reason": "until the patch ships"},
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert f"Exception #{exception.pk} approved." in html
    finding.refresh_from_db()
    assert finding.status == "risk_accepted"
    active = client_of(lead).get("/policies/exceptions/?state=active").content.decode()
    assert f'data-exception="{exception.pk}"' in active
    assert "until the patch ships" in active
    detail = client_of(lead).get(f"/findings/{finding.pk}/").content.decode()
    assert "the risk is accepted until" in detail


def test_a_lead_alone_is_told_who_else_is_needed(
    client_of: Any, lead: Any, team_alpha: Any, finding: Finding
) -> None:
    exception = exception_request(
        actor=lead,
        finding=finding,
        justification="only lead of the team",
        expires_at=timezone.now() + timedelta(days=3),
    )
    c = client_of(lead)
    html = c.get("/policies/exceptions/").content.decode()
    assert "No one can decide this yet" in html
    assert "second person with the <strong>lead</strong> role in Alpha" in html
    assert 'value="approve"' not in html
    # four eyes, said inline when forced
    refused = c.post(
        f"/policies/exceptions/{exception.pk}/decide/",
        {"decision": "approve"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "four eyes: you requested" in refused
    _user("lead2", team_alpha, "lead")
    assert "Can decide: lead2" in c.get("/policies/").content.decode()


def test_exceptions_for_a_selection_each_judged_alone(
    client_of: Any, member: Any, team_alpha: Any, finding: Finding
) -> None:
    other = Finding.objects.get(vuln_id="CVE-2")
    Finding.objects.filter(pk=other.pk).update(status="resolved")  # not open: refused
    html = (
        client_of(member)
        .post(
            "/policies/exceptions/request/",
            {
                "scope": "selected",
                "ids": [finding.pk, other.pk],
                "justification": "vendor fix due next sprint",
                "days": "14",
            },
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert 'data-requested="1"' in html
    assert "is resolved; only open findings need an exception" in html
    assert RiskException.objects.get().finding == finding
    # too long for the policy: refused with the limit
    html = (
        client_of(member)
        .post(
            "/policies/exceptions/request/",
            {"scope": "filter", "query": "status=all", "justification": "x" * 20, "days": "400"},
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert "allows exceptions of at most" in html


def test_viewers_cannot_request(client_of: Any, viewer: Any, finding: Finding) -> None:
    c = client_of(viewer)
    assert "Request an exception" not in c.get(f"/findings/{finding.pk}/").content.decode()
    page = c.post(
        "/policies/exceptions/request/",
        {"finding": finding.pk, "justification": "please let me", "days": "3"},
        follow=True,
    )
    assert "viewers cannot request exceptions" in page.content.decode()
    assert not RiskException.objects.exists()


def test_policy_delete_asks_to_confirm(
    client_of: Any, lead: Any, make_policy: Any, team_alpha: Any
) -> None:
    policy = make_policy(team_alpha, name="strict")
    c = client_of(lead)
    detail = c.get(f"/policies/{policy.pk}/").content.decode()
    assert f'class="button danger" href="/policies/{policy.pk}/delete/"' in detail
    confirm = c.get(f"/policies/{policy.pk}/delete/").content.decode()
    assert "Delete the policy &#x27;strict&#x27;?" in confirm
    assert "gate results may change" in confirm
    assert '<button type="submit" class="danger" data-confirm>' in confirm
    assert RiskPolicy.objects.get(pk=policy.pk).archived_at is None
    done = c.post(f"/policies/{policy.pk}/delete/", {"change_note": "too strict"})
    assert done.status_code == 302
    assert RiskPolicy.objects.get(pk=policy.pk).archived_at is not None


def test_the_api_requests_exceptions_for_many_findings(
    client_of: Any, member: Any, finding: Finding
) -> None:
    other = Finding.objects.get(vuln_id="CVE-2")
    c = client_of(member)
    body = c.post(
        "/api/v1/exceptions/bulk/",
        {"findings": [finding.pk, other.pk], "justification": "pilot only, 2 weeks", "days": 14},
        content_type="application/json",
    ).json()
    assert sorted(e["finding"] for e in body["requested"]) == sorted([finding.pk, other.pk])
    assert body["refused"] == []
    again = c.post(
        "/api/v1/exceptions/bulk/",
        {"filter": {"model": "churn"}, "justification": "pilot only, 2 weeks", "days": 14},
        content_type="application/json",
    ).json()
    assert again["requested"] == []
    assert again["refused"][0]["count"] == 2
    assert "is already requested" in again["refused"][0]["reason"]
