"""``warden scan DIR --upload``: a repository scan reaches Warden with its model_code findings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from governance.findings.models import Finding
from tests.scanners.modelfile.test_repository import hf_snapshot

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db(transaction=True)
def test_scan_dir_upload_carries_model_code_findings(
    live_server: Any, team_alpha: Any, make_token: Any, tmp_path: Path
) -> None:
    canary = tmp_path / "canary"
    d = hf_snapshot(tmp_path, canary)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(WARDEN_URL=live_server.url, WARDEN_TOKEN=make_token(team_alpha))
    result = subprocess.run(
        [sys.executable, "-m", "scanners.client", "scan", str(d), "--upload", "--create-model",
         "--model", "x-model", "--version", "1", "--fail-on-gate"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "gate: FAIL" in result.stdout
    code = Finding.objects.filter(model__name="x-model", category="model_code")
    rules = set(code.values_list("rule_id", flat=True))
    assert {"warden-modelscan/code-process", "warden-modelscan/custom-code"} <= rules
    process = code.get(rule_id="warden-modelscan/code-process")
    assert process.severity == "critical"
    assert Finding.objects.filter(
        model__name="x-model", rule_id="warden-modelscan/unsafe-weights-beside-safe"
    ).exists()
    assert not canary.exists()
