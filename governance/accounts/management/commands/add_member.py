from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.accounts.models import Role, Team
from governance.accounts.services import membership_set, user_create


class Command(BaseCommand):
    help = (
        "Give a user a role in a team; --create-user creates the user and prints its password once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--create-user", action="store_true")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, slug: str, username: str, role: str, **options: Any) -> None:
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            raise CommandError(f"no team {slug!r}; create it with: manage.py create_team {slug}")
        user = get_user_model().objects.filter(username=username).first()
        password = None
        if user is None:
            if not options["create_user"]:
                raise CommandError(f"no user {username!r}; pass --create-user to create it")
            user, password = user_create(username=username, email=options["email"])
        membership_set(team=team, user=user, role=role)
        self.stdout.write(f"{username} is {role} in {slug}")
        if password:
            self.stdout.write(f"password for {username} (shown once): {password}")
