from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from governance.accounts.models import Membership
from governance.accounts.selectors import has_role, team_ids_for

pytestmark = pytest.mark.django_db


def test_roles_are_ordered_viewer_member_lead(
    lead: Any, member: Any, viewer: Any, team_alpha: Any
) -> None:
    assert has_role(lead, team_alpha.pk, "lead")
    assert has_role(lead, team_alpha.pk, "viewer")
    assert has_role(member, team_alpha.pk, "member")
    assert not has_role(member, team_alpha.pk, "lead")
    assert has_role(viewer, team_alpha.pk, "viewer")
    assert not has_role(viewer, team_alpha.pk, "member")


def test_no_role_in_another_team(outsider: Any, team_alpha: Any) -> None:
    assert not has_role(outsider, team_alpha.pk, "viewer")
    assert team_alpha.pk not in team_ids_for(outsider)


def test_inactive_user_has_no_teams(member: Any) -> None:
    member.is_active = False
    member.save()
    fresh = get_user_model().objects.get(pk=member.pk)
    assert team_ids_for(fresh) == []


def test_a_user_has_one_membership_per_team(member: Any, team_alpha: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(team=team_alpha, user=member, role="lead")


def test_unknown_role_is_rejected_by_the_database(member: Any, team_beta: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(team=team_beta, user=member, role="admin")


def test_create_team_and_add_member_with_generated_password(client: Any) -> None:
    out = StringIO()
    call_command("create_team", "risk-ml", "--name", "Risk ML", stdout=out)
    assert "created" in out.getvalue()
    out = StringIO()
    call_command("add_member", "risk-ml", "dana", "--role", "lead", "--create-user", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "dana is lead in risk-ml"
    password = lines[1].split(": ", 1)[1]
    assert len(password) >= 16
    # The printed password logs in.
    response = client.post("/accounts/login/", {"login": "dana", "password": password})
    assert response.status_code == 302
    # Changing the role later does not print a password again.
    out = StringIO()
    call_command("add_member", "risk-ml", "dana", "--role", "viewer", stdout=out)
    assert out.getvalue().strip() == "dana is viewer in risk-ml"
    assert Membership.objects.get(user__username="dana").role == "viewer"


def test_add_member_refuses_unknown_user_without_create_flag(team_alpha: Any) -> None:
    with pytest.raises(CommandError, match="--create-user"):
        call_command("add_member", "alpha", "ghost", "--role", "member")


def test_add_member_refuses_unknown_team() -> None:
    with pytest.raises(CommandError, match="create_team"):
        call_command("add_member", "nope", "ghost", "--role", "member", "--create-user")
