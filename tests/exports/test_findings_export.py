"""GET /api/v1/findings/export/?<the list's filters>&format=csv|json: the list API's rows,
all of them, streamed, for the caller's teams only."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.http import StreamingHttpResponse

from governance.findings.api import FindingSerializer
from governance.lib.streams import csv_cell

pytestmark = pytest.mark.django_db


@pytest.fixture
def findings_world(seed_findings: Any, team_alpha: Any, team_beta: Any) -> None:
    seed_findings(
        team_alpha, "churn", [(f"CVE-2024-{i}", "critical") for i in range(5)], version="1.0"
    )
    seed_findings(
        team_alpha, "churn", [(f"CVE-2024-{i}", "high") for i in range(5, 9)], version="2.0"
    )
    seed_findings(team_alpha, "fraud", [("=HYPERLINK(1)", "low")], tool="grype")
    seed_findings(team_beta, "beta-model", [("CVE-2024-99", "critical")], version="1.0")


def _list(client: Any, query: str) -> list[dict[str, Any]]:
    """Every row of the list API for ``query``, page after page."""
    rows: list[dict[str, Any]] = []
    url: str | None = f"/api/v1/findings/?page_size=2&{query}"
    seen: set[str] = set()
    while url:
        assert url not in seen, f"the list API's pages loop: {url}"  # never hang the suite
        seen.add(url)
        body = client.get(url).json()
        rows += body["results"]
        url = body["next"]
    return rows


def _content(response: Any) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


@pytest.mark.parametrize(
    "query", ["", "severity=critical", "model=churn&version=2.0", "tool=grype"]
)
def test_the_json_export_equals_the_list_apis_results(
    findings_world: Any, client_of: Any, member: Any, query: str
) -> None:
    client = client_of(member)
    response = client.get(f"/api/v1/findings/export/?format=json&{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    exported = json.loads(_content(response))
    assert exported == _list(client, query)
    assert exported  # the filter selects something


def test_a_filter_narrows_the_export(findings_world: Any, client_of: Any, member: Any) -> None:
    response = client_of(member).get("/api/v1/findings/export/?format=json&severity=high")
    rows = json.loads(_content(response))
    assert len(rows) == 4
    assert {r["severity"] for r in rows} == {"high"}
    assert {tuple(r["versions"]) for r in rows} == {("2.0",)}


def test_the_csv_export_has_the_list_apis_fields_and_values(
    findings_world: Any, client_of: Any, member: Any
) -> None:
    client = client_of(member)
    response = client.get("/api/v1/findings/export/?format=csv&model=churn")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    reader = csv.DictReader(io.StringIO(_content(response)))
    assert reader.fieldnames == FindingSerializer.Meta.fields
    rows = list(reader)
    expected = _list(client, "model=churn")
    assert len(rows) == len(expected) == 9
    for row, api_row in zip(rows, expected, strict=True):
        assert row == {k: csv_cell(v) for k, v in api_row.items()}
    assert rows[0]["versions"] == "2.0"


def test_csv_cells_that_a_spreadsheet_would_run_are_defused(
    findings_world: Any, client_of: Any, member: Any
) -> None:
    response = client_of(member).get("/api/v1/findings/export/?format=csv&tool=grype")
    (row,) = csv.DictReader(io.StringIO(_content(response)))
    assert row["rule_id"] == "'=HYPERLINK(1)"


def test_another_teams_findings_never_appear(
    findings_world: Any,
    client_of: Any,
    member: Any,
    outsider: Any,
    api: Any,
    make_token: Any,
    team_alpha: Any,
) -> None:
    for client in (client_of(member), api(make_token(team_alpha, "read"))):
        rows = json.loads(_content(client.get("/api/v1/findings/export/?format=json")))
        assert {r["team"] for r in rows} == {"alpha"}
        assert "CVE-2024-99" not in {r["vuln_id"] for r in rows}
        named = client.get("/api/v1/findings/export/?format=json&team=beta")
        assert json.loads(_content(named)) == []
    beta = _content(client_of(outsider).get("/api/v1/findings/export/?format=csv"))
    assert [r["team"] for r in csv.DictReader(io.StringIO(beta))] == ["beta"]


def test_a_bad_filter_or_format_is_a_400(findings_world: Any, client_of: Any, member: Any) -> None:
    client = client_of(member)
    bad = client.get("/api/v1/findings/export/?format=json&severity=urgent")
    assert bad.status_code == 400
    assert "severity" in bad.json()["error"]
    unknown = client.get("/api/v1/findings/export/?format=xlsx")
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "format must be csv or json"


def test_anonymous_is_401(client: Any) -> None:
    assert client.get("/api/v1/findings/export/?format=csv").status_code == 401


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_the_export_costs_the_same_queries_whatever_its_size(
    client_of: Any,
    member: Any,
    seed_findings: Any,
    team_alpha: Any,
    fmt: str,
    django_assert_max_num_queries: Any,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_of(member)
    client.get("/api/v1/findings/")  # the session's own queries out of the way
    counts = []
    for batch in range(3):
        seed_findings(
            team_alpha, "big", [(f"CVE-{batch}-{i}", "medium") for i in range(150)],
            version=f"{batch}.0",
        )  # fmt: skip
        with CaptureQueriesContext(connection) as ctx:
            body = _content(client.get(f"/api/v1/findings/export/?format={fmt}"))
        counts.append(len(ctx.captured_queries))
        assert body.count("CVE-") >= 150 * (batch + 1)
    assert counts[0] == counts[1] == counts[2]
    # session, user, memberships; the findings; their active occurrences
    with django_assert_max_num_queries(5):
        _content(client.get(f"/api/v1/findings/export/?format={fmt}"))
