"""Bulk triage: one decision for a selection or a whole filter, in one transaction, one audit
event per finding, and an account of what was refused and why."""

from __future__ import annotations

from typing import Any

import pytest

from governance.findings.models import Finding, FindingEvent
from governance.findings.services import findings_bulk_triage

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(team_alpha: Any, team_beta: Any, seed_findings: Any) -> list[int]:
    seed_findings(team_alpha, "churn", [(f"CVE-{i}", "high") for i in range(60)])
    seed_findings(team_beta, "secret", [("CVE-B", "critical")])
    return list(Finding.objects.filter(team=team_alpha).order_by("id").values_list("id", flat=True))


def test_fifty_selected_become_false_positives_with_one_event_each(
    client_of: Any, member: Any, many: list[int]
) -> None:
    chosen = many[:50]
    page = client_of(member).post(
        "/findings/bulk/",
        {"scope": "selected", "ids": chosen, "status": "false_positive", "reason": "test data"},
        HTTP_HX_REQUEST="true",
    )
    html = page.content.decode()
    assert 'data-changed="50"' in html
    assert "Changed 50 of 50 finding(s)." in html
    assert Finding.objects.filter(pk__in=chosen, status="false_positive").count() == 50
    assert Finding.objects.filter(pk__in=many[50:], status="open").count() == 10
    events = FindingEvent.objects.filter(finding_id__in=chosen, kind="status")
    assert events.count() == 50
    assert set(events.values_list("reason", "to_value", "actor__username")) == {
        ("test data", "false_positive", "member")
    }


def test_without_htmx_it_redirects_back_to_the_list_with_a_summary(
    client_of: Any, member: Any, many: list[int]
) -> None:
    response = client_of(member).post(
        "/findings/bulk/",
        {
            "scope": "filter",
            "query": "model=churn&status=active&ordering=-severity&bogus=1",
            "status": "confirmed",
            "page": "2",
        },
        follow=True,
    )
    assert response.redirect_chain == [
        ("/findings/?model=churn&ordering=-severity&status=active&page=2", 302)
    ]
    assert "Changed 60 of 60 finding(s)." in response.content.decode()
    assert Finding.objects.filter(status="confirmed").count() == 60  # not the other team's


def test_refusals_say_why_and_change_nothing_of_theirs(
    client_of: Any, member: Any, viewer: Any, lead: Any, many: list[int]
) -> None:
    Finding.objects.filter(pk=many[0]).update(status="risk_accepted")
    # a member cannot accept risks: every row is refused with the reason and the way out
    html = (
        client_of(member)
        .post(
            "/findings/bulk/",
            {"scope": "selected", "ids": many[:3], "status": "risk_accepted", "reason": "fine"},
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert "only a lead of Alpha can accept a risk; request an exception instead" in html
    assert Finding.objects.filter(status="risk_accepted").count() == 1
    # a viewer changes nothing
    html = (
        client_of(viewer)
        .post(
            "/findings/bulk/",
            {"scope": "selected", "ids": many[:3], "status": "resolved"},
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert "viewers cannot change findings" in html
    # a lead may; the one already accepted is reported as such
    result = findings_bulk_triage(
        user=lead,
        findings_qs=Finding.objects.filter(pk__in=many[:3]),
        status="risk_accepted",
        reason="accepted for the pilot",
    )
    assert len(result.changed) == 2
    assert dict(result.unchanged) == {"already risk accepted": [many[0]]}
    # a reason is required for a false positive
    html = (
        client_of(member)
        .post(
            "/findings/bulk/",
            {"scope": "selected", "ids": many[:3], "status": "false_positive"},
            HTTP_HX_REQUEST="true",
        )
        .content.decode()
    )
    assert "a reason is required" in html


def test_bulk_assign_only_to_members_of_the_team(
    client_of: Any, member: Any, teammate: Any, viewer: Any, outsider: Any, many: list[int]
) -> None:
    c = client_of(member)
    html = c.post(
        "/findings/bulk/",
        {"scope": "selected", "ids": many[:4], "assignee": "teammate"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Changed 4 of 4" in html
    assert Finding.objects.filter(assignee=teammate).count() == 4
    assert FindingEvent.objects.filter(kind="assign", to_value="teammate").count() == 4
    html = c.post(
        "/findings/bulk/",
        {"scope": "selected", "ids": many[:2], "assignee": "viewer"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "viewer is not a member or lead of Alpha" in html
    # the list offers members and leads only
    listed = [m.user.username for m in c.get("/findings/").context["assignees"]]
    assert "viewer" not in listed
    assert "teammate" in listed
    assert "outsider" not in listed


def test_another_teams_ids_are_ignored_on_the_page_and_404_in_the_api(
    client_of: Any, member: Any, many: list[int]
) -> None:
    theirs = Finding.objects.get(vuln_id="CVE-B").pk
    c = client_of(member)
    html = c.post(
        "/findings/bulk/",
        {"scope": "selected", "ids": [theirs], "status": "resolved"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Changed 0 of 0" in html
    response = c.post(
        "/api/v1/findings/bulk/",
        {"ids": [many[0], theirs], "status": "resolved"},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert Finding.objects.get(pk=theirs).status == "open"
    assert Finding.objects.get(pk=many[0]).status == "open"


def test_the_api_takes_ids_or_a_filter_and_reports_refusals(
    client_of: Any, member: Any, many: list[int]
) -> None:
    c = client_of(member)
    body = c.post(
        "/api/v1/findings/bulk/",
        {"filter": {"model": "chu", "q": "CVE-1"}, "status": "in_progress"},
        content_type="application/json",
    ).json()
    # CVE-1, CVE-10..CVE-19
    assert body["changed"] == 11
    assert body["events"] == 11
    assert body["summary"] == "Changed 11 of 11 finding(s)."
    body = c.post(
        "/api/v1/findings/bulk/",
        {"ids": many[:2], "status": "risk_accepted", "reason": "ok"},
        content_type="application/json",
    ).json()
    assert body["changed"] == 0
    assert body["refused"][0]["count"] == 2
    assert "request an exception instead" in body["refused"][0]["reason"]
    bad = c.post("/api/v1/findings/bulk/", {"ids": many[:2]}, content_type="application/json")
    assert bad.status_code == 400
    assert "error" in bad.json()


def test_one_transaction_nothing_half_done(
    member: Any, many: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance.findings.services import bulk

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "gate_stamps_bump", broken)  # the last write fails
    with pytest.raises(RuntimeError):
        findings_bulk_triage(
            user=member, findings_qs=Finding.objects.filter(pk__in=many), status="confirmed"
        )
    assert not Finding.objects.filter(status="confirmed").exists()
    assert not FindingEvent.objects.exists()


def test_tokens_act_as_their_role(
    api: Any, make_token: Any, team_alpha: Any, many: list[int]
) -> None:
    write = api(make_token(team_alpha, "write"))
    body = write.post(
        "/api/v1/findings/bulk/", {"ids": many[:3], "status": "confirmed"}, format="json"
    ).json()
    assert body["changed"] == 3
    events = FindingEvent.objects.filter(finding_id__in=many[:3])
    assert events.count() == 3
    assert {(e.actor_id, e.actor_label) for e in events} == {(None, "token:ci-write")}
    read = api(make_token(team_alpha, "read"))
    body = read.post(
        "/api/v1/findings/bulk/", {"ids": many[3:5], "status": "confirmed"}, format="json"
    ).json()
    assert body["changed"] == 0
    assert "viewers cannot change findings" in body["refused"][0]["reason"]
