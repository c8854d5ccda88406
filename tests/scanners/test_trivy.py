"""Trivy JSON: schema v2, legacy list, k8s; severities, CVSS source, fixed versions,
misconfigurations and secrets, dedup, errors and scaling."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest

import scanners
from scanners import fingerprint
from scanners.findings import ReportError
from tests.scanners.generate_trivy import generate, generate_bytes

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "trivy"


def parse(name: str) -> scanners.Report:
    return scanners.parse((FIX / name).read_bytes())


def by_id(report: scanners.Report) -> dict[str, scanners.NormalizedFinding]:
    return {f.rule_id: f for f in report.findings}


def test_schema_v2_image() -> None:
    report = parse("scheme_2_many_vulns.json")
    assert report.scan_type == "trivy"
    assert report.category == "dependency"
    assert report.metadata["ArtifactName"] == "teamdojo:latest"
    assert report.metadata["os"] == {"Family": "alpine", "Name": "3.9.4"}
    assert len(report.findings) == 5
    f = by_id(report)
    freetype = f["CVE-2020-15999"]
    # Trivy's own MEDIUM stays, even though Red Hat scores 8.6; the score is NVD's (SeveritySource)
    assert (freetype.severity, freetype.raw_severity, freetype.cvss_score) == (
        "medium",
        "MEDIUM",
        6.5,
    )
    assert freetype.cvss_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H"
    assert (freetype.package, freetype.package_version, freetype.fixed_version) == (
        "freetype",
        "2.9.1-r2",
        "2.9.1-r3",
    )
    assert freetype.ecosystem == "apk"  # Type "alpine"
    assert freetype.fingerprint == fingerprint.dependency("alpine", "freetype", ["CVE-2020-15999"])
    assert freetype.references[0] == "https://avd.aquasec.com/nvd/cve-2020-15999"
    assert freetype.evidence["locations"] == ["app/libs/freetype-2.9.1-r2"]
    # SeveritySource nvd has no entry: the only score there is (Red Hat's) is used
    assert f["CVE-2020-28196"].cvss_score == 7.5
    assert f["CVE-2020-28196"].severity == "high"
    assert f["CVE-2019-12900"].cvss_score is None
    assert f["CVE-2019-12900"].severity == "critical"
    compress = f["CVE-2018-1324"]
    assert compress.package == "org.apache.commons:commons-compress"
    assert compress.ecosystem == "maven"
    assert compress.fixed_version == "1.16"


def test_status_not_affected_is_kept_as_a_not_affected_finding() -> None:
    report = parse("all_statuses.json")
    assert len(report.findings) == 8  # CVE-2019-18276 is kept, in the not_affected state
    [kept] = [f for f in report.findings if f.state]
    assert (kept.vuln_id, kept.package, kept.state) == ("CVE-2019-18276", "bash", "not_affected")
    assert "not_affected" in kept.justification
    assert kept.evidence["target"] == "noppaknopsta/example-app:main-159 (debian 10.13)"
    assert report.metadata["states"] == {"not_affected": 1}
    assert "suppressed" not in report.metadata
    assert {f.severity for f in report.findings if not f.state} == {"low"}
    f = by_id(report)
    # Debian rates it LOW: the vendor severity stays, NVD's 9.8 is kept as the score.
    assert f["CVE-2018-12699"].cvss_score == 9.8
    assert f["CVE-2018-12699"].severity == "low"
    assert f["CVE-2018-12699"].evidence["status"] == "fix_deferred"
    temp = f["TEMP-0841856-B18BAF"]
    assert temp.vuln_id == "TEMP-0841856-B18BAF"
    assert temp.cvss_score is None
    assert all(x.fixed_version == "" for x in report.findings)
    assert {x.ecosystem for x in report.findings} == {"deb"}


def test_severity_source_preference() -> None:
    f = by_id(parse("cvss_severity_source.json"))
    certifi = f["CVE-2023-37920"]
    assert (certifi.cvss_score, certifi.severity) == (7.5, "high")  # GHSA's, not NVD's 9.8
    assert certifi.ecosystem == "pypi"
    assert certifi.fixed_version == "2023.7.22"
    curl = f["CVE-2023-46218"]
    assert curl.cvss_score == 6.5  # no "ubuntu" entry: NVD's
    assert curl.purl == "pkg:deb/ubuntu/curl@7.81.0-1ubuntu1.14?arch=amd64&distro=ubuntu-22.04"


def test_cvss4_and_comma_separated_fixes() -> None:
    report = parse("cvssv4_severity_source.json")
    assert report.tool_version == "0.69.1"
    f = by_id(report)
    tomcat = f["CVE-2025-66614"]
    assert tomcat.fixed_version == "9.0.112"  # from "11.0.14, 10.1.49, 9.0.112", installed 9.0.109
    assert tomcat.evidence["fix_versions"] == ["11.0.14", "10.1.49", "9.0.112"]
    assert tomcat.cvss_score == 6.3
    assert tomcat.cvss_vector.startswith("CVSS:4.0/")
    assert tomcat.aliases == ["GHSA-fpj8-gq4v-p354"]
    assert tomcat.package == "org.apache.tomcat:tomcat-catalina"
    assert tomcat.ecosystem == "maven"
    assert (f["CVE-2025-61795"].severity, f["CVE-2025-61795"].cvss_score) == ("low", 2.3)


def test_kubernetes_report() -> None:
    report = parse("kubernetes.json")
    assert report.metadata["ClusterName"].endswith("cluster/monitoring-test-cluster")
    deps = [f for f in report.findings if f.category == "dependency"]
    code = [f for f in report.findings if f.category == "code"]
    # the same 5 CVEs in the images of two deployments: one finding each, two locations
    assert len(deps) == 5
    apt = next(f for f in deps if f.vuln_id == "CVE-2020-27350")
    assert apt.fixed_version == "1.8.2.2"
    assert apt.evidence["occurrences"] == 2
    assert len(apt.evidence["locations"]) == 2
    # 5 failing checks in each of the two deployments
    assert len(code) == 10
    assert report.category == "code"
    ksv = next(f for f in code if f.rule_id == "KSV001" and "follower" in f.file_path)
    assert ksv.file_path == "default/Deployment/redis-follower"
    assert (ksv.line, ksv.severity) == (132, "medium")
    assert ksv.fingerprint == fingerprint.make(
        "code", "trivy", "KSV001", "default/Deployment/redis-follower", 132
    )
    assert ksv.remediation.startswith(
        "Set 'set containers[].securityContext.allowPrivilegeEscalation'"
    )


def test_legacy_list_with_incomplete_entry() -> None:
    report = parse("legacy_trivy_mix.json")
    assert report.metadata["legacy"] is True
    # lodash + 5 alpine packages; the composer entry has no VulnerabilityID
    assert len(report.findings) == 6
    assert report.warnings == [
        'trivy: [0].Vulnerabilities[0]: missing "VulnerabilityID"; entry skipped'
    ]
    lodash = by_id(report)["CVE-2018-16487"]
    assert (lodash.ecosystem, lodash.fixed_version, lodash.severity) == ("npm", ">=4.17.11", "high")


def test_misconfigurations_and_secrets() -> None:
    report = parse("misconfigurations_and_secrets.json")
    f = by_id(report)
    assert len(report.findings) == 5
    assert report.category == "code"  # 3 code findings vs 2 dependency findings
    ds002 = f["DS002"]
    assert (ds002.category, ds002.severity, ds002.file_path, ds002.line) == (
        "code",
        "high",
        "Dockerfile",
        None,
    )
    assert ds002.remediation == "Add 'USER <non root user name>' line to the Dockerfile"
    secrets = [x for x in report.findings if x.rule_id == "github-pat"]
    assert sorted((s.file_path, s.line) for s in secrets) == [("Dockerfile", 24), ("secret.txt", 1)]
    assert all(s.severity == "critical" and s.category == "code" for s in secrets)
    assert all("*****" in s.evidence["match"] for s in secrets)
    assert f["CVE-2021-33503"].severity == "high"
    assert f["CVE-2021-28363"].severity == "medium"


def test_empty_results() -> None:
    report = parse("scheme_2_no_vuln.json")
    assert report.findings == []
    assert report.category == "dependency"


def _one(
    vulns: list[dict[str, Any]], rtype: str = "pip", target: str = "requirements.txt"
) -> dict[str, Any]:
    return {"Target": target, "Class": "lang-pkgs", "Type": rtype, "Vulnerabilities": vulns}


def test_unknown_severity_uses_cvss_else_unrated() -> None:
    vulns = [
        {
            "VulnerabilityID": "CVE-2024-1",
            "PkgName": "a",
            "Severity": "UNKNOWN",
            "CVSS": {"nvd": {"V3Score": 9.1}},
        },
        {"VulnerabilityID": "CVE-2024-2", "PkgName": "a", "Severity": "UNKNOWN"},
        {"VulnerabilityID": "CVE-2024-3", "PkgName": "a", "Severity": "low"},
    ]
    report = scanners.parse(orjson.dumps({"SchemaVersion": 2, "Results": [_one(vulns)]}))
    sev = {f.vuln_id: (f.severity, f.raw_severity) for f in report.findings}
    assert sev == {
        "CVE-2024-1": ("critical", "UNKNOWN"),
        "CVE-2024-2": ("medium", "UNKNOWN"),
        "CVE-2024-3": ("low", "low"),
    }


def test_duplicates_across_targets_merge_worst_severity() -> None:
    vuln = {
        "VulnerabilityID": "CVE-2024-9",
        "PkgName": "Foo_Bar",
        "InstalledVersion": "1.0",
        "Severity": "LOW",
    }
    worse = dict(vuln, Severity="HIGH", PkgName="foo-bar", VendorIDs=["GHSA-abcd-efgh-ijkl"])
    data = {
        "SchemaVersion": 2,
        "Results": [
            _one([vuln], target="a/requirements.txt"),
            _one([worse], target="b/poetry.lock"),
        ],
    }
    report = scanners.parse(orjson.dumps(data))
    assert len(report.findings) == 1
    f = report.findings[0]
    assert (f.severity, f.raw_severity) == ("high", "HIGH")
    assert f.aliases == ["GHSA-abcd-efgh-ijkl"]
    assert f.evidence["locations"] == ["a/requirements.txt", "b/poetry.lock"]


def test_fast_path_fingerprint_equals_shared_rule() -> None:
    data = generate(500, seed=3)
    report = scanners.parse(orjson.dumps(data))
    expected = set()
    for result in data["Results"]:
        for v in result["Vulnerabilities"]:
            expected.add(
                fingerprint.dependency(
                    result["Type"], v["PkgName"], [v["VulnerabilityID"], *v.get("VendorIDs", [])]
                )
            )
    assert {f.fingerprint for f in report.findings} == expected
    assert len(report.findings) == 500


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"SchemaVersion": 2, "Results": [{"Target": "x", "Vulnerabilities": ["CVE-1"]}]},
            "trivy: Results[0].Vulnerabilities[0]: expected an object, got a string",
        ),
        (
            {
                "SchemaVersion": 2,
                "Results": [
                    {"Target": "x", "Vulnerabilities": [{"VulnerabilityID": 5, "PkgName": "a"}]}
                ],
            },
            "trivy: Results[0].Vulnerabilities[0].VulnerabilityID: expected a string, got a number",
        ),
        (
            {
                "SchemaVersion": 2,
                "Results": [{"Target": "x", "Vulnerabilities": [{"VulnerabilityID": "CVE-1"}]}],
            },
            'trivy: Results[0].Vulnerabilities[0]: missing "PkgName"',
        ),
        (
            {"SchemaVersion": 2, "Results": [{"Target": "x", "Secrets": [{"Severity": "HIGH"}]}]},
            'trivy: Results[0].Secrets[0]: missing "RuleID"',
        ),
    ],
)
def test_errors_name_the_path(data: object, message: str) -> None:
    with pytest.raises(ReportError) as err:
        scanners.parse(orjson.dumps(data), scan_type="trivy")
    assert str(err.value) == message
    # detected by content, the same report gets the same message
    with pytest.raises(ReportError) as err:
        scanners.parse(orjson.dumps(data))
    assert str(err.value) == message


def _vuln_report(**fields: object) -> bytes:
    vuln = {"VulnerabilityID": "CVE-2024-1", "PkgName": "a", **fields}
    return orjson.dumps({"SchemaVersion": 2, "Results": [_one([vuln])]})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            orjson.dumps({"SchemaVersion": 2, "Results": [{"Secrets": [{"RuleID": " "}]}]}),
            "trivy: Results[0].Secrets[0].RuleID: must not be empty",
        ),
        (b'"a string"', 'trivy: expected an object with "Results" or an array of results'),
        (b"{}", 'trivy: missing "Results"'),
    ],
)
def test_type_errors_name_the_path(data: bytes, message: str) -> None:
    with pytest.raises(ReportError) as err:
        scanners.parse(data, scan_type="trivy")
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("data", "notice"),
    [
        (
            _vuln_report(CVSS=[7.5]),
            "trivy: Results[0].Vulnerabilities[0].CVSS: expected an object, got an array; left out",
        ),
        (
            _vuln_report(CVSS={"nvd": {"V3Score": "high"}}),
            "trivy: Results[0].Vulnerabilities[0].CVSS.nvd.V3Score: "
            "expected a number, got a string; left out",
        ),
        (
            _vuln_report(PkgIdentifier="pkg:pypi/a@1"),
            "trivy: Results[0].Vulnerabilities[0].PkgIdentifier: expected an object, got a "
            "string; left out",
        ),
        (
            _vuln_report(References=["https://a.example", {"url": "https://b.example"}]),
            "trivy: Results[0].Vulnerabilities[0].References[1]: expected a string, got an "
            "object; left out",
        ),
    ],
)
def test_a_field_of_an_unexpected_shape_is_left_out_with_a_notice(data: bytes, notice: str) -> None:
    for scan_type in ("trivy", None):
        report = scanners.parse(data, scan_type=scan_type)
        [finding] = report.findings
        assert (finding.vuln_id, finding.package) == ("CVE-2024-1", "a")
        assert notice in report.warnings


def test_numbers_and_strings_are_read_either_way() -> None:
    report = scanners.parse(
        _vuln_report(FixedVersion=2, CVSS={"nvd": {"V3Score": "7.5"}}), scan_type="trivy"
    )
    [finding] = report.findings
    assert finding.fixed_version == "2"
    assert finding.cvss_score == 7.5
    assert finding.severity == "high"  # no Severity given: the band of the score
    assert report.warnings == []


def test_results_given_as_one_object_are_read_as_one_result_with_a_notice() -> None:
    report = scanners.parse(
        orjson.dumps(
            {"SchemaVersion": 2, "Results": _one([{"VulnerabilityID": "CVE-1", "PkgName": "a"}])}
        ),
        scan_type="trivy",
    )
    assert [f.vuln_id for f in report.findings] == ["CVE-1"]
    assert report.warnings == [
        "trivy: Results: an object where an array is expected; read as a one-element array"
    ]


def test_undecodable_bytes_are_a_report_error() -> None:
    with pytest.raises(ReportError, match=r"^trivy: not valid JSON at line 1 column 34 \("):
        scanners.parse(b'{"SchemaVersion": 2, "Results": [', scan_type="trivy")
    with pytest.raises(ReportError, match=r"^trivy: not valid UTF-8 at line 1 column 39 \("):
        scanners.parse(b'{"SchemaVersion": 2, "ArtifactName": "\xff"}', scan_type="trivy")


def test_clean_artifact_without_results_has_no_findings() -> None:
    # Trivy omits an empty "Results" (Go omitempty) when nothing was found to scan
    data = orjson.dumps({"SchemaVersion": 2, "ArtifactName": "scratch:latest"})
    report = scanners.parse(data)
    assert (report.scan_type, report.findings) == ("trivy", [])
    assert report.metadata["ArtifactName"] == "scratch:latest"


def test_large_report_is_linear_in_time_and_memory() -> None:
    small, large = generate_bytes(2_000, seed=11), generate_bytes(8_000, seed=11)

    def measure(data: bytes) -> tuple[float, int, int]:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            report = scanners.parse(data)
            best = min(best, time.perf_counter() - start)
        tracemalloc.start()
        report = scanners.parse(data)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return best, peak, len(report.findings)

    t_small, m_small, n_small = measure(small)
    t_large, m_large, n_large = measure(large)
    assert (n_small, n_large) == (2_000, 8_000)
    # 4x the findings: well under the 16x a quadratic merge would cost
    assert t_large < t_small * 8
    assert m_large < m_small * 6
    # the findings themselves take ~3.2 KB each; decoding the whole ~1.5 KB/finding document
    # into Python objects (the generic detection path) would add ~18 KB per finding
    assert m_large / n_large < 6_000


def test_many_duplicates_stay_bounded() -> None:
    vulns = [
        {
            "VulnerabilityID": "CVE-2024-7",
            "PkgName": "libx",
            "PkgPath": f"/opt/app{i}/libx.so",
            "Severity": "LOW",
        }
        for i in range(5_000)
    ]
    report = scanners.parse(
        orjson.dumps({"SchemaVersion": 2, "Results": [_one(vulns, rtype="debian")]})
    )
    assert len(report.findings) == 1
    f = report.findings[0]
    assert f.evidence["occurrences"] == 5_000
    assert len(f.evidence["locations"]) == 50  # capped, not 5,000


def test_positional_fast_path_is_active() -> None:
    # the hot loop passes NormalizedFinding's fields by position; if the dataclass changes,
    # the parser falls back to keywords (correct, slower) and this test says so
    from scanners.parsers import trivy

    assert trivy._POSITIONAL
