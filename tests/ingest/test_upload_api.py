"""POST /api/v1/scans/: import, idempotency, reimport semantics, bad input, query count."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.evidence.models import ScanRun
from governance.findings.models import Finding, FindingEvent
from governance.inventory.models import MLModel
from tests.reportgen import grype_report, trivy_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(team_alpha: Any, make_token: Any) -> str:
    return make_token(team_alpha, "write")


def test_upload_creates_model_findings_and_answers_with_counts_and_gate(
    upload: Any, token: str
) -> None:
    response = upload(
        token, trivy_report(range(8)), model="churn", version="1.0", commit="abc123", branch="main"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "done"
    assert body["model"] == "churn"
    assert body["version"] == "1.0"
    assert body["scan_type"] == "trivy"
    assert body["tool"] == "trivy"
    assert body["counts"] == {
        "total": 8,
        "new": 8,
        "unchanged": 0,
        "reopened": 0,
        "resolved": 0,
        "passed": 0,
    }
    # ids 0 and 4 are CRITICAL, 1 and 5 HIGH: the baseline gate fails on them.
    assert body["gate"]["verdict"] == "fail"
    rules = {r["rule"]: r for r in body["gate"]["reasons"]}
    assert rules["no-open-critical"]["message"] == "2 open critical findings"
    assert rules["no-open-high"]["message"] == "2 open high findings"
    assert body["url"].endswith(f"/api/v1/scans/{body['id']}/")
    model = MLModel.objects.get(name="churn")
    assert model.team.slug == "alpha"
    assert Finding.objects.filter(model=model, status="open").count() == 8
    f = Finding.objects.get(model=model, vuln_id="CVE-2024-10000")
    assert (f.severity, f.package, f.fixed_version, f.tool_list) == (
        "critical",
        "pkg0",
        "",
        ["trivy"],
    )
    assert f.sla_due is not None
    assert (f.sla_due - f.first_seen.date()).days == 7


def test_same_report_again_returns_first_run_and_changes_nothing(upload: Any, token: str) -> None:
    data = trivy_report(range(5))
    first = upload(token, data, version="1.0").json()
    before = (Finding.objects.count(), FindingEvent.objects.count(), ScanRun.objects.count())
    again = upload(token, data, version="1.0")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["counts"] == first["counts"]
    assert (
        Finding.objects.count(),
        FindingEvent.objects.count(),
        ScanRun.objects.count(),
    ) == before


def test_same_report_for_another_version_is_a_new_run(upload: Any, token: str) -> None:
    data = trivy_report(range(5))
    first = upload(token, data, version="1.0").json()
    second = upload(token, data, version="1.1")
    assert second.status_code == 201
    assert second.json()["id"] != first["id"]
    assert second.json()["counts"]["unchanged"] == 5
    assert Finding.objects.count() == 5


def test_reimport_resolves_missing_findings_and_reopens_returning_ones(
    upload: Any, token: str
) -> None:
    upload(token, trivy_report(range(0, 6)))
    second = upload(token, trivy_report(range(2, 8))).json()
    assert second["counts"] == {
        "total": 6,
        "new": 2,
        "unchanged": 4,
        "reopened": 0,
        "resolved": 2,
        "passed": 0,
    }
    gone = Finding.objects.get(vuln_id="CVE-2024-10000")
    assert gone.status == "resolved"
    assert gone.resolved_at is not None
    event = gone.events.get()
    assert (event.from_value, event.to_value) == ("open", "resolved")
    # the reason names the subject the scan looked at (the report's ArtifactName)
    assert event.reason == f"fixed, not seen in scan {second['id']} (trivy) of churn model-repo"

    third = upload(token, trivy_report(range(0, 8))).json()
    assert third["counts"]["reopened"] == 2
    assert third["counts"]["resolved"] == 0
    back = Finding.objects.get(vuln_id="CVE-2024-10000")
    assert back.status == "open"
    assert back.resolved_at is None
    assert [e.to_value for e in back.events.order_by("id")] == ["resolved", "open"]


def test_team_decisions_survive_reimport(
    upload: Any, token: str, lead: Any, api: Any, client_of: Any
) -> None:
    upload(token, trivy_report(range(0, 3)))
    fp = Finding.objects.get(vuln_id="CVE-2024-10000")
    accepted = Finding.objects.get(vuln_id="CVE-2024-10001")
    c = client_of(lead)
    assert (
        c.patch(
            f"/api/v1/findings/{fp.pk}/",
            {"status": "false_positive", "reason": "not reachable"},
            content_type="application/json",
        ).status_code
        == 200
    )
    assert (
        c.patch(
            f"/api/v1/findings/{accepted.pk}/",
            {"status": "risk_accepted", "reason": "mitigated by WAF"},
            content_type="application/json",
        ).status_code
        == 200
    )
    # Seen again: stays as decided. Absent: not resolved either.
    upload(token, trivy_report([0, 1, 2, 99]))
    upload(token, trivy_report([99]))
    fp.refresh_from_db()
    accepted.refresh_from_db()
    assert fp.status == "false_positive"
    assert accepted.status == "risk_accepted"


def test_other_tools_findings_are_not_resolved_by_a_scan_of_another_tool(
    upload: Any, token: str
) -> None:
    upload(token, grype_report([50, 51]))
    upload(token, trivy_report(range(0, 3)))
    upload(token, trivy_report([0]))
    statuses = dict(Finding.objects.values_list("vuln_id", "status"))
    assert statuses["CVE-2024-10050"] == "open"
    assert statuses["CVE-2024-10051"] == "open"
    assert statuses["CVE-2024-10001"] == "resolved"


def test_same_vulnerability_from_two_tools_is_one_finding_with_both_tools(
    upload: Any, token: str
) -> None:
    upload(token, trivy_report([7, 8]))
    response = upload(token, grype_report([7, 8]))
    assert response.json()["counts"]["unchanged"] == 2
    assert response.json()["counts"]["new"] == 0
    assert Finding.objects.count() == 2
    assert Finding.objects.get(vuln_id="CVE-2024-10007").tool_list == ["trivy", "grype"]


def test_a_reimport_costs_a_pinned_number_of_queries(upload: Any, token: str) -> None:
    upload(token, trivy_report(range(0, 10)), model="a", version="1")
    with CaptureQueriesContext(connection) as reimport:
        assert upload(token, trivy_report(range(5, 15)), model="a", version="1").status_code == 201
    # Why this many: token; idempotency check; model and version; the run; its subject; the
    # policy's SLA; the model lock; existing fingerprints; the upsert of findings and of
    # occurrences (PostgreSQL: temp table, COPY, two INSERT … SELECT, TRUNCATE); closing what
    # is gone, locking and resolving its findings, their events; the model's gate stamp; the
    # run's result; the response (run, gate: ten; the last recorded verdict: one); whether a
    # channel listens for new critical findings. Savepoints are counted too. A change here is
    # a change of cost.
    expected = {"sqlite": 36, "postgresql": 38}[connection.vendor]
    assert len(reimport) == expected, [q["sql"][:80] for q in reimport.captured_queries]


def test_import_query_count_does_not_depend_on_report_size(upload: Any, token: str) -> None:
    upload(token, trivy_report(range(0, 3)), model="warmup")  # token/model lookups warmed
    with CaptureQueriesContext(connection) as small:
        assert upload(token, trivy_report(range(0, 10)), model="a").status_code == 201
    with CaptureQueriesContext(connection) as large:
        assert upload(token, trivy_report(range(0, 400)), model="b").status_code == 201
    # Fixed number of statements: the upsert is one statement (plus COPY on PostgreSQL).
    assert len(large) == len(small)
    with CaptureQueriesContext(connection) as reimport_small:
        upload(token, trivy_report(range(5, 15)), model="a")
    with CaptureQueriesContext(connection) as reimport_large:
        upload(token, trivy_report(range(50, 450)), model="b")
    assert len(reimport_large) == len(reimport_small)


# --- bad input: a clear 4xx, and nothing written -------------------------------------------


def _nothing_written() -> bool:
    return not (MLModel.objects.exists() or ScanRun.objects.exists() or Finding.objects.exists())


def test_unknown_format_is_a_400_naming_the_problem(upload: Any, token: str) -> None:
    response = upload(token, b'{"hello": "world"}')
    assert response.status_code == 400
    assert "unknown format" in response.json()["error"]
    assert _nothing_written()


def test_malformed_json_is_a_400(upload: Any, token: str) -> None:
    response = upload(token, b'{"SchemaVersion": 2, "Results": [', scan_type="trivy")
    assert response.status_code == 400
    assert response.json()["error"].startswith("cannot import this report: trivy")
    assert _nothing_written()


def test_unknown_scan_type_is_a_400(upload: Any, token: str) -> None:
    response = upload(token, trivy_report([1]), scan_type="nessus")
    assert response.status_code == 400
    error = response.json()["error"]
    assert "unknown scan type 'nessus'" in error
    assert "--scan-type" in error
    assert _nothing_written()


def test_missing_model_name_is_a_400(api: Any, token: str) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api(token).post(
        "/api/v1/scans/",
        {"file": SimpleUploadedFile("r.json", trivy_report([1]))},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "model: This field is required."
    assert _nothing_written()


def test_missing_file_is_a_400(api: Any, token: str) -> None:
    response = api(token).post("/api/v1/scans/", {"model": "x"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"].startswith("file:")


def test_report_over_the_size_limit_is_a_413(upload: Any, token: str, settings: Any) -> None:
    settings.WARDEN_MAX_REPORT_BYTES = 1000
    response = upload(token, trivy_report(range(20)))
    assert response.status_code == 413
    assert "WARDEN_MAX_REPORT_BYTES" in response.json()["error"]
    assert _nothing_written()


def test_bad_artifact_digest_is_a_400(upload: Any, token: str) -> None:
    response = upload(token, trivy_report([1]), version="1", artifact_sha256="xyz")
    assert response.status_code == 400
    assert "artifact_sha256" in response.json()["error"]
    assert _nothing_written()


def test_team_can_forbid_creating_models_from_uploads(
    upload: Any, token: str, team_alpha: Any
) -> None:
    team_alpha.allow_model_autocreate = False
    team_alpha.save()
    response = upload(token, trivy_report([1]), model="new-model")
    assert response.status_code == 400
    assert "register the model first" in response.json()["error"]
    assert _nothing_written()


def test_a_report_failing_midway_writes_nothing(upload: Any, token: str) -> None:
    """One transaction per import: a report the parser rejects late leaves no rows behind."""
    good = trivy_report(range(3))
    bad = good.replace(b'"VulnerabilityID":"CVE-2024-10002"', b'"VulnerabilityID":12')
    assert bad != good
    response = upload(token, bad, model="late-failure")
    assert response.status_code == 400
    assert _nothing_written()


def test_nul_characters_in_a_report_are_dropped_not_a_server_error(upload: Any, token: str) -> None:
    """PostgreSQL text and jsonb cannot hold NUL; a report that carries one still imports."""
    data = trivy_report(range(2)).replace(b"Synthetic vulnerability 1", b"Synthetic\\u0000 vuln 1")
    assert b"\\u0000" in data
    response = upload(token, data)
    assert response.status_code == 201, response.content
    assert Finding.objects.get(vuln_id="CVE-2024-10001").title == "Synthetic vuln 1"


def test_a_dependency_the_tool_could_not_audit_is_not_marked_fixed(upload: Any, token: str) -> None:
    """pip-audit skips packages it cannot look up: unknown is not clean, so their open
    findings stay open while the audited packages' missing findings are resolved."""
    import orjson

    def report(deps: list[dict[str, Any]]) -> bytes:
        return orjson.dumps({"dependencies": deps, "fixes": []})

    vuln = {
        "id": "PYSEC-2018-28",
        "fix_versions": ["2.20.0"],
        "aliases": ["CVE-2018-18074"],
        "description": "x",
    }
    other = {
        "id": "PYSEC-2020-1",
        "fix_versions": ["1.1"],
        "aliases": ["CVE-2020-0001"],
        "description": "y",
    }
    upload(
        token,
        report(
            [
                {"name": "Requests", "version": "2.19.0", "vulns": [vuln]},
                {"name": "flask", "version": "1.0", "vulns": [other]},
            ]
        ),
    )
    second = upload(
        token,
        report(
            [
                {
                    "name": "requests",
                    "skip_reason": "Dependency not found on PyPI and could not be audited",
                },
                {"name": "flask", "version": "1.1", "vulns": []},
            ]
        ),
    ).json()
    assert second["counts"]["resolved"] == 1
    statuses = dict(Finding.objects.values_list("package", "status"))
    assert statuses == {"Requests": "open", "flask": "resolved"}
    assert any("NOT audited" in w for w in second["warnings"])


