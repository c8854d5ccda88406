"""Runtime events in: a batch for one deployment, validated, written append-only (COPY on
PostgreSQL into the day's partition), added to the hourly rollup, and handed to the alert
rules. Set-based: a fixed number of statements per batch, whatever its size.

An event is the ``warden.runtime/v1`` event shape: ``time`` (ISO 8601 with a time zone),
``kind`` (:data:`~governance.runtime.models.EVENT_KINDS`), ``rule`` (the detector, monitor or
firewall rule), ``count`` (default 1), ``severity``, ``detail`` (an object, trimmed). A batch
is not the whole picture: it never closes anything it does not mention.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from governance.inventory.models import Deployment
from governance.lib.api_errors import ApplicationError
from governance.lib.queue import enqueue
from governance.runtime.models import EVENT_KINDS, EventRollup
from governance.runtime.partitions import TABLE, partitions_ensure
from governance.runtime.tasks import alerts_evaluate_task
from governance.vocabulary import SEVERITIES

MAX_BATCH = 10_000
_DETAIL_BYTES = 2048
_COLUMNS = (
    "team_id", "model_id", "deployment_id", "time", "kind", "rule", "count", "severity",
    "detail", "received_at",
)  # fmt: skip
_KINDS = frozenset(EVENT_KINDS)
_SEVERITIES = frozenset(SEVERITIES)


def _bad(i: int, field: str, why: str) -> ApplicationError:
    return ApplicationError(f"events[{i}].{field}: {why}", detail={"index": i, "field": field})


def _printable(rule: str) -> bool:
    return not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in rule)


def _check(
    i: int, raw: Any, now: datetime, oldest: datetime, seen: dict[Any, Any]
) -> tuple[Any, ...]:
    if not isinstance(raw, dict):
        raise _bad(i, "", "expected an object")
    unknown = set(raw) - {"time", "kind", "rule", "count", "severity", "detail"}
    if unknown:
        raise _bad(i, sorted(unknown)[0], "unknown field")
    text = raw.get("time")
    if not isinstance(text, str):
        raise _bad(i, "time", "required: an ISO 8601 date-time with a time zone")
    # A batch repeats its times and rules: each distinct one is parsed and checked once.
    when = seen.get(text)
    if when is None:
        try:
            when = datetime.fromisoformat(text.strip())
        except ValueError:
            raise _bad(i, "time", f"{text[:40]!r} is not an ISO 8601 date-time") from None
        seen[text] = when
    if when.tzinfo is None:
        raise _bad(i, "time", "needs a time zone (Z or +hh:mm)")
    if when < oldest:
        days = settings.WARDEN_EVENT_RETENTION_DAYS
        raise _bad(i, "time", f"older than the {days}-day retention (WARDEN_EVENT_RETENTION_DAYS)")
    if when > now + timedelta(days=1):
        raise _bad(i, "time", "more than a day in the future")
    kind = raw.get("kind")
    if kind not in _KINDS:
        raise _bad(i, "kind", f"must be one of {', '.join(EVENT_KINDS)}")
    rule = raw.get("rule")
    if not isinstance(rule, str) or not (
        ("rule", rule) in seen or (0 < len(rule) <= 200 and _printable(rule))
    ):
        raise _bad(i, "rule", "required: 1 to 200 printable characters")
    seen["rule", rule] = True
    count = raw.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 1_000_000_000:
        raise _bad(i, "count", "an integer from 1 to 1,000,000,000")
    severity = raw.get("severity", "")
    if severity and severity not in _SEVERITIES:
        raise _bad(i, "severity", f"must be one of {', '.join(SEVERITIES)}")
    detail = raw.get("detail", {})
    if not isinstance(detail, dict):
        raise _bad(i, "detail", "expected an object")
    blob = orjson.dumps(detail).decode() if detail else "{}"
    if len(blob) > _DETAIL_BYTES:
        blob = orjson.dumps({"truncated": blob[: _DETAIL_BYTES - 40]}).decode()
    if "\\u0000" in blob:
        raise _bad(i, "detail", "contains a NUL character")
    return when, kind, rule, count, severity, blob


def events_ingest(*, deployment: Deployment, events: Any) -> int:
    """Store a batch of events for ``deployment``; returns how many. The whole batch is
    checked first: one bad event refuses the batch (nothing is half-written), with the index
    and field named."""
    if not isinstance(events, list):
        raise ApplicationError("events must be a list")
    if len(events) > MAX_BATCH:
        raise ApplicationError(f"a batch holds at most {MAX_BATCH:,} events; send several")
    if deployment.until is not None:
        raise ApplicationError(
            f"deployment {deployment.pk} ended on {deployment.until:%Y-%m-%d %H:%M}; record "
            "the running deployment first (warden deploy)"
        )
    now = timezone.now()
    oldest = now - timedelta(days=settings.WARDEN_EVENT_RETENTION_DAYS)
    seen: dict[Any, Any] = {}
    checked = [_check(i, raw, now, oldest, seen) for i, raw in enumerate(events)]
    if not checked:
        return 0
    rollup: dict[tuple[str, str, datetime], list[int]] = defaultdict(lambda: [0, 0])
    for when, kind, rule, count, _, _ in checked:
        hour = when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        acc = rollup[(kind, rule, hour)]
        acc[0] += count
        acc[1] += 1
    partitions_ensure({h.date() for (_, _, h) in rollup})
    ids = (deployment.team_id, deployment.model_id, deployment.pk)
    with transaction.atomic():
        _write(ids, checked, now)
        _rollup_add(deployment, rollup)
        deployment_id = deployment.pk
        transaction.on_commit(lambda: alerts_evaluate_soon(deployment_id))
    return len(checked)


def _write(ids: tuple[int, int, int], checked: list[tuple[Any, ...]], now: datetime) -> None:
    cols = ", ".join(connection.ops.quote_name(c) for c in _COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {TABLE} ({cols}) FROM STDIN") as copy:
                for row in checked:
                    copy.write_row((*ids, *row, now))
        else:
            received = connection.ops.adapt_datetimefield_value(now)
            cursor.executemany(
                f"INSERT INTO {TABLE} ({cols}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})",  # noqa: S608
                [
                    (*ids, connection.ops.adapt_datetimefield_value(w), k, r, c, s, d, received)
                    for w, k, r, c, s, d in checked
                ],
            )


def _rollup_add(deployment: Deployment, rollup: dict[tuple[str, str, datetime], list[int]]) -> None:
    """Add the batch's counts to the hourly rollup: one upsert (count = count + new)."""
    table = connection.ops.quote_name(EventRollup._meta.db_table)
    rows = [
        (deployment.team_id, deployment.pk, connection.ops.adapt_datetimefield_value(hour),
         kind, rule, count, n)
        for (kind, rule, hour), (count, n) in rollup.items()
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (team_id, deployment_id, hour, kind, rule, count, events) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (deployment_id, kind, rule, hour) DO UPDATE SET "
            f"count = {table}.count + excluded.count, events = {table}.events + excluded.events",
            rows,
        )


def alerts_evaluate_soon(deployment_id: int) -> None:
    """Evaluate the deployment's alert rules now, at most once every few seconds (the
    minute sweep catches what a debounced batch leaves)."""
    key = f"alerts-due:{deployment_id}"
    if cache.add(key, 1, timeout=settings.WARDEN_ALERT_DEBOUNCE_SECONDS):
        enqueue(alerts_evaluate_task, deployment_id)
