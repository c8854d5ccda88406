"""`warden mlbom --model M --version V [--output FILE]` against a live test server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from tests.test_cli_client import warden

pytestmark = pytest.mark.django_db(transaction=True)


def test_warden_mlbom_writes_the_versions_ml_bom(
    live_server: Any, seed_findings: Any, team_alpha: Any, make_token: Any, tmp_path: Path
) -> None:
    seed_findings(team_alpha, "churn", [("CVE-2024-1", "critical")], version="1.0")
    token = make_token(team_alpha, "read")
    out = tmp_path / "churn.cdx.json"
    result = warden(
        "mlbom", "--model", "churn", "--version", "1.0", "--output", str(out),
        url=live_server.url, token=token,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"churn@1.0: ML-BOM written to {out} (1 VEX statements)" in result.stdout
    text = out.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["metadata"]["component"]["type"] == "machine-learning-model"
    assert bom["vulnerabilities"][0]["analysis"]["state"] == "in_triage"
    # to stdout without --output
    printed = warden(
        "mlbom", "--model", "churn", "--version", "1.0", url=live_server.url, token=token
    )
    assert json.loads(printed.stdout)["metadata"]["component"]["name"] == "churn"


def test_warden_mlbom_of_an_unknown_version_exits_2_with_one_line(
    live_server: Any, seed_findings: Any, team_alpha: Any, make_token: Any
) -> None:
    seed_findings(team_alpha, "churn", [("CVE-2024-1", "critical")], version="1.0")
    result = warden(
        "mlbom", "--model", "churn", "--version", "9.9",
        url=live_server.url, token=make_token(team_alpha, "read"),
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "warden: Warden answered 404: churn has no version '9.9'"
    ]
