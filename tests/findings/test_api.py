from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.findings.models import Finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team_alpha: Any, seed_findings: Any, member: Any) -> dict[str, Any]:
    a = seed_findings(
        team_alpha,
        "churn",
        [("CVE-1", "critical"), ("CVE-2", "high"), ("CVE-3", "low")],
        version="1.0",
    )
    b = seed_findings(
        team_alpha,
        "fraud",
        [("CVE-4", "medium"), ("GARAK-1", "high")],
        tool="garak",
        category="assessment",
    )
    return {"churn": a.model, "fraud": b.model}


def _ids(body: dict[str, Any]) -> set[str]:
    return {row["vuln_id"] for row in body["results"]}


def test_filters_narrow_the_list(client_of: Any, member: Any, world: Any) -> None:
    c = client_of(member)
    assert _ids(c.get("/api/v1/findings/").json()) == {
        "CVE-1",
        "CVE-2",
        "CVE-3",
        "CVE-4",
        "GARAK-1",
    }
    assert _ids(c.get("/api/v1/findings/?severity=critical,high").json()) == {
        "CVE-1",
        "CVE-2",
        "GARAK-1",
    }
    assert _ids(c.get("/api/v1/findings/?model=churn").json()) == {"CVE-1", "CVE-2", "CVE-3"}
    assert _ids(c.get(f"/api/v1/findings/?model={world['fraud'].pk}").json()) == {
        "CVE-4",
        "GARAK-1",
    }
    assert _ids(c.get("/api/v1/findings/?category=assessment").json()) == {"CVE-4", "GARAK-1"}
    assert _ids(c.get("/api/v1/findings/?tool=garak").json()) == {"CVE-4", "GARAK-1"}
    assert _ids(c.get("/api/v1/findings/?version=1.0").json()) == {"CVE-1", "CVE-2", "CVE-3"}
    assert _ids(c.get("/api/v1/findings/?team=alpha&status=open").json()) == {
        "CVE-1",
        "CVE-2",
        "CVE-3",
        "CVE-4",
        "GARAK-1",
    }
    assert _ids(c.get("/api/v1/findings/?status=resolved").json()) == set()
    assert _ids(c.get("/api/v1/findings/?since=2999-01-01").json()) == set()
    assert len(_ids(c.get("/api/v1/findings/?since=2000-01-01T00:00:00Z").json())) == 5


def test_bad_filter_values_are_400_naming_the_value(
    client_of: Any, member: Any, world: Any
) -> None:
    c = client_of(member)
    response = c.get("/api/v1/findings/?severity=urgent")
    assert response.status_code == 400
    assert response.json()["error"].startswith("unknown severity 'urgent'")
    assert c.get("/api/v1/findings/?since=yesterday").status_code == 400
    assert c.get("/api/v1/findings/?ordering=description").status_code == 400


def test_cursor_pagination_walks_every_row_once(client_of: Any, member: Any, world: Any) -> None:
    c = client_of(member)
    seen: list[int] = []
    url = "/api/v1/findings/?page_size=2"
    while url:
        body = c.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == 5 == len(set(seen))
    assert seen == sorted(seen, reverse=True)


def test_list_query_count_is_fixed(
    client_of: Any, member: Any, team_alpha: Any, seed_findings: Any, world: Any
) -> None:
    c = client_of(member)
    with CaptureQueriesContext(connection) as few:
        c.get("/api/v1/findings/")
    seed_findings(team_alpha, "more", [(f"CVE-9{i}", "low") for i in range(40)])
    with CaptureQueriesContext(connection) as many:
        body = c.get("/api/v1/findings/").json()
    assert len(body["results"]) == 45
    # Session + user + teams + one page query with joined model/team/version/assignee.
    assert len(many) == len(few)


def test_detail_has_evidence_and_tools(client_of: Any, member: Any, world: Any) -> None:
    f = Finding.objects.get(vuln_id="CVE-1")
    body = client_of(member).get(f"/api/v1/findings/{f.pk}/").json()
    assert body["tools"] == ["trivy"]
    assert body["model"] == "churn"
    assert body["version"] == "1.0"
    assert "evidence" in body


