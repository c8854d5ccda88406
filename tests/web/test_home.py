from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.inventory.models import MLModel

pytestmark = pytest.mark.django_db


def test_anonymous_user_is_sent_to_the_login_page(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_login_page_is_allauths_and_logs_in_with_username_or_email(
    client: Any, member: Any
) -> None:
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert b'name="login"' in page.content
    response = client.post("/accounts/login/", {"login": "member", "password": "pw-member"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    client.logout()
    response = client.post(
        "/accounts/login/", {"login": "member@example.com", "password": "pw-member"}
    )
    assert response.status_code == 302


def test_wrong_password_does_not_log_in(client: Any, member: Any) -> None:
    response = client.post("/accounts/login/", {"login": "member", "password": "nope"})
    assert response.status_code == 200
    assert client.get("/").status_code == 302


def test_signup_is_closed_by_default(client: Any, django_user_model: Any) -> None:
    response = client.get("/accounts/signup/")
    assert b"Sign Up Closed" in response.content
    client.post(
        "/accounts/signup/",
        {
            "username": "eve",
            "email": "eve@example.com",
            "password1": "x9!long-pass-word",
            "password2": "x9!long-pass-word",
        },
    )
    assert not django_user_model.objects.filter(username="eve").exists()


def test_home_lists_only_the_users_teams_models(
    client_of: Any, member: Any, outsider: Any, team_alpha: Any, team_beta: Any
) -> None:
    MLModel.objects.create(team=team_alpha, name="alpha-fraud", risk_tier="high")
    MLModel.objects.create(team=team_beta, name="beta-secret-model", risk_tier="critical")
    page = client_of(member).get("/")
    assert page.status_code == 200
    assert b"alpha-fraud" in page.content
    assert b"beta-secret-model" not in page.content
    assert b"Beta" not in page.content

    page = client_of(outsider).get("/")
    assert b"beta-secret-model" in page.content
    assert b"alpha-fraud" not in page.content


def test_user_without_team_sees_no_models(
    client_of: Any, team_alpha: Any, django_user_model: Any
) -> None:
    MLModel.objects.create(team=team_alpha, name="alpha-fraud")
    loner = django_user_model.objects.create_user(username="loner", password="x")
    page = client_of(loner).get("/")
    assert page.status_code == 200
    assert b"alpha-fraud" not in page.content
    assert b"not in any team" in page.content


def test_home_query_count_does_not_grow_with_models(
    client_of: Any, member: Any, team_alpha: Any
) -> None:
    client = client_of(member)
    MLModel.objects.create(team=team_alpha, name="m0")
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    MLModel.objects.bulk_create([MLModel(team=team_alpha, name=f"m{i}") for i in range(1, 30)])
    # Session, user, teams, models with counts: fixed whatever the number of models.
    with CaptureQueriesContext(connection) as many:
        page = client.get("/")
    assert page.content.count(b"data-model=") == 30
    assert len(many) == len(few)
    assert len(many) <= 6


def test_healthz_needs_no_login(client: Any) -> None:
    # JSON since issue 14 (it names each dependency); tests/ops/test_health.py has the rest.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
