"""The event table's partitions on PostgreSQL: one a day, created before events arrive and
dropped after ``WARDEN_EVENT_RETENTION_DAYS`` (a DROP of a whole partition, not a DELETE of
millions of rows). On SQLite the retention deletes the old rows instead."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

TABLE = "runtime_event"
_PREFIX = f"{TABLE}_p"
#: Days known to have a partition in this process: remembered once the creation committed (a
#: rolled-back creation must not be remembered, or that day's events would fall into the
#: default partition), forgotten when dropped.
_known: set[date] = set()


def _name(day: date) -> str:
    return f"{_PREFIX}{day:%Y%m%d}"


def partitions_ensure(days: Iterable[date]) -> None:
    """Make sure the partitions of ``days`` exist (PostgreSQL; nothing to do elsewhere)."""
    if connection.vendor != "postgresql":
        return
    missing = sorted(set(days) - _known)
    if not missing:
        return
    with connection.cursor() as cursor:
        for day in missing:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            end = start + timedelta(days=1)
            # In its own savepoint: a concurrent creator may win the race, which is fine.
            try:
                with transaction.atomic():
                    cursor.execute(
                        f"CREATE TABLE IF NOT EXISTS {_name(day)} PARTITION OF {TABLE} "
                        "FOR VALUES FROM (%s) TO (%s)",
                        [start, end],
                    )
            except Exception:
                with transaction.atomic():
                    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [_name(day)])
                    if not cursor.fetchone()[0]:
                        raise
            transaction.on_commit(lambda day=day: _known.add(day))  # type: ignore[misc]


def partitions_maintain(*, today: date | None = None) -> dict[str, int]:
    """Beat, daily: partitions for yesterday through a week ahead; drop (or, on SQLite,
    delete) what is older than the retention. Returns what it did."""
    today = today or datetime.now(UTC).date()
    keep_days = settings.WARDEN_EVENT_RETENTION_DAYS
    oldest = today - timedelta(days=keep_days)
    partitions_ensure(today + timedelta(days=i) for i in range(-1, 8))
    dropped = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
                [TABLE],
            )
            for (name,) in cursor.fetchall():
                if not name.startswith(_PREFIX) or not name[len(_PREFIX) :].isdigit():
                    continue
                day = datetime.strptime(name[len(_PREFIX) :], "%Y%m%d").date()  # noqa: DTZ007
                if day < oldest:
                    cursor.execute(f"DROP TABLE IF EXISTS {name}")
                    _known.discard(day)
                    dropped += 1
        else:
            cursor.execute(
                f'DELETE FROM {TABLE} WHERE "time" < %s',  # noqa: S608
                [datetime(oldest.year, oldest.month, oldest.day, tzinfo=UTC)],
            )
            dropped = cursor.rowcount
    return {"dropped": dropped}
