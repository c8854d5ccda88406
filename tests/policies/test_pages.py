"""The policies page: everyone reads, leads edit, outsiders get 404, forms need CSRF."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from governance.findings.models import Finding
from governance.policies.models import RiskException, RiskPolicy
from governance.policies.services import exception_request

pytestmark = pytest.mark.django_db

YAML = """schema: warden.policy/v1
name: page-made
thresholds:
  - id: no-crit
    severities: [critical]
"""


@pytest.fixture
def policy(make_policy: Any, team_alpha: Any) -> RiskPolicy:
    return make_policy(
        team_alpha,
        name="alpha-policy",
        description="for alpha models",
        applies_to={"risk_tiers": ["high"]},
    )


def test_anonymous_users_are_sent_to_log_in(client: Any, policy: RiskPolicy) -> None:
    for url in ("/policies/", f"/policies/{policy.pk}/", "/policies/new/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_the_list_shows_team_org_and_builtin_policies(
    client_of: Any, viewer: Any, outsider: Any, policy: RiskPolicy, make_policy: Any
) -> None:
    make_policy(None, name="org-wide")
    page = client_of(viewer).get("/policies/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-policy="alpha-policy"' in html
    assert 'data-policy="org-wide"' in html
    assert "Built-in default" in html
    assert 'href="/policies/"' in html  # the nav link
    assert "New policy" not in html  # viewers cannot create
    other = client_of(outsider).get("/policies/").content.decode()
    assert "alpha-policy" not in other
    assert 'data-policy="org-wide"' in other


def test_viewers_read_a_policy_without_an_edit_form(
    client_of: Any, viewer: Any, policy: RiskPolicy
) -> None:
    html = client_of(viewer).get(f"/policies/{policy.pk}/").content.decode()
    assert "policy-document" in html
    assert "<textarea" not in html
    assert "r1" in html


def test_a_lead_edits_a_policy_through_the_form_with_csrf(lead: Any, policy: RiskPolicy) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(lead)
    page = browser.get(f"/policies/{policy.pk}/")
    assert "<textarea" in page.content.decode()
    token = page.cookies["csrftoken"].value
    assert browser.post(f"/policies/{policy.pk}/", {"document": YAML}).status_code == 403
    response = browser.post(
        f"/policies/{policy.pk}/",
        {"document": YAML, "change_note": "from the page", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert (policy.name, policy.revision) == ("page-made", 2)
    assert policy.revisions.get(number=2).change_note == "from the page"


def test_a_bad_document_is_shown_back_with_the_problem(
    client_of: Any, lead: Any, policy: RiskPolicy
) -> None:
    response = client_of(lead).post(
        f"/policies/{policy.pk}/", {"document": "schema: warden.policy/v1\nname: x\nbogus: 1\n"}
    )
    assert response.status_code == 400
    assert "invalid policy: bogus: unknown field" in response.content.decode()
    policy.refresh_from_db()
    assert policy.revision == 1


@pytest.mark.parametrize(("who", "status"), [("member", 403), ("viewer", 403), ("outsider", 404)])
def test_only_leads_of_the_team_change_policies(
    request: Any, client_of: Any, policy: RiskPolicy, who: str, status: int
) -> None:
    c = client_of(request.getfixturevalue(who))
    assert c.post(f"/policies/{policy.pk}/", {"document": YAML}).status_code == status
    assert c.post(f"/policies/{policy.pk}/delete/").status_code == status
    policy.refresh_from_db()
    assert (policy.revision, policy.archived_at) == (1, None)


def test_outsiders_get_404_for_every_page_of_a_policy(
    client_of: Any, outsider: Any, policy: RiskPolicy
) -> None:
    c = client_of(outsider)
    for url in (f"/policies/{policy.pk}/", f"/policies/{policy.pk}/export/"):
        assert c.get(url).status_code == 404


def test_a_lead_creates_and_deletes_a_policy(client_of: Any, lead: Any) -> None:
    c = client_of(lead)
    form = c.get("/policies/new/?team=alpha")
    assert form.status_code == 200
    assert "example" in form.content.decode().lower()
    created = c.post("/policies/new/", {"team": "alpha", "document": YAML})
    assert created.status_code == 302
    policy = RiskPolicy.objects.get(name="page-made")
    assert policy.team.slug == "alpha"
    assert c.post("/policies/new/", {"team": "beta", "document": YAML}).status_code == 404
    assert c.post(f"/policies/{policy.pk}/delete/").status_code == 302
    policy.refresh_from_db()
    assert policy.archived_at is not None


def test_members_cannot_open_the_new_policy_form(client_of: Any, member: Any) -> None:
    assert client_of(member).get("/policies/new/").status_code == 403


def test_export_and_schema_downloads(client_of: Any, viewer: Any, policy: RiskPolicy) -> None:
    c = client_of(viewer)
    exported = c.get(f"/policies/{policy.pk}/export/?as=json")
    assert exported["Content-Disposition"] == f'attachment; filename="policy-{policy.pk}.json"'
    assert json.loads(exported.content)["name"] == "alpha-policy"
    schema = c.get("/policies/schema.json")
    assert json.loads(schema.content)["$id"] == "urn:warden:schema:warden-policy:v1"


def test_leads_decide_pending_exceptions_on_the_page(
    client_of: Any, member: Any, lead: Any, outsider: Any, team_alpha: Any, seed_findings: Any
) -> None:
    seed_findings(team_alpha, "churn", [("CVE-1", "critical")])
    finding = Finding.objects.get()
    exception = exception_request(
        actor=member,
        finding=finding,
        justification="for the demo day",
        expires_at=timezone.now() + timedelta(days=3),
    )
    url = f"/policies/exceptions/{exception.pk}/decide/"
    html = client_of(member).get("/policies/").content.decode()
    assert f'data-exception="{exception.pk}"' in html
    assert 'value="approve"' not in html
    refused = client_of(member).post(url, {"decision": "approve"}, follow=True)
    assert refused.redirect_chain[-1][1] == 302
    assert "only a lead of the team can approve exceptions" in refused.content.decode()
    assert client_of(outsider).post(url, {"decision": "approve"}).status_code == 404
    html = client_of(lead).get("/policies/").content.decode()
    assert 'value="approve"' in html
    response = client_of(lead).post(url, {"decision": "reject"})  # no reason: refused
    assert response.status_code == 302
    assert RiskException.objects.get().status == "requested"
    client_of(lead).post(url, {"decision": "approve", "reason": "one demo"})
    assert RiskException.objects.get().status == "approved"
    finding.refresh_from_db()
    assert finding.status == "risk_accepted"
