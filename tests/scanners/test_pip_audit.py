"""pip-audit JSON: both shapes, the unrated default, and skipped = not audited."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import scanners
from scanners import fingerprint
from scanners.findings import ReportError

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "pip-audit"


def parse(name: str) -> scanners.Report:
    return scanners.parse((FIX / name).read_bytes())


def by_rule(report: scanners.Report) -> dict[str, scanners.NormalizedFinding]:
    return {f.rule_id: f for f in report.findings}


def test_old_list_shape_findings() -> None:
    report = parse("many_vulns.json")
    assert report.scan_type == "pip-audit"
    assert report.category == "dependency"
    # aiohttp 1 + django 1 + lxml 1 + twisted 4
    assert len(report.findings) == 7
    assert sorted({f.package for f in report.findings}) == ["aiohttp", "django", "lxml", "twisted"]
    findings = by_rule(report)
    aiohttp = findings["PYSEC-2021-76"]
    assert aiohttp.package_version == "3.6.2"
    assert aiohttp.fixed_version == "3.7.4"
    assert aiohttp.vuln_id == "PYSEC-2021-76"
    assert aiohttp.ecosystem == "pypi"
    assert aiohttp.fingerprint == fingerprint.dependency("PyPI", "aiohttp", ["PYSEC-2021-76"])
    # three fix lines: 2.2.25, 3.1.14, 3.2.10 -> the one above the installed 3.2.9
    assert findings["PYSEC-2021-439"].fixed_version == "3.2.10"
    assert findings["PYSEC-2021-439"].evidence["fix_versions"] == ["2.2.25", "3.1.14", "3.2.10"]
    assert findings["PYSEC-2021-852"].fixed_version == ""  # lxml: no fix listed
    assert findings["PYSEC-2020-260"].fixed_version == "20.3.0rc1"
    assert aiohttp.description.startswith("aiohttp is an asynchronous HTTP client/server")


def test_no_severity_gives_documented_default() -> None:
    report = parse("many_vulns.json")
    assert {f.severity for f in report.findings} == {"medium"}
    assert {f.raw_severity for f in report.findings} == {""}


def test_skipped_dependency_is_not_audited_not_clean() -> None:
    report = parse("many_vulns.json")
    assert report.metadata["not_audited"] == [
        {
            "name": "azure-devops",
            "version": "",
            "reason": "Dependency not found on PyPI and could not be audited: "
            "azure-devops (0.17.0)",
        }
    ]
    # adal, aiohttp, alabaster, azure-devops, django, lxml, twisted: 6 audited
    assert report.metadata["audited"] == 6
    assert report.metadata["dependencies"] == 7
    assert len(report.warnings) == 1
    assert "NOT audited" in report.warnings[0]
    assert "azure-devops" in report.warnings[0]
    assert all(f.package != "azure-devops" for f in report.findings)


def test_new_shape_matches_old_shape() -> None:
    old, new = parse("many_vulns.json"), parse("many_vulns_new.json")
    assert new.scan_type == "pip-audit"
    assert sorted(f.fingerprint for f in new.findings) == sorted(
        f.fingerprint for f in old.findings
    )
    assert new.metadata["not_audited"] == old.metadata["not_audited"]


def test_aliases_give_canonical_cve_and_fix() -> None:
    report = parse("formatter_with_fix.json")
    assert len(report.findings) == 1
    f = report.findings[0]
    assert f.rule_id == "PYSEC-2018-28"
    assert f.vuln_id == "CVE-2018-18074"
    assert f.aliases == ["PYSEC-2018-28", "GHSA-x84v-xcm2-53pg"]
    assert f.package == "requests"
    assert f.package_version == "2.19.0"
    assert f.fixed_version == "2.20.0"
    assert f.purl == "pkg:pypi/requests@2.19.0"
    assert f.fingerprint == fingerprint.dependency("pypi", "requests", ["CVE-2018-18074"])
    assert report.metadata["fixes"] == [
        {"name": "requests", "old_version": "2.19.0", "new_version": "2.20.0"}
    ]
    assert [d["name"] for d in report.metadata["not_audited"]] == ["torch"]


def test_everything_skipped_is_never_clean() -> None:
    report = parse("offline_all_skipped.json")
    assert report.findings == []
    assert [d["name"] for d in report.metadata["not_audited"]] == ["requests", "jinja2"]
    assert report.metadata["audited"] == 0
    assert report.warnings
    assert "2 of 2 dependencies were NOT audited" in report.warnings[0]


def test_zero_vulns_still_reports_the_skipped_one() -> None:
    report = parse("zero_vulns_new.json")
    assert report.findings == []
    assert [d["name"] for d in report.metadata["not_audited"]] == ["azure-devops"]


def test_duplicate_vulnerability_is_merged() -> None:
    data = {
        "dependencies": [
            {
                "name": "Django",
                "version": "3.2.9",
                "vulns": [{"id": "PYSEC-1", "aliases": ["CVE-2021-1"], "fix_versions": []}],
            },
            {
                "name": "django",
                "version": "3.2.9",
                "vulns": [
                    {
                        "id": "GHSA-aaaa-bbbb-cccc",
                        "aliases": ["CVE-2021-1"],
                        "fix_versions": ["3.2.10"],
                    }
                ],
            },
        ]
    }
    report = scanners.parse(orjson.dumps(data))
    assert len(report.findings) == 1
    f = report.findings[0]
    assert f.vuln_id == "CVE-2021-1"
    assert set(f.aliases) == {"PYSEC-1", "GHSA-aaaa-bbbb-cccc"}
    assert f.fixed_version == "3.2.10"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"dependencies": [{"name": "a", "version": "1", "vulns": "x"}]},
            "pip-audit: dependencies[0].vulns: expected an array, got a string",
        ),
        (
            {"dependencies": [{"name": "a", "vulns": []}, {"version": "1", "vulns": []}]},
            'pip-audit: dependencies[1]: missing "name"',
        ),
        (
            {"dependencies": [{"name": "a", "vulns": [{"fix_versions": []}]}]},
            'pip-audit: dependencies[0].vulns[0]: missing "id"',
        ),
        (
            {"dependencies": [{"name": "a", "vulns": [{"id": "X", "aliases": [1]}]}]},
            "pip-audit: dependencies[0].vulns[0].aliases[0]: expected a string, got a number",
        ),
        ({"dependencies": {"a": 1}}, "pip-audit: dependencies: expected an array, got an object"),
    ],
)
def test_errors_name_the_path(data: object, message: str) -> None:
    with pytest.raises(ReportError) as err:
        scanners.parse(orjson.dumps(data), scan_type="pip-audit")
    assert str(err.value) == message
