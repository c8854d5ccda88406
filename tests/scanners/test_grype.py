"""Grype JSON: severities (Negligible), fix state, aliases, merging of paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

import scanners
from scanners import fingerprint
from scanners.findings import ReportError

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "grype"


def parse(name: str) -> scanners.Report:
    return scanners.parse((FIX / name).read_bytes())


def test_check_all_fields() -> None:
    report = parse("check_all_fields.json")
    assert report.scan_type == "grype"
    assert report.tool_version == "0.28.0"
    assert report.metadata["target"] == "vulnerable-image:latest"
    # 6 matches; Django's GHSA is matched twice -> 5 findings
    assert len(report.findings) == 5
    by_pkg = {(f.package, f.rule_id): f for f in report.findings}

    krb = by_pkg[("libgssapi-krb5-2", "CVE-2004-0971")]
    assert (krb.severity, krb.raw_severity) == ("low", "Negligible")
    assert krb.ecosystem == "deb"
    assert krb.fixed_version == ""
    assert krb.fingerprint == fingerprint.dependency(
        "debian", "libgssapi-krb5-2", ["CVE-2004-0971"]
    )

    redis = by_pkg[("redis", "CVE-2021-32626")]
    # fix.state "wont-fix": its versions are not a fix
    assert redis.fixed_version == ""
    assert redis.evidence["fix_versions_not_applicable"] == ["fix_1", "fix_2"]
    assert redis.cvss_score == 8.8  # v3.1 preferred over v2's 6.5
    assert redis.ecosystem == "pypi"
    assert redis.severity == "high"

    # same CVE, two different packages: two findings
    assert by_pkg[("libc-bin", "CVE-2021-33574")].severity == "critical"
    assert (
        by_pkg[("libc6", "CVE-2021-33574")].fingerprint
        != by_pkg[("libc-bin", "CVE-2021-33574")].fingerprint
    )

    django = by_pkg[("Django", "GHSA-v6rh-hp5x-86rv")]
    assert django.vuln_id == "CVE-2021-44420"
    assert django.aliases == ["GHSA-v6rh-hp5x-86rv"]
    assert django.fixed_version == "3.2.10"
    assert django.evidence["occurrences"] == 2
    assert django.fingerprint == fingerprint.dependency("pypi", "django", ["CVE-2021-44420"])


def test_same_cve_different_paths_is_one_finding() -> None:
    report = parse("same_cve_different_paths.json")
    assert len(report.findings) == 1
    f = report.findings[0]
    assert (f.vuln_id, f.package, f.severity) == ("CVE-2021-33574", "libc6", "critical")
    assert f.evidence["locations"] == [
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/x86_64-linux-gnu/libc.so.6",
    ]


def test_many_vulns_with_epss() -> None:
    report = parse("many_vulns_with_epss_values.json")
    assert len(report.findings) == 15
    assert {f.package for f in report.findings} == {"busybox"}
    sev = {f.vuln_id: f.severity for f in report.findings}
    assert sev["CVE-2022-48174"] == "critical"
    assert sev["CVE-2024-58251"] == "low"
    assert sev["CVE-2021-42374"] == "medium"
    assert [f.vuln_id for f in report.findings if f.fixed_version] == ["CVE-2021-42376"]
    first = report.findings[0]
    assert first.evidence["epss"] == 0.0719
    assert first.cvss_score == 8.8


def test_fix_available_binary() -> None:
    f = parse("fix_available.json").findings[0]
    assert (f.fixed_version, f.ecosystem, f.severity, f.cvss_score) == (
        "1.2.3",
        "binary",
        "high",
        7.5,
    )


def test_no_vuln() -> None:
    report = parse("no_vuln.json")
    assert report.findings == []
    assert report.category == "dependency"


def _match(**vuln: Any) -> dict[str, Any]:
    return {
        "vulnerability": {"id": "CVE-2021-44228", "severity": "Critical", **vuln},
        "artifact": {
            "name": "log4j-core",
            "version": "2.13.2",
            "type": "java-archive",
            "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2",
        },
    }


def test_maven_name_from_purl_and_unknown_severity() -> None:
    data = {
        "matches": [
            _match(severity="Unknown", cvss=[{"version": "3.1", "metrics": {"baseScore": 5.0}}])
        ]
    }
    f = scanners.parse(orjson.dumps(data)).findings[0]
    assert f.package == "org.apache.logging.log4j:log4j-core"
    assert f.ecosystem == "maven"
    assert (f.severity, f.raw_severity) == ("medium", "Unknown")
    data = {"matches": [_match(severity="Unknown")]}
    assert scanners.parse(orjson.dumps(data)).findings[0].severity == "medium"  # unrated


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"matches": [{"artifact": {"name": "a"}}]},
            "grype: matches[0].vulnerability: expected an object, got null",
        ),
        (
            {"matches": [{"vulnerability": {"id": "X"}, "artifact": {"version": "1"}}]},
            'grype: matches[0].artifact: missing "name"',
        ),
        ({"matches": "none"}, "grype: matches: expected an array, got a string"),
    ],
)
def test_errors_name_the_path(data: object, message: str) -> None:
    with pytest.raises(ReportError) as err:
        scanners.parse(orjson.dumps(data), scan_type="grype")
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("data", "notice"),
    [
        (
            {"matches": [_match(fix={"state": "fixed", "versions": "1.0"})]},
            "grype: matches[0].vulnerability.fix.versions: expected an array, got a string; "
            "left out",
        ),
        (
            {"matches": [_match(cvss=[{"metrics": []}])]},
            "grype: matches[0].vulnerability.cvss[0].metrics: expected an object, got an "
            "array; left out",
        ),
        (
            {"matches": [_match(urls=["https://a.example", {"href": "https://b.example"}])]},
            "grype: matches[0].vulnerability.urls[1]: expected a string, got an object; left out",
        ),
    ],
)
def test_a_field_of_an_unexpected_shape_is_left_out_with_a_notice(
    data: dict[str, Any], notice: str
) -> None:
    for scan_type in ("grype", None):
        report = scanners.parse(orjson.dumps(data), scan_type=scan_type)
        [finding] = report.findings
        assert (finding.vuln_id, finding.package) == (
            "CVE-2021-44228",
            "org.apache.logging.log4j:log4j-core",
        )
        assert notice in report.warnings


def test_match_details_as_one_object_older_grype_is_read_without_a_notice() -> None:
    match = _match()
    match["matchDetails"] = {"matcher": "java-matcher", "searchedBy": {}, "matchedOn": {}}
    report = scanners.parse(orjson.dumps({"matches": [match]}))
    assert report.scan_type == "grype"
    assert report.findings[0].evidence["matchers"] == ["java-matcher"]
    assert report.warnings == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"matches": [_match(id=" ")]},
            "grype: matches[0].vulnerability.id: must not be empty",
        ),
        ({"descriptor": {"name": "grype"}}, "grype: matches: expected an array, got null"),
    ],
)
def test_type_errors_name_the_path(data: dict[str, Any], message: str) -> None:
    for scan_type in ("grype", None):  # chosen, or detected from the content
        if scan_type is None and "matches" not in data:
            continue  # without matches it is not recognizably Grype
        with pytest.raises(ReportError) as err:
            scanners.parse(orjson.dumps(data), scan_type=scan_type)
        assert str(err.value) == message


def test_large_report_parses_in_memory_proportional_to_its_findings() -> None:
    import tracemalloc

    from tests.scanners.generate_grype import generate_bytes

    peaks = []
    for n in (2_000, 8_000):
        data = generate_bytes(n, seed=5)
        tracemalloc.start()
        report = scanners.parse(data)
        peaks.append(tracemalloc.get_traced_memory()[1] / n)
        tracemalloc.stop()
        assert (report.scan_type, len(report.findings)) == ("grype", n)
    # ~4.6 KB per finding at any size; decoding the whole ~2 KB/match document into Python
    # objects (the generic detection path) would add far more
    assert peaks[1] < peaks[0] * 1.2
    assert peaks[1] < 7_000
