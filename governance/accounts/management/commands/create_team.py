from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import slugify

from governance.accounts.models import Team
from governance.accounts.services import team_create
from governance.lib.api_errors import ApplicationError


class Command(BaseCommand):
    help = "Create a team (no-op when the slug exists)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--name", default=None)

    def handle(self, *args: Any, slug: str, name: str | None, **options: Any) -> None:
        if slugify(slug) != slug:
            raise CommandError(f"{slug!r} is not a valid slug (lower-case letters, digits, '-')")
        existed = Team.objects.filter(slug=slug).exists()
        try:
            team = team_create(slug=slug, name=name)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"team {team.slug} {'exists' if existed else 'created'}")
