"""Scanning a model version's artifact on the server, from the API and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from governance.findings.models import Finding
from governance.inventory.models import MLModel, ModelVersion
from tests.scanners.modelfile.picklegen import call_pickle

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def artifact_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "artifacts"
    root.mkdir()
    settings.WARDEN_ARTIFACT_ROOTS = [root.resolve()]
    return root


@pytest.mark.django_db
def test_scan_artifact_from_the_api_finds_the_payload_and_executes_nothing(
    client_of: Any,
    member: Any,
    team_alpha: Any,
    artifact_root: Path,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    canary = tmp_path / "canary"
    artifact = artifact_root / "model.bin"
    artifact.write_bytes(call_pickle("os", "system", f"touch {canary}"))
    model = MLModel.objects.create(team=team_alpha, name="churn")
    ModelVersion.objects.create(model=model, version="2.0", artifact_uri=f"file://{artifact}")
    c = client_of(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(f"/api/v1/models/{model.pk}/versions/2.0/scan/")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    body = c.get(response.json()["url"]).json()
    assert body["status"] == "done", body
    assert body["tool"] == "warden-modelscan"
    assert body["gate"]["verdict"] == "fail"
    finding = Finding.objects.get(model=model, severity="critical")
    assert finding.category == "model_file"
    assert "os.system" in finding.title or "system" in finding.title
    assert not canary.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("", "has no artifact_uri"),
        ("s3://bucket/model.bin", "is remote"),
        ("/etc/passwd", "outside WARDEN_ARTIFACT_ROOTS"),
        ("{root}/../escape.bin", "outside WARDEN_ARTIFACT_ROOTS"),
        ("{root}/missing.bin", "does not exist"),
    ],
)
def test_artifacts_outside_the_roots_or_remote_are_refused(
    client_of: Any, member: Any, team_alpha: Any, artifact_root: Path, uri: str, message: str
) -> None:
    model = MLModel.objects.create(team=team_alpha, name="churn")
    ModelVersion.objects.create(
        model=model, version="1", artifact_uri=uri.format(root=artifact_root)
    )
    response = client_of(member).post(f"/api/v1/models/{model.pk}/versions/1/scan/")
    assert response.status_code == 400
    assert message in response.json()["error"]


@pytest.mark.django_db
def test_viewers_cannot_start_a_scan(
    client_of: Any, viewer: Any, team_alpha: Any, artifact_root: Path
) -> None:
    (artifact_root / "m.bin").write_bytes(b"x")
    model = MLModel.objects.create(team=team_alpha, name="churn")
    ModelVersion.objects.create(model=model, version="1", artifact_uri=str(artifact_root / "m.bin"))
    assert client_of(viewer).post(f"/api/v1/models/{model.pk}/versions/1/scan/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_warden_scan_upload_sends_the_native_scan_to_warden(
    live_server: Any, team_alpha: Any, make_token: Any, tmp_path: Path
) -> None:
    canary = tmp_path / "canary"
    models = tmp_path / "models"
    models.mkdir()
    (models / "evil.pt").write_bytes(call_pickle("builtins", "exec", f"open('{canary}','w')"))
    (models / "readme.txt").write_text("weights card")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(WARDEN_URL=live_server.url, WARDEN_TOKEN=make_token(team_alpha))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scanners.client",
            "scan",
            "--create-model",
            str(models),
            "--upload",
            "--model",
            "vision",
            "--version",
            "3.1",
            "--fail-on-gate",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "warden-modelscan for vision@3.1" in result.stdout
    assert "gate: FAIL" in result.stdout
    assert Finding.objects.filter(
        model__name="vision", severity="critical", category="model_file"
    ).exists()
    assert not canary.exists()

    # Without --upload it is the local scanner: JSON out, exit 1 on findings at --fail-on.
    local = subprocess.run(
        [sys.executable, "-m", "scanners.client", "scan", str(models)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert local.returncode == 1
    assert '"schema": "warden.modelscan/v1"' in local.stdout


def _server_scan(client_of: Any, member: Any, model: Any, capture: Any) -> dict[str, Any]:
    c = client_of(member)
    with capture(execute=True):
        response = c.post(f"/api/v1/models/{model.pk}/versions/1/scan/")
    if response.status_code != 202:
        return dict(response.json())
    body: dict[str, Any] = c.get(response.json()["url"]).json()
    return body


@pytest.mark.django_db
def test_a_symlink_out_of_the_artifact_roots_is_never_read(
    client_of: Any,
    member: Any,
    team_alpha: Any,
    artifact_root: Path,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.pkl"
    secret.write_bytes(call_pickle("os", "system", "echo outside"))
    repo = artifact_root / "repo"
    repo.mkdir()
    (repo / "weights.pkl").symlink_to(secret)
    (repo / "shadow").symlink_to("/etc/shadow")
    (repo / "ok.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    model = MLModel.objects.create(team=team_alpha, name="m")
    ModelVersion.objects.create(model=model, version="1", artifact_uri=str(repo))
    body = _server_scan(client_of, member, model, django_capture_on_commit_callbacks)
    assert body["status"] == "done", body
    from governance.evidence.models import ScanRun

    run = ScanRun.objects.get(pk=body["id"])
    files = {Path(f["path"]).name: f for f in run.metadata["files"]}
    # neither symlink was opened or hashed: no digest, no findings from the pickle outside
    assert files["weights.pkl"]["sha256"] is None
    assert files["shadow"]["sha256"] is None
    assert not Finding.objects.filter(severity="critical").exists()
    notes = " ".join(run.warnings)
    assert "outside the allowed directories" in notes
    # a direct artifact_uri that is a symlink out of the roots is refused up front
    (artifact_root / "link.pkl").symlink_to(secret)
    ModelVersion.objects.filter(model=model).update(artifact_uri=str(artifact_root / "link.pkl"))
    refused = _server_scan(client_of, member, model, django_capture_on_commit_callbacks)
    assert "outside WARDEN_ARTIFACT_ROOTS" in refused["error"]


@pytest.mark.django_db
def test_a_named_pipe_in_the_artifact_root_never_hangs_the_scan(
    client_of: Any,
    member: Any,
    team_alpha: Any,
    artifact_root: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    import time

    repo = artifact_root / "repo"
    repo.mkdir()
    os.mkfifo(repo / "model.pkl")
    (repo / "zero.bin").symlink_to("/dev/zero")  # a device that never ends, inside the repo
    model = MLModel.objects.create(team=team_alpha, name="m")
    ModelVersion.objects.create(model=model, version="1", artifact_uri=str(repo))
    started = time.monotonic()
    body = _server_scan(client_of, member, model, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 10
    assert body["status"] == "done", body
    refused_files = [w for w in body["warnings"] if "not a regular file" in w]
    assert len(refused_files) == 2, body["warnings"]
    # the pipe itself as the artifact is refused with the reason
    os.mkfifo(artifact_root / "direct.pkl")
    ModelVersion.objects.filter(model=model).update(artifact_uri=str(artifact_root / "direct.pkl"))
    refused = _server_scan(client_of, member, model, django_capture_on_commit_callbacks)
    assert "not a regular file or directory" in refused["error"]
