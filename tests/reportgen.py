"""Deterministic generators of real-shaped scanner reports for tests and benchmarks."""

from __future__ import annotations

from typing import Any

import orjson

_SEV = ["CRITICAL", "HIGH", "MEDIUM", "LOW"]


def trivy_vuln(
    i: int, *, severity: str | None = None, package: str | None = None
) -> dict[str, Any]:
    return {
        "VulnerabilityID": f"CVE-2024-{10000 + i}",
        "PkgName": package or f"pkg{i % 997}",
        "InstalledVersion": "1.0.0",
        "FixedVersion": "1.0.1" if i % 3 else "",
        "Severity": severity or _SEV[i % 4],
        "Title": f"Synthetic vulnerability {i}",
        "Description": f"Generated finding number {i} for tests.",
        "PrimaryURL": f"https://avd.aquasec.com/nvd/cve-2024-{10000 + i}",
        "CVSS": {"nvd": {"V3Score": [9.8, 7.5, 5.3, 2.1][i % 4]}},
    }


def trivy_report(ids: range | list[int], *, severity: str | None = None) -> bytes:
    """A Trivy JSON (schema 2) filesystem report with one vulnerability per id."""
    return orjson.dumps(
        {
            "SchemaVersion": 2,
            "ArtifactName": "model-repo",
            "ArtifactType": "filesystem",
            "Results": [
                {
                    "Target": "requirements.txt",
                    "Class": "lang-pkgs",
                    "Type": "pip",
                    "Vulnerabilities": [trivy_vuln(i, severity=severity) for i in ids],
                }
            ],
        }
    )


def grype_report(ids: list[int]) -> bytes:
    """A Grype JSON report with the same CVEs/packages as :func:`trivy_report` (Python pkgs)."""
    matches = []
    for i in ids:
        v = trivy_vuln(i)
        matches.append(
            {
                "vulnerability": {
                    "id": v["VulnerabilityID"],
                    "dataSource": v["PrimaryURL"],
                    "severity": v["Severity"].title(),
                    "description": v["Description"],
                    "fix": {"versions": ["1.0.1"], "state": "fixed"},
                    "cvss": [],
                    "urls": [v["PrimaryURL"]],
                },
                "relatedVulnerabilities": [],
                "matchDetails": [],
                "artifact": {
                    "name": v["PkgName"],
                    "version": "1.0.0",
                    "type": "python",
                    "language": "python",
                    "purl": f"pkg:pypi/{v['PkgName']}@1.0.0",
                    "locations": [{"path": "/app/requirements.txt"}],
                },
            }
        )
    return orjson.dumps(
        {
            "matches": matches,
            "source": {"type": "directory", "target": "/app"},
            "distro": {"name": "", "version": ""},
            "descriptor": {"name": "grype", "version": "0.80.0"},
        }
    )
