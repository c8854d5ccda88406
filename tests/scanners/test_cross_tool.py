"""The same vulnerability in the same package gets the same fingerprint from every
dependency scanner: pip-audit, OSV-Scanner, Grype, Trivy, CycloneDX (and SARIF from a
dependency scanner). The reports are small hand-written ones in each tool's real shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

import scanners
from scanners import fingerprint

FIX = Path(__file__).resolve().parents[1] / "fixtures"

# requests 2.19.0: PYSEC-2018-28 == GHSA-x84v-xcm2-53pg == CVE-2018-18074
PIP_AUDIT = {
    "dependencies": [
        {
            "name": "Requests",
            "version": "2.19.0",
            "vulns": [
                {
                    "id": "PYSEC-2018-28",
                    "fix_versions": ["2.20.0"],
                    "aliases": ["GHSA-x84v-xcm2-53pg", "CVE-2018-18074"],
                }
            ],
        }
    ],
    "fixes": [],
}
OSV = {
    "results": [
        {
            "source": {"path": "requirements.txt", "type": "lockfile"},
            "packages": [
                {
                    "package": {"name": "requests", "version": "2.19.0", "ecosystem": "PyPI"},
                    "vulnerabilities": [
                        {"id": "GHSA-x84v-xcm2-53pg", "aliases": ["CVE-2018-18074"]},
                        {
                            "id": "PYSEC-2018-28",
                            "aliases": ["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"],
                        },
                    ],
                    "groups": [
                        {"ids": ["GHSA-x84v-xcm2-53pg", "PYSEC-2018-28"], "max_severity": "7.5"}
                    ],
                }
            ],
        }
    ]
}
GRYPE = {
    "matches": [
        {
            "vulnerability": {
                "id": "GHSA-x84v-xcm2-53pg",
                "severity": "High",
                "fix": {"versions": ["2.20.0"], "state": "fixed"},
            },
            "relatedVulnerabilities": [{"id": "CVE-2018-18074"}],
            "artifact": {
                "name": "requests",
                "version": "2.19.0",
                "type": "python",
                "purl": "pkg:pypi/requests@2.19.0",
            },
        }
    ],
    "descriptor": {"name": "grype", "version": "0.80.0"},
}
TRIVY = {
    "SchemaVersion": 2,
    "Results": [
        {
            "Target": "Python",
            "Class": "lang-pkgs",
            "Type": "python-pkg",
            "Vulnerabilities": [
                {
                    "VulnerabilityID": "CVE-2018-18074",
                    "PkgName": "requests",
                    "InstalledVersion": "2.19.0",
                    "FixedVersion": "2.20.0",
                    "Severity": "HIGH",
                }
            ],
        }
    ],
}
CYCLONEDX = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "components": [
        {
            "bom-ref": "r",
            "type": "library",
            "name": "requests",
            "version": "2.19.0",
            "purl": "pkg:pypi/requests@2.19.0",
        }
    ],
    "vulnerabilities": [
        {
            "id": "GHSA-x84v-xcm2-53pg",
            "references": [{"id": "CVE-2018-18074"}],
            "affects": [{"ref": "r"}],
        }
    ],
}
SARIF_DEPCHECK = {
    "version": "2.1.0",
    "runs": [
        {
            "tool": {"driver": {"name": "dependency-check", "version": "9.0.0"}},
            "artifacts": [
                {
                    "location": {"uri": "requirements.txt"},
                    "properties": {"id1": "pkg:pypi/requests@2.19.0"},
                }
            ],
            "results": [
                {
                    "ruleId": "CVE-2018-18074",
                    "level": "error",
                    "message": {"text": "CVE-2018-18074 - requests"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "requirements.txt", "index": 0}
                            }
                        }
                    ],
                }
            ],
        }
    ],
}

REQUESTS_FP = fingerprint.dependency("pypi", "requests", ["CVE-2018-18074"])


@pytest.mark.parametrize(
    ("scan_type", "report"),
    [
        ("pip-audit", PIP_AUDIT),
        ("osv-scanner", OSV),
        ("grype", GRYPE),
        ("trivy", TRIVY),
        ("cyclonedx", CYCLONEDX),
        ("sarif", SARIF_DEPCHECK),
    ],
)
def test_same_pypi_vulnerability_same_fingerprint(scan_type: str, report: dict[str, Any]) -> None:
    parsed = scanners.parse(orjson.dumps(report))
    assert parsed.scan_type == scan_type  # detected by content
    assert len(parsed.findings) == 1
    f = parsed.findings[0]
    assert f.fingerprint == REQUESTS_FP
    assert (f.vuln_id, f.ecosystem) == ("CVE-2018-18074", "pypi")
    assert f.package.lower() == "requests"


def test_os_package_debian_vs_deb() -> None:
    """grype says ``deb``, trivy says ``debian``: one fingerprint (libc6 CVE-2021-33574)."""
    grype = scanners.parse((FIX / "grype/same_cve_different_paths.json").read_bytes())
    trivy = {
        "SchemaVersion": 2,
        "Results": [
            {
                "Target": "img (debian 10.4)",
                "Class": "os-pkgs",
                "Type": "debian",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2021-33574",
                        "PkgName": "libc6",
                        "Severity": "CRITICAL",
                    }
                ],
            }
        ],
    }
    assert (
        scanners.parse(orjson.dumps(trivy)).findings[0].fingerprint == grype.findings[0].fingerprint
    )


def test_maven_group_artifact_across_tools() -> None:
    """Log4Shell in log4j-core: CycloneDX (real grype BOM), Grype (purl), Trivy, OSV."""
    bom = scanners.parse((FIX / "cyclonedx/log4j.json").read_bytes())
    from_bom = next(f for f in bom.findings if f.vuln_id == "CVE-2021-44228").fingerprint
    grype = {
        "matches": [
            {
                "vulnerability": {"id": "CVE-2021-44228", "severity": "Critical"},
                "artifact": {
                    "name": "log4j-core",
                    "version": "2.13.2",
                    "type": "java-archive",
                    "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2",
                },
            }
        ]
    }
    trivy = {
        "SchemaVersion": 2,
        "Results": [
            {
                "Target": "app.jar",
                "Type": "jar",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2021-44228",
                        "PkgName": "org.apache.logging.log4j:log4j-core",
                        "Severity": "CRITICAL",
                    }
                ],
            }
        ],
    }
    osv = {
        "results": [
            {
                "source": {"path": "pom.xml", "type": "lockfile"},
                "packages": [
                    {
                        "package": {
                            "name": "org.apache.logging.log4j:log4j-core",
                            "version": "2.13.2",
                            "ecosystem": "Maven",
                        },
                        "vulnerabilities": [
                            {"id": "GHSA-jfh8-c2jp-5v3q", "aliases": ["CVE-2021-44228"]}
                        ],
                        "groups": [{"ids": ["GHSA-jfh8-c2jp-5v3q"]}],
                    }
                ],
            }
        ]
    }
    for report in (grype, trivy, osv):
        assert scanners.parse(orjson.dumps(report)).findings[0].fingerprint == from_bom


def test_pip_audit_json_and_osv_fixture_style_ids() -> None:
    """pip-audit's real sample (PYSEC id with GHSA + CVE aliases) matches the tools above."""
    real = scanners.parse((FIX / "pip-audit/formatter_with_fix.json").read_bytes())
    assert real.findings[0].fingerprint == REQUESTS_FP
