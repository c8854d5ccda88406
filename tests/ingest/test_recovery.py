"""Nothing uploaded is lost and no decision is overwritten, with the real parts failing:
Redis stopped, PostgreSQL cut off mid-import, a worker killed outright, imports racing
triage. Each runs a real Celery worker process on Redis and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from governance.evidence.models import ScanRun
from governance.findings.models import Finding, FindingEvent
from governance.ingest.models import ReportUpload
from governance.lib.api_errors import ApplicationError
from tests.reportgen import trivy_report
from tests.support.tcpproxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class PrivateRedis:
    """A redis-server of the test's own, on its own port, that the test stops and starts."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        _wait(lambda: _listening(self.port), 10, "redis to listen")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), 0.2):
            return True
    except OSError:
        return False


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _db_url(port: int | None = None) -> str:
    s = connection.settings_dict
    host, real_port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return f"postgres://{s['USER']}@{host}:{port or real_port}/{s['NAME']}"


def _worker(broker: str, db_url: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "governance", "worker", "--concurrency", "1",
         "--pool", "prefork", "-l", "warning", "--without-heartbeat", "--without-gossip",
         "--without-mingle"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": db_url, "CELERY_BROKER_URL": broker,
             "WARDEN_TESTING": "1", **env},
        start_new_session=True,
    )  # fmt: skip


def _stop(worker: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=20)


@pytest.fixture
def broker() -> Iterator[PrivateRedis]:
    """The web side publishes to a private Redis; restored to eager mode afterwards."""
    from governance.celery import app

    redis = PrivateRedis()
    redis.start()
    app.conf.update(task_always_eager=False, broker_url=redis.url)
    _reset_producers(app)
    yield redis
    redis.stop()
    app.conf.update(task_always_eager=True, broker_url=None)
    _reset_producers(app)


def _reset_producers(app: Any) -> None:
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    from kombu import pools  # its own registry of producer pools (see test_async_import)

    pools.reset()


def _run(run_id: int) -> ScanRun:
    return ScanRun.objects.get(pk=run_id)


def test_an_upload_while_redis_is_down_is_kept_and_imported_once_it_is_back(
    broker: PrivateRedis, upload: Any, make_token: Any, team_alpha: Any, settings: Any
) -> None:
    from governance.ingest.tasks import scan_runs_requeue_task

    broker.stop()
    token = make_token(team_alpha)
    started = time.monotonic()
    response = upload(token, trivy_report(range(200)), query="?async=1", model="m")
    assert time.monotonic() - started < 15
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "queued"
    assert ReportUpload.objects.filter(scan_run_id=body["id"]).exists()
    # the CI's retry gets the same run, not a second one
    again = upload(token, trivy_report(range(200)), query="?async=1", model="m")
    assert (again.status_code, again.json()["id"]) == (200, body["id"])

    broker.start()
    settings.WARDEN_REQUEUE_AFTER_SECONDS = 0
    assert scan_runs_requeue_task() == [body["id"]]  # the beat sweep hands it over
    worker = _worker(broker.url, _db_url())
    try:
        _wait(lambda: _run(body["id"]).status == "done", 90, "the re-queued import")
    finally:
        _stop(worker)
    run = _run(body["id"])
    assert run.counts["new"] == run.counts["total"] == 200
    assert run.attempts == 2
    assert Finding.objects.count() == 200


