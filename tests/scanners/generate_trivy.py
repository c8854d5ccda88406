"""Deterministic generator of large Trivy JSON (schema v2) reports, for the parser benchmark
and the scaling tests. Written for Warden; the field shapes follow Trivy's JSON output."""

from __future__ import annotations

import random
from typing import Any

import orjson

_TYPES = (
    ("os-pkgs", "debian", "deb"),
    ("lang-pkgs", "pip", "pypi"),
    ("lang-pkgs", "npm", "npm"),
    ("lang-pkgs", "jar", "maven"),
    ("lang-pkgs", "gobinary", "golang"),
)
_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
_SOURCES = ("nvd", "ghsa", "redhat", "debian")
_WORDS = [
    "buffer", "overflow", "in", "parser", "allows", "remote", "attackers", "to", "execute",
    "arbitrary", "code", "via", "crafted", "input;", "denial", "of", "service", "through",
    "resource", "exhaustion;", "improper", "validation", "certificate", "chains;",
    "use-after-free", "when", "closing", "handles;", "integer", "length", "calculation",
]  # fmt: skip


def _package_name(kind: str, i: int) -> str:
    if kind == "jar":
        return f"org.example{i % 50}:lib-{i}"
    if kind == "gobinary":
        return f"github.com/example{i % 40}/mod{i}"
    if kind == "npm":
        return f"@scope{i % 30}/pkg-{i}" if i % 3 == 0 else f"pkg-{i}"
    if kind == "pip":
        return f"Py_Package.{i}" if i % 4 == 0 else f"py-package-{i}"
    return f"lib{i}-dev"


def generate(findings: int = 20_000, seed: int = 7, vulns_per_package: int = 8) -> dict[str, Any]:
    """A Trivy report with exactly ``findings`` distinct vulnerabilities (distinct
    fingerprints), spread over five result types."""
    rng = random.Random(seed)  # noqa: S311 - deterministic test data, not security
    results: list[dict[str, Any]] = []
    per_type = [findings // len(_TYPES)] * len(_TYPES)
    per_type[0] += findings - sum(per_type)
    cve = 10_000
    pkg_index = 0
    for (klass, kind, purl_type), count in zip(_TYPES, per_type, strict=True):
        vulns: list[dict[str, Any]] = []
        while len(vulns) < count:
            pkg_index += 1
            name = _package_name(kind, pkg_index)
            installed = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}"
            for _ in range(min(vulns_per_package, count - len(vulns))):
                cve += 1
                sev = _SEVERITIES[rng.randrange(len(_SEVERITIES))]
                source = _SOURCES[rng.randrange(len(_SOURCES))]
                fixed_choice = rng.random()
                if fixed_choice < 0.3:
                    fixed = ""
                elif fixed_choice < 0.5:
                    fixed = f"{installed}1, 99.0.1, {rng.randint(10, 20)}.0.0"
                else:
                    fixed = f"{installed}{rng.randint(1, 9)}"
                v3 = round(rng.uniform(0.1, 10.0), 1)
                desc = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(20, 60)))
                vuln: dict[str, Any] = {
                    "VulnerabilityID": f"CVE-{2015 + cve % 10}-{cve}",
                    "PkgID": f"{name}@{installed}",
                    "PkgName": name,
                    "PkgIdentifier": {
                        "PURL": f"pkg:{purl_type}/{name}@{installed}",
                        "UID": f"{rng.getrandbits(64):016x}",
                    },
                    "InstalledVersion": installed,
                    "FixedVersion": fixed,
                    "Status": "fixed" if fixed else "affected",
                    "Layer": {"DiffID": f"sha256:{rng.getrandbits(256):064x}"},
                    "SeveritySource": source,
                    "PrimaryURL": f"https://avd.aquasec.com/nvd/cve-{cve}",
                    "DataSource": {
                        "ID": source,
                        "Name": f"{source} advisories",
                        "URL": "https://example.org",
                    },
                    "Title": f"{name}: " + " ".join(rng.choice(_WORDS) for _ in range(6)),
                    "Description": desc,
                    "Severity": sev,
                    "CweIDs": [f"CWE-{rng.randint(20, 900)}"],
                    "VendorSeverity": {source: rng.randint(1, 4)},
                    "CVSS": {
                        "nvd": {
                            "V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                            "V3Score": v3,
                        },
                        source: {
                            "V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H",
                            "V3Score": v3,
                        },
                    },
                    "References": [
                        f"https://example.org/advisory/{cve}/{k}" for k in range(rng.randint(2, 12))
                    ],
                    "PublishedDate": "2021-06-29T11:15:00Z",
                    "LastModifiedDate": "2022-12-08T20:34:00Z",
                }
                if rng.random() < 0.1:
                    vuln["VendorIDs"] = [f"DSA-{cve}-1"]
                vulns.append(vuln)
        results.append(
            {"Target": f"target-{kind}", "Class": klass, "Type": kind, "Vulnerabilities": vulns}
        )
    return {
        "SchemaVersion": 2,
        "CreatedAt": "2026-01-01T00:00:00Z",
        "ArtifactName": "bench/image:latest",
        "ArtifactType": "container_image",
        "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}},
        "Results": results,
    }


def generate_bytes(findings: int = 20_000, seed: int = 7) -> bytes:
    return orjson.dumps(generate(findings, seed))
