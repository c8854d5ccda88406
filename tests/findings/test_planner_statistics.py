"""A big import refreshes the planner's statistics at once, so the next gate is planned on
the rows that are really there (not on a sample taken when the table was empty)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from governance.findings.models import Finding
from governance.lib.db import statistics_refresh_if_stale
from tests.reportgen import trivy_report


def _counted(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return float(cursor.fetchone()[0])


@pytest.mark.postgres
def test_a_big_import_leaves_statistics_that_count_its_rows(
    upload: Any, make_token: Any, team_alpha: Any, django_capture_on_commit_callbacks: Any
) -> None:
    token = make_token(team_alpha, "write")
    table = Finding._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")  # the planner has seen the table (nearly) empty
    before = _counted(table)
    with django_capture_on_commit_callbacks(execute=True):
        r = upload(token, trivy_report(range(2500)), model="big", version="1")
    assert r.status_code == 201, r.content
    assert Finding.objects.filter(model__name="big").count() == 2500
    # Without the refresh reltuples stays at what the ANALYZE above saw.
    assert _counted(table) >= before + 2500


@pytest.mark.postgres
def test_only_growth_worth_a_new_sample_is_analyzed(db: Any) -> None:
    table = Finding._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
    assert statistics_refresh_if_stale({table: (999, ("id",))}) == []  # small: plans anyway
    assert statistics_refresh_if_stale({table: (1000, ("id", "team_id"))}) == [table]
    assert statistics_refresh_if_stale({}) == []
