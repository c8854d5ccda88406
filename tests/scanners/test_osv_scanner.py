"""OSV-Scanner JSON: groups, aliases, severities, fixed versions; the CVSS v3 calculator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

import scanners
from scanners import fingerprint
from scanners.findings import ReportError
from scanners.parsers._kit import cvss3_base_score

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "osv-scanner"


def parse(name: str) -> scanners.Report:
    return scanners.parse((FIX / name).read_bytes())


def test_real_run_one_finding_per_group() -> None:
    report = parse("test-vuln-results-a.json")
    assert report.scan_type == "osv-scanner"
    assert report.category == "dependency"
    assert report.metadata["sources"] == [
        "/path/to/scorecard-check-osv-e2e/go.mod",
        "/path/to/scorecard-check-osv-e2e/sub-rust-project/Cargo.lock",
    ]
    # regex has two records (GHSA + RUSTSEC) in ONE group: one finding, not two.
    assert len(report.findings) == 2
    go, rust = report.findings

    assert go.rule_id == "GO-2021-0053"
    assert go.vuln_id == "CVE-2021-3121"
    assert set(go.aliases) == {"GO-2021-0053", "GHSA-c3h9-896r-86jm"}
    assert go.package == "github.com/gogo/protobuf"
    assert go.package_version == "1.3.1"
    assert go.ecosystem == "go"
    assert go.fixed_version == "1.3.2"
    # no max_severity, no severity vector, no database rating: unrated -> medium
    assert go.severity == "medium"
    assert go.cvss_score is None
    assert go.fingerprint == fingerprint.dependency(
        "golang", "github.com/gogo/protobuf", ["CVE-2021-3121"]
    )

    assert rust.rule_id == "GHSA-m5pq-gvj9-9vr8"
    assert rust.vuln_id == "CVE-2022-24713"
    assert set(rust.aliases) == {"GHSA-m5pq-gvj9-9vr8", "RUSTSEC-2022-0013"}
    assert rust.ecosystem == "cargo"  # OSV "crates.io"
    assert rust.fixed_version == "1.5.5"
    # CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H is 7.5 -> high
    assert rust.cvss_score == 7.5
    assert rust.severity == "high"
    assert rust.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
    assert rust.evidence["group"] == ["GHSA-m5pq-gvj9-9vr8", "RUSTSEC-2022-0013"]


def test_malicious_package_group_aliases() -> None:
    report = parse("some_findings.json")
    assert len(report.findings) == 1
    f = report.findings[0]
    assert f.rule_id == "MAL-2023-1035"
    assert f.vuln_id == "GHSA-8348-2q94-ffjx"  # GHSA ranks before MAL-
    assert f.aliases == ["MAL-2023-1035"]
    assert f.package == "flot-axis"
    assert f.ecosystem == "npm"
    assert f.fixed_version == ""  # only "introduced: 0"
    assert f.title == "Malicious code in flot-axis (npm)"
    assert f.evidence["cwes"] == ["CWE-506"]
    assert f.references == ["https://github.com/advisories/GHSA-8348-2q94-ffjx"]


def test_without_groups_one_finding_per_vulnerability() -> None:
    report = parse("multi_cwe_fabricated.json")
    assert len(report.findings) == 1
    f = report.findings[0]
    assert f.vuln_id == "GHSA-multi-cwe-0001"
    assert f.evidence["cwes"] == ["CWE-79", "CWE-89"]
    assert f.severity == "medium"


def _report(groups: list[dict[str, Any]], vulns: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {
            "results": [
                {
                    "source": {"path": "requirements.txt", "type": "lockfile"},
                    "packages": [
                        {
                            "package": {"name": "Jinja2", "version": "2.10", "ecosystem": "PyPI"},
                            "vulnerabilities": vulns,
                            "groups": groups,
                        }
                    ],
                }
            ]
        }
    )


def test_max_severity_string_wins_and_empty_falls_back() -> None:
    vuln = {
        "id": "PYSEC-2019-217",
        "aliases": ["CVE-2019-10906", "GHSA-462w-v97r-4m45"],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N"}],
        "affected": [
            {
                "package": {"name": "Jinja2", "ecosystem": "PyPI"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.10.1"}]}
                ],
            }
        ],
    }
    report = scanners.parse(_report([{"ids": ["PYSEC-2019-217"], "max_severity": "9.1"}], [vuln]))
    f = report.findings[0]
    assert (f.severity, f.cvss_score, f.raw_severity) == ("critical", 9.1, "9.1")
    assert f.fixed_version == "2.10.1"
    assert f.package == "Jinja2"
    assert f.fingerprint == fingerprint.dependency("pypi", "jinja2", ["CVE-2019-10906"])

    # empty max_severity: the vector is computed (S:C, C:H -> 8.6)
    report = scanners.parse(_report([{"ids": ["PYSEC-2019-217"], "max_severity": ""}], [vuln]))
    f = report.findings[0]
    assert (f.severity, f.cvss_score) == ("high", 8.6)


def test_database_rating_when_no_score() -> None:
    vuln = {"id": "GHSA-aaaa-bbbb-cccc", "database_specific": {"severity": "LOW"}}
    report = scanners.parse(_report([{"ids": ["GHSA-aaaa-bbbb-cccc"]}], [vuln]))
    assert report.findings[0].severity == "low"
    assert report.findings[0].raw_severity == "LOW"


# Scores from the vendors' own records in the Trivy and Grype samples.
@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", 6.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:H", 8.6),
        ("CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:C/C:L/I:L/A:L", 5.7),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:N/A:N", 5.3),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
    ],
)
def test_cvss3_calculator(vector: str, score: float) -> None:
    assert cvss3_base_score(vector) == score


@pytest.mark.parametrize(
    "vector",
    [
        "",
        "AV:N/AC:L/Au:N/C:N/I:N/A:P",
        "CVSS:3.1/AV:N/AC:L",
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:4.0/AV:N",
    ],
)
def test_cvss3_calculator_rejects_other_vectors(vector: str) -> None:
    assert cvss3_base_score(vector) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {
                "results": [
                    {
                        "source": {},
                        "packages": [
                            {"package": {"name": "x"}, "vulnerabilities": [{"aliases": []}]}
                        ],
                    }
                ]
            },
            'osv-scanner: results[0].packages[0].vulnerabilities[0]: missing "id"',
        ),
        (
            {"results": [{"source": {}, "packages": [{"package": "x"}]}]},
            "osv-scanner: results[0].packages[0].package: expected an object, got a string",
        ),
        (
            {
                "results": [
                    {
                        "source": {},
                        "packages": [{"package": {"name": "x"}, "groups": [{"ids": []}]}],
                    }
                ]
            },
            'osv-scanner: results[0].packages[0].groups[0]: missing "ids"',
        ),
        ({"results": 3}, "osv-scanner: results: expected an array, got a number"),
    ],
)
def test_errors_name_the_path(data: object, message: str) -> None:
    with pytest.raises(ReportError) as err:
        scanners.parse(orjson.dumps(data), scan_type="osv-scanner")
    assert str(err.value) == message
