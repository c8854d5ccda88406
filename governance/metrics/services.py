"""Writes of the metrics app: the per-model posture cache and the daily posture rollup."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Q, Sum, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from governance.findings.models import ACTIVE_STATUSES, Finding, Status
from governance.inventory.models import MLModel
from governance.metrics.counts import active_parts
from governance.metrics.models import ModelPosture, PostureDay, PostureSnapshot, PostureTeamDay
from governance.metrics.sla import REMEDIATION_WINDOW_DAYS, mttr_parts, sla_parts, window_start

#: How many of the riskiest models a posture summary keeps (the dashboard shows ten).
RISKIEST = 10
#: A summary's life in the cache: its key changes with every change in scope anyway.
SUMMARY_SECONDS = 600
#: Above this share of stale models, the figures are recomputed for the whole scope in one
#: pass (a long ``model_id IN (...)`` list costs more than reading the few fresh ones again).
_WHOLE_SCOPE_SHARE = 0.5


def model_postures_current(*, team_ids: list[int], today: date) -> dict[int, dict[str, Any]]:
    """``{model id: figures}`` for every model of ``team_ids`` as of ``today``, from the
    :class:`ModelPosture` cache, recomputing first only the models whose gate stamp moved
    on since their row was written, or whose row is of another day.

    figures = ``{"active": [[category, severity, n, overdue], ...], "mttr": [[severity, n,
    microseconds], ...], "sla": [[severity, met, missed, running], ...]}``: the groups of
    :func:`~governance.metrics.counts.active_parts`,
    :func:`~governance.metrics.sla.mttr_parts` and :func:`~governance.metrics.sla.sla_parts`
    of the model's findings over the :data:`REMEDIATION_WINDOW_DAYS` window ending
    ``today``, so that sums of them equal those functions over the same findings.

    Two queries when nothing changed; four more (three grouped reads and one upsert) when
    something did. The stamp is read before the findings: a change committed meanwhile
    leaves a row with the older stamp, recomputed on the next read.
    """
    _postures_refresh(team_ids=team_ids, today=today)
    return _figures_read(team_ids)


def _figures_read(team_ids: list[int]) -> dict[int, dict[str, Any]]:
    rows = (
        ModelPosture.objects.filter(team_id__in=team_ids)
        .annotate(text=Cast("figures", TextField()))
        .values_list("model_id", "text")
    )
    # Decoded with orjson from text: json.loads of 2,000 models' figures cost more than
    # every query of the dashboard together.
    return {pk: orjson.loads(text) for pk, text in rows}


def posture_summary(*, team_ids: list[int], today: date) -> dict[str, Any]:
    """The dashboard's sums over every model of ``team_ids`` (their
    :func:`model_postures_current` figures added up), cached under the teams, the day and
    every model's gate stamp, so a change anywhere in scope is a new key at once.

    summary = ``{"active": [[category, severity, n, overdue], ...], "mttr": [[severity, n,
    microseconds], ...], "sla": [[severity, met, missed, running], ...], "models": #models,
    "risky": #models with an active critical or high finding, "riskiest": the
    :data:`RISKIEST` per-model rows (model_id, critical, high, overdue, active) ordered as
    :func:`~governance.metrics.selectors.model_risk` orders them}``.

    One query when the summary is cached; otherwise those of :func:`model_postures_current`.
    """
    stamps = _postures_refresh(team_ids=team_ids, today=today)
    key = (
        "posture-summary:"
        + hashlib.sha256(
            f"{sorted(team_ids)}|{today}|{sorted(stamps.items())}".encode()
        ).hexdigest()
    )
    cached: dict[str, Any] | None = cache.get(key)
    if cached is not None:
        return cached
    figures = _figures_read(team_ids)
    active: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    mttr: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    sla: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    risk: list[dict[str, int]] = []
    for pk, f in figures.items():
        row = {"model_id": pk, "critical": 0, "high": 0, "overdue": 0, "active": 0}
        for category, severity, n, overdue in f["active"]:
            cell = active[(category, severity)]
            cell[0] += n
            cell[1] += overdue
            if severity in ("critical", "high"):
                row[severity] += n
            row["overdue"] += overdue
            row["active"] += n
        if row["active"]:
            risk.append(row)
        for severity, n, micros in f["mttr"]:
            mttr[severity][0] += n
            mttr[severity][1] += micros
        for severity, *counts in f["sla"]:
            sla[severity] = [a + b for a, b in zip(sla[severity], counts, strict=True)]
    risk.sort(key=lambda r: (-r["critical"], -r["high"], -r["overdue"], -r["active"],
                             r["model_id"]))  # fmt: skip
    summary = {
        "active": [[c, s, n, late] for (c, s), (n, late) in active.items()],
        "mttr": [[s, n, micros] for s, (n, micros) in mttr.items()],
        "sla": [[s, *counts] for s, counts in sla.items()],
        "models": len(figures),
        "risky": sum(1 for r in risk if r["critical"] or r["high"]),
        "riskiest": risk[:RISKIEST],
    }
    cache.set(key, summary, SUMMARY_SECONDS)
    return summary


def _postures_refresh(*, team_ids: list[int], today: date) -> dict[int, int]:
    """Recount the stale :class:`ModelPosture` rows of ``team_ids`` (see
    :func:`model_postures_current`); returns every model's gate stamp."""
    rows = list(
        MLModel.objects.filter(team_id__in=team_ids).values_list(
            "id", "team_id", "gate_stamp__value", "posture__stamp", "posture__day"
        )
    )
    stamps = {pk: stamp or 0 for pk, _, stamp, _, _ in rows}
    stale = {pk: (team_id, stamps[pk]) for pk, team_id, _, seen, day in rows
             if day != today or seen != stamps[pk]}  # fmt: skip
    if not stale:
        return stamps
    findings = Finding.objects.filter(team_id__in=team_ids)
    if len(stale) <= _WHOLE_SCOPE_SHARE * len(rows):
        findings = findings.filter(model_id__in=list(stale))
    since, since_start = window_start(today, REMEDIATION_WINDOW_DAYS)
    fresh: dict[int, dict[str, list[list[Any]]]] = defaultdict(
        lambda: {"active": [], "mttr": [], "sla": []}
    )
    by = ("model_id",)
    for r in active_parts(findings, today=today, by=by):
        fresh[r["model_id"]]["active"].append([r["category"], r["severity"], r["n"], r["overdue"]])
    for r in mttr_parts(findings, since=since_start, by=by):
        fresh[r["model_id"]]["mttr"].append([r["severity"], r["n"], r["micros"]])
    for r in sla_parts(findings, today=today, since=since, by=by):
        fresh[r["model_id"]]["sla"].append([r["severity"], r["met"], r["missed"], r["running"]])
    now = timezone.now()
    ModelPosture.objects.bulk_create(
        [
            ModelPosture(
                model_id=pk,
                team_id=team_id,
                stamp=stamp,
                day=today,
                figures=fresh[pk],
                computed_at=now,
            )
            for pk, (team_id, stamp) in stale.items()
        ],
        update_conflicts=True,
        unique_fields=["model"],
        update_fields=["team", "stamp", "day", "figures", "computed_at"],
        batch_size=2000,
    )
    return stamps


