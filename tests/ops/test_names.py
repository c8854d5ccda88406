"""Team and model names refuse control characters and bidi overrides wherever they enter:
the team service and ``create_team``, uploads that register a model, and the admin forms."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from governance.lib.api_errors import ApplicationError

# Each of these makes a name display as something else (or breaks a line in a log).
HOSTILE = {
    "right-to-left override": "fraud\u202egpj.exe",
    "left-to-right embedding": "fraud\u202ax",
    "first strong isolate": "fraud\u2068x",
    "pop directional isolate": "fraud\u2069x",
    "zero width joiner": "fra\u200dud",
    "newline": "fraud\nINFO forged log line",
    "escape": "fraud\x1b[2J",
    "line separator": "fraud\u2028x",
}


@pytest.mark.django_db
@pytest.mark.parametrize("name", HOSTILE.values(), ids=HOSTILE.keys())
def test_team_create_refuses_control_and_bidi_characters(name: str) -> None:
    from governance.accounts.models import Team
    from governance.accounts.services import team_create

    with pytest.raises(ApplicationError, match="team names cannot contain control or formatting"):
        team_create(slug="risk", name=name)
    assert not Team.objects.exists()


@pytest.mark.django_db
def test_create_team_command_refuses_a_bidi_name_in_one_line() -> None:
    from governance.accounts.models import Team

    with pytest.raises(CommandError) as refused:
        call_command("create_team", "risk", "--name", "Risk\u202eLM", stdout=StringIO())
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not Team.objects.exists()


@pytest.mark.django_db
def test_names_in_any_script_are_accepted() -> None:
    from governance.accounts.services import team_create

    team = team_create(slug="intl", name="Détection de fraude · 欺诈检测 · كشف الاحتيال")
    assert team.name.startswith("Détection")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["fraud\u202egpj.exe", "fraud\u2066x", "a\tb"])
def test_an_upload_cannot_register_a_model_with_such_a_name(
    team_alpha: Any, make_token: Any, upload: Any, name: str
) -> None:
    from governance.inventory.models import MLModel

    response = upload(make_token(team_alpha), b'{"dependencies": []}', model=name)
    assert response.status_code == 400
    assert "control or formatting characters" in response.json()["error"]
    assert not MLModel.objects.exists()


@pytest.fixture
def admin_client_logged_in(client: Any, db: Any) -> Any:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root")
    client.force_login(admin)
    return client


def _inline(prefix: str) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": "0",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_the_admin_refuses_a_team_name_with_a_bidi_override(admin_client_logged_in: Any) -> None:
    from governance.accounts.models import Team

    response = admin_client_logged_in.post(
        "/admin/accounts/team/add/",
        {"name": "Risk\u202eLM", "slug": "risk", **_inline("memberships")},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "cannot contain control or formatting characters" in response.content.decode()
    assert not Team.objects.exists()
    ok = admin_client_logged_in.post(
        "/admin/accounts/team/add/", {"name": "Risk ML", "slug": "risk", **_inline("memberships")}
    )
    assert ok.status_code == 302
    assert Team.objects.get().name == "Risk ML"


def test_the_admin_refuses_renaming_a_model_with_an_isolate(
    admin_client_logged_in: Any, team_alpha: Any
) -> None:
    from governance.inventory.models import MLModel

    model = MLModel.objects.create(team=team_alpha, name="churn")
    response = admin_client_logged_in.post(
        f"/admin/inventory/mlmodel/{model.pk}/change/",
        {
            "team": team_alpha.pk,
            "name": "churn\u2067v2",
            "risk_tier": "medium",
            "stage": "development",
            "tags": "[]",
            **_inline("versions"),
        },
    )
    assert response.status_code == 200
    assert "cannot contain control or formatting characters" in response.content.decode()
    model.refresh_from_db()
    assert model.name == "churn"
