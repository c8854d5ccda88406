"""Database helpers every app may use (no app models here)."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

#: A table whose rows grew by more than this share since PostgreSQL last sampled it gets its
#: statistics refreshed at once (autovacuum's own rule, without waiting for its next round).
STALE_SHARE = 0.1
#: ... and by at least this many rows (small tables plan well whatever their statistics).
STALE_MIN_ROWS = 1000
#: The sample of that refresh (300 rows per unit): what fixes the plan is the row count and
#: the spread of the keys, which a small sample gives; PostgreSQL's default (100) costs six
#: times as long (0.34 s against 0.06 s at 200,000 findings), paid inside an upload.
#: autovacuum's next ANALYZE samples at the default again.
SAMPLE_TARGET = 20


def statistics_refresh_if_stale(grown: dict[str, tuple[int, tuple[str, ...]]]) -> list[str]:
    """``ANALYZE`` each table of ``grown`` (``{table: (rows added, columns to sample)}``) that
    grew by more than :data:`STALE_SHARE` of the rows PostgreSQL last counted in it (and by
    :data:`STALE_MIN_ROWS`). Returns the tables analyzed; a no-op off PostgreSQL.

    Why: after a big first import the planner still believes the table holds the few rows it
    sampled last, estimates one row for the new model and picks a nested loop that compares
    every finding with every occurrence (50 s for a 30,000-finding gate instead of 50 ms).
    autovacuum corrects that a minute or more later, or never where it is turned off. Only
    the columns that filters and joins use are sampled: a few hundred ms at most, paid only
    when the table really changed shape."""
    if connection.vendor != "postgresql" or not grown:
        return []
    tables = [t for t, (rows, _) in grown.items() if rows >= STALE_MIN_ROWS]
    if not tables:
        return []
    stale: list[str] = []
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, reltuples FROM pg_class"
                " WHERE relname = ANY(%s) AND relkind IN ('r', 'p')",
                [tables],
            )
            counted = {name: max(float(reltuples), 0.0) for name, reltuples in cursor.fetchall()}
            for table in tables:
                rows, columns = grown[table]
                if table in counted and rows > STALE_SHARE * counted[table]:
                    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
                    table_sql = connection.ops.quote_name(table)
                    # Session-level, reset at once: no transaction is held open around
                    # ANALYZE (a test's TRUNCATE, a migration would wait on it).
                    cursor.execute(f"SET default_statistics_target = {int(SAMPLE_TARGET)}")
                    try:
                        cursor.execute(f"ANALYZE {table_sql} ({quoted})")
                    finally:
                        cursor.execute("RESET default_statistics_target")
                    stale.append(table)
    except DatabaseError:  # statistics are an optimization: never fail the import for them
        logger.warning("could not refresh planner statistics of %s", tables, exc_info=True)
    return stale
