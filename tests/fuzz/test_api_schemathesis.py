"""The API against its own OpenAPI schema, fuzzed with schemathesis: generated requests (with a
real token of a team that has data) never get a server error; every error is JSON and every
success has a media type the schema documents."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis import checks as st_checks

from governance.wsgi import application

# The schema the API publishes at /api/schema/, built without a request (no database).
RAW = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(RAW)


def _documented_types(path: str, method: str, status: int) -> set[str]:
    responses = RAW["paths"][path][method.lower()].get("responses", {})
    return set((responses.get(str(status)) or {}).get("content", {}))


@pytest.fixture
def in_test_transaction() -> Any:
    """Calls go straight to the WSGI application, whose request signals would close the
    database connection and with it the test's transaction (its writes would then commit
    into the next tests' tables): keep the connection open, as Django's test client does."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_token(make_token: Any, team_alpha: Any, upload: Any) -> str:
    from tests.reportgen import trivy_report

    token: str = make_token(team_alpha, "write")
    upload(token, trivy_report(range(5)), model="fuzzed", version="1")
    return token


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@pytest.mark.django_db
def test_no_server_errors_and_json_answers(
    case: Any, fuzz_token: str, in_test_transaction: None
) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {fuzz_token}"}
    response = case.call(app=application, base_url="http://testserver")
    case.validate_response(response, checks=[st_checks.not_a_server_error])
    content_type = (response.headers.get("content-type") or [""])[0].split(";")[0]
    if response.status_code >= 400 or case.method == "OPTIONS":
        ok = content_type == "application/json"  # errors are JSON, always
    else:  # a success is what the schema documents for it (exports are CSV, JSON lines...)
        documented = _documented_types(case.operation.path, case.method, response.status_code)
        ok = content_type in documented or content_type == "application/json"
    assert ok or response.status_code == 204 or case.path.startswith("/api/schema"), (
        case.method, case.path, response.status_code, content_type
    )  # fmt: skip
