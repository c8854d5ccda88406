"""The shape of the house, kept by tests: every dependency points down, and every API view
stands on the one team-scoped base whose filter a subclass cannot skip."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

GOVERNANCE = Path(__file__).resolve().parent.parent / "governance"

#: The allowed direction, written once: each app may import those before it, never after.
#: (docs/architecture.md draws the same picture.)
LAYERS = (
    "lib",  # non-domain helpers: errors, env, pagination, actors
    "vocabulary",  # categories, severities, statuses
    "accounts",  # teams, roles, tokens, the access path
    "notifications",  # delivery (mail), knows people only
    "channels",  # who is told: e-mail, Slack, signed webhooks, the delivery log
    "inventory",  # models, versions
    "evidence",  # scan runs, their subjects, passed checks
    "findings",  # findings, occurrences, audit trail; every write to them
    "policies",  # policies, SLA, exceptions, gate, admission, who hears what
    "metrics",  # dashboards, rollups
    "reports",  # the audit report of a version (HTML, PDF), the control mapping
    "ingest",  # the import pipeline on top of evidence, findings, inventory
    "runtime",  # post-deployment: deployments, runtime events, alert rules
    "hooks",  # model registry webhooks (MLflow): versions, scans, deployments
    "exporter",  # /metrics: the Prometheus exposition of everything below
    "exports",  # evidence out: ML-BOM with VEX, findings and audit exports
    "web",  # pages that compose everything
)
#: Project-level modules wire the apps together and may import any of them.
WIRING = ("__init__", "settings", "urls", "api_urls", "api_docs", "celery", "wsgi", "asgi")


def _imports(path: Path) -> set[str]:
    """The governance apps a module imports (anywhere in it, lazily too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "governance" and len(parts) > 1:
                found.add(parts[1])
    return found


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(GOVERNANCE.rglob("*.py")):
        rel = path.relative_to(GOVERNANCE).parts
        if "migrations" in rel:
            continue
        out.append((rel[0].removesuffix(".py"), path))
    return out


def test_every_app_is_placed_in_a_layer() -> None:
    apps = {app for app, _ in _modules()} - set(WIRING)
    assert apps <= set(LAYERS), f"place these apps in LAYERS: {sorted(apps - set(LAYERS))}"


def test_no_app_imports_one_above_it() -> None:
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = [
        f"{path.relative_to(GOVERNANCE.parent)} imports governance.{dst} ({app} is below it)"
        for app, path in _modules()
        if app in rank
        for dst in _imports(path)
        if dst in rank and rank[dst] > rank[app]
    ]
    assert not upward, "\n".join(upward)


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "m.py"
    bad.write_text("def f():\n    from governance.policies.gate import gate_evaluate\n")
    assert _imports(bad) == {"policies"}


def _api_views() -> list[type]:
    from django.urls import URLPattern, URLResolver, get_resolver

    views: list[type] = []

    def walk(patterns: Any) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern):
                cls = getattr(p.callback, "cls", None)
                if cls is not None and cls.__module__.startswith("governance."):
                    views.append(cls)

    walk(get_resolver().url_patterns)
    return sorted(set(views), key=lambda c: c.__qualname__)


def test_every_api_view_stands_on_the_team_scoped_base() -> None:
    from governance.accounts.access import TeamScoped

    views = _api_views()
    assert len(views) >= 15
    unscoped = [v.__qualname__ for v in views if not issubclass(v, TeamScoped)]
    assert not unscoped, f"API views not on accounts.access.TeamScoped: {unscoped}"


@pytest.mark.parametrize("method", ["get_queryset", "get_object", "scope_q"])
def test_a_view_cannot_override_the_scope(method: str) -> None:
    from governance.accounts.access import TeamScopedAPIView

    with pytest.raises(TypeError, match=f"must not override {method}"):
        type("Leaky", (TeamScopedAPIView,), {method: lambda self: None})


@pytest.mark.django_db
def test_a_token_sees_exactly_its_team(team_alpha: Any, team_beta: Any) -> None:
    from governance.accounts.authentication import TokenUser
    from governance.accounts.selectors import team_for_request, teams_visible_to
    from governance.accounts.services import api_token_create

    token, _ = api_token_create(team=team_alpha, name="ci", scope="read")
    user = TokenUser(token)
    assert list(teams_visible_to(user)) == [team_alpha]
    assert team_for_request(user, "") == team_alpha
    from django.http import Http404

    with pytest.raises(Http404):
        team_for_request(user, team_beta.slug)
