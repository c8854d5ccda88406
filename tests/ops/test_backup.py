"""docs/ops/backup_restore_check.sh on a real PostgreSQL: a seeded Warden database dumps,
restores into a fresh database with every table's rows, and the check holds while the database
is being written to (counts and dump share one snapshot)."""

from __future__ import annotations

import os
import subprocess
import threading
from io import StringIO
from typing import Any

import pytest
from django.db import connection

from tests.ops.conftest import ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SCRIPT = ROOT / "docs/ops/backup_restore_check.sh"


def _url(dbname: str) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{dbname}"


def _check(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], cwd=ROOT, env={**os.environ, **env},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _connect(dbname: str) -> Any:
    import psycopg

    db = connection.settings_dict
    return psycopg.connect(
        dbname=dbname, user=db["USER"], password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, autocommit=True,
    )  # fmt: skip


@pytest.fixture
def restore_db() -> Any:
    name = f"{connection.settings_dict['NAME']}_restore_{os.getpid()}"
    yield name
    with _connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_a_seeded_database_restores_with_every_row(restore_db: str, tmp_path: Any) -> None:
    from django.core.management import call_command

    from governance.findings.models import Finding, FindingEvent

    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    findings, events = Finding.objects.count(), FindingEvent.objects.count()
    assert findings > 50
    dump = tmp_path / "warden.dump"
    result = _check(_url(connection.settings_dict["NAME"]), restore_db, str(dump), KEEP_RESTORE="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every table and sequence matches" in result.stdout
    assert dump.stat().st_size > 10_000  # the backup itself is kept where it was asked
    # Independently of the script: the restored database has the same findings and trail…
    with _connect(restore_db) as conn:
        assert conn.execute("SELECT count(*) FROM findings_finding").fetchone() == (findings,)
        assert conn.execute("SELECT count(*) FROM findings_findingevent").fetchone() == (events,)
        # …and its sequences go on from where the source stood (no duplicate keys on insert).
        conn.execute(
            "INSERT INTO accounts_team (name, slug, allow_model_autocreate, created_at) "
            "VALUES ('after restore', 'after-restore', true, now())"
        )


def test_the_check_is_exact_while_the_database_is_written(restore_db: str) -> None:
    from governance.accounts.services import team_create

    team_create(slug="seed", name="Seed")
    stop = threading.Event()
    written = 0

    def write() -> None:
        nonlocal written
        with _connect(connection.settings_dict["NAME"]) as conn:
            while not stop.is_set():
                conn.execute(
                    "INSERT INTO accounts_team (name, slug, allow_model_autocreate, created_at) "
                    "VALUES (%s, %s, true, now())",
                    (f"live {written}", f"live-{written}"),
                )
                written += 1

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    try:
        result = _check(_url(connection.settings_dict["NAME"]), restore_db)
    finally:
        stop.set()
        writer.join(timeout=10)
    assert written > 10  # rows really arrived during the check
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every table and sequence matches" in result.stdout
    with _connect("postgres") as conn:  # dropped after the check unless KEEP_RESTORE=1
        assert conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (restore_db,)
        ).fetchone() == (0,)


def test_it_refuses_a_restore_target_that_exists_and_bad_usage(restore_db: str) -> None:
    with _connect("postgres") as conn:
        conn.execute(f'CREATE DATABASE "{restore_db}"')
    source = _url(connection.settings_dict["NAME"])
    result = _check(source, restore_db)
    assert result.returncode == 2
    assert f"database {restore_db} already exists" in result.stderr
    with _connect("postgres") as conn:  # untouched, not dropped
        assert conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (restore_db,)
        ).fetchone() == (1,)
    assert _check("mysql://nope/x").returncode == 2
    assert _check(source, "bad name; DROP").returncode == 2
