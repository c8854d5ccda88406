"""Every route answers 404 for another team's objects, and needs authentication.

The route table below is checked against the URL resolver, so a new endpoint without an
isolation case fails this file.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import get_resolver

pytestmark = pytest.mark.django_db


@pytest.fixture
def beta_world(team_beta: Any, outsider: Any, seed_findings: Any) -> dict[str, Any]:
    run = seed_findings(team_beta, "beta-model", [("CVE-2024-1", "critical")], version="1.0")
    finding = run.model.findings.get()
    return {"model": run.model, "run": run, "finding": finding}


# (method, url template, body) for every object route; {model}, {model_name}, {run}, {finding}.
OBJECT_ROUTES = [
    ("get", "/api/v1/models/{model}/", None),
    ("get", "/api/v1/models/{model_name}/", None),
    ("get", "/api/v1/models/{model}/versions/", None),
    ("get", "/api/v1/models/{model}/gate/?version=1.0", None),
    ("get", "/api/v1/models/{model_name}/gate/", None),
    ("get", "/api/v1/scans/{run}/", None),
    ("get", "/api/v1/findings/{finding}/", None),
    ("patch", "/api/v1/findings/{finding}/", {"status": "resolved"}),
    ("get", "/api/v1/findings/{finding}/comments/", None),
    ("post", "/api/v1/findings/{finding}/comments/", {"text": "hello"}),
    ("get", "/api/v1/findings/{finding}/events/", None),
]

LIST_ROUTES = ["/api/v1/models/", "/api/v1/scans/", "/api/v1/findings/"]


def _url(template: str, world: dict[str, Any]) -> str:
    return template.format(
        model=world["model"].pk,
        model_name=world["model"].name,
        run=world["run"].pk,
        finding=world["finding"].pk,
    )


@pytest.mark.parametrize(("method", "template", "body"), OBJECT_ROUTES)
def test_another_teams_object_is_404_for_a_session_user(
    client_of: Any, member: Any, beta_world: Any, method: str, template: str, body: Any
) -> None:
    client = client_of(member)
    response = getattr(client, method)(
        _url(template, beta_world), body, content_type="application/json"
    )
    assert response.status_code == 404, response.content


@pytest.mark.parametrize(("method", "template", "body"), OBJECT_ROUTES)
def test_another_teams_object_is_404_for_a_token(
    api: Any,
    make_token: Any,
    team_alpha: Any,
    beta_world: Any,
    method: str,
    template: str,
    body: Any,
) -> None:
    client = api(make_token(team_alpha, "write"))
    response = getattr(client, method)(_url(template, beta_world), body, format="json")
    assert response.status_code == 404, response.content


@pytest.mark.parametrize(("method", "template", "body"), OBJECT_ROUTES)
def test_own_teams_object_is_reachable(
    client_of: Any, outsider: Any, beta_world: Any, method: str, template: str, body: Any
) -> None:
    client = client_of(outsider)
    response = getattr(client, method)(
        _url(template, beta_world), body, content_type="application/json"
    )
    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("url", LIST_ROUTES)
def test_lists_never_show_another_teams_rows(
    client_of: Any, member: Any, beta_world: Any, url: str
) -> None:
    body = client_of(member).get(url).json()
    rows = body["results"] if isinstance(body, dict) else body
    assert rows == []


@pytest.mark.parametrize(("method", "template", "body"), OBJECT_ROUTES)
def test_anonymous_requests_are_401(
    client: Any, beta_world: Any, method: str, template: str, body: Any
) -> None:
    response = getattr(client, method)(
        _url(template, beta_world), body, content_type="application/json"
    )
    assert response.status_code == 401
    assert "error" in response.json()


def test_every_api_route_has_an_isolation_case() -> None:
    covered = {t.split("?")[0].replace("{model_name}", "{model}") for _, t, _ in OBJECT_ROUTES}
    covered |= set(LIST_ROUTES) | {"/api/v1/scans/"}
    patterns = set()

    def walk(resolver: Any, prefix: str) -> None:
        for p in resolver.url_patterns:
            route = prefix + str(p.pattern)
            if hasattr(p, "url_patterns"):
                walk(p, route)
            elif route.startswith("api/v1/") and "format" not in route and route != "api/v1/":
                patterns.add(route)

    walk(get_resolver(), "")
    normalized = set()
    for route in patterns:
        r = re.sub(r"\(\?P<pk>[^)]*\)", "{x}", route).replace("^", "").replace("$", "")
        normalized.add("/" + r)
    covered_norm = {
        c.replace("{model}", "{x}").replace("{run}", "{x}").replace("{finding}", "{x}")
        for c in covered
    }
    missing = normalized - covered_norm
    assert not missing, f"routes without an isolation test: {sorted(missing)}"
