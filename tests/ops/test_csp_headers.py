"""The Content-Security-Policy header is on every response: pages, API answers, errors and
probes; Swagger UI's page alone adds the hash of its one inline style block."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import drf_spectacular
import pytest

STRICT = {
    "default-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}


def _directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/accounts/login/", 200),
        ("/", 302),
        ("/api/v1/models/", 401),
        ("/api/v1/nothing/", 404),
        ("/livez", 200),
        ("/readyz", 200),
        ("/static/css/warden.css", 200),
    ],
)
def test_every_response_carries_the_strict_policy(client: Any, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    policy = _directives(response["Content-Security-Policy"])
    assert {k: policy[k] for k in STRICT} == STRICT
    assert "unsafe" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_swagger_ui_gets_the_hash_of_its_own_style_block_and_nothing_more(
    client_of: Any, member: Any
) -> None:
    page = client_of(member).get("/api/docs/")
    assert page.status_code == 200
    assert b"<script>" not in page.content  # the split view: the start-up script is a file
    template = Path(drf_spectacular.__file__).parent / "templates/drf_spectacular/swagger_ui.html"
    (block,) = re.findall(r"<style>(.*?)</style>", template.read_text(), flags=re.DOTALL)
    digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
    docs = _directives(page["Content-Security-Policy"])
    elsewhere = _directives(client_of(member).get("/")["Content-Security-Policy"])
    assert docs["style-src"] == f"{elsewhere['style-src']} 'sha256-{digest}'"
    assert {k: docs[k] for k in STRICT} == STRICT
