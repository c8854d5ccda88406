"""The scan-subject stories as a CI pipeline lives them: the `warden` client against a live
server. A clean version never clears a malicious one; a typo never creates a model."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from governance.inventory.models import MLModel
from tests.scanners.modelfile.builders import safetensors, torch_zip
from tests.scanners.modelfile.picklegen import call_pickle
from tests.test_cli_client import warden

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def token(team_alpha: Any, make_token: Any) -> str:
    return make_token(team_alpha, "write")


def _admission(url: str, token: str, path: Path) -> dict[str, Any]:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    req = urllib.request.Request(  # noqa: S310 - the test's own live server
        f"{url}/api/v1/artifacts/{digest}/admission",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(req) as resp:  # noqa: S310
            body: dict[str, Any] = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read())
    return body


def test_a_clean_version_never_clears_the_malicious_one(
    live_server: Any, token: str, tmp_path: Path
) -> None:
    canary = tmp_path / "ran"
    evil = tmp_path / "evil.pt"
    evil.write_bytes(torch_zip(pickle_data=call_pickle("posix", "system", f"touch {canary}")))
    clean = tmp_path / "clean.safetensors"
    clean.write_bytes(safetensors({"w": ("F32", [2], b"\x00" * 8)}))
    url = live_server.url

    first = warden(
        "scan", str(evil), "--upload", "--model", "m", "--version", "1", "--create-model",
        "--fail-on-gate", url=url, token=token,
    )  # fmt: skip
    assert first.returncode == 1, first.stderr
    assert "critical" in first.stdout
    assert warden("gate", "--model", "m", "--version", "1", url=url, token=token).returncode == 1
    assert _admission(url, token, evil)["allowed"] is False

    second = warden(
        "scan", str(clean), "--upload", "--model", "m", "--version", "2", "--fail-on-gate",
        url=url, token=token,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert "0 resolved" in second.stdout
    gate_v1 = warden("gate", "--model", "m", "--version", "1", url=url, token=token)
    assert gate_v1.returncode == 1
    assert "gate: FAIL" in gate_v1.stdout
    assert _admission(url, token, evil)["allowed"] is False
    assert warden("gate", "--model", "m", "--version", "2", url=url, token=token).returncode == 0
    assert _admission(url, token, clean)["allowed"] is True
    assert not canary.exists()


def test_a_typo_in_the_model_name_fails_the_step_and_creates_nothing(
    live_server: Any, token: str, tmp_path: Path, team_alpha: Any
) -> None:
    from tests.reportgen import trivy_report

    MLModel.objects.create(team=team_alpha, name="Face-Blur")
    report = tmp_path / "report.json"
    report.write_bytes(trivy_report(range(2)))
    upload = warden(
        "upload", str(report), "--model", "face-blurr", url=live_server.url, token=token
    )
    assert upload.returncode == 2
    assert "did you mean 'Face-Blur'?" in upload.stderr
    assert len(upload.stderr.strip().splitlines()) == 1
    gate = warden("gate", "--model", "face-blurr", url=live_server.url, token=token)
    assert gate.returncode == 2
    assert "Face-Blur" in gate.stderr
    assert MLModel.objects.count() == 1
