from __future__ import annotations

from typing import Any

import pytest

from governance.accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def test_lead_creates_a_token_shown_once_and_it_works(client_of: Any, lead: Any, api: Any) -> None:
    c = client_of(lead)
    page = c.post(
        "/teams/alpha/tokens/",
        {"name": "github", "scope": "write", "expires_in_days": "30"},
        follow=True,
    )
    # redirect after the POST: a refresh of the page shown creates nothing
    assert page.redirect_chain == [("/teams/alpha/tokens/", 302)]
    raw = page.context["created_token"]
    assert raw.startswith("wdn_")
    assert raw.encode() in page.content
    assert api(raw).get("/api/v1/models/").status_code == 200
    # Shown once: the list page never shows it again.
    again = c.get("/teams/alpha/tokens/")
    assert raw.encode() not in again.content
    assert b"github" in again.content
    token = ApiToken.objects.get(name="github")
    assert token.created_by == lead
    assert token.expires_at is not None


def test_lead_revokes_a_token_from_the_page(
    client_of: Any, lead: Any, api: Any, make_token: Any, team_alpha: Any
) -> None:
    raw = make_token(team_alpha, "read")
    token = ApiToken.objects.get()
    c = client_of(lead)
    response = c.post(f"/teams/alpha/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert api(raw).get("/api/v1/models/").status_code == 401
    assert b"revoked" in c.get("/teams/alpha/tokens/").content


def test_members_and_viewers_cannot_manage_tokens(client_of: Any, member: Any, viewer: Any) -> None:
    assert client_of(member).get("/teams/alpha/tokens/").status_code == 403
    assert (
        client_of(viewer).post("/teams/alpha/tokens/", {"name": "x", "scope": "write"}).status_code
        == 403
    )
    assert not ApiToken.objects.exists()


def test_another_teams_token_pages_are_404(
    client_of: Any, outsider: Any, make_token: Any, team_alpha: Any
) -> None:
    make_token(team_alpha, "read")
    token = ApiToken.objects.get()
    c = client_of(outsider)
    assert c.get("/teams/alpha/tokens/").status_code == 404
    assert c.post(f"/teams/alpha/tokens/{token.pk}/revoke/").status_code == 404
    # Even through the outsider's own team URL, another team's token id is 404.
    assert c.post(f"/teams/beta/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_token_pages_need_login(client: Any, team_alpha: Any) -> None:
    response = client.get("/teams/alpha/tokens/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_lead_turns_off_model_creation_from_uploads(
    client_of: Any, lead: Any, member: Any, team_alpha: Any, make_token: Any, upload: Any
) -> None:
    from tests.reportgen import trivy_report

    assert client_of(member).post("/teams/alpha/settings/", {}).status_code == 403
    team_alpha.refresh_from_db()
    assert team_alpha.allow_model_autocreate
    response = client_of(lead).post("/teams/alpha/settings/", {})  # checkbox unticked
    assert response.status_code == 302
    team_alpha.refresh_from_db()
    assert not team_alpha.allow_model_autocreate
    refused = upload(make_token(team_alpha), trivy_report([1]), model="unregistered")
    assert refused.status_code == 400
    assert "register the model first" in refused.json()["error"]
    client_of(lead).post("/teams/alpha/settings/", {"allow_model_autocreate": "on"})
    team_alpha.refresh_from_db()
    assert team_alpha.allow_model_autocreate


def test_outsider_cannot_change_another_teams_settings(
    client_of: Any, outsider: Any, team_alpha: Any
) -> None:
    assert client_of(outsider).post("/teams/alpha/settings/", {}).status_code == 404
    team_alpha.refresh_from_db()
    assert team_alpha.allow_model_autocreate


def test_the_tokens_page_title_is_plain_text_and_a_refresh_creates_nothing(
    client_of: Any, lead: Any
) -> None:
    import re

    c = client_of(lead)
    html = c.get("/teams/alpha/tokens/").content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title is not None
    assert title.group(1) == "API tokens · Alpha · Warden"
    response = c.post("/teams/alpha/tokens/", {"name": "ci", "scope": "read"})
    assert response.status_code == 302
    shown = c.get("/teams/alpha/tokens/")  # the one page that shows it
    assert shown.context["created_token"].startswith("wdn_")
    again = c.get("/teams/alpha/tokens/")  # a refresh: a GET, nothing created, nothing shown
    assert again.context["created_token"] is None
    assert ApiToken.objects.count() == 1
    # every input has a label
    for field in ("name", "scope", "expires_in_days"):
        assert f'<label for="id_{field}">' in again.content.decode()


def test_revoke_asks_to_confirm_first(
    client_of: Any, lead: Any, make_token: Any, team_alpha: Any
) -> None:
    make_token(team_alpha, "read")
    token = ApiToken.objects.get()
    c = client_of(lead)
    listing = c.get("/teams/alpha/tokens/").content.decode()
    assert f'class="button danger" href="/teams/alpha/tokens/{token.pk}/revoke/"' in listing
    confirm = c.get(f"/teams/alpha/tokens/{token.pk}/revoke/").content.decode()
    assert "is refused from now on" in confirm
    assert '<button type="submit" class="danger" data-confirm>Revoke this token</button>' in (
        confirm
    )
    token.refresh_from_db()
    assert token.revoked_at is None
