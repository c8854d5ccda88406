from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from governance.accounts.models import ApiToken
from governance.accounts.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def test_token_is_prefixed_shown_once_and_stored_only_as_a_hash(team_alpha: Any) -> None:
    token, raw = api_token_create(team=team_alpha, name="ci", scope="write")
    assert raw.startswith("wdn_")
    assert len(raw) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in {stored.digest, stored.mask}
    assert len(stored.digest) == 64
    assert stored.mask.startswith("wdn_")
    assert "…" in stored.mask


def test_create_api_token_command_prints_only_the_token(team_alpha: Any, api: Any) -> None:
    out = StringIO()
    call_command(
        "create_api_token",
        "--team",
        "alpha",
        "--name",
        "gh-actions",
        "--scope",
        "write",
        stdout=out,
    )
    raw = out.getvalue().strip()
    assert raw.startswith("wdn_")
    assert "\n" not in raw
    assert api(raw).get("/api/v1/models/").status_code == 200


def test_read_token_reads_but_cannot_upload_or_triage(
    team_alpha: Any, make_token: Any, api: Any, seed_findings: Any
) -> None:
    run = seed_findings(team_alpha, "m", [("CVE-1", "high")])
    client = api(make_token(team_alpha, "read"))
    assert client.get("/api/v1/findings/").status_code == 200
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.reportgen import trivy_report

    response = client.post(
        "/api/v1/scans/",
        {"file": SimpleUploadedFile("r.json", trivy_report([1])), "model": "m"},
        format="multipart",
    )
    assert response.status_code == 403
    assert "write-scoped token" in response.json()["error"]
    finding = run.model.findings.get()
    response = client.patch(
        f"/api/v1/findings/{finding.pk}/", {"status": "resolved"}, format="json"
    )
    assert response.status_code == 403


def test_write_token_triages_and_the_event_names_the_token(
    team_alpha: Any, make_token: Any, api: Any, seed_findings: Any
) -> None:
    run = seed_findings(team_alpha, "m", [("CVE-1", "high")])
    finding = run.model.findings.get()
    client = api(make_token(team_alpha, "write"))
    response = client.patch(
        f"/api/v1/findings/{finding.pk}/", {"status": "confirmed"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    event = finding.events.get()
    assert event.actor is None
    assert event.actor_label == "token:ci-write"


def test_expired_token_is_401_with_a_message(team_alpha: Any, make_token: Any, api: Any) -> None:
    raw = make_token(team_alpha, "read", expires_at=timezone.now() - timedelta(seconds=1))
    response = api(raw).get("/api/v1/models/")
    assert response.status_code == 401
    assert response.json()["error"] == "this API token has expired; create a new one"


def test_revoked_token_is_401_with_a_message(team_alpha: Any, api: Any) -> None:
    token, raw = api_token_create(team=team_alpha, name="ci", scope="read")
    assert api(raw).get("/api/v1/models/").status_code == 200
    api_token_revoke(token=token)
    response = api(raw).get("/api/v1/models/")
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]


def test_unknown_and_malformed_tokens_are_401(api: Any) -> None:
    assert api("wdn_" + "x" * 40).get("/api/v1/models/").json()["error"] == "invalid API token"
    response = api("not-a-warden-token").get("/api/v1/models/")
    assert response.status_code == 401
    assert "malformed" in response.json()["error"]


def test_last_used_at_is_recorded(team_alpha: Any, api: Any) -> None:
    token, raw = api_token_create(team=team_alpha, name="ci", scope="read")
    assert token.last_used_at is None
    api(raw).get("/api/v1/models/")
    token.refresh_from_db()
    assert token.last_used_at is not None
