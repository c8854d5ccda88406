"""Settings refuse unsafe configurations; production settings pass `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "WARDEN_TESTING": "0", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_refuses_to_start_without_secret_key_when_not_debug() -> None:
    result = _run({"DEBUG": "0"}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_uses_a_development_key() -> None:
    result = _run({"DEBUG": "1"}, "check")
    assert result.returncode == 0, result.stderr


def test_bad_boolean_is_a_clear_error() -> None:
    result = _run({"DEBUG": "maybe"}, "check")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_production_settings_pass_check_deploy() -> None:
    result = _run(
        {
            "DEBUG": "0",
            "SECRET_KEY": "x7!kq2-" + "Zp9vR4mT8wLs1cYb6nHd3fGj5eKa0uXo" * 2,
            "ALLOWED_HOSTS": "warden.example.com",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
