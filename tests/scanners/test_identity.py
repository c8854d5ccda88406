"""One vulnerability is one finding whichever of its ids (GO, GHSA, CVE, PYSEC, OSV) each
entry or each tool uses."""

from __future__ import annotations

import orjson

import scanners
from scanners import fingerprint


def test_entries_of_one_package_sharing_an_alias_are_one_finding() -> None:
    # Trivy lists the same flaw once by its GHSA id and once by the CVE that aliases it.
    data = {
        "SchemaVersion": 2,
        "Results": [
            {
                "Target": "requirements.txt",
                "Type": "pip",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "GHSA-462w-v97r-4m45",
                        "PkgName": "Jinja2",
                        "Severity": "LOW",
                    },
                    {
                        "VulnerabilityID": "CVE-2019-10906",
                        "VendorIDs": ["GHSA-462w-v97r-4m45"],
                        "PkgName": "jinja2",
                        "Severity": "HIGH",
                    },
                ],
            }
        ],
    }
    [finding] = scanners.parse(orjson.dumps(data)).findings
    assert finding.vuln_id == "CVE-2019-10906"
    assert finding.aliases == ["GHSA-462w-v97r-4m45"]
    assert finding.severity == "high"  # the worst of the two
    assert finding.fingerprint == fingerprint.dependency("pip", "jinja2", ["CVE-2019-10906"])


def test_entries_without_a_shared_id_stay_apart() -> None:
    data = {
        "SchemaVersion": 2,
        "Results": [
            {
                "Target": "r.txt",
                "Type": "pip",
                "Vulnerabilities": [
                    {
                        "VulnerabilityID": "CVE-2020-1",
                        "VendorIDs": ["GHSA-aaaa-bbbb-cccc"],
                        "PkgName": "a",
                    },
                    {"VulnerabilityID": "CVE-2020-2", "PkgName": "a"},
                    {"VulnerabilityID": "GHSA-aaaa-bbbb-cccc", "PkgName": "b"},  # another package
                ],
            }
        ],
    }
    report = scanners.parse(orjson.dumps(data))
    assert sorted((f.package, f.vuln_id) for f in report.findings) == [
        ("a", "CVE-2020-1"),
        ("a", "CVE-2020-2"),
        ("b", "GHSA-aaaa-bbbb-cccc"),
    ]


def test_identity_keys_match_across_tools_by_any_id() -> None:
    # OSV-Scanner knows the GO id and its GHSA alias, pip-audit-like tools only the GHSA id
    osv = fingerprint.identity_keys(
        "Go", "golang.org/x/net", ["GO-2023-1571", "GHSA-vvpx-j8f3-3w6h"]
    )
    other = fingerprint.identity_keys("golang", "golang.org/x/net", ["ghsa-VVPX-j8f3-3w6h"])
    assert set(osv) & set(other)
    # the fingerprint of a finding is one of its identity keys
    assert fingerprint.dependency("go", "golang.org/x/net", ["GHSA-vvpx-j8f3-3w6h"]) in other
    unrelated = fingerprint.identity_keys("go", "golang.org/x/text", ["GHSA-vvpx-j8f3-3w6h"])
    assert not set(unrelated) & set(osv)
