"""Shared actors and service probes.

Three actors, as in healthchecks' test base: ``member`` and ``teammate`` share team Alpha,
``outsider`` is in team Beta only. ``viewer`` is read-only in Alpha, ``lead`` leads Alpha.
Tests that need a server (PostgreSQL, Redis, Chromium) are skipped by name with the reason when
it is missing, unless WARDEN_REQUIRE_SERVICES=1 (CI), where a missing server is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection

REQUIRE = os.environ.get("WARDEN_REQUIRE_SERVICES") == "1"
REDIS_URL = os.environ.get("WARDEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    from django.conf import settings

    on_pg = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    have_redis = _reachable(REDIS_URL)
    have_chromium = shutil.which("chromium") is not None
    reasons = {
        "postgres": None if on_pg else "needs PostgreSQL: set DATABASE_URL=postgres://…",
        "redis": None if have_redis else f"needs Redis at {REDIS_URL}",
        "browser": None if have_chromium else "needs Debian's chromium (apt-get install chromium)",
    }
    for item in items:
        for marker, reason in reasons.items():
            if reason and item.get_closest_marker(marker):
                if REQUIRE:  # CI promised the server: its absence is a failure, not a skip
                    item.add_marker(pytest.mark.usefixtures("service_missing"))
                    item.user_properties.append(("service_missing", reason))
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def service_missing(request: Any) -> None:
    reasons = [value for key, value in request.node.user_properties if key == "service_missing"]
    pytest.fail("WARDEN_REQUIRE_SERVICES=1 but " + "; ".join(reasons))


@pytest.fixture
def team_alpha(db: Any) -> Any:
    from governance.accounts.services import team_create

    return team_create(slug="alpha", name="Alpha")


@pytest.fixture
def team_beta(db: Any) -> Any:
    from governance.accounts.services import team_create

    return team_create(slug="beta", name="Beta")


def _user(username: str, team: Any, role: str) -> Any:
    from django.contrib.auth import get_user_model

    from governance.accounts.services import membership_set

    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password="pw-" + username
    )
    membership_set(team=team, user=user, role=role)
    return user


@pytest.fixture
def member(team_alpha: Any) -> Any:
    return _user("member", team_alpha, "member")


@pytest.fixture
def teammate(team_alpha: Any) -> Any:
    return _user("teammate", team_alpha, "member")


@pytest.fixture
def lead(team_alpha: Any) -> Any:
    return _user("lead", team_alpha, "lead")


@pytest.fixture
def viewer(team_alpha: Any) -> Any:
    return _user("viewer", team_alpha, "viewer")


@pytest.fixture
def outsider(team_beta: Any) -> Any:
    return _user("outsider", team_beta, "lead")


@pytest.fixture
def client_of(client: Any) -> Any:
    """``client_of(user)`` -> a test client logged in as that user."""

    def login(user: Any) -> Any:
        client.force_login(user)
        return client

    return login


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def make_token(db: Any) -> Any:
    """``make_token(team, scope="write", **kw)`` -> raw token string."""
    from governance.accounts.services import api_token_create

    def make(team: Any, scope: str = "write", **kwargs: Any) -> str:
        _, raw = api_token_create(team=team, name=f"ci-{scope}", scope=scope, **kwargs)
        return raw

    return make


@pytest.fixture
def api(db: Any) -> Any:
    """``api(token)`` -> a DRF test client sending ``Authorization: Bearer <token>``."""
    from rest_framework.test import APIClient

    def client(token: str | None = None) -> Any:
        c = APIClient()
        if token:
            c.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return c

    return client


@pytest.fixture
def upload(api: Any) -> Any:
    """``upload(token, data, model="m", **fields)`` -> response of POST /api/v1/scans/. Like a
    pipeline that registers its models, it sends ``create_model=true`` unless told otherwise."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    def post(token: str, data: bytes, model: str = "churn", query: str = "", **fields: Any) -> Any:
        payload = {
            "file": SimpleUploadedFile("report.json", data),
            "model": model,
            "create_model": "true",
            **fields,
        }
        return api(token).post(f"/api/v1/scans/{query}", payload, format="multipart")

    return post


@pytest.fixture
def seed_findings(db: Any) -> Any:
    """``seed_findings(team, model_name, [(fingerprint-ish id, severity), ...], tool="trivy")``
    imports a hand-built scanners.Report through the real import service; returns the run."""
    import hashlib

    from governance.evidence.models import ScanRun
    from governance.ingest.services import scan_run_import
    from governance.inventory.services import model_get_or_create, version_get_or_create
    from scanners import NormalizedFinding, Report

    def make(
        team: Any,
        model_name: str,
        items: list[tuple[str, str]],
        tool: str = "trivy",
        version: str = "",
        category: str = "dependency",
    ) -> Any:
        model, _ = model_get_or_create(team=team, name=model_name, create=True)
        mv = version_get_or_create(model=model, version=version) if version else None
        report = Report(tool=tool, tool_version="1", scan_type=tool, category=category)
        for ident, severity in items:
            report.findings.append(
                NormalizedFinding(
                    fingerprint=hashlib.sha256(ident.encode()).hexdigest(),
                    category=category,
                    tool=tool,
                    rule_id=ident,
                    title=f"finding {ident}",
                    severity=severity,
                    vuln_id=ident,
                    package="pkg",
                )
            )
        digest = hashlib.sha256(repr((model_name, version, items, tool)).encode()).hexdigest()
        run = ScanRun.objects.create(team=team, model=model, version=mv, report_sha256=digest)
        return scan_run_import(scan_run=run, report=report)

    return make


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Each test starts with an empty cache: rolled-back test data reuses primary keys, and a
    cached answer (admission) must not outlive the data it was computed from."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
