"""Set-based finding upsert: one statement for any number of findings, one for where they
were seen.

The SQL is assembled from the fixed column lists below and ``quote_name``; every value travels
as a parameter or through COPY, never in the SQL text (hence the S608 waivers).

PostgreSQL: ``COPY`` into a temporary staging table, then one ``INSERT … SELECT … ON CONFLICT``
into findings and one into occurrences (joined on the staged fingerprints). SQLite: one
``executemany`` of each. Both run the same conflict rules:

- details (title, severity, package, evidence…) take the latest report's values; a runtime
  finding's event counts add up (a batch is not the whole picture);
- ``tools`` gains the reporting tool;
- the reporting tool's own decision (``tool_state``: a VEX "not affected", a SARIF
  suppression) sets the status of a finding that is open or resolved, never one a person
  decided; a later report without that decision reopens a finding the tool had set;
- a ``resolved`` finding seen again is reopened (status ``open``, resolution and
  ``resolved_at`` cleared); ``false_positive`` and ``risk_accepted`` stay as the team decided.
  The rules read the row's current status inside the statement, so a triage committed
  mid-import is never overwritten;
- the occurrence of each finding in the scan's subject, for the scan's tool family, becomes
  (or stays) active, last seen by this scan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from governance.findings.models import Finding, FindingOccurrence

#: Columns written by the upsert, in row order.
COLUMNS: tuple[str, ...] = (
    "team_id", "model_id", "version_id", "fingerprint", "category", "tool", "tools",
    "rule_id", "title", "description", "severity", "raw_severity", "cvss_score",
    "cvss_vector", "vuln_id", "aliases", "package", "package_version", "fixed_version",
    "ecosystem", "purl", "file_path", "archive_member", "line", "byte_offset",
    "metric_name", "metric_value", "metric_threshold", "comparator", "sample_count",
    "failure_count", "atlas", "owasp", "references", "remediation", "evidence", "status",
    "resolution", "tool_state", "justification", "reachable",
    "first_seen", "last_seen", "resolved_at", "sla_due", "assignee_id", "first_scan_id",
    "last_scan_id", "updated_at",
)  # fmt: skip

_LATEST = (
    "category", "rule_id", "title", "description", "severity", "raw_severity", "cvss_score",
    "cvss_vector", "vuln_id", "aliases", "package", "package_version", "fixed_version",
    "ecosystem", "purl", "file_path", "archive_member", "line", "byte_offset", "metric_name",
    "metric_threshold", "comparator", "sample_count", "atlas", "owasp", "references",
    "remediation", "evidence", "tool_state", "justification", "reachable", "last_seen",
    "last_scan_id", "updated_at",
)  # fmt: skip

#: Statuses the reporting tool may set or lift; anything else is a person's decision.
_TOOL_MAY_CHANGE = ("open", "resolved")


@dataclass(frozen=True)
class Sighting:
    """Where this import's findings were seen: its subject, by its tool family."""

    subject_id: int
    tool_family: str
    scan_run_id: int
    now: Any  # the import's time, adapted for the database


def _conflict_clause(table: str) -> str:
    q = connection.ops.quote_name
    t, x = table, "excluded"
    status, tool_state = f"{t}.{q('status')}", f"{t}.{q('tool_state')}"
    # Runtime batches (the warden-runtime report's event_count) add up; an alert rule's window
    # figure is its current value like any other.
    runtime = f"{x}.{q('category')} = 'runtime' AND {x}.{q('metric_name')} = 'event_count'"
    # The status after this report: a tool decision applies to open or resolved findings;
    # a finding the tool had set (status = its earlier tool_state) reopens when the tool no
    # longer says so; a resolved finding seen again reopens; a person's decision stays.
    new_status = (
        f"CASE WHEN {x}.{q('tool_state')} <> '' AND {status} IN ('open', 'resolved') "
        f"THEN {x}.{q('tool_state')} "
        f"WHEN {x}.{q('tool_state')} = '' AND {tool_state} <> '' AND {status} = {tool_state} "
        f"THEN 'open' "
        f"WHEN {status} = 'resolved' THEN 'open' ELSE {status} END"
    )
    changes_status = f"({new_status}) <> {status}"
    sets = [f"{q(c)} = {x}.{q(c)}" for c in _LATEST]
    sets += [
        f"{q('version_id')} = COALESCE({x}.{q('version_id')}, {t}.{q('version_id')})",
        f"{q('tools')} = CASE WHEN {t}.{q('tools')} "
        f"LIKE '%%,' || {x}.{q('tool')} || ',%%' "
        f"THEN {t}.{q('tools')} ELSE {t}.{q('tools')} || {x}.{q('tool')} || ',' END",
        # Runtime batches add up; every other finding reports its current value.
        f"{q('metric_value')} = CASE WHEN {runtime} THEN COALESCE({t}.{q('metric_value')}, 0) "
        f"+ COALESCE({x}.{q('metric_value')}, 0) ELSE {x}.{q('metric_value')} END",
        f"{q('failure_count')} = CASE WHEN {runtime} THEN COALESCE({t}.{q('failure_count')}, 0)"
        f" + COALESCE({x}.{q('failure_count')}, 0) ELSE {x}.{q('failure_count')} END",
        # The due date moves only when the severity does (the import computed the new one).
        f"{q('sla_due')} = CASE WHEN {t}.{q('severity')} <> {x}.{q('severity')} "
        f"THEN {x}.{q('sla_due')} ELSE {t}.{q('sla_due')} END",
        f"{q('status')} = {new_status}",
        f"{q('resolution')} = CASE WHEN {changes_status} AND ({new_status}) <> 'resolved' "
        f"THEN '' WHEN {changes_status} THEN 'tool' ELSE {t}.{q('resolution')} END",
        f"{q('resolved_at')} = CASE WHEN {changes_status} AND ({new_status}) = 'resolved' "
        f"THEN {x}.{q('last_seen')} WHEN {changes_status} THEN NULL "
        f"ELSE {t}.{q('resolved_at')} END",
    ]
    return f"ON CONFLICT ({q('model_id')}, {q('fingerprint')}) DO UPDATE SET " + ", ".join(sets)


