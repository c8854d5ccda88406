"""Input no database can store, or a client forged, is a 400 naming the problem (JSON on the
API), never a server error: forged pagination cursors, NUL characters in parameters and
fields, lone surrogates in JSON bodies and policy documents."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from governance.findings.models import Finding
from governance.policies.models import RiskPolicy

pytestmark = pytest.mark.django_db

#: Every cursor-paginated list of the API.
CURSOR_LISTS = [
    "/api/v1/findings/",
    "/api/v1/findings/?ordering=sla_due",
    "/api/v1/findings/?ordering=-last_seen",
    "/api/v1/scans/",
    "/api/v1/models/",
    "/api/v1/models/{model}/versions/",
    "/api/v1/exceptions/",
    "/api/v1/sla/",
]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


FORGED = [
    "garbage!",
    _b64("p=not-a-number"),
    _b64("o=1&r=0&p=2026-13-45T99:99"),
    _b64("p=" + "9" * 40),
    _b64("o=-5"),
]


@pytest.fixture
def world(seed_findings: Any, team_alpha: Any) -> dict[str, Any]:
    run = seed_findings(team_alpha, "m", [("CVE-1", "high"), ("CVE-2", "low")], version="1")
    return {"model": run.model_id}


@pytest.mark.parametrize("url", CURSOR_LISTS)
@pytest.mark.parametrize("cursor", FORGED)
def test_a_forged_cursor_is_a_400_naming_the_cursor(
    url: str, cursor: str, client_of: Any, member: Any, world: dict[str, Any]
) -> None:
    c = client_of(member)
    c.raise_request_exception = False
    base = url.format(**world)
    sep = "&" if "?" in base else "?"
    response = c.get(f"{base}{sep}cursor={cursor}")
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert "cursor" in body["error"]
    assert body["detail"] == {"cursor": ["invalid cursor"]}


def test_a_real_cursor_still_pages(client_of: Any, member: Any, world: dict[str, Any]) -> None:
    c = client_of(member)
    first = c.get("/api/v1/findings/?page_size=1").json()
    assert len(first["results"]) == 1
    second = c.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["results"][0]["id"] != first["results"][0]["id"]


NUL_URLS = [
    "/api/v1/findings/?model=%00",
    "/api/v1/findings/?team=a%00b",
    "/api/v1/findings/?tool=x%00",
    "/api/v1/findings/?version=%00",
    "/api/v1/scans/?model=%00",
    "/api/v1/models/?team=%00",
    "/api/v1/exceptions/?model=%00",
    "/api/v1/sla/?model=%00",
    "/api/v1/sla/metrics/?team=%00",
    "/api/v1/policies/?team=%00",
    "/findings/?model=%00",
    "/findings/?tool=%00",
    "/dashboard/?team=%00",
]


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_nul_in_any_parameter_is_a_400(url: str, client_of: Any, member: Any, world: Any) -> None:
    c = client_of(member)
    c.raise_request_exception = False
    response = c.get(url)
    assert response.status_code == 400
    assert b"NUL" in response.content
    if url.startswith("/api/"):
        assert response.json()["error"].endswith("contains a NUL character")


def test_a_nul_in_a_form_field_is_a_400(client_of: Any, member: Any, world: Any) -> None:
    finding = Finding.objects.first()
    assert finding is not None
    c = client_of(member)
    c.raise_request_exception = False
    response = c.post(f"/findings/{finding.pk}/triage/", {"comment": "a\x00b"})
    assert response.status_code == 400
    assert not finding.events.filter(kind="comment").exists()


def test_a_lone_surrogate_in_json_is_a_400_and_changes_nothing(
    client_of: Any, member: Any, world: Any
) -> None:
    finding = Finding.objects.get(vuln_id="CVE-1")
    c = client_of(member)
    c.raise_request_exception = False
    response = c.patch(
        f"/api/v1/findings/{finding.pk}/",
        b'{"status": "false_positive", "reason": "broken \\ud800 text"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "surrogate" in response.json()["error"]
    finding.refresh_from_db()
    assert finding.status == "open"


def test_a_lone_surrogate_in_a_policy_document_key_is_a_400(
    client_of: Any, lead: Any, team_alpha: Any
) -> None:
    c = client_of(lead)
    c.raise_request_exception = False
    as_json = c.post(
        "/api/v1/policies/",
        b'{"team": "alpha", "document": {"schema": "warden.policy/v1", "name": "p", '
        b'"\\udc80x": 1}}',
        content_type="application/json",
    )
    assert as_json.status_code == 400
    as_yaml = c.post(
        "/api/v1/policies/",
        {"team": "alpha", "document": 'schema: warden.policy/v1\nname: p\n"\\udc80": 1\n'},
        content_type="application/json",
    )
    assert as_yaml.status_code == 400
    assert "surrogate" in as_yaml.json()["error"]
    assert not RiskPolicy.objects.exists()
