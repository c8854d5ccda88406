from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.findings.models import Finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team_alpha: Any, team_beta: Any, seed_findings: Any) -> None:
    seed_findings(team_alpha, "churn", [("CVE-1", "critical"), ("CVE-2", "low")])
    seed_findings(team_beta, "secret-model", [("CVE-9", "high")])


def test_list_shows_my_teams_active_findings_with_filters(
    client_of: Any, member: Any, world: None
) -> None:
    c = client_of(member)
    html = c.get("/findings/").content.decode()
    assert "finding CVE-1" in html
    assert "finding CVE-2" in html
    assert "CVE-9" not in html
    assert "secret-model" not in html
    html = c.get("/findings/?severity=critical").content.decode()
    assert "finding CVE-1" in html
    assert "finding CVE-2" not in html
    Finding.objects.filter(vuln_id="CVE-2").update(status="resolved")
    assert "finding CVE-2" not in c.get("/findings/").content.decode()  # default: needs work
    assert "finding CVE-2" in c.get("/findings/?status=all").content.decode()


def test_list_query_count_is_fixed(
    client_of: Any, member: Any, team_alpha: Any, seed_findings: Any, world: None
) -> None:
    c = client_of(member)
    with CaptureQueriesContext(connection) as few:
        c.get("/findings/")
    seed_findings(team_alpha, "other", [(f"CVE-{i}", "medium") for i in range(100, 150)])
    with CaptureQueriesContext(connection) as many:
        page = c.get("/findings/")
    assert page.content.count(b"data-finding=") == 52
    assert len(many) == len(few)


def test_htmx_triage_swaps_the_row_and_records_the_event(
    client_of: Any, member: Any, world: None
) -> None:
    f = Finding.objects.get(vuln_id="CVE-1")
    response = client_of(member).post(
        f"/findings/{f.pk}/triage/",
        {"status": "in_progress", "reason": "patching"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert f'id="finding-{f.pk}"'.encode() in response.content
    assert b'data-status="in_progress"' in response.content
    event = f.events.get()
    assert (event.actor, event.to_value, event.reason) == (member, "in_progress", "patching")


def test_triage_errors_are_shown_in_the_row(client_of: Any, member: Any, world: None) -> None:
    f = Finding.objects.get(vuln_id="CVE-1")
    response = client_of(member).post(
        f"/findings/{f.pk}/triage/", {"status": "false_positive"}, HTTP_HX_REQUEST="true"
    )
    assert b"a reason is required" in response.content
    f.refresh_from_db()
    assert f.status == "open"


def test_detail_page_triage_assign_and_comment(
    client_of: Any, member: Any, teammate: Any, world: None
) -> None:
    f = Finding.objects.get(vuln_id="CVE-2")
    c = client_of(member)
    page = c.post(
        f"/findings/{f.pk}/triage/",
        {"status": "confirmed", "reason": "", "assignee": "teammate", "comment": "seen in prod"},
        follow=True,
    )
    html = page.content.decode()
    assert "Saved." in html
    assert "commented: seen in prod" in html
    f.refresh_from_db()
    assert (f.status, f.assignee) == ("confirmed", teammate)


def test_viewers_read_but_cannot_triage(client_of: Any, viewer: Any, world: None) -> None:
    f = Finding.objects.get(vuln_id="CVE-1")
    c = client_of(viewer)
    assert b'<form class="triage"' not in c.get("/findings/").content
    assert c.get(f"/findings/{f.pk}/").status_code == 200
    # refused with its reason on the page, never a bare 403
    page = c.post(f"/findings/{f.pk}/triage/", {"status": "resolved"}, follow=True)
    assert page.redirect_chain == [(f"/findings/{f.pk}/", 302)]
    assert "viewers cannot change findings" in page.content.decode()
    f.refresh_from_db()
    assert f.status == "open"


def test_another_teams_finding_pages_are_404(client_of: Any, member: Any, world: None) -> None:
    f = Finding.objects.get(vuln_id="CVE-9")
    c = client_of(member)
    assert c.get(f"/findings/{f.pk}/").status_code == 404
    assert c.post(f"/findings/{f.pk}/triage/", {"status": "resolved"}).status_code == 404
    f.refresh_from_db()
    assert f.status == "open"


def test_findings_pages_need_login(client: Any, world: None) -> None:
    assert client.get("/findings/").status_code == 302


def test_overdue_filter_lists_active_findings_past_their_sla(
    client_of: Any, member: Any, world: None
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    Finding.objects.filter(vuln_id="CVE-1").update(sla_due=today - timedelta(days=1))
    Finding.objects.filter(vuln_id="CVE-2").update(sla_due=today)  # due today: not yet overdue
    html = client_of(member).get("/findings/?overdue=1").content.decode()
    assert "finding CVE-1" in html
    assert "finding CVE-2" not in html
    assert 'name="overdue" value="1" checked' in html


def test_next_page_link_keeps_filters_with_any_characters(
    client_of: Any, member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    seed_findings(team_alpha, "fraud & churn", [(f"CVE-{i}", "high") for i in range(101)])
    c = client_of(member)
    first = c.get("/findings/", {"model": "fraud & churn"})
    assert first.content.count(b"data-finding=") == 100
    link = first.context["next_url"]
    assert "model=fraud+%26+churn" in link
    second = c.get(f"/findings/{link}")
    assert second.content.count(b"data-finding=") == 1  # the 101st, same filter