def test_false_positive_needs_a_reason(client_of: Any, member: Any, world: Any) -> None:
    f = Finding.objects.get(vuln_id="CVE-1")
    c = client_of(member)
    response = c.patch(
        f"/api/v1/findings/{f.pk}/", {"status": "false_positive"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "a reason is required to mark a finding false_positive"
    response = c.patch(
        f"/api/v1/findings/{f.pk}/",
        {"status": "false_positive", "reason": "test fixture only"},
        content_type="application/json",
    )
    assert response.status_code == 200
    event = f.events.get()
    assert (event.actor, event.from_value, event.to_value, event.reason) == (
        member,
        "open",
        "false_positive",
        "test fixture only",
    )


def test_only_a_lead_accepts_risk_directly(
    client_of: Any, member: Any, lead: Any, world: Any
) -> None:
    f = Finding.objects.get(vuln_id="CVE-2")
    body = {"status": "risk_accepted", "reason": "compensating control"}
    response = client_of(member).patch(
        f"/api/v1/findings/{f.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 403
    assert "exception" in response.json()["error"]
    response = client_of(lead).patch(
        f"/api/v1/findings/{f.pk}/", body, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "risk_accepted"


def test_viewer_cannot_triage_or_comment(client_of: Any, viewer: Any, world: Any) -> None:
    f = Finding.objects.get(vuln_id="CVE-3")
    c = client_of(viewer)
    assert c.get(f"/api/v1/findings/{f.pk}/").status_code == 200
    assert (
        c.patch(
            f"/api/v1/findings/{f.pk}/", {"status": "confirmed"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert (
        c.post(
            f"/api/v1/findings/{f.pk}/comments/", {"text": "hi"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert f.events.count() == 0


def test_assign_to_a_teammate_and_comment(
    client_of: Any, member: Any, teammate: Any, outsider: Any, world: Any
) -> None:
    f = Finding.objects.get(vuln_id="CVE-3")
    c = client_of(member)
    response = c.patch(
        f"/api/v1/findings/{f.pk}/", {"assignee": "teammate"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["assignee"] == "teammate"
    response = c.patch(
        f"/api/v1/findings/{f.pk}/", {"assignee": "outsider"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "'outsider' is not a member of this team"
    response = c.post(
        f"/api/v1/findings/{f.pk}/comments/",
        {"text": "looking into it"},
        content_type="application/json",
    )
    assert response.status_code == 201
    events = c.get(f"/api/v1/findings/{f.pk}/events/").json()
    assert [(e["kind"], e["actor"], e["to_value"], e["reason"]) for e in events] == [
        ("assign", "member", "teammate", ""),
        ("comment", "member", "", "looking into it"),
    ]


def test_empty_patch_is_a_400(client_of: Any, member: Any, world: Any) -> None:
    f = Finding.objects.get(vuln_id="CVE-3")
    response = client_of(member).patch(
        f"/api/v1/findings/{f.pk}/", {}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("nothing to change")


def test_gate_by_model_name_and_version(client_of: Any, member: Any, world: Any) -> None:
    c = client_of(member)
    body = c.get("/api/v1/models/churn/gate/?version=1.0").json()
    assert body["verdict"] == "fail"
    assert {r["rule"] for r in body["reasons"]} == {"no-open-critical", "no-open-high"}
    crit = Finding.objects.get(vuln_id="CVE-1")
    high = Finding.objects.get(vuln_id="CVE-2")
    assert next(r for r in body["reasons"] if r["rule"] == "no-open-critical")["findings"] == [
        crit.pk
    ]
    for f in (crit, high):
        c.patch(
            f"/api/v1/findings/{f.pk}/", {"status": "resolved"}, content_type="application/json"
        )
    assert c.get("/api/v1/models/churn/gate/?version=1.0").json() == {
        "model": "churn",
        "model_id": world["churn"].pk,
        "version": "1.0",
        "verdict": "pass",
        "reasons": [],
    }
    assert c.get("/api/v1/models/churn/gate/?version=9.9").status_code == 404


def test_schema_and_docs_need_login_and_render(client: Any, client_of: Any, member: Any) -> None:
    assert client.get("/api/schema/").status_code in (401, 403)
    c = client_of(member)
    schema = c.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/scans/" in schema.content
    docs = c.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
