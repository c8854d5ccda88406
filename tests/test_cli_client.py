"""The `warden` CI client against a live test server."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from governance.findings.models import Finding
from governance.inventory.models import ModelVersion
from tests.reportgen import trivy_report

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def warden(
    *args: str, url: str = "", token: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "-m", "scanners.client", *args],
        cwd=ROOT,
        env={**base, "WARDEN_URL": url, "WARDEN_TOKEN": token, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def token(team_alpha: Any, make_token: Any) -> str:
    return make_token(team_alpha, "write")


def test_upload_then_gate_fails_the_build_on_critical_findings(
    live_server: Any, token: str, tmp_path: Path
) -> None:
    report = tmp_path / "trivy.json"
    report.write_bytes(trivy_report(range(4)))
    artifact = tmp_path / "model.safetensors"
    artifact.write_bytes(b"weights")
    result = warden(
        "upload",
        "--create-model",
        str(report),
        "--model",
        "churn",
        "--version",
        "1.0",
        "--artifact",
        str(artifact),
        "--fail-on-gate",
        url=live_server.url,
        token=token,
        GITHUB_SHA="deadbeef",
        GITHUB_REF_NAME="main",
    )
    assert result.returncode == 1, result.stderr
    assert "4 findings (4 new, 0 reopened, 0 resolved)" in result.stdout
    assert "gate: FAIL" in result.stdout
    assert "no-open-critical: 1 open critical finding" in result.stdout
    version = ModelVersion.objects.get(model__name="churn", version="1.0")
    assert version.artifact_sha256 == hashlib.sha256(b"weights").hexdigest()
    assert version.scan_runs.get().commit == "deadbeef"

    # Without --fail-on-gate an upload reports but does not fail.
    again = warden(
        "upload",
        "--create-model",
        str(report),
        "--model",
        "churn",
        "--version",
        "1.0",
        url=live_server.url,
        token=token,
    )
    assert again.returncode == 0

    gate = warden("gate", "--model", "churn", "--version", "1.0", url=live_server.url, token=token)
    assert gate.returncode == 1
    assert "gate: FAIL" in gate.stdout
    Finding.objects.filter(severity__in=["critical", "high"]).update(status="resolved")
    gate = warden("gate", "--model", "churn", "--version", "1.0", url=live_server.url, token=token)
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert "gate: PASS" in gate.stdout


def test_async_upload_with_wait_polls_until_done(
    live_server: Any, token: str, tmp_path: Path
) -> None:
    report = tmp_path / "trivy.json"
    report.write_bytes(trivy_report(range(10, 13), severity="LOW"))
    result = warden(
        "upload",
        "--create-model",
        str(report),
        "--model",
        "m",
        "--async",
        "--wait",
        "--fail-on-gate",
        url=live_server.url,
        token=token,
    )
    assert result.returncode == 0, result.stderr
    assert " done: trivy for m - 3 findings" in result.stdout
    assert "gate: PASS" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["gate", "--model", "m"], {"WARDEN_URL": ""}, "WARDEN_URL is not set"),
        (["gate", "--model", "m"], {"WARDEN_TOKEN": ""}, "WARDEN_TOKEN is not set"),
        (
            ["gate", "--model", "m"],
            {"WARDEN_TOKEN": "wdn_wrong"},
            "Warden answered 401: invalid API token",
        ),
        (["gate", "--model", "nope"], {}, "Warden answered 404"),
        (["upload", "/no/such/file.json", "--model", "m"], {}, "cannot read /no/such/file.json"),
        (["gate"], {}, "the following arguments are required: --model"),
    ],
)
def test_errors_exit_2_with_one_line(
    live_server: Any, token: str, args: list[str], env: dict[str, str], message: str
) -> None:
    merged = {"url": live_server.url, "token": token}
    if "WARDEN_URL" in env:
        merged["url"] = env["WARDEN_URL"]
    if "WARDEN_TOKEN" in env:
        merged["token"] = env["WARDEN_TOKEN"]
    result = warden(*args, **merged)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr


def test_unreachable_server_exits_2(token: str) -> None:
    result = warden("gate", "--model", "m", url="http://127.0.0.1:9", token=token)
    assert result.returncode == 2
    assert result.stderr.startswith("warden: cannot reach Warden at http://127.0.0.1:9")


def test_the_client_needs_nothing_but_the_standard_library(
    live_server: Any, token: str, tmp_path: Path
) -> None:
    """CI images install the client light (`pip install --no-deps warden`): upload and gate
    must work with no third-party package importable."""
    report = tmp_path / "trivy.json"
    report.write_bytes(trivy_report(range(3), severity="LOW"))
    blocker = (
        "import sys\n"
        "BLOCKED = {'orjson', 'django', 'rest_framework', 'celery', 'psycopg'}\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from scanners.client import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env = {**base, "WARDEN_URL": live_server.url, "WARDEN_TOKEN": token}
    for args in (
        ["upload", str(report), "--model", "light", "--create-model", "--fail-on-gate"],
        ["gate", "--model", "light"],
    ):
        result = subprocess.run(
            [sys.executable, "-c", blocker, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "gate: PASS" in result.stdout