def posture_snapshot_take(*, day: date) -> int:
    """Record, for ``day``, the active findings of every model by severity and category.

    open_count = #findings with status in ACTIVE_STATUSES (open, confirmed, in progress);
    overdue_count = those of them with ``sla_due < day``: the ``active`` groups of
    :func:`model_postures_current`. Incremental: a run replaces the day's rows only of the
    models whose figures moved on since the day's previous run wrote them (their findings
    changed; every model on the first run of a day), then the day's team sums
    (:class:`PostureTeamDay`, what the dashboard's trend reads). In one transaction; other
    days are never touched, except that days older than ``WARDEN_POSTURE_RETENTION_DAYS``
    are dropped (the dashboard reads 90). Returns the number of model rows written.
    """
    previous = PostureDay.objects.filter(day=day).values_list("taken_at", flat=True).first()
    team_ids = list(MLModel.objects.order_by().values_list("team_id", flat=True).distinct())
    _postures_refresh(team_ids=team_ids, today=day)
    changed = ModelPosture.objects.filter(day=day)
    if previous is not None:  # the models whose figures moved on since the last run
        changed = changed.exclude(rolled_day=day, rolled_stamp=F("stamp"))
    read = list(
        changed.annotate(text=Cast("figures", TextField())).values_list(
            "model_id", "team_id", "stamp", "text"
        )
    )
    rows = [
        PostureSnapshot(team_id=team_id, model_id=model_id, day=day, severity=severity,
                        category=category, open_count=n, overdue_count=overdue)
        for model_id, team_id, _, text in read
        for category, severity, n, overdue in orjson.loads(text)["active"]
    ]  # fmt: skip
    with transaction.atomic():
        replaced = PostureSnapshot.objects.filter(day=day)
        if previous is not None:
            replaced = replaced.filter(model_id__in=[pk for pk, *_ in read])
        replaced.delete()
        PostureSnapshot.objects.bulk_create(rows, batch_size=5000)
        sums = (
            PostureSnapshot.objects.filter(day=day)
            .order_by()
            .values("team_id", "severity")
            .annotate(n=Sum("open_count"))
        )
        PostureTeamDay.objects.filter(day=day).delete()
        PostureTeamDay.objects.bulk_create(
            [
                PostureTeamDay(
                    team_id=r["team_id"], day=day, severity=r["severity"], open_count=r["n"]
                )
                for r in sums
            ],
            batch_size=5000,
        )
        # The stamps read, not the current ones: figures that moved on meanwhile differ.
        ModelPosture.objects.bulk_update(
            [
                ModelPosture(model_id=pk, rolled_day=day, rolled_stamp=stamp)
                for pk, _, stamp, _ in read
            ],
            ["rolled_day", "rolled_stamp"],
            batch_size=1000,
        )
        PostureDay.objects.update_or_create(day=day, defaults={"taken_at": timezone.now()})
        oldest = day - timedelta(days=settings.WARDEN_POSTURE_RETENTION_DAYS)
        PostureSnapshot.objects.filter(day__lt=oldest).delete()
        PostureTeamDay.objects.filter(day__lt=oldest).delete()
        PostureDay.objects.filter(day__lt=oldest).delete()
    return len(rows)


