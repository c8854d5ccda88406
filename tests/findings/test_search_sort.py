"""The findings list as people use it: search, partial filters, sorting, a total with page
numbers, and saved views; the same parameter names on the page and in the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from governance.findings.models import Finding, SavedView
from governance.findings.selectors import findings_count_capped

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(team_alpha: Any, team_beta: Any, seed_findings: Any) -> None:
    seed_findings(
        team_alpha,
        "face-recognition",
        [("CVE-2024-3568", "high"), ("CVE-2023-1111", "critical"), ("CVE-2022-7", "low")],
    )
    seed_findings(team_alpha, "churn", [("GARAK-9", "medium")], tool="garak", category="assessment")
    seed_findings(team_beta, "secret-model", [("CVE-2024-3569", "high")])
    f = Finding.objects.get(vuln_id="CVE-2022-7")
    f.aliases = ["GHSA-abcd-efgh-ijkl"]
    f.package = "transformers"
    f.file_path = "requirements/serving.txt"
    f.save()


def _page_ids(response: Any) -> list[str]:
    return [f.vuln_id for f in response.context["findings"]]


def _api_ids(response: Any) -> list[str]:
    return [row["vuln_id"] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("CVE-2024-3568", ["CVE-2024-3568"]),  # an id: the row, not the other team's twin
        ("cve-2024", ["CVE-2024-3568"]),  # partial, any case
        ("ghsa-abcd", ["CVE-2022-7"]),  # an alias
        ("TRANSFORM", ["CVE-2022-7"]),  # the package
        ("serving.txt", ["CVE-2022-7"]),  # the file
        ("finding garak", ["GARAK-9"]),  # the title
        ("no such thing", []),
    ],
)
def test_search_q_on_the_page_and_the_api(
    client_of: Any, member: Any, world: None, q: str, expected: list[str]
) -> None:
    c = client_of(member)
    assert sorted(_page_ids(c.get("/findings/", {"q": q}))) == expected
    assert sorted(_api_ids(c.get("/api/v1/findings/", {"q": q}))) == expected


def test_search_by_finding_id(client_of: Any, member: Any, world: None) -> None:
    f = Finding.objects.get(vuln_id="GARAK-9")
    c = client_of(member)
    assert "GARAK-9" in _page_ids(c.get("/findings/", {"q": f"#{f.pk}"}))
    assert "GARAK-9" in _api_ids(c.get("/api/v1/findings/", {"q": str(f.pk)}))


def test_model_and_tool_filters_match_part_of_the_name_in_any_case(
    client_of: Any, member: Any, world: None
) -> None:
    c = client_of(member)
    assert len(_page_ids(c.get("/findings/", {"model": "face"}))) == 3
    assert len(_api_ids(c.get("/api/v1/findings/", {"model": "FACE"}))) == 3
    assert _page_ids(c.get("/findings/", {"tool": "GAR"})) == ["GARAK-9"]
    assert _api_ids(c.get("/api/v1/findings/", {"tool": "gar"})) == ["GARAK-9"]


def test_default_order_is_severity_then_due_date_and_headers_sort(
    client_of: Any, member: Any, world: None
) -> None:
    today = timezone.localdate()
    Finding.objects.filter(vuln_id="CVE-2024-3568").update(sla_due=today + timedelta(days=3))
    Finding.objects.filter(vuln_id="CVE-2022-7").update(sla_due=today - timedelta(days=1))
    c = client_of(member)
    page = c.get("/findings/")
    assert _page_ids(page) == ["CVE-2023-1111", "CVE-2024-3568", "GARAK-9", "CVE-2022-7"]
    html = page.content.decode()
    assert 'aria-sort="descending"><a href="?status=active&amp;ordering=severity"' in html
    assert 'aria-sort="none"><a href="?status=active&amp;ordering=sla_due"' in html
    by_due = c.get("/findings/", {"ordering": "sla_due"})
    # nearest due first; no due date last
    assert _page_ids(by_due)[:2] == ["CVE-2022-7", "CVE-2024-3568"]
    assert 'aria-sort="ascending"><a href="?status=active&amp;ordering=-sla_due"' in (
        by_due.content.decode()
    )
    assert _api_ids(c.get("/api/v1/findings/", {"ordering": "-severity,sla_due"})) == [
        "CVE-2023-1111",
        "CVE-2024-3568",
        "GARAK-9",
        "CVE-2022-7",
    ]
    bad = c.get("/findings/", {"ordering": "password"})
    assert "ordering must be among" in bad.content.decode()


def test_api_cursor_walks_a_severity_ordering_once(
    client_of: Any, member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    seed_findings(
        team_alpha, "m", [(f"CVE-{i}", ["critical", "high", "low"][i % 3]) for i in range(9)]
    )
    c = client_of(member)
    url = "/api/v1/findings/?ordering=-severity&page_size=2"
    seen: list[str] = []
    severities: list[str] = []
    while url:
        body = c.get(url).json()
        assert body["count"] == 9
        seen += [r["vuln_id"] for r in body["results"]]
        severities += [r["severity"] for r in body["results"]]
        url = body["next"]
    assert len(seen) == 9 == len(set(seen))
    assert severities == ["critical"] * 3 + ["high"] * 3 + ["low"] * 3


def test_total_and_page_numbers_keep_the_filter(
    client_of: Any, member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    seed_findings(team_alpha, "big model", [(f"CVE-{i}", "high") for i in range(230)])
    c = client_of(member)
    first = c.get("/findings/", {"model": "big", "q": "cve"})
    html = first.content.decode()
    assert 'data-total="230"' in html
    assert "1–100 of 230" in html
    assert '<strong aria-current="page">1</strong>' in html
    assert "?q=cve&amp;model=big&amp;status=active&amp;page=3" in html
    third = c.get("/findings/", {"model": "big", "q": "cve", "page": "3"})
    assert len(third.context["findings"]) == 30
    assert "201–230 of 230" in third.content.decode()
    assert third.context["next_url"] == ""
    assert c.get("/api/v1/findings/", {"model": "big"}).json()["count"] == 230


def test_the_count_stops_at_its_cap(team_alpha: Any, seed_findings: Any) -> None:
    seed_findings(team_alpha, "m", [(f"CVE-{i}", "low") for i in range(12)])
    assert findings_count_capped(Finding.objects.all(), cap=10) == (10, True)
    assert findings_count_capped(Finding.objects.all(), cap=12) == (12, False)


def test_page_and_api_query_counts_do_not_grow_with_rows_or_a_search(
    client_of: Any, member: Any, team_alpha: Any, seed_findings: Any, world: None
) -> None:
    c = client_of(member)
    c.get("/findings/")  # warm the session
    with CaptureQueriesContext(connection) as few:
        c.get("/findings/", {"q": "cve", "ordering": "-severity,sla_due"})
    seed_findings(team_alpha, "other", [(f"CVE-{i}", "medium") for i in range(100, 160)])
    with CaptureQueriesContext(connection) as many:
        page = c.get("/findings/", {"q": "cve", "ordering": "-severity,sla_due"})
    assert len(page.context["findings"]) == 63
    assert len(many) == len(few)
    with CaptureQueriesContext(connection) as api_queries:
        body = c.get("/api/v1/findings/", {"q": "cve", "ordering": "-severity"}).json()
    assert body["count"] == 63
    # session, user, teams, the capped count, one page with its joins, active versions
    assert len(api_queries) <= 7


def test_saved_views_are_per_person(
    client_of: Any, member: Any, teammate: Any, world: None
) -> None:
    c = client_of(member)
    response = c.post(
        "/findings/views/",
        {"name": "my overdue criticals", "query": "assignee=me&overdue=1&severity=critical&x=1"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/findings/?assignee=me&overdue=1&severity=critical"
    view = SavedView.objects.get()
    assert (view.user, view.query) == (member, "assignee=me&overdue=1&severity=critical")
    html = c.get("/findings/").content.decode()
    assert 'data-view="my overdue criticals"' in html
    # saving the same name again replaces it
    c.post("/findings/views/", {"name": "my overdue criticals", "query": "severity=high"})
    assert SavedView.objects.get().query == "severity=high"
    other = client_of(teammate)
    assert 'data-view="my overdue criticals"' not in other.get("/findings/").content.decode()
    assert other.get(f"/findings/views/{view.pk}/delete/").status_code == 404
    assert other.post(f"/findings/views/{view.pk}/delete/").status_code == 404
    mine = client_of(member)
    confirm = mine.get(f"/findings/views/{view.pk}/delete/")
    assert b'class="danger"' in confirm.content
    assert SavedView.objects.exists()
    assert mine.post(f"/findings/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.exists()


def test_assignee_me_filter(client_of: Any, member: Any, world: None) -> None:
    Finding.objects.filter(vuln_id="CVE-2023-1111").update(assignee=member)
    c = client_of(member)
    assert _page_ids(c.get("/findings/", {"assignee": "me"})) == ["CVE-2023-1111"]
    assert _api_ids(c.get("/api/v1/findings/", {"assignee": "member"})) == ["CVE-2023-1111"]
    assert len(_api_ids(c.get("/api/v1/findings/", {"assignee": "none"}))) == 3


@pytest.mark.postgres
def test_on_postgresql_the_search_is_answered_by_the_trigram_index(
    team_alpha: Any, seed_findings: Any
) -> None:
    from governance.findings.filters import FindingFilters
    from governance.findings.selectors import findings_filter_apply

    seed_findings(team_alpha, "m", [(f"CVE-2024-{i}", "low") for i in range(50)])
    qs = findings_filter_apply(Finding.objects.all(), FindingFilters(q="cve-2024-42"))
    with connection.cursor() as cursor:
        # a tiny table: take the cheap plans off so the plan shows what a large one uses
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        sql, params = qs.order_by().query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "finding_search_trgm" in plan, plan
    assert [f.vuln_id for f in qs] == ["CVE-2024-42"]


@pytest.mark.postgres
def test_on_postgresql_the_default_first_page_is_read_from_an_index(
    team_alpha: Any, seed_findings: Any
) -> None:
    from governance.findings.filters import DEFAULT_ORDERING, FindingFilters
    from governance.findings.selectors import findings_filter_apply, findings_ordered

    seed_findings(team_alpha, "m", [(f"CVE-{i}", ["critical", "low"][i % 2]) for i in range(40)])
    filters = FindingFilters(statuses=("open", "confirmed", "in_progress"))
    qs = findings_ordered(findings_filter_apply(Finding.objects.all(), filters), DEFAULT_ORDERING)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # as on a large table
        cursor.execute("SET LOCAL enable_sort = off")
        sql, params = qs[:100].query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "finding_severity_due" in plan, plan
    assert [f.severity for f in qs[:21]] == ["critical"] * 20 + ["low"]


def test_the_dashboards_link_to_a_models_findings_is_exact(
    client_of: Any, member: Any, team_alpha: Any, seed_findings: Any
) -> None:
    churn = seed_findings(team_alpha, "churn", [("CVE-1", "critical")]).model
    seed_findings(team_alpha, "churn-v2", [("CVE-2", "critical")])
    c = client_of(member)
    # typed by a person, part of a name finds both
    assert sorted(_page_ids(c.get("/findings/", {"model": "churn"}))) == ["CVE-1", "CVE-2"]
    # the dashboard's link for one model lists that model's findings only
    links = [url for *_, url in c.get("/dashboard/").context["riskiest"]]
    link = next(u for u in links if f"model={churn.pk}" in u)
    assert _page_ids(c.get(link)) == ["CVE-1"]
