"""A server-side assessment on a real Celery worker (Redis broker, PostgreSQL): the version's
ONNX artifact is scanned, then run by the worker in the runner's limited subprocess."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from governance.evidence.models import Assessment, ScanRun
from governance.inventory.models import MLModel, ModelVersion
from tests.assess import builders
from tests.conftest import REDIS_URL
from tests.ingest.test_async_import import _reset_producers, _wait, _worker

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_scans_then_assesses_the_versions_onnx_model(
    api: Any, make_token: Any, team_alpha: Any, tmp_path: Path, settings: Any, monkeypatch: Any
) -> None:
    import redis

    from governance.celery import app

    root = (tmp_path / "artifacts").resolve()
    root.mkdir()
    settings.WARDEN_ARTIFACT_ROOTS = [root]
    monkeypatch.setenv("WARDEN_ARTIFACT_ROOTS", str(root))  # the worker's settings too
    artifact = builders.logistic_onnx(root / "model.onnx", [1.0, 0.2], -0.4)
    model = MLModel.objects.create(team=team_alpha, name="scorer")
    ModelVersion.objects.create(
        model=model, version="1.0", artifact_uri=str(artifact),
        artifact_sha256=hashlib.sha256(artifact.read_bytes()).hexdigest(),
    )  # fmt: skip
    s = connection.settings_dict
    db_url = f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    redis.Redis.from_url(REDIS_URL).flushdb()
    app.conf.update(task_always_eager=False, broker_url=REDIS_URL)
    _reset_producers(app)
    worker = _worker("celery", db_url)
    try:
        client = api(make_token(team_alpha, "write"))
        scan = client.post(f"/api/v1/models/{model.pk}/versions/1.0/scan/")
        assert scan.status_code == 202
        _wait(lambda: ScanRun.objects.get(pk=scan.json()["id"]).status == "done", 90, "scan")

        buffer = io.StringIO()
        builders.features_table(3000).to_csv(buffer, index=False)
        response = client.post(
            f"/api/v1/models/{model.pk}/versions/1.0/assess/",
            {
                "data": SimpleUploadedFile("eval.csv", buffer.getvalue().encode()),
                "label": "y",
                "run_model": "true",
                "features": "x1,x2",
                "sensitive": "sex",
                "threshold": ["accuracy>=0.7"],
            },
            format="multipart",
        )
        assert response.status_code == 202, response.content
        run_id = response.json()["id"]
        _wait(
            lambda: ScanRun.objects.get(pk=run_id).status in ("done", "failed"), 120, "assessment"
        )
        polled = client.get(response.json()["url"]).json()
        assert polled["status"] == "done", polled["error"]
        record = Assessment.objects.get(scan_run_id=run_id)
        assert record.origin == "server"
        assert record.document["metadata"]["mode"] == "model"
        assert record.document["metadata"]["isolation"]  # how the model subprocess was confined
        assert any(r["test"] == "evasion_rate" for r in record.document["measurements"])
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        app.conf.update(task_always_eager=True, broker_url=None)
        _reset_producers(app)
