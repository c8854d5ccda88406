"""An organization-sized data set for the scale benchmarks: by default 1,000,000 findings over
2,000 models in 50 teams, with 90 days of rollups, written set-based (COPY on PostgreSQL).

    DATABASE_URL=postgres://... manage.py seed_large [--findings 1000000] [--models 2000]
                                                     [--teams 50] [--prefix large]

Users: ``<prefix>-lead`` is lead of every team (the "lead of all teams" of the benchmarks),
``<prefix>-one`` lead of the first team only; password ``WARDEN_DEMO_PASSWORD`` or
``warden-demo``. Refuses to run when teams with the prefix exist (use another prefix).

The rows look like what imports leave: each model has a version with an artifact, a target
and an artifact subject, one finished scan per layer, findings with one occurrence each, a
status mix (55 % open, 8 % confirmed or in progress, 25 % fixed, the rest decided), SLA due
dates from the default policy's days (about a third overdue), CVE ids, aliases and packages from a
pool of 3,000 names so searches have something to find, and a posture rollup for each of the
last 90 days. It bypasses the import service on purpose: going through it would measure the
import (``bench_ingest.py`` does that), and 2,000 imports take longer than the five minutes
this command is allowed.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone

from governance.accounts.models import Membership, Team
from governance.evidence.models import ScanRun, ScanSubject
from governance.findings.models import ACTIVE_STATUSES, Finding, FindingEvent, FindingOccurrence
from governance.inventory.models import GateStamp, MLModel, ModelVersion
from governance.metrics.models import PostureDay, PostureSnapshot, PostureTeamDay
from governance.metrics.services import posture_snapshot_take

CATEGORIES = (  # (category, tool, share of a model's findings in per-mille)
    ("dependency", "trivy", 700),
    ("model_file", "warden", 100),
    ("assessment", "giskard", 100),
    ("runtime", "warden-runtime", 50),
    ("code", "bandit", 50),
)
SEVERITIES = (("critical", 50, 7), ("high", 200, 30), ("medium", 400, 90), ("low", 300, 180))
SEVERITIES_INFO = ("info", 50, None)
TIERS = ("low", "medium", "high", "critical")
STAGES = ("development", "staging", "production")
PACKAGES = 3000


def _pick(table: Sequence[tuple[Any, ...]], r: int, share_at: int) -> tuple[Any, ...]:
    """The row of ``table`` that ``r`` (0..999) falls in, rows taking ``row[share_at]`` per
    mille each in order."""
    for row in table:
        if r < row[share_at]:
            return row
        r -= row[share_at]
    return table[-1]


class Command(BaseCommand):
    help = "Seed an organization-sized data set (1M findings, 2,000 models, 50 teams)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--findings", type=int, default=1_000_000)
        parser.add_argument("--models", type=int, default=2000)
        parser.add_argument("--teams", type=int, default=50)
        parser.add_argument("--prefix", default="large")

    def handle(self, *args: Any, **opts: Any) -> None:
        findings, n_models, n_teams = opts["findings"], opts["models"], opts["teams"]
        prefix: str = opts["prefix"]
        if min(findings, n_models, n_teams) < 1 or n_models < n_teams:
            raise CommandError("--findings, --models and --teams must be positive, models >= teams")
        if Team.objects.filter(slug__startswith=f"{prefix}-").exists():
            raise CommandError(f"teams named {prefix}-* exist already: choose another --prefix")
        started = time.monotonic()
        now = timezone.now()
        with transaction.atomic():
            teams, models_, users = self._people(prefix, n_teams, n_models)
            runs, subjects = self._evidence(models_, now)
            written = self._findings(models_, runs, subjects, findings // n_models, now)
        self._analyze()
        days = self._rollups(now.date(), prefix)
        self._analyze()
        self.stdout.write(
            f"seeded {written:,} findings, {len(models_):,} models, {len(teams)} teams, "
            f"{days} days of rollups in {time.monotonic() - started:.1f} s; "
            f"logins {', '.join(users)}"
        )

    # --- teams, people, models --------------------------------------------------------------

    def _people(
        self, prefix: str, n_teams: int, n_models: int
    ) -> tuple[list[Team], list[MLModel], list[str]]:
        teams = Team.objects.bulk_create(
            [Team(slug=f"{prefix}-{t:02d}", name=f"Large {t:02d}") for t in range(n_teams)]
        )
        password = os.environ.get("WARDEN_DEMO_PASSWORD", "warden-demo")
        user_model = get_user_model()
        lead = user_model.objects.create_user(f"{prefix}-lead", password=password)
        one = user_model.objects.create_user(f"{prefix}-one", password=password)
        Membership.objects.bulk_create(
            [Membership(team=t, user=lead, role="lead") for t in teams]
            + [Membership(team=teams[0], user=one, role="lead")]
        )
        models_ = MLModel.objects.bulk_create(
            [
                MLModel(
                    team=teams[m % n_teams],
                    name=f"{prefix}-model-{m:04d}",
                    risk_tier=TIERS[m % len(TIERS)],
                    stage=STAGES[m % len(STAGES)],
                    owner=lead,
                )
                for m in range(n_models)
            ],
            batch_size=2000,
        )
        GateStamp.objects.bulk_create([GateStamp(model=m) for m in models_], batch_size=2000)
        versions = ModelVersion.objects.bulk_create(
            [
                ModelVersion(
                    model=m,
                    version="1.0",
                    artifact_sha256=hashlib.sha256(f"{prefix}/{m.pk}".encode()).hexdigest(),
                    artifact_uri=f"s3://models/{m.name}/1.0/model.safetensors",
                    framework="pytorch",
                )
                for m in models_
            ],
            batch_size=2000,
        )
        for m, v in zip(models_, versions, strict=True):
            m.seed_version = v  # type: ignore[attr-defined]
        return teams, models_, [lead.username, one.username]

    def _evidence(
        self, models_: list[MLModel], now: datetime
    ) -> tuple[dict[tuple[int, str], int], dict[tuple[int, str], int]]:
        """A target and an artifact subject per model's version; one finished run per layer."""
        subjects: list[ScanSubject] = []
        for m in models_:
            v = m.seed_version  # type: ignore[attr-defined]
            for kind, digest in (("target", ""), ("artifact", v.artifact_sha256)):
                fields = {"version_id": v.pk, "artifact_sha256": digest, "target": ""}
                subjects.append(
                    ScanSubject(
                        team_id=m.team_id,
                        model=m,
                        kind=kind,
                        environment="",
                        key=ScanSubject.make_key(kind=kind, environment="", **fields),
                        **fields,
                    )
                )
        subjects = ScanSubject.objects.bulk_create(subjects, batch_size=4000)
        subject_of = {(s.model_id, s.kind): s.pk for s in subjects}
        runs = ScanRun.objects.bulk_create(
            [
                ScanRun(
                    team_id=m.team_id,
                    model=m,
                    version=m.seed_version,  # type: ignore[attr-defined]
                    tool=tool,
                    tool_family=tool,
                    category=category,
                    report_sha256=hashlib.sha256(f"{m.pk}/{category}".encode()).hexdigest(),
                    subject_id=subject_of[
                        (m.pk, "artifact" if category == "model_file" else "target")
                    ],
                    status=ScanRun.Status.DONE,
                    started_at=now - timedelta(hours=2),
                    finished_at=now - timedelta(hours=1),
                )
                for m in models_
                for category, tool, _ in CATEGORIES
            ],
            batch_size=4000,
        )
        return {(r.model_id, r.category): r.pk for r in runs}, subject_of

    # --- findings and their occurrences -----------------------------------------------------

    def _findings(
        self,
        models_: list[MLModel],
        runs: dict[tuple[int, str], int],
        subjects: dict[tuple[int, str], int],
        per_model: int,
        now: datetime,
    ) -> int:
        first_id = (Finding.objects.aggregate(m=models.Max("id"))["m"] or 0) + 1
        finding_rows: list[dict[str, Any]] = []
        occurrence_rows: list[dict[str, Any]] = []
        event_rows: list[dict[str, Any]] = []

        def flush() -> None:
            _insert(Finding, finding_rows)
            _insert(FindingOccurrence, occurrence_rows)
            _insert(FindingEvent, event_rows)
            finding_rows.clear()
            occurrence_rows.clear()
            event_rows.clear()

        fid = first_id
        severities = (*SEVERITIES, SEVERITIES_INFO)
        for m in models_:
            v = m.seed_version  # type: ignore[attr-defined]
            for i in range(per_model):
                h = int.from_bytes(hashlib.blake2b(f"{m.pk}/{i}".encode(), digest_size=8).digest())
                category, tool, _ = _pick(CATEGORIES, i * 1000 // per_model, 2)
                severity, _, sla_days = _pick(severities, h % 1000, 1)
                kind = h // 1000 % 100
                first_seen = now - timedelta(days=h // 100_000 % 150, minutes=h % 1440)
                sla_due = (first_seen.date() + timedelta(days=sla_days)) if sla_days else None
                status, resolution, resolved_at = "open", "", None
                if kind >= 55:
                    status = ("confirmed", "in_progress")[kind % 2] if kind < 63 else "resolved"
                if kind >= 88:
                    status = ("false_positive", "risk_accepted", "not_affected")[kind % 3]
                if status == "resolved":
                    resolution = "fixed"
                    resolved_at = min(now, first_seen + timedelta(days=1 + h // 7 % 60))
                active = status in ACTIVE_STATUSES
                cve = f"CVE-20{18 + h % 8}-{10000 + h // 13 % 90000}"
                package = f"pkg-{h // 17 % PACKAGES}"
                run = runs[(m.pk, category)]
                finding_rows.append({
                    "id": fid, "team_id": m.team_id, "model_id": m.pk, "version_id": v.pk,
                    "fingerprint": hashlib.sha256(f"{m.pk}/{i}".encode()).hexdigest(),
                    "category": category, "tool": tool, "tools": tool,
                    "rule_id": cve if category == "dependency" else f"{tool}-{h % 200}",
                    "title": f"{cve} in {package}" if category == "dependency"
                    else f"{category.replace('_', ' ')} check {h % 200} failed",
                    "severity": severity, "vuln_id": cve if category == "dependency" else "",
                    "aliases": [f"GHSA-{h % 9000 + 1000:04x}-{h // 9 % 9000 + 1000:04x}-x"]
                    if category == "dependency" and h % 3 == 0 else [],
                    "package": package if category == "dependency" else "",
                    "package_version": f"{h % 9}.{h // 9 % 20}.{h // 180 % 10}"
                    if category == "dependency" else "",
                    "fixed_version": f"{h % 9 + 1}.0.0" if category == "dependency" else "",
                    "ecosystem": "pypi" if category == "dependency" else "",
                    "file_path": f"weights/part-{h % 8}.bin" if category == "model_file" else "",
                    "status": status, "resolution": resolution, "resolved_at": resolved_at,
                    "first_seen": first_seen, "last_seen": resolved_at or now,
                    "sla_due": sla_due, "first_scan_id": run, "last_scan_id": run,
                    "updated_at": now,
                })  # fmt: skip
                subject = subjects[(m.pk, "artifact" if category == "model_file" else "target")]
                occurrence_rows.append({
                    "finding_id": fid, "subject_id": subject, "tool_family": tool,
                    "state": "fixed" if status == "resolved" else "active",
                    "first_seen": first_seen, "last_seen": resolved_at or now,
                    "first_scan_id": run, "last_scan_id": run,
                    "closed_at": resolved_at, "closed_by_scan_id": run if resolved_at else None,
                })  # fmt: skip
                if not active:
                    event_rows.append({
                        "finding_id": fid, "kind": "status", "actor_label": "seed_large",
                        "from_value": "open", "to_value": status,
                        "reason": "fixed in a later scan" if resolved_at else "decided by a lead",
                        "created_at": resolved_at or first_seen + timedelta(days=1),
                    })  # fmt: skip
                fid += 1
            if len(finding_rows) >= 50_000:
                flush()
        flush()
        _sequence_reset(Finding)
        return fid - first_id

    # --- rollups ----------------------------------------------------------------------------

    def _rollups(self, today: date, prefix: str) -> int:
        """Today's rollup from the findings, and 89 earlier days derived from it: each past day
        holds the findings first seen by then that were still active then (set-based on
        PostgreSQL; the same definition as the rollup, applied to the seeded history)."""
        posture_snapshot_take(day=today)
        if connection.vendor != "postgresql":
            return 1
        # Table names come from the models' Meta, never from input.
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {PostureSnapshot._meta.db_table}
                    (team_id, model_id, day, severity, category, open_count, overdue_count)
                SELECT f.team_id, f.model_id, d.day::date, f.severity, f.category,
                       count(*), count(*) FILTER (WHERE f.sla_due < d.day::date)
                FROM generate_series(%s::date - 89, %s::date - 1, interval '1 day') AS d(day)
                JOIN {Finding._meta.db_table} f
                  ON f.first_seen < d.day + interval '1 day'
                 AND (f.status IN ('open', 'confirmed', 'in_progress')
                      OR (f.resolved_at IS NOT NULL AND f.resolved_at >= d.day + interval '1 day'))
                JOIN {Team._meta.db_table} t ON t.id = f.team_id AND t.slug LIKE %s
                GROUP BY 1, 2, 3, 4, 5
                ON CONFLICT DO NOTHING
                """,  # noqa: S608
                [today, today, f"{prefix}-%"],
            )
            cursor.execute(
                f"""
                INSERT INTO {PostureTeamDay._meta.db_table} (team_id, day, severity, open_count)
                SELECT s.team_id, s.day, s.severity, sum(s.open_count)
                FROM {PostureSnapshot._meta.db_table} s
                JOIN {Team._meta.db_table} t ON t.id = s.team_id AND t.slug LIKE %s
                WHERE s.day < %s
                GROUP BY 1, 2, 3
                ON CONFLICT DO NOTHING
                """,  # noqa: S608
                [f"{prefix}-%", today],
            )
        PostureDay.objects.bulk_create(
            [
                PostureDay(day=today - timedelta(days=d), taken_at=timezone.now())
                for d in range(1, 90)
            ],
            ignore_conflicts=True,
        )
        return 90

    @staticmethod
    def _analyze() -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (
                    Finding,
                    FindingOccurrence,
                    FindingEvent,
                    PostureSnapshot,
                    PostureTeamDay,
                ):
                    cursor.execute(f"ANALYZE {model._meta.db_table}")


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not (f.primary_key and f.name != "id")]


def _value(field: models.Field[Any, Any], row: dict[str, Any]) -> Any:
    """The row's value for ``field`` (its default when the row does not say), ready for the
    database: JSON as text, datetimes as the backend stores them."""
    if field.attname in row:
        value = row[field.attname]
    elif field.has_default():
        value = field.get_default()
    elif field.null:
        value = None
    else:
        value = "" if isinstance(field, models.CharField | models.TextField) else None
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    if value is not None and connection.vendor != "postgresql":
        return field.get_db_prep_save(value, connection)
    return value


def _insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """Write ``rows`` in one COPY (PostgreSQL) or one executemany (elsewhere)."""
    if not rows:
        return
    fields = [f for f in _columns(model) if f.attname != "id" or "id" in rows[0]]
    names = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    values: Iterator[list[Any]] = ([_value(f, row) for f in fields] for row in rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for record in values:
                    copy.write_row(record)
        else:
            marks = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (model names)
            cursor.executemany(sql, list(values))


def _sequence_reset(model: type[models.Model]) -> None:
    """Explicit ids were written: move the id sequence past them."""
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)
