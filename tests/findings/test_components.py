"""Which models use package X, or are affected by CVE Y, across my teams: from inventories
(SBOM components) and dependency findings, with versions; the page and the API agree."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import pytest

from governance.findings.models import Finding

pytestmark = pytest.mark.django_db


def _sbom(components: list[tuple[str, str]]) -> bytes:
    return orjson.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "serialNumber": "urn:uuid:"
            + hashlib.sha256(repr(components).encode()).hexdigest()[:32],
            "metadata": {"component": {"type": "container", "name": "app", "version": "1"}},
            "components": [
                {"type": "library", "name": n, "version": v, "purl": f"pkg:pypi/{n}@{v}"}
                for n, v in components
            ],
        }
    )


@pytest.fixture
def world(
    upload: Any, make_token: Any, team_alpha: Any, team_beta: Any, seed_findings: Any
) -> None:
    alpha = make_token(team_alpha, "write")
    upload(alpha, _sbom([("torch", "2.1.0"), ("numpy", "1.26.0")]), model="vision", version="1")
    upload(alpha, _sbom([("torch", "2.3.1")]), model="vision", version="2")
    upload(alpha, _sbom([("torch", "2.1.0")]), model="speech", version="5")
    beta = make_token(team_beta, "write")
    upload(beta, _sbom([("torch", "2.1.0")]), model="beta-secret", version="1")
    seed_findings(team_alpha, "speech", [("CVE-2025-32434", "critical")], version="5")
    f = Finding.objects.get(vuln_id="CVE-2025-32434")
    f.package, f.package_version, f.fixed_version = "torch", "2.1.0", "2.6.0"
    f.aliases = ["GHSA-53q9-r3pm-6pq6"]
    f.save()


def test_which_models_use_a_package_at_which_versions(
    client_of: Any, member: Any, world: None
) -> None:
    c = client_of(member)
    body = c.get("/api/v1/components/?package=TORCH").json()
    rows = {(r["model"], r["version"]): r for r in body["results"]}
    assert set(rows) == {("speech", "2.1.0"), ("vision", "2.1.0"), ("vision", "2.3.1")}
    assert body["models"] == 2  # never the other team's model
    assert rows[("vision", "2.1.0")]["model_versions"] == ["1"]
    assert rows[("vision", "2.1.0")]["sources"] == ["sbom"]
    speech = rows[("speech", "2.1.0")]
    assert speech["sources"] == ["finding", "sbom"]
    assert [v["id"] for v in speech["vulnerabilities"]] == ["CVE-2025-32434"]
    assert speech["vulnerabilities"][0]["fixed_version"] == "2.6.0"
    html = c.get("/components/?package=torch").content.decode()
    assert 'data-component="torch@2.1.0" data-model="speech"' in html
    assert 'data-component="torch@2.3.1" data-model="vision"' in html
    assert "beta-secret" not in html
    assert "<strong>2</strong> models" in html


def test_which_models_a_vulnerability_affects_by_id_or_alias(
    client_of: Any, member: Any, outsider: Any, world: None
) -> None:
    c = client_of(member)
    for ref in ("CVE-2025-32434", "ghsa-53q9-r3pm-6pq6"):
        body = c.get("/api/v1/components/", {"cve": ref}).json()
        assert [(r["model"], r["package"], r["version"]) for r in body["results"]] == [
            ("speech", "torch", "2.1.0")
        ]
    html = c.get("/components/?cve=CVE-2025-32434").content.decode()
    assert "fixed in 2.6.0" in html
    other = client_of(outsider)
    assert other.get("/api/v1/components/?cve=CVE-2025-32434").json()["results"] == []
