from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.accounts.models import Team
from governance.hooks.services import registry_hook_set
from governance.lib.api_errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Set a team's MLflow webhook secret (as one of its leads) and print the secret and the "
        "URL path to register in MLflow. Without --secret one is generated."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", required=True, help="team slug")
        parser.add_argument("--lead", required=True, help="username of a lead of the team")
        parser.add_argument("--secret", default="", help="use this secret (16-200 characters)")

    def handle(self, *args: Any, **options: Any) -> None:
        team = Team.objects.filter(slug=options["team"]).first()
        if team is None:
            raise CommandError(f"no team {options['team']!r}")
        lead = get_user_model().objects.filter(username=options["lead"]).first()
        if lead is None:
            raise CommandError(f"no user {options['lead']!r}")
        try:
            _, secret = registry_hook_set(team=team, actor=lead, secret=options["secret"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"secret: {secret}")
        self.stdout.write(f"url: /api/v1/hooks/mlflow/?team={team.slug}")
