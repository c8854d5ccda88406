"""Production as users run it: gunicorn (threads) over Django's psycopg pool. 50 concurrent
admission calls get no 5xx, and PostgreSQL never sees more connections from the web tier than
workers x pool size, whatever the threads do. Without the pool, the same load opens one
connection per thread: the control that shows the bound is the pool's doing."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.ops.conftest import free_port, http, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS, THREADS, POOL = 2, 8, 2
CLIENTS, ROUNDS = 50, 3
DIGEST = "ab" * 32


class ConnectionWatch:
    """Samples pg_stat_activity for the test database from its own connection, excluding
    itself and the test's own Django connection: what is left is the server's."""

    def __init__(self, dbname: str, exclude_pid: int) -> None:
        import psycopg

        db = connection.settings_dict
        self.conn = psycopg.connect(
            dbname=dbname, user=db["USER"], host=db["HOST"] or "127.0.0.1",
            port=db["PORT"] or 5432, password=db["PASSWORD"] or None, autocommit=True,
        )  # fmt: skip
        self.dbname, self.exclude = dbname, exclude_pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def count(self) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND pid <> %s",
            (self.dbname, self.exclude),
        ).fetchone()
        return int(row[0]) if row else 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.count())
            time.sleep(0.01)

    def __enter__(self) -> ConnectionWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.conn.close()


def _load(
    serve: Any, tmp_path: Path, team: Any, make_token: Any, **env: str
) -> tuple[list[int], int]:
    from governance.inventory.services import model_get_or_create, version_get_or_create

    model, _ = model_get_or_create(team=team, name="fraud-xgb", create=True)
    version_get_or_create(model=model, version="1.0", artifact_sha256=DIGEST)
    token = make_token(team, "read")
    db = connection.settings_dict
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own_pid = cursor.fetchone()[0]
    server = serve(
        server_env(
            tmp_path,
            PORT=str(free_port()),
            DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}",
            WEB_CONCURRENCY=str(WORKERS),
            WEB_THREADS=str(THREADS),
            **env,
        )
    )
    url = f"{server.url}/api/v1/artifacts/{DIGEST}/admission"
    start = threading.Barrier(CLIENTS)

    def client(_: int) -> list[int]:
        start.wait()  # all 50 at once
        return [http("GET", url, headers={"Authorization": f"Bearer {token}"})[0]
                for _ in range(ROUNDS)]  # fmt: skip

    with ConnectionWatch(db["NAME"], own_pid) as watch, ThreadPoolExecutor(CLIENTS) as pool:
        statuses = [s for batch in pool.map(client, range(CLIENTS)) for s in batch]
    assert watch.peak > 0  # the watch saw the server's connections at all
    print(f"{len(statuses)} requests, peak server connections {watch.peak}")
    return statuses, watch.peak


def test_50_concurrent_admissions_on_gunicorn_stay_within_the_pool_bound(
    serve: Any, tmp_path: Path, team_alpha: Any, make_token: Any
) -> None:
    statuses, peak = _load(
        serve, tmp_path, team_alpha, make_token,
        DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE=str(POOL), DB_POOL_TIMEOUT="10",
    )  # fmt: skip
    assert len(statuses) == CLIENTS * ROUNDS
    assert [s for s in statuses if s >= 500] == []
    assert set(statuses) == {200}  # a known digest: a real answer, every time
    assert peak <= WORKERS * POOL, f"{peak} connections > {WORKERS} workers x pool {POOL}"


def test_without_the_pool_the_same_load_opens_a_connection_per_thread(
    serve: Any, tmp_path: Path, team_alpha: Any, make_token: Any
) -> None:
    statuses, peak = _load(serve, tmp_path, team_alpha, make_token, DB_POOL_MAX_SIZE="0")
    assert [s for s in statuses if s >= 500] == []
    assert peak > WORKERS * POOL  # what the pool prevents