def test_a_model_scan_that_read_nothing_does_not_mark_findings_fixed(
    upload: Any, token: str
) -> None:
    """modelscan's exit-3 style report ("nothing scanned") is a not-scanned finding, and the
    unsafe-pickle finding of the previous scan stays open."""
    from pathlib import Path

    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "modelscan"
    first = upload(token, (fixtures / "malicious_os_system.json").read_bytes()).json()
    assert first["counts"]["new"] >= 1
    critical = Finding.objects.get(severity="critical")
    import orjson

    nothing = orjson.dumps(
        {
            "summary": {
                "total_issues": 0,
                "total_issues_by_severity": {},
                "input_path": "model.pkl",
                "absolute_path": "/srv/models",
                "modelscan_version": "0.8.8",
                "timestamp": "2026-11-24T00:00:00",
                "scanned": {"total_scanned": 0},
                "skipped": {
                    "total_skipped": 1,
                    "skipped_files": [
                        {
                            "category": "SCAN_NOT_SUPPORTED",
                            "description": "unknown format",
                            "source": "model.pkl",
                        }
                    ],
                },
            },
            "issues": [],
            "errors": [],
        }
    )
    second = upload(token, nothing)
    assert second.status_code == 201, second.json()
    assert second.json()["counts"]["resolved"] == 0
    critical.refresh_from_db()
    assert critical.status == "open"


def test_scan_list_query_count_is_fixed(
    api: Any, token: str, team_alpha: Any, seed_findings: Any
) -> None:
    client = api(token)
    seed_findings(team_alpha, "m0", [("CVE-1", "high")])
    client.get("/api/v1/models/")  # the token's first use writes last_used_at once
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/api/v1/scans/").json()["results"]) == 1
    for i in range(1, 8):
        seed_findings(team_alpha, f"m{i}", [("CVE-1", "high")], version="1")
    with CaptureQueriesContext(connection) as many:
        rows = client.get("/api/v1/scans/").json()["results"]
    assert len(rows) == 8
    assert all(row["gate"] is None for row in rows)  # the verdict is on the detail
    assert len(many) == len(few)


def test_an_artifact_digest_without_a_version_is_a_400(upload: Any, token: str) -> None:
    response = upload(token, trivy_report([1]), artifact_sha256="a" * 64)
    assert response.status_code == 400
    assert response.json()["error"] == "artifact_sha256 needs a version"
    assert _nothing_written()
