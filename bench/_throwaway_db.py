"""A throw-away database for the Django benchmarks: SQLite in memory, or
``test_warden_bench`` on PostgreSQL (created fresh, dropped afterwards), like the test suite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def throwaway_db() -> Iterator[None]:
    test_settings = connection.settings_dict.setdefault("TEST", {})
    if connection.vendor == "postgresql":
        test_settings["NAME"] = "test_warden_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)


def analyze() -> None:
    """Planner statistics for freshly bulk-loaded tables (autovacuum's job in production;
    without them PostgreSQL plans are about twice as slow)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