def test_a_database_outage_mid_import_is_retried_and_the_import_is_exact(
    broker: PrivateRedis, upload: Any, make_token: Any, team_alpha: Any
) -> None:
    s = connection.settings_dict
    proxy = TcpProxy(s["HOST"] or "127.0.0.1", int(s["PORT"] or 5432))
    worker = _worker(broker.url, _db_url(proxy.port))
    try:
        response = upload(
            make_token(team_alpha), trivy_report(range(30000)), query="?async=1", model="big"
        )
        run_id = response.json()["id"]
        _wait(lambda: _run(run_id).status == "running", 90, "the import to start")
        time.sleep(0.5)  # well inside the import's transaction
        proxy.outage(3.0)
        _wait(lambda: _run(run_id).status in ("done", "failed"), 120, "the retried import")
    finally:
        _stop(worker)
        proxy.close()
    run = _run(run_id)
    assert run.status == "done", run.error
    assert proxy.cuts >= 1
    # the cut attempt committed nothing: every finding is new, once
    assert run.counts["new"] == run.counts["total"] == 30000
    assert Finding.objects.filter(model__name="big").count() == 30000
    assert not ReportUpload.objects.exists()


def test_a_worker_killed_outright_loses_nothing_and_the_import_completes_once(
    broker: PrivateRedis, upload: Any, make_token: Any, team_alpha: Any
) -> None:
    # The whole worker, main process and pool child, dies with the message unacknowledged:
    # it returns to the queue after the visibility timeout (60 s by default; 10 s here).
    env = {"CELERY_VISIBILITY_TIMEOUT": "10"}
    first = _worker(broker.url, _db_url(), **env)
    response = upload(
        make_token(team_alpha), trivy_report(range(30000)), query="?async=1", model="big"
    )
    run_id = response.json()["id"]
    try:
        _wait(lambda: _run(run_id).status == "running", 90, "the import to start")
    finally:
        _stop(first)  # SIGKILL to the process group: main and child
    killed_at = time.monotonic()
    second = _worker(broker.url, _db_url(), **env)
    try:
        _wait(lambda: _run(run_id).status == "done", 90, "the redelivered import")
    finally:
        _stop(second)
    assert time.monotonic() - killed_at < 60
    run = _run(run_id)
    assert run.counts["new"] == run.counts["total"] == 30000
    assert Finding.objects.filter(model__name="big").count() == 30000
    assert not FindingEvent.objects.exists()


def test_parallel_imports_never_overwrite_a_triage_decision(
    upload: Any, make_token: Any, team_alpha: Any, member: Any
) -> None:
    """Imports of the same subject that no longer report 65 findings race 65 people marking
    them false positive: every decision that was accepted stands, none becomes resolved."""
    from governance.findings.services import finding_triage

    token = make_token(team_alpha)
    assert upload(token, trivy_report(range(80)), model="m", version="1").status_code == 201
    targets = list(Finding.objects.filter(model__name="m").order_by("id")[:65])
    barrier = threading.Barrier(2 + len(targets) // 13)
    decided: list[int] = []
    errors: list[BaseException] = []

    def imports(keep: list[int]) -> None:
        try:
            barrier.wait()
            for n in range(4):  # rescans that drop the 65 and add a few each time
                upload(token, trivy_report([*keep, 1000 + n]), model="m", version="1")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    def triage(batch: list[Finding]) -> None:
        try:
            barrier.wait()
            for f in batch:
                try:
                    finding_triage(
                        finding=f, actor=member, status="false_positive", reason="not ours"
                    )
                    decided.append(f.pk)
                except ApplicationError:  # already resolved: no decision was taken
                    continue
        finally:
            connections.close_all()

    keep = list(range(65, 80))
    threads = [threading.Thread(target=imports, args=(keep,)) for _ in range(2)]
    threads += [
        threading.Thread(target=triage, args=(targets[i : i + 13],))
        for i in range(0, len(targets), 13)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    statuses = dict(Finding.objects.filter(pk__in=decided).values_list("id", "status"))
    assert decided, "no triage won the race; the test proves nothing"
    assert set(statuses.values()) == {"false_positive"}, statuses
    assert not FindingEvent.objects.filter(
        finding_id__in=decided, from_value="false_positive"
    ).exists()
    # later scans that see them again keep the decision
    upload(token, trivy_report(range(80)), model="m", version="1")
    assert set(Finding.objects.filter(pk__in=decided).values_list("status", flat=True)) == {
        "false_positive"
    }
