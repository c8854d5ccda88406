from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from governance.accounts.models import ApiToken, Team
from governance.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create a team API token and print it (only the token, once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--scope", choices=ApiToken.Scope.values, default="read")
        parser.add_argument("--expires-days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        team = Team.objects.filter(slug=options["team"]).first()
        if team is None:
            raise CommandError(f"no team {options['team']!r}")
        expires = None
        if options["expires_days"] is not None:
            expires = timezone.now() + timedelta(days=options["expires_days"])
        _, raw = api_token_create(
            team=team, name=options["name"], scope=options["scope"], expires_at=expires
        )
        self.stdout.write(raw)
