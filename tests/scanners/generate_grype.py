"""Deterministic generator of large Grype JSON reports, for the parser benchmark and the
scaling tests. Written for Warden; the field shapes follow ``grype -o json`` output (a match
is a vulnerability, its related NVD record, how it matched, and the artifact)."""

from __future__ import annotations

import random
from typing import Any

import orjson

_TYPES = (
    ("apk", "apk", "alpine"),
    ("python", "pypi", ""),
    ("java-archive", "maven", "org.ex"),
    ("npm", "npm", ""),
    ("go-module", "golang", "github.com/ex"),
)
_SEVERITIES = ("Critical", "High", "Medium", "Low", "Negligible", "Unknown")
_WORDS = (
    "buffer", "overflow", "in", "parser", "allows", "remote", "attackers", "to", "execute",
    "arbitrary", "code", "via", "crafted", "input;", "denial", "of", "service", "through",
    "resource", "exhaustion;",
)  # fmt: skip


def _cvss(rng: random.Random, kind: str) -> dict[str, Any]:
    score = round(rng.uniform(0.1, 10.0), 1)
    return {
        "source": "nvd@nist.gov",
        "type": kind,
        "version": "3.1",
        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
        "metrics": {"baseScore": score, "exploitabilityScore": 2.8, "impactScore": 5.9},
        "vendorMetadata": {},
    }


def generate(findings: int = 20_000, seed: int = 7, vulns_per_package: int = 8) -> dict[str, Any]:
    """A Grype report with exactly ``findings`` matches of distinct fingerprints."""
    rng = random.Random(seed)  # noqa: S311 - deterministic test data, not security
    matches: list[dict[str, Any]] = []
    for i in range(findings):
        art_type, purl_type, namespace = _TYPES[(i // vulns_per_package) % len(_TYPES)]
        name = f"pkg-{i // vulns_per_package}"
        pkg = i // vulns_per_package  # one installed version per package, several vulns each
        version = f"{pkg % 10}.{pkg % 31}.{pkg % 97}"
        purl_name = f"{namespace}/{name}" if namespace else name
        cve = f"CVE-{2015 + i % 10}-{10000 + i}"
        fixed = rng.random() < 0.6
        description = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(20, 60)))
        matches.append(
            {
                "vulnerability": {
                    "id": cve if i % 3 else f"GHSA-{i:04x}-abcd-efgh",
                    "dataSource": f"https://nvd.nist.gov/vuln/detail/{cve}",
                    "namespace": f"{purl_type}:distro" if art_type == "apk" else "github:language",
                    "severity": _SEVERITIES[rng.randrange(len(_SEVERITIES))],
                    "urls": [f"https://example.org/advisories/{cve}/{n}" for n in range(4)],
                    "description": description,
                    "cvss": [_cvss(rng, "Primary"), _cvss(rng, "Secondary")],
                    "epss": [
                        {
                            "cve": cve,
                            "epss": round(rng.random(), 4),
                            "percentile": 0.5,
                            "date": "2025-06-18",
                        }
                    ],
                    "fix": {
                        "versions": [f"{version}1"] if fixed else [],
                        "state": "fixed" if fixed else "not-fixed",
                    },
                    "advisories": [],
                    "risk": round(rng.random() * 10, 3),
                },
                "relatedVulnerabilities": []
                if i % 3
                else [
                    {
                        "id": cve,
                        "dataSource": f"https://nvd.nist.gov/vuln/detail/{cve}",
                        "namespace": "nvd:cpe",
                        "severity": "High",
                        "urls": [],
                        "description": description,
                        "cvss": [_cvss(rng, "Primary")],
                    }
                ],
                "matchDetails": [
                    {
                        "type": "exact-direct-match",
                        "matcher": f"{purl_type}-matcher",
                        "searchedBy": {
                            "language": purl_type,
                            "namespace": "github:language",
                            "package": {"name": name, "version": version},
                        },
                        "found": {"vulnerabilityID": cve, "versionConstraint": f"< {version}1"},
                    }
                ],
                "artifact": {
                    "id": f"{rng.getrandbits(64):016x}",
                    "name": name,
                    "version": version,
                    "type": art_type,
                    "locations": [
                        {
                            "path": f"/usr/lib/{name}/{version}/METADATA",
                            "layerID": f"sha256:{rng.getrandbits(256):064x}",
                        }
                    ],
                    "language": purl_type,
                    "licenses": ["MIT"],
                    "cpes": [f"cpe:2.3:a:{name}:{name}:{version}:*:*:*:*:*:*:*"],
                    "purl": f"pkg:{purl_type}/{purl_name}@{version}",
                    "upstreams": [],
                },
            }
        )
    return {
        "matches": matches,
        "source": {"type": "image", "target": {"userInput": "registry.example/app:1.0"}},
        "distro": {"name": "alpine", "version": "3.20.0", "idLike": []},
        "descriptor": {"name": "grype", "version": "0.87.0"},
    }


def generate_bytes(findings: int = 20_000, seed: int = 7) -> bytes:
    return orjson.dumps(generate(findings, seed))
