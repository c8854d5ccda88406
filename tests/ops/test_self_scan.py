"""Warden scans itself and ingests its own reports: bandit over governance/ and scanners/, and
pip-audit over its installed dependencies, uploaded through Warden's own API.

pip-audit needs a vulnerability service, and a test never uses the network: the live run here
queries a stand-in OSV service on loopback that knows one advisory made up for the test, so
the report is pip-audit's own output with a real finding in it. The committed
``fixtures/pip-audit-warden-offline.json`` is pip-audit 2.10.1 run on this project where no
service answered (every dependency skipped): it must import as "not audited", never "clean".
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from tests.ops.conftest import ROOT

BIN = Path(sys.executable).parent
FIXTURES = Path(__file__).parent / "fixtures"
ADVISORY = "WARDEN-TEST-2026-0001"  # made up here: no real advisory has this id
VULNERABLE = "pyyaml"


def _bandit(*config: str) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [str(BIN / "bandit"), *config, "-r", "governance", "scanners", "-f", "json", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return result.returncode, json.loads(result.stdout)


def test_bandit_with_the_projects_configuration_finds_nothing() -> None:
    code, report = _bandit("-c", "pyproject.toml")
    assert report["results"] == [], [(r["test_id"], r["filename"]) for r in report["results"]]
    assert code == 0
    assert report["metrics"]["_totals"]["loc"] > 10_000  # it really read the project


@pytest.mark.django_db
def test_warden_ingests_its_own_bandit_report(
    team_alpha: Any, make_token: Any, upload: Any
) -> None:
    from governance.evidence.models import ScanRun
    from governance.findings.models import Finding

    # Without the configuration's skips: the reviewed exceptions are real findings to import.
    _, report = _bandit()
    assert report["results"], "bandit found nothing at all: the scan did not run"
    data = json.dumps(report).encode()
    response = upload(make_token(team_alpha), data, model="warden", version="self")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["tool"] == "bandit"
    run = ScanRun.objects.get(pk=body["id"])
    assert run.complete
    findings = Finding.objects.filter(model__name="warden")
    assert body["counts"]["total"] == findings.count() > 0
    rules = set(findings.values_list("rule_id", flat=True))
    assert {r["test_id"] for r in report["results"]} <= {r.split(":")[0] for r in rules} | rules


class _Osv(BaseHTTPRequestHandler):
    """Answers OSV's ``POST /v1/query``: one advisory for the installed PyYAML, nothing else."""

    queried: list[str] = []

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name = query["package"]["name"]
        type(self).queried.append(name)
        vulns = []
        if name == VULNERABLE:
            vulns = [{
                "id": ADVISORY,
                "summary": "test advisory: not a real vulnerability",
                "aliases": [],
                "affected": [{
                    "package": {"name": VULNERABLE, "ecosystem": "PyPI"},
                    "ranges": [{"type": "ECOSYSTEM",
                                "events": [{"introduced": "0"}, {"fixed": "99.0"}]}],
                }],
            }]  # fmt: skip
        body = json.dumps({"vulns": vulns} if vulns else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def osv_stand_in() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Osv)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_warden_ingests_its_own_pip_audit_report(
    team_alpha: Any, make_token: Any, upload: Any, osv_stand_in: str, tmp_path: Path
) -> None:
    from governance.evidence.models import ScanRun
    from governance.findings.models import Finding

    out = tmp_path / "pip-audit.json"
    result = subprocess.run(
        [str(BIN / "pip-audit"), "-s", "osv", "--osv-url", osv_stand_in, "--skip-editable",
         "--progress-spinner", "off", "--cache-dir", str(tmp_path / "cache"),
         "-f", "json", "-o", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr  # pip-audit's "vulnerabilities found"
    report = json.loads(out.read_text())
    assert len(report["dependencies"]) > 50  # every installed dependency was audited
    assert VULNERABLE in _Osv.queried

    response = upload(make_token(team_alpha), out.read_bytes(), model="warden", version="self")
    assert response.status_code == 201, response.json()
    assert response.json()["tool"] == "pip-audit"
    finding = Finding.objects.get(model__name="warden", vuln_id=ADVISORY)
    assert finding.package.lower() == VULNERABLE
    assert finding.package_version == version("PyYAML")
    assert finding.fixed_version == "99.0"
    run = ScanRun.objects.get(pk=response.json()["id"])
    audited = [d for d in report["dependencies"] if "skip_reason" not in d]
    assert run.metadata["audited"] == len(audited), [
        d for d in report["dependencies"] if "skip_reason" in d
    ]


@pytest.mark.django_db
def test_the_committed_offline_audit_imports_as_not_audited(
    team_alpha: Any, make_token: Any, upload: Any
) -> None:
    from governance.evidence.models import ScanRun
    from governance.findings.models import Finding

    token = make_token(team_alpha)
    # An earlier audit found something in PyYAML…
    vuln = {"id": ADVISORY, "fix_versions": ["99.0"], "aliases": [], "description": "test"}
    earlier = {"dependencies": [{"name": "pyyaml", "version": "6.0.4", "vulns": [vuln]}]}
    first = upload(token, json.dumps(earlier).encode(), model="warden", version="self")
    assert first.status_code == 201, first.json()
    data = (FIXTURES / "pip-audit-warden-offline.json").read_bytes()
    skipped = json.loads(data)["dependencies"]
    assert skipped
    assert all("skip_reason" in d for d in skipped)
    response = upload(token, data, model="warden", version="self")
    assert response.status_code == 201, response.json()
    run = ScanRun.objects.get(pk=response.json()["id"])
    assert run.tool == "pip-audit"
    assert run.metadata["audited"] == 0
    assert run.metadata["not_audited"]
    # …and an audit that could not look proves nothing: the finding stays open.
    assert response.json()["counts"]["resolved"] == 0
    assert Finding.objects.get(vuln_id=ADVISORY).status == "open"
    n = len(skipped)
    assert any(f"{n} of {n} dependencies were NOT audited" in w for w in run.warnings)
