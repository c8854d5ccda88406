"""Errors are JSON on the API and a styled page elsewhere; a dependency that is down is a 503
with Retry-After, never Django's HTML 500. Proven against a real gunicorn (``make serve``)
whose PostgreSQL is not there, against a database taken away mid-flight by a TCP proxy, and
for a view that raises."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client, override_settings

from tests.ops.conftest import free_port, http, server_env


def _json_error(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    assert headers.get("Content-Type", "").startswith("application/json"), (status, body[:300])
    data = json.loads(body)
    assert set(data) >= {"error", "detail"}, data
    assert isinstance(data["error"], str)
    assert isinstance(data["detail"], dict)
    return data


def test_with_the_database_down_the_api_answers_json_503_and_pages_a_styled_503(
    serve: Any, tmp_path: Path
) -> None:
    dead = free_port()  # nothing listens there: connections are refused at once
    server = serve(
        server_env(
            tmp_path,
            PORT=str(free_port()),
            DATABASE_URL=f"postgres://warden:hunter2@127.0.0.1:{dead}/warden_absent",
            DB_POOL_TIMEOUT="2",
            WEB_CONCURRENCY="1",
            WEB_THREADS="2",
        ),
        make=True,
    )
    base = server.url
    token = {"Authorization": "Bearer wdn_" + "x" * 43}

    for method, path, body in (
        ("GET", "/api/v1/models/", None),
        ("GET", "/api/v1/findings/?severity=critical", None),
        ("POST", "/api/v1/scans/", b'{"model": "m"}'),
    ):
        status, headers, raw = http(
            method, base + path, headers={**token, "Content-Type": "application/json"}, body=body
        )
        assert status == 503, (path, raw[:300], server.output())
        assert headers["Retry-After"] == "30"
        data = _json_error(status, headers, raw)
        assert "database" in data["error"]
        assert b"<html" not in raw.lower()
        assert b"hunter2" not in raw
        assert str(dead).encode() not in raw

    # A page that needs the session (a browser with a cookie): the styled 503 page.
    status, headers, raw = http("GET", base + "/", headers={"Cookie": "sessionid=" + "a1" * 16})
    assert status == 503, raw[:300]
    assert headers["Retry-After"] == "30"
    assert headers["Content-Type"].startswith("text/html")
    page = raw.decode()
    assert "Warden is temporarily unavailable" in page
    assert "Content-Security-Policy" in headers
    # collectstatic ran first: the page's stylesheet is the hashed, collected file
    css = re.search(r'href="(/static/css/warden\.[0-9a-f]+\.css)"', page)
    assert css, page
    status, headers, raw = http("GET", base + css.group(1))
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")

    # The probes: alive, not ready, and which dependency is down (nothing else).
    assert http("GET", base + "/livez")[0] == 200
    for probe in ("/readyz", "/healthz"):
        status, headers, raw = http("GET", base + probe)
        assert status == 503
        assert json.loads(raw) == {
            "status": "down",
            "down": ["database"],
            "checks": {"database": "down"},
        }
    # An API URL that does not exist is a JSON 404, not Django's HTML page.
    status, headers, raw = http("GET", base + "/api/v1/no-such-thing/")
    assert status == 404
    assert _json_error(status, headers, raw)["error"] == "not found"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_database_that_goes_away_mid_flight_gives_503s_then_service_resumes(
    serve: Any, tcp_proxy: Any, tmp_path: Path, team_alpha: Any, make_token: Any
) -> None:
    db = connection.settings_dict
    proxy = tcp_proxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    raw = make_token(team_alpha, "read")
    server = serve(
        server_env(
            tmp_path,
            PORT=str(free_port()),
            DATABASE_URL=f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}",
            DB_POOL_MIN_SIZE="1",
            DB_POOL_MAX_SIZE="2",
            DB_POOL_TIMEOUT="2",
            WEB_CONCURRENCY="1",
            WEB_THREADS="2",
        )
    )
    url = server.url + "/api/v1/models/"
    auth = {"Authorization": f"Bearer {raw}"}
    assert http("GET", url, headers=auth)[0] == 200

    proxy.cut()  # PostgreSQL "goes away": pooled connections break, new ones are refused
    for _ in range(3):
        status, headers, body = http("GET", url, headers=auth)
        assert status == 503, (body[:300], server.output())
        assert headers["Retry-After"] == "30"
        _json_error(status, headers, body)
    assert http("GET", server.url + "/readyz")[0] == 503

    proxy.restore()  # it comes back: the pool reconnects, no restart needed
    statuses = [http("GET", url, headers=auth)[0] for _ in range(5)]
    assert statuses[-1] == 200, (statuses, server.output())
    assert http("GET", server.url + "/readyz")[0] == 200


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.ops.failing_urls", DEBUG=False)
def test_an_unexpected_error_in_an_api_view_is_a_json_500_that_reveals_nothing() -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/explode/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "internal error", "detail": {}}
    assert b"secret-internal-state" not in response.content


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.ops.failing_urls", DEBUG=False)
def test_an_unexpected_error_in_a_page_is_the_styled_500_page(client_of: Any, member: Any) -> None:
    client = client_of(member)
    client.raise_request_exception = False
    response = client.get("/explode/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"Something went wrong" in response.content
    assert b"secret-internal-state" not in response.content


@pytest.mark.django_db
def test_a_missing_api_url_is_a_json_404_and_a_missing_page_the_styled_one(
    client_of: Any, member: Any
) -> None:
    client = client_of(member)
    response = client.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"error": "not found", "detail": {}}
    page = client.get("/nothing-here/")
    assert page.status_code == 404
    assert b"Not found" in page.content


@override_settings(ROOT_URLCONF="tests.ops.failing_urls", DEBUG=False)
def test_a_broker_that_is_down_is_a_json_503_naming_it(db: Any) -> None:
    dead = free_port()
    response = Client(raise_request_exception=False).get(
        "/api/v1/publish/", {"url": f"redis://:hunter2@127.0.0.1:{dead}/0"}
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "error": "the broker is unavailable; retry in 30 seconds",
        "detail": {},
    }
    assert b"hunter2" not in response.content


@pytest.mark.django_db
def test_a_bad_host_on_the_api_is_a_json_400(client: Any) -> None:
    response = client.get("/api/v1/models/", HTTP_HOST="evil.example.net")
    assert response.status_code == 400
    assert response.json() == {"error": "bad request", "detail": {}}
