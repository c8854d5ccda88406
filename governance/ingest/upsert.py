"""Set-based finding upsert: one statement for any number of findings.

The SQL is assembled from the fixed column list below and ``quote_name``; every value travels
as a parameter or through COPY, never in the SQL text (hence the S608 waivers).

PostgreSQL: ``COPY`` into a temporary staging table, then one ``INSERT … SELECT … ON CONFLICT``.
SQLite: one ``executemany`` of ``INSERT … ON CONFLICT``. Both run the same conflict rule:

- details (title, severity, package, evidence…) take the latest report's values;
- ``tools`` gains the reporting tool;
- a ``resolved`` finding seen again is reopened (status ``open``, ``resolved_at`` cleared);
  ``false_positive`` and ``risk_accepted`` stay as the team decided. The rule reads the row's
  current status inside the statement, so a triage committed mid-import is never overwritten.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from governance.findings.models import Finding

#: Columns written by the upsert, in row order.
COLUMNS: tuple[str, ...] = (
    "team_id", "model_id", "version_id", "fingerprint", "category", "tool", "tools",
    "rule_id", "title", "description", "severity", "raw_severity", "cvss_score",
    "cvss_vector", "vuln_id", "aliases", "package", "package_version", "fixed_version",
    "ecosystem", "purl", "file_path", "archive_member", "line", "byte_offset",
    "metric_name", "metric_value", "metric_threshold", "comparator", "sample_count",
    "failure_count", "atlas", "owasp", "references", "remediation", "evidence", "status",
    "first_seen", "last_seen", "resolved_at", "sla_due", "assignee_id", "first_scan_id",
    "last_scan_id", "updated_at",
)  # fmt: skip

_LATEST = (
    "category", "rule_id", "title", "description", "severity", "raw_severity", "cvss_score",
    "cvss_vector", "vuln_id", "aliases", "package", "package_version", "fixed_version",
    "ecosystem", "purl", "file_path", "archive_member", "line", "byte_offset", "metric_name",
    "metric_value", "metric_threshold", "comparator", "sample_count", "failure_count", "atlas",
    "owasp", "references", "remediation", "evidence", "last_seen", "last_scan_id",
    "updated_at",
)  # fmt: skip


def _conflict_clause(table: str) -> str:
    q = connection.ops.quote_name
    sets = [f"{q(c)} = excluded.{q(c)}" for c in _LATEST]
    sets += [
        f"{q('version_id')} = COALESCE(excluded.{q('version_id')}, {table}.{q('version_id')})",
        f"{q('tools')} = CASE WHEN {table}.{q('tools')} "
        f"LIKE '%%,' || excluded.{q('tool')} || ',%%' "
        f"THEN {table}.{q('tools')} ELSE {table}.{q('tools')} || excluded.{q('tool')} || ',' END",
        # The due date moves only when the severity does (the import computed the new one).
        f"{q('sla_due')} = CASE WHEN {table}.{q('severity')} <> excluded.{q('severity')} "
        f"THEN excluded.{q('sla_due')} ELSE {table}.{q('sla_due')} END",
        f"{q('status')} = CASE WHEN {table}.{q('status')} = 'resolved' THEN 'open' "
        f"ELSE {table}.{q('status')} END",
        f"{q('resolved_at')} = CASE WHEN {table}.{q('status')} = 'resolved' THEN NULL "
        f"ELSE {table}.{q('resolved_at')} END",
    ]
    return f"ON CONFLICT ({q('model_id')}, {q('fingerprint')}) DO UPDATE SET " + ", ".join(sets)


def findings_upsert(rows: Sequence[Sequence[Any]]) -> None:
    """Insert or update ``rows`` (tuples in :data:`COLUMNS` order) in one set-based write.
    Must run inside the import's transaction."""
    if not rows:
        return
    table = Finding._meta.db_table
    q = connection.ops.quote_name
    cols = ", ".join(q(c) for c in COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Same column types as the target, no constraints or identity; per session.
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS warden_finding_stage "
                f"ON COMMIT DELETE ROWS AS SELECT {cols} FROM {q(table)} WITH NO DATA"
            )
            raw = cursor.cursor  # the psycopg cursor, for COPY
            with raw.copy(f"COPY warden_finding_stage ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {q(table)} AS {q(table)} ({cols}) "
                f"SELECT {cols} FROM warden_finding_stage {_conflict_clause(q(table))}"
            )
            cursor.execute("TRUNCATE warden_finding_stage")
        else:
            placeholders = ", ".join(["%s"] * len(COLUMNS))
            cursor.executemany(
                f"INSERT INTO {q(table)} ({cols}) VALUES ({placeholders}) "
                f"{_conflict_clause(q(table))}",
                rows,
            )
