"""A tool's own decision (VEX "not affected", a SARIF suppression) is kept: the finding takes
that not-active status with the tool's justification, recorded in its history; a later report
that drops the decision reopens it; a person's decision is never overridden by a tool's."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from governance.findings.models import Finding

pytestmark = pytest.mark.django_db


def _vex(state: str | None, justification: str = "code_not_reachable") -> bytes:
    vuln: dict[str, Any] = {
        "id": "CVE-2024-3651",
        "source": {"name": "NVD"},
        "ratings": [{"severity": "high"}],
        "affects": [{"ref": "pkg:pypi/idna@3.6"}],
    }
    if state:
        vuln["analysis"] = {
            "state": state,
            "justification": justification,
            "detail": "the vulnerable encoder is never called",
        }
    return orjson.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "metadata": {"component": {"type": "application", "name": "svc", "version": "1"}},
            "components": [
                {
                    "type": "library",
                    "bom-ref": "pkg:pypi/idna@3.6",
                    "name": "idna",
                    "version": "3.6",
                    "purl": "pkg:pypi/idna@3.6",
                }
            ],
            "vulnerabilities": [vuln],
        }
    )


@pytest.fixture
def token(team_alpha: Any, make_token: Any) -> str:
    return make_token(team_alpha, "write")


def test_a_vex_not_affected_is_kept_with_its_justification(upload: Any, token: str) -> None:
    response = upload(token, _vex("not_affected"), model="m", version="1")
    assert response.status_code == 201
    f = Finding.objects.get()
    assert (f.status, f.tool_state) == ("not_affected", "not_affected")
    assert f.justification == "code_not_reachable: the vulnerable encoder is never called"
    assert f.reachable is False  # the VEX justification says the code is not reachable
    event = f.events.get()
    assert (event.from_value, event.to_value) == ("", "not_affected")
    assert event.reason == f"cyclonedx reports it not affected: {f.justification}"


def test_dropping_the_decision_reopens_and_a_person_decides_for_good(
    upload: Any, token: str, client_of: Any, member: Any
) -> None:
    upload(token, _vex("not_affected"), model="m", version="1")
    reopened = upload(token, _vex(None), model="m", version="1").json()
    f = Finding.objects.get()
    assert f.status == "open"
    assert reopened["counts"]["reopened"] == 1
    assert f.events.order_by("id").last().to_value == "open"
    # the tool decides again: the open finding takes its state
    upload(token, _vex("not_affected") + b" ", model="m", version="1")
    f.refresh_from_db()
    assert f.status == "not_affected"
    # a person's decision stands against any later tool decision
    client_of(member).patch(
        f"/api/v1/findings/{f.pk}/",
        {"status": "in_progress", "reason": "we fix it anyway"},
        content_type="application/json",
    )
    upload(token, _vex("false_positive") + b"  ", model="m", version="1")
    f.refresh_from_db()
    assert f.status == "in_progress"


def test_a_tool_decision_is_not_active_nor_counted_by_the_gate(
    upload: Any, api: Any, token: str
) -> None:
    upload(token, _vex("not_affected"), model="m", version="1")
    gate = api(token).get("/api/v1/models/m/gate/?version=1").json()
    assert all(r["rule"] != "no-open-high" for r in gate["reasons"])


def test_the_finding_page_shows_what_the_tool_said(
    upload: Any, token: str, client_of: Any, member: Any
) -> None:
    upload(token, _vex("not_affected"), model="m", version="1")
    f = Finding.objects.get()
    page = client_of(member).get(f"/findings/{f.pk}/").content.decode()
    assert "the tool says not_affected" in page


def _osv(called: bool | None) -> bytes:
    vuln: dict[str, Any] = {"id": "GHSA-xxxx-yyyy-zzzz", "aliases": ["CVE-2024-9999"],
                            "summary": "moderate issue",
                            "database_specific": {"severity": "MODERATE"}}  # fmt: skip
    group: dict[str, Any] = {"ids": ["GHSA-xxxx-yyyy-zzzz"], "aliases": ["CVE-2024-9999"]}
    if called is not None:
        group["experimentalAnalysis"] = {"GHSA-xxxx-yyyy-zzzz": {"called": called}}
    return orjson.dumps(
        {
            "results": [
                {
                    "source": {"path": "/app/requirements.txt", "type": "lockfile"},
                    "packages": [
                        {
                            "package": {
                                "name": "urllib3",
                                "version": "1.26.0",
                                "ecosystem": "PyPI",
                            },
                            "vulnerabilities": [vuln],
                            "groups": [group],
                        }
                    ],
                }
            ]
        }
    )


def test_reachability_is_a_filter_and_a_policy_condition(
    upload: Any, api: Any, token: str, client_of: Any, lead: Any, member: Any
) -> None:
    response = upload(token, _osv(called=False), model="m", version="1", scan_type="osv-scanner")
    assert response.status_code == 201, response.json()
    f = Finding.objects.get()
    assert f.reachable is False
    listed = client_of(member).get("/api/v1/findings/?reachable=false").json()["results"]
    assert [r["id"] for r in listed] == [f.pk]
    assert client_of(member).get("/api/v1/findings/?reachable=true").json()["results"] == []
    page = client_of(member).get("/findings/?reachable=false").content.decode()
    assert f"/findings/{f.pk}/" in page
    policy = {"schema": "warden.policy/v1", "name": "uncalled-medium-ok",
              "thresholds": [{"id": "no-medium", "severities": ["medium", "low"],
                              "ignore_unreachable": True}]}  # fmt: skip
    created = client_of(lead).post(
        "/api/v1/policies/", {"team": "alpha", "document": policy}, content_type="application/json"
    )
    assert created.status_code == 201, created.json()
    gate = api(token).get("/api/v1/models/m/gate/?version=1").json()
    assert "no-medium" not in {r["rule"] for r in gate["reasons"]}
    # the same finding, called: the rule counts it
    upload(token, _osv(called=True), model="m", version="1", scan_type="osv-scanner")
    gate = api(token).get("/api/v1/models/m/gate/?version=1").json()
    assert "no-medium" in {r["rule"] for r in gate["reasons"]}


def test_an_sboms_components_are_kept_per_subject(upload: Any, token: str) -> None:
    from governance.evidence.models import Component

    def sbom(names: list[str]) -> bytes:
        return orjson.dumps(
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "metadata": {"component": {"type": "container", "name": "app", "version": "1"}},
                "components": [
                    {"type": "library", "name": n, "version": "1.0", "purl": f"pkg:pypi/{n}@1.0"}
                    for n in names
                ],
            }
        )

    first = upload(token, sbom(["numpy", "torch"]), model="m", version="1").json()
    assert "components_list" not in first.get("metadata", {})
    assert sorted(Component.objects.values_list("name", flat=True)) == ["numpy", "torch"]
    upload(token, sbom(["numpy", "safetensors"]), model="m", version="1")
    assert sorted(Component.objects.values_list("name", flat=True)) == ["numpy", "safetensors"]
    upload(token, sbom(["pandas"]), model="m", version="2")  # another version: its own list
    assert Component.objects.count() == 3