def posture_backfill(*, today: date, days: int) -> int:
    """Rollups for the ``days`` days before ``today`` that have none, from the findings'
    dates: a finding counts as active on day D when it was first seen by the end of D and is
    still active now, or was resolved after D. (Triage states other than resolved carry no
    date, so a false positive or an accepted risk counts as inactive on every past day.)

    For data loaded after the fact (the demo's 90 days of history); a day that already has
    its rollup is never touched. Per day one aggregate query and two bulk inserts (the model
    rows and the team sums the trend reads). Returns the number of model rows written.
    """
    written = 0
    taken = set(
        PostureDay.objects.filter(day__gte=today - timedelta(days=days), day__lt=today).values_list(
            "day", flat=True
        )
    )
    tz = timezone.get_current_timezone()
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        if day in taken:
            continue
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
        groups = list(
            Finding.objects.filter(first_seen__lt=end)
            .filter(Q(status__in=ACTIVE_STATUSES) | Q(status=Status.RESOLVED, resolved_at__gte=end))
            .order_by()
            .values("team_id", "model_id", "severity", "category")
            .annotate(open_count=Count("id"), overdue_count=Count("id", filter=Q(sla_due__lt=day)))
        )
        sums: dict[tuple[int, str], int] = defaultdict(int)
        for g in groups:
            sums[(g["team_id"], g["severity"])] += g["open_count"]
        with transaction.atomic():
            PostureSnapshot.objects.bulk_create(
                [PostureSnapshot(day=day, **g) for g in groups], batch_size=5000
            )
            PostureTeamDay.objects.bulk_create(
                [
                    PostureTeamDay(team_id=team_id, day=day, severity=severity, open_count=n)
                    for (team_id, severity), n in sums.items()
                ],
                batch_size=5000,
            )
            PostureDay.objects.create(day=day, taken_at=end)
        written += len(groups)
    return written
