"""Every route answers 404 for another team's objects, and needs authentication.

The route table below is checked against the URL resolver, so a new endpoint without an
isolation case fails this file.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
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
    from governance.runtime.services import deployment_create

    deployment, _, _ = deployment_create(
        model=run.model, version=run.version, environment="prod", actor=OPERATOR
    )
    return {
        "deployment": deployment,
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
    ("post", "/api/v1/models/{model}/versions/{version}/assess/", ("multipart", "assess")),
    ("get", "/api/v1/models/{model}/versions/{version}/assess/", None),
    ("get", "/api/v1/models/{model}/versions/{version}/", None),
    ("get", "/api/v1/models/{model}/mlbom/?version=1.0", None),
    ("get", "/api/v1/models/{model_name}/mlbom/?version=1.0", None),
    ("patch", "/api/v1/models/{model}/versions/{version}/", {"retired": True}),
    ("get", "/api/v1/scans/{run}/", None),
    ("get", "/api/v1/findings/{finding}/", None),
    ("patch", "/api/v1/findings/{finding}/", {"status": "resolved"}),
    ("get", "/api/v1/findings/{finding}/comments/", None),
    ("post", "/api/v1/findings/{finding}/comments/", {"text": "hello"}),
    ("get", "/api/v1/findings/{finding}/events/", None),
    # naming another team's finding in a bulk action is the same 404
    ("post", "/api/v1/findings/bulk/", {"ids": ["{finding}"], "status": "confirmed"}),
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
    (
        "post",
        "/api/v1/exceptions/bulk/",
        {"findings": ["{finding}"], "justification": "for the isolation test", "days": 3},
    ),
    ("post", "/api/v1/exceptions/{exception}/approve/", {"reason": "ok"}),
    ("post", "/api/v1/exceptions/{exception}/reject/", {"reason": "no"}),
    ("get", "/api/v1/sla/metrics/?team=beta", None),
    # exports app: the audit trail of a team (its leads, or a token of the team)
    ("get", "/api/v1/audit/export/?team=beta", None),
    ("get", "/api/v1/sla/metrics/?team=beta&model={model_name}", None),
    ("get", "/api/v1/artifacts/{digest}/admission", None),
    ("get", "/api/v1/deployments/{deployment}/", None),
    ("delete", "/api/v1/deployments/{deployment}/", None),
    ("post", "/api/v1/events/", {"deployment": "{deployment}", "events": []}),
    (
        "post",
        "/api/v1/events/prometheus/?deployment={deployment}",
        ("text/plain", 'fw_rule_evaluated_total{flagged="True",rule="PII"} 3\n'),
    ),
]

LIST_ROUTES = [
    "/api/v1/models/",
    "/api/v1/scans/",
    "/api/v1/findings/",
    "/api/v1/policies/",
    "/api/v1/exceptions/",
    "/api/v1/sla/",
    "/api/v1/deployments/",
    "/api/v1/admission-log/",
    "/api/v1/components/",
    "/api/v1/components/?package=pkg",
    "/api/v1/components/?cve=CVE-2024-1",
]
#: Streamed list exports: their rows for another team's caller are none at all.
EXPORT_ROUTES = [
    "/api/v1/findings/export/?format=json",
    "/api/v1/findings/export/?format=json&team=beta",
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
        deployment=world["deployment"].pk,
        version="1.0",
    )


#: Multipart bodies, built per request (an uploaded file is read once).
MULTIPART = {
    "assess": lambda: {
        "data": SimpleUploadedFile("eval.csv", b"y,yhat,sex\n" + b"1,1,a\n0,1,b\n" * 20),
        "label": "y",
        "prediction": "yhat",
        "sensitive": "sex",
    },
}


def _body(body: Any, world: dict[str, Any]) -> tuple[Any, str]:
    """The request body with ids of ``world`` filled in, and its content type (a route's
    body is JSON unless given as (content type, text), or ("multipart", MULTIPART key))."""
    if isinstance(body, tuple) and body[0] == "multipart":
        return MULTIPART[body[1]](), "multipart"
    if isinstance(body, tuple):
        return body[1], body[0]
    if isinstance(body, dict):

        def fill(v: Any) -> Any:
            if isinstance(v, list):
                return [fill(item) for item in v]
            return int(_url(v, world)) if isinstance(v, str) and v.startswith("{") else v

        filled = {k: fill(v) for k, v in body.items()}
        return filled, "application/json"
    return body, "application/json"


def _call(client: Any, method: str, template: str, body: Any, world: dict[str, Any]) -> Any:
    data, content_type = _body(body, world)
    if content_type == "multipart":  # both test clients encode a dict as multipart
        extra = {"format": "multipart"} if hasattr(client, "credentials") else {}
        return getattr(client, method)(_url(template, world), data, **extra)
    return getattr(client, method)(_url(template, world), data, content_type=content_type)


@pytest.mark.parametrize(("method", "template", "body"), OBJECT_ROUTES)
def test_another_teams_object_is_404_for_a_session_user(
    client_of: Any, member: Any, beta_world: Any, method: str, template: str, body: Any
) -> None:
    response = _call(client_of(member), method, template, body, beta_world)
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
    response = _call(client, method, template, body, beta_world)
    assert response.status_code == 404, response.content


@pytest.mark.parametrize(("method", "template", "body"), OBJECT_ROUTES)
def test_own_teams_object_is_reachable(
    client_of: Any, outsider: Any, beta_world: Any, method: str, template: str, body: Any
) -> None:
    response = _call(client_of(outsider), method, template, body, beta_world)
    assert response.status_code in (200, 201, 202, 204), response.content


@pytest.mark.parametrize("url", LIST_ROUTES)
def test_lists_never_show_another_teams_rows(
    client_of: Any, member: Any, beta_world: Any, url: str
) -> None:
    body = client_of(member).get(url).json()
    rows = body["results"] if isinstance(body, dict) else body
    assert rows == []


@pytest.mark.parametrize("url", EXPORT_ROUTES)
def test_exports_never_show_another_teams_rows(
    client_of: Any, member: Any, beta_world: Any, url: str
) -> None:
    import json

    response = client_of(member).get(url)
    assert json.loads(b"".join(response.streaming_content)) == []


@pytest.mark.parametrize(("method", "template", "body"), OBJECT_ROUTES)
def test_anonymous_requests_are_401(
    client: Any, beta_world: Any, method: str, template: str, body: Any
) -> None:
    response = _call(client, method, template, body, beta_world)
    assert response.status_code == 401
    assert "error" in response.json()


#: Routes authenticated by the caller's signature instead of a session or token (model
#: registry webhooks): another team's secret, or none, is a 401 (tests/hooks covers each
#: way a signature can be wrong).
SIGNED_ROUTES = ["/api/v1/hooks/mlflow/"]


def test_a_signed_route_refuses_another_teams_secret_and_no_secret(
    client: Any, team_alpha: Any, team_beta: Any, lead: Any, outsider: Any, beta_world: Any
) -> None:
    from governance.hooks.services import registry_hook_set
    from tests.hooks.test_mlflow import SECRET, deliver

    registry_hook_set(team=team_alpha, actor=lead, secret=SECRET)
    registry_hook_set(team=team_beta, actor=outsider, secret="whsec_beta-only-0123456789")
    data = {"name": "beta-model", "version": "9", "source": "models:/x"}
    # alpha's secret, beta's URL
    response = deliver(
        client, "model_version", "created", data, url="/api/v1/hooks/mlflow/?team=beta"
    )
    assert response.status_code == 401
    assert client.post("/api/v1/hooks/mlflow/?team=beta", {}).status_code == 401
    assert not beta_world["model"].versions.filter(version="9").exists()


def test_every_api_route_has_an_isolation_case() -> None:
    covered = {t.split("?")[0].replace("{model_name}", "{model}") for _, t, _ in OBJECT_ROUTES}
    covered |= (
        set(LIST_ROUTES)
        | {"/api/v1/scans/"}
        | set(SIGNED_ROUTES)
        | {u.split("?")[0] for u in EXPORT_ROUTES}
    )
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


# -- pages ------------------------------------------------------------------------------------

# (method, url template, form data) for every server-rendered page that names an object.
PAGE_ROUTES = [
    ("get", "/models/{model}/", None),
    ("post", "/models/{model}/edit/", {"description": "mine now"}),
    ("post", "/models/{model}/versions/{version}/scan/", None),
    ("get", "/models/{model}/versions/{version}/assessment/", None),
    ("post", "/models/{model}/versions/{version}/retire/", None),
    ("get", "/findings/{finding}/", None),
    ("post", "/findings/{finding}/triage/", {"comment": "mine now"}),
    ("get", "/policies/{policy}/", None),
    ("post", "/policies/{policy}/", {"document": "schema: warden.policy/v1\nname: q\n"}),
    ("get", "/policies/{policy}/delete/", None),  # the confirm step
    ("post", "/policies/{policy}/delete/", None),
    ("get", "/policies/{policy}/export/", None),
    ("post", "/policies/exceptions/{exception}/decide/", {"decision": "reject", "reason": "no"}),
    ("get", "/teams/{team}/tokens/", None),
    ("post", "/teams/{team}/tokens/", {"name": "mine", "scope": "read"}),
    ("post", "/teams/{team}/settings/", {"allow_model_autocreate": "on"}),
    ("get", "/teams/{team}/tokens/{token}/revoke/", None),  # the confirm step
    ("post", "/teams/{team}/tokens/{token}/revoke/", None),
    # reports app
    ("get", "/models/{model}/versions/{version}/report/", None),
    ("post", "/models/{model}/versions/{version}/report/pdf/", None),
    ("get", "/models/{model}/versions/{version}/report/pdf/{render}/", None),
    # channels app
    ("get", "/teams/{team}/channels/", None),
    (
        "post",
        "/teams/{team}/channels/",
        {
            "name": "mine",
            "kind": "webhook",
            "url": "http://127.0.0.1:9/x",
            "triggers": "sla",
            "mode": "immediate",
        },
    ),
    ("get", "/teams/{team}/channels/{channel}/", None),
    (
        "post",
        "/teams/{team}/channels/{channel}/",
        {"url": "http://127.0.0.1:9/y", "triggers": "sla", "mode": "digest", "enabled": "on"},
    ),
    ("post", "/teams/{team}/channels/{channel}/test/", None),
    ("post", "/teams/{team}/channels/{channel}/delete/", None),
    # a person's saved views are theirs alone
    ("get", "/findings/views/{saved_view}/delete/", None),
    ("post", "/findings/views/{saved_view}/delete/", None),
]
#: Pages outside the team-scoped world: allauth's own, Django admin (staff only), health, docs,
#: and the Prometheus scrape (a metrics token or an allow-listed network: tests/exporter).
PUBLIC_OR_ADMIN = ("/accounts/", "/admin/", "/healthz", "/api/", "/metrics")


@pytest.fixture
def beta_pages(beta_world: dict[str, Any], team_beta: Any) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from governance.accounts.services import api_token_create
    from governance.channels.services import channel_create
    from governance.findings.services import saved_view_save
    from governance.reports.models import ReportRender

    token, _ = api_token_create(team=team_beta, name="beta-ci", scope="write")
    version = beta_world["run"].version
    render = ReportRender.objects.create(
        team=team_beta, model=version.model, version=version, status="done", pdf=b"%PDF-1.7"
    )
    channel = channel_create(
        team=team_beta, name="beta-hook", kind="webhook", url="http://127.0.0.1:9/hook",
        triggers=["sla"],
    )  # fmt: skip
    owner = get_user_model().objects.get(username="outsider")
    view = saved_view_save(user=owner, name="beta criticals", query="severity=critical")
    return {**beta_world, "team": team_beta.slug, "token": token.pk, "render": render.pk,
            "channel": channel.pk, "saved_view": view.pk}  # fmt: skip


def _page(template: str, world: dict[str, Any]) -> str:
    return template.format(
        model=world["model"].pk,
        finding=world["finding"].pk,
        policy=world["policy"].pk,
        exception=world["exception"].pk,
        version="1.0",
        team=world["team"],
        token=world["token"],
        render=world["render"],
        channel=world["channel"],
        saved_view=world["saved_view"],
    )


@pytest.mark.parametrize(("method", "template", "data"), PAGE_ROUTES)
def test_another_teams_page_is_404(
    client_of: Any, member: Any, lead: Any, beta_pages: Any, method: str, template: str, data: Any
) -> None:
    for user in (member, lead):  # a lead of another team is no closer than a member
        response = getattr(client_of(user), method)(_page(template, beta_pages), data or {})
        assert response.status_code == 404, (user.username, response.status_code)


@pytest.mark.parametrize(("method", "template", "data"), PAGE_ROUTES)
def test_own_teams_page_is_reachable(
    client_of: Any, outsider: Any, beta_pages: Any, method: str, template: str, data: Any
) -> None:
    # the beta lead: the same URLs and bodies that gave alpha a 404 work for their owner
    response = getattr(client_of(outsider), method)(_page(template, beta_pages), data or {})
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 302:
        assert "/accounts/login/" not in response["Location"]


@pytest.mark.parametrize(("method", "template", "data"), PAGE_ROUTES)
def test_anonymous_page_requests_go_to_login(
    client: Any, beta_pages: Any, method: str, template: str, data: Any
) -> None:
    response = getattr(client, method)(_page(template, beta_pages), data or {})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def _page_routes() -> set[str]:
    routes: set[str] = set()

    def walk(resolver: Any, prefix: str) -> None:
        for p in resolver.url_patterns:
            route = prefix + str(p.pattern)
            if hasattr(p, "url_patterns"):
                walk(p, route)
            elif not ("/" + route).startswith(PUBLIC_OR_ADMIN):
                routes.add("/" + re.sub(r"<[^>]+>", "{x}", route))

    walk(get_resolver(), "")
    return routes


def test_every_page_with_an_object_has_an_isolation_case() -> None:
    covered = {re.sub(r"\{\w+\}", "{x}", t) for _, t, _ in PAGE_ROUTES}
    with_objects = {r for r in _page_routes() if "{x}" in r}
    missing = with_objects - covered
    assert not missing, f"pages without an isolation test: {sorted(missing)}"


def test_every_page_needs_a_login(client: Any) -> None:
    pages = sorted(r for r in _page_routes() if "{x}" not in r)
    assert {"/", "/findings/", "/policies/"} <= set(pages)  # the walk finds the real pages
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url
