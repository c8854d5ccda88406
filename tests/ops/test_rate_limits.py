"""Rate limits key on the real client behind the configured proxy: allauth's login limits and
the API-token limit. Guessing tokens from one address is slowed; other clients are not."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.ops.conftest import ROOT

PROXY = "10.0.0.2"  # the TLS proxy: every request arrives from it


def _bearer(token: str, *, ip: str, xff: str | None = None) -> APIClient:
    extra = {"REMOTE_ADDR": ip, "HTTP_AUTHORIZATION": f"Bearer {token}"}
    if xff:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    client = APIClient()
    client.credentials(**extra)
    return client


@pytest.fixture
def limit(settings: Any) -> int:
    settings.WARDEN_API_TOKEN_FAILURE_LIMIT = 5
    settings.WARDEN_API_TOKEN_FAILURE_WINDOW = 60
    return 5


@pytest.mark.django_db
def test_guessed_tokens_from_one_address_get_429_with_retry_after(
    limit: int, team_alpha: Any, make_token: Any
) -> None:
    guess = "wdn_" + "g" * 43
    for _ in range(limit):
        assert _bearer(guess, ip="203.0.113.9").get("/api/v1/models/").status_code == 401
    blocked = _bearer(guess, ip="203.0.113.9").get("/api/v1/models/")
    assert blocked.status_code == 429
    assert 0 < int(blocked["Retry-After"]) <= 60
    assert "too many invalid API tokens" in blocked.json()["error"]
    # Once blocked, even a right guess gets nothing from that address…
    real = make_token(team_alpha, "read")
    assert _bearer(real, ip="203.0.113.9").get("/api/v1/models/").status_code == 429
    # …while a pipeline elsewhere is unaffected.
    assert _bearer(real, ip="198.51.100.20").get("/api/v1/models/").status_code == 200


@pytest.mark.django_db
def test_malformed_tokens_count_as_guesses(limit: int) -> None:
    for _ in range(limit):
        response = _bearer("not-a-warden-token", ip="203.0.113.10").get("/api/v1/models/")
        assert response.status_code == 401
    response = _bearer("not-a-warden-token", ip="203.0.113.10").get("/api/v1/models/")
    assert response.status_code == 429


@pytest.mark.django_db
def test_valid_tokens_never_count_towards_the_limit(
    limit: int, team_alpha: Any, make_token: Any
) -> None:
    real = make_token(team_alpha, "read")
    for _ in range(limit * 3):
        assert _bearer(real, ip="203.0.113.11").get("/api/v1/models/").status_code == 200


@pytest.mark.django_db
def test_behind_the_trusted_proxy_the_token_limit_keys_on_the_forwarded_client(
    limit: int, settings: Any, team_alpha: Any, make_token: Any
) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    guess = "wdn_" + "h" * 43
    for _ in range(limit + 1):
        _bearer(guess, ip=PROXY, xff="203.0.113.50").get("/api/v1/models/")
    assert _bearer(guess, ip=PROXY, xff="203.0.113.50").get("/api/v1/models/").status_code == 429
    real = make_token(team_alpha, "read")
    # Another client through the same proxy: its own bucket.
    assert _bearer(real, ip=PROXY, xff="198.51.100.7").get("/api/v1/models/").status_code == 200
    # A client that writes its own X-Forwarded-For gains nothing: the proxy appends the real
    # address, and only the last hop is read.
    spoofed = "1.2.3.4, 203.0.113.50"
    assert _bearer(real, ip=PROXY, xff=spoofed).get("/api/v1/models/").status_code == 429


@pytest.mark.django_db
def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_the_limit(
    limit: int, team_alpha: Any, make_token: Any
) -> None:
    guess = "wdn_" + "i" * 43
    for n in range(limit + 1):
        _bearer(guess, ip="203.0.113.60", xff=f"192.0.2.{n}").get("/api/v1/models/")
    real = make_token(team_alpha, "read")
    forged = _bearer(real, ip="203.0.113.60", xff="192.0.2.200")
    assert forged.get("/api/v1/models/").status_code == 429


LOCKED = b"Too many failed login attempts"


def _bad_logins(client: Any, *, xff: str, count: int) -> list[Any]:
    return [
        client.post(
            "/accounts/login/",
            {"login": "member", "password": f"wrong-{n}"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=xff,
        )
        for n in range(count)
    ]


def _limited(response: Any) -> bool:
    # allauth refuses a limited login in the form (200 + message) or, past the per-address
    # request limit, with a 429.
    return bool(response.status_code == 429 or LOCKED in response.content)


def _login(client: Any, *, xff: str) -> Any:
    return client.post(
        "/accounts/login/",
        {"login": "teammate", "password": "pw-teammate"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=xff,
    )


@pytest.mark.django_db
def test_behind_the_proxy_one_clients_bad_logins_do_not_lock_out_another(
    client: Any, settings: Any, member: Any, teammate: Any
) -> None:
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    responses = _bad_logins(client, xff="203.0.113.5", count=20)
    assert _limited(responses[-1])  # the guesser is limited…
    response = _login(client, xff="198.51.100.7")
    assert response.status_code == 302  # …and another user, elsewhere, logs in
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_without_the_proxy_setting_the_proxy_address_is_one_bucket_for_everyone(
    client: Any, settings: Any, member: Any, teammate: Any
) -> None:
    """Why the setting matters (what issue 14 saw): every login seems to come from the proxy."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    _bad_logins(client, xff="203.0.113.5", count=20)
    response = _login(client, xff="198.51.100.7")
    assert response.status_code != 302
    assert _limited(response)


def _settings_value(env: dict[str, str], expression: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); "
         f"from django.conf import settings; print({expression})"],
        cwd=ROOT, env={**base, "DJANGO_SETTINGS_MODULE": "governance.settings",
                           "WARDEN_TESTING": "0", "DEBUG": "1", **env},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_trusted_proxy_comes_from_the_environment() -> None:
    result = _settings_value(
        {"ALLAUTH_TRUSTED_PROXY_COUNT": "2", "ALLAUTH_TRUSTED_CLIENT_IP_HEADER": "X-Real-IP"},
        "settings.ALLAUTH_TRUSTED_PROXY_COUNT, settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER",
    )
    assert result.stdout.strip() == "2 X-Real-IP", result.stderr
    bad = _settings_value({"ALLAUTH_TRUSTED_PROXY_COUNT": "one"}, "1")
    assert bad.returncode != 0
    assert "ALLAUTH_TRUSTED_PROXY_COUNT='one' is not an integer" in bad.stderr


@pytest.mark.django_db
def test_a_proxy_that_sets_one_client_header_is_believed_for_it(
    client: Any, settings: Any, member: Any, teammate: Any
) -> None:
    settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER = "X-Real-IP"
    for n in range(20):
        last = client.post(
            "/accounts/login/",
            {"login": "member", "password": f"wrong-{n}"},
            REMOTE_ADDR=PROXY,
            HTTP_X_REAL_IP="203.0.113.5",
        )
    assert _limited(last)
    response = client.post(
        "/accounts/login/",
        {"login": "teammate", "password": "pw-teammate"},
        REMOTE_ADDR=PROXY,
        HTTP_X_REAL_IP="198.51.100.7",
    )
    assert response.status_code == 302
