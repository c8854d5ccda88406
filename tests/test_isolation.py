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
def beta_world(
    team_beta: Any, outsider: Any, seed_findings: Any, settings: Any, tmp_path: Any
) -> dict[str, Any]:
    run = seed_findings(team_beta, "beta-model", [("CVE-2024-1", "critical")], version="1.0")
    finding = run.model.findings.get()
    # Governance objects (policies app): a policy, an exception another beta member requested
    # (so the beta lead may decide it), and an artifact digest on the version.
    from datetime import timedelta

    from django.utils import timezone

    from governance.policies.services import OPERATOR, exception_request, policy_create
    from tests.conftest import _user

    policy = policy_create(
        team=team_beta, document={"schema": "warden.policy/v1", "name": "p"}, actor=OPERATOR
    )
    requester = _user("beta-member", team_beta, "member")
    exception = exception_request(
        actor=requester,
        finding=finding,
        justification="a" * 20,
        expires_at=timezone.now() + timedelta(days=5),
    )
    digest = "be" * 32
    run.version.artifact_sha256 = digest
    # A server-scannable artifact (inside WARDEN_ARTIFACT_ROOTS) for the scan endpoint.
    settings.WARDEN_ARTIFACT_ROOTS = [tmp_path]
    (tmp_path / "weights.bin").write_bytes(b"\x00" * 64)
    run.version.artifact_uri = str(tmp_path / "weights.bin")
    run.version.save()
    return {
        "model": run.model,
        "run": run,
        "finding": finding,
        "policy": policy,
        "exception": exception,
        "digest": digest,
    }


# (method, url template, body) for every object route; {model}, {model_name}, {run}, {finding}.
OBJECT_ROUTES = [
    ("get", "/api/v1/models/{model}/", None),
    ("get", "/api/v1/models/{model_name}/", None),
    ("patch", "/api/v1/models/{model}/", {"description": "mine now"}),
    ("get", "/api/v1/models/{model}/versions/", None),
    ("get", "/api/v1/models/{model}/gate/?version=1.0", None),
    ("get", "/api/v1/models/{model_name}/gate/", None),
    ("post", "/api/v1/models/{model}/versions/{version}/scan/", None),
    ("get", "/api/v1/scans/{run}/", None),
    ("get", "/api/v1/findings/{finding}/", None),
    ("patch", "/api/v1/findings/{finding}/", {"status": "resolved"}),
    ("get", "/api/v1/findings/{finding}/comments/", None),
    ("post", "/api/v1/findings/{finding}/comments/", {"text": "hello"}),
    ("get", "/api/v1/findings/{finding}/events/", None),
    # policies app
    ("get", "/api/v1/policies/{policy}/", None),
    (
        "put",
        "/api/v1/policies/{policy}/",
        {"document": {"schema": "warden.policy/v1", "name": "q"}},
    ),
    ("delete", "/api/v1/policies/{policy}/", None),
    ("get", "/api/v1/policies/{policy}/export/?as=json", None),
    ("get", "/api/v1/policies/{policy}/revisions/", None),
    ("get", "/api/v1/exceptions/{exception}/", None),
    ("post", "/api/v1/exceptions/{exception}/approve/", {"reason": "ok"}),
    ("post", "/api/v1/exceptions/{exception}/reject/", {"reason": "no"}),
    ("get", "/api/v1/sla/metrics/?team=beta", None),
    ("get", "/api/v1/sla/metrics/?team=beta&model={model_name}", None),
    ("get", "/api/v1/artifacts/{digest}/admission", None),
]

LIST_ROUTES = [
    "/api/v1/models/",
    "/api/v1/scans/",
    "/api/v1/findings/",
    "/api/v1/policies/",
    "/api/v1/exceptions/",
    "/api/v1/sla/",
]


def _url(template: str, world: dict[str, Any]) -> str:
    return template.format(
        model=world["model"].pk,
        model_name=world["model"].name,
        run=world["run"].pk,
        finding=world["finding"].pk,
        policy=world["policy"].pk,
        exception=world["exception"].pk,
        digest=world["digest"],
        version="1.0",
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
    assert response.status_code in (200, 201, 202, 204), response.content


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
        r = re.sub(r"\(\?P<\w+>[^)]*\)", "{x}", route).replace("^", "").replace("$", "")
        normalized.add("/" + r)
    covered_norm = {re.sub(r"\{\w+\}", "{x}", c) for c in covered}
    missing = normalized - covered_norm
    assert not missing, f"routes without an isolation test: {sorted(missing)}"
