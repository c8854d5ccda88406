"""``manage.py policies``: policy as code from the server's shell.

manage.py policies import FILE... (--team SLUG | --organization) [--note TEXT]
manage.py policies export NAME (--team SLUG | --organization) [--as yaml|json]
manage.py policies validate FILE...
manage.py policies schema
manage.py policies expire      # what the beat task runs every 15 minutes
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.accounts.models import Team
from governance.lib.api_errors import ApplicationError
from governance.policies.models import RiskPolicy
from governance.policies.schema import (
    policy_document_dump,
    policy_document_normalize,
    policy_document_parse,
    schema_json,
)
from governance.policies.services import OPERATOR, exceptions_expire, policy_import


class Command(BaseCommand):
    help = "Import, export and validate risk policies (policy as code); expire exceptions."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="create or update policies from YAML/JSON files")
        imp.add_argument("files", nargs="+")
        exp = sub.add_parser("export", help="print a policy as YAML or JSON")
        exp.add_argument("name")
        exp.add_argument("--as", dest="fmt", choices=("yaml", "json"), default="yaml")
        for p in (imp, exp):
            g = p.add_mutually_exclusive_group(required=True)
            g.add_argument("--team", help="team slug")
            g.add_argument("--organization", action="store_true", help="organization default")
        imp.add_argument("--note", default="", help="change note for the revision")
        val = sub.add_parser("validate", help="check files against the schema; write nothing")
        val.add_argument("files", nargs="+")
        sub.add_parser("schema", help="print the warden.policy/v1 JSON Schema")
        sub.add_parser("expire", help="end exceptions whose time is up (the beat task)")

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        try:
            getattr(self, f"do_{action}")(**options)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None

    def _team(self, team: str | None, organization: bool) -> Team | None:
        if organization:
            return None
        found = Team.objects.filter(slug=team).first()
        if found is None:
            raise CommandError(f"no team {team!r}")
        return found

    def _read(self, path: str) -> dict[str, Any]:
        try:
            text = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
        try:
            return policy_document_parse(text)
        except ApplicationError as exc:
            raise CommandError(f"{path}: {exc.message}") from None

    def do_import(
        self, files: list[str], team: str | None, organization: bool, note: str, **_: Any
    ) -> None:
        target = self._team(team, organization)
        for path in files:
            document = self._read(path)
            try:
                policy, created = policy_import(
                    team=target,
                    document=document,
                    actor=OPERATOR,
                    change_note=note or f"imported from {path}",
                )
            except ApplicationError as exc:
                raise CommandError(f"{path}: {exc.message}") from None
            verb = "created" if created else "at"
            self.stdout.write(f"{path}: policy {policy.name!r} {verb} revision {policy.revision}")

    def do_export(
        self, name: str, team: str | None, organization: bool, fmt: str, **_: Any
    ) -> None:
        target = self._team(team, organization)
        policy = RiskPolicy.objects.filter(team=target, name=name, archived_at__isnull=True).first()
        if policy is None:
            raise CommandError(f"no policy named {name!r} there")
        self.stdout.write(policy_document_dump(policy.document, fmt), ending="")

    def do_validate(self, files: list[str], **_: Any) -> None:
        for path in files:
            try:
                policy_document_normalize(self._read(path))
            except ApplicationError as exc:
                raise CommandError(f"{path}: {exc.message}") from None
            self.stdout.write(f"{path}: valid")

    def do_schema(self, **_: Any) -> None:
        self.stdout.write(schema_json(), ending="")

    def do_expire(self, **_: Any) -> None:
        models = exceptions_expire()
        self.stdout.write(f"gates changed for {len(models)} model(s)")
