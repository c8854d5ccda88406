"""Large reports import in a Celery task: queued -> done, retry-safe, and on a real worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from governance.evidence.models import ScanRun
from governance.findings.models import Finding, FindingEvent
from governance.ingest.imports import scan_run_import_queued
from governance.ingest.models import ReportUpload
from tests.conftest import REDIS_URL
from tests.reportgen import trivy_report

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_async_upload_answers_queued_then_the_poll_answers_done(
    upload: Any, make_token: Any, team_alpha: Any, api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    token = make_token(team_alpha)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(token, trivy_report(range(30)), query="?async=1", version="2.0")
    assert response.status_code == 201
    queued = response.json()
    assert queued["status"] == "queued"
    assert queued["gate"] is None
    polled = api(token).get(queued["url"]).json()
    assert polled["status"] == "done"
    assert polled["counts"]["new"] == 30
    assert polled["gate"]["verdict"] == "fail"
    assert set(polled) == set(queued)  # same shape as the upload response
    assert not ReportUpload.objects.exists()  # the stored bytes are dropped once imported


@pytest.mark.django_db
def test_reports_above_the_threshold_go_async(
    upload: Any, make_token: Any, team_alpha: Any, settings: Any
) -> None:
    settings.WARDEN_ASYNC_THRESHOLD_BYTES = 100
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker and workers (the message is never
    # sent here: the test's transaction never commits)
    response = upload(make_token(team_alpha), trivy_report(range(5)), model="big")
    assert response.json()["status"] == "queued"
    assert ReportUpload.objects.filter(scan_run_id=response.json()["id"]).exists()


@pytest.mark.django_db
def test_without_a_broker_a_large_report_imports_at_once(
    upload: Any, make_token: Any, team_alpha: Any, settings: Any
) -> None:
    settings.WARDEN_ASYNC_THRESHOLD_BYTES = 100
    assert settings.CELERY_TASK_ALWAYS_EAGER  # the zero-setup default: no broker
    response = upload(make_token(team_alpha), trivy_report(range(5)))
    assert response.json()["status"] == "done"
    assert response.json()["counts"]["new"] == 5
    assert not ReportUpload.objects.exists()  # never stored to be read back


@pytest.mark.django_db
def test_a_retried_import_does_not_duplicate(upload: Any, make_token: Any, team_alpha: Any) -> None:
    response = upload(make_token(team_alpha), trivy_report(range(12)), query="?async=1")
    run_id = response.json()["id"]
    first = scan_run_import_queued(scan_run_id=run_id)
    # A redelivered message (worker lost after commit) runs the task again: a no-op.
    again = scan_run_import_queued(scan_run_id=run_id)
    assert first.status == again.status == "done"
    assert Finding.objects.count() == 12
    assert ScanRun.objects.get(pk=run_id).count_new == 12


@pytest.mark.django_db
def test_a_bad_queued_report_fails_the_run_with_the_reason(
    upload: Any, make_token: Any, team_alpha: Any
) -> None:
    response = upload(make_token(team_alpha), b'{"not": "a report"}', query="?async=1")
    assert response.status_code == 201
    run = scan_run_import_queued(scan_run_id=response.json()["id"])
    assert run.status == "failed"
    assert "unknown format" in run.error
    assert not Finding.objects.exists()


def _worker(queue: str, db_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": REDIS_URL,
        "WARDEN_TESTING": "1",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "governance",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "-l",
            "warning",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def _reset_producers(app: Any) -> None:
    """Drop cached broker connections so the next publish uses the current broker_url."""
    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.amqp._producer_pool = None
    # kombu keeps producer pools per connection in a registry of its own: a later test with
    # the same broker URL would get the pool closed above ("Acquire on closed pool").
    from kombu import pools

    pools.reset()


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(x) for x in out.stdout.split()]


def _other_backends() -> int:
    """Sessions on this test database other than ours (a worker's, still open)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def _wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_and_survives_being_killed_mid_import(
    upload: Any, make_token: Any, team_alpha: Any
) -> None:
    from governance.celery import app

    s = connection.settings_dict
    db_url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # a test database of its own: no stale messages
    app.conf.update(task_always_eager=False, broker_url=REDIS_URL)
    _reset_producers(app)
    worker = _worker("celery", db_url)
    try:
        token = make_token(team_alpha)
        response = upload(token, trivy_report(range(30000)), query="?async=1", model="big")
        assert response.status_code == 201
        run_id = response.json()["id"]
        assert response.json()["status"] == "queued"
        _wait(lambda: ScanRun.objects.get(pk=run_id).status == "running", 60, "the import to start")
        # Kill the pool process doing the import: the transaction dies with it, and
        # acks_late + reject_on_worker_lost put the message back for the next process.
        for child in _children(worker.pid):
            os.kill(child, signal.SIGKILL)
        _wait(lambda: ScanRun.objects.get(pk=run_id).status == "done", 120, "the retried import")
        run = ScanRun.objects.get(pk=run_id)
        # All 30,000 are "new": the killed attempt committed nothing.
        assert run.counts["new"] == run.counts["total"] == 30000
        assert Finding.objects.filter(model__name="big").count() == 30000
        assert not FindingEvent.objects.exists()
        assert not ReportUpload.objects.exists()
    finally:
        # SIGKILL, not a warm shutdown: a redelivered copy of the message must not go on
        # importing after this test, into the next test's tables (the flush would not see it).
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=20)
        _wait(lambda: not _other_backends(), 30, "the worker's connections to close")
        redis.Redis.from_url(REDIS_URL).flushdb()
        app.conf.update(task_always_eager=True, broker_url=None)
        _reset_producers(app)