_OCC_COLUMNS = (
    "finding_id", "subject_id", "tool_family", "state", "first_seen", "last_seen",
    "first_scan_id", "last_scan_id", "closed_at", "closed_by_scan_id",
)  # fmt: skip


def _occurrence_conflict() -> str:
    q = connection.ops.quote_name
    keys = ", ".join(q(c) for c in ("finding_id", "subject_id", "tool_family"))
    sets = ", ".join(
        [
            f"{q('state')} = 'active'",
            f"{q('last_seen')} = excluded.{q('last_seen')}",
            f"{q('last_scan_id')} = excluded.{q('last_scan_id')}",
            f"{q('closed_at')} = NULL",
            f"{q('closed_by_scan_id')} = NULL",
        ]
    )
    return f"ON CONFLICT ({keys}) DO UPDATE SET {sets}"


def findings_upsert(rows: Sequence[Sequence[Any]], sighting: Sighting | None = None) -> None:
    """Insert or update ``rows`` (tuples in :data:`COLUMNS` order) in one set-based write and,
    with a ``sighting``, mark each of them active in its subject. Must run inside the import's
    transaction. Every row is of one model."""
    if not rows:
        return
    table = Finding._meta.db_table
    occ_table = FindingOccurrence._meta.db_table
    q = connection.ops.quote_name
    cols = ", ".join(q(c) for c in COLUMNS)
    occ_cols = ", ".join(q(c) for c in _OCC_COLUMNS)
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
            if sighting is not None:
                s = sighting
                cursor.execute(
                    f"INSERT INTO {q(occ_table)} ({occ_cols}) "
                    f"SELECT f.{q('id')}, %s, %s, 'active', %s, %s, %s, %s, NULL, NULL "
                    f"FROM warden_finding_stage s JOIN {q(table)} f "
                    f"ON f.{q('model_id')} = s.{q('model_id')} "
                    f"AND f.{q('fingerprint')} = s.{q('fingerprint')} "
                    f"{_occurrence_conflict()}",
                    [s.subject_id, s.tool_family, s.now, s.now, s.scan_run_id, s.scan_run_id],
                )
            cursor.execute("TRUNCATE warden_finding_stage")
        else:
            placeholders = ", ".join(["%s"] * len(COLUMNS))
            cursor.executemany(
                f"INSERT INTO {q(table)} ({cols}) VALUES ({placeholders}) "
                f"{_conflict_clause(q(table))}",
                rows,
            )
            if sighting is not None:
                s = sighting
                model_at, fp_at = COLUMNS.index("model_id"), COLUMNS.index("fingerprint")
                head = [s.subject_id, s.tool_family, s.now, s.now, s.scan_run_id, s.scan_run_id]
                cursor.executemany(
                    f"INSERT INTO {q(occ_table)} ({occ_cols}) "
                    f"SELECT {q('id')}, %s, %s, 'active', %s, %s, %s, %s, NULL, NULL "
                    f"FROM {q(table)} WHERE {q('model_id')} = %s AND {q('fingerprint')} = %s "
                    f"{_occurrence_conflict()}",
                    [[*head, row[model_at], row[fp_at]] for row in rows],
                )
