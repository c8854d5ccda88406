"""Trivy JSON variants, from Trivy's report types (pkg/types: Report, Result,
DetectedVulnerability, DetectedMisconfiguration, SecretFinding, ModifiedFinding) and its
documentation of ``--format json``, ``--show-suppressed`` and ``trivy k8s``."""

from __future__ import annotations

from typing import Any

from tests.scanners.conformance.harness import HUGE, Case, code, dep, full_key


def vuln(vid: str, pkg: str, installed: str, fixed: str = "", **extra: Any) -> dict[str, Any]:
    v: dict[str, Any] = {
        "VulnerabilityID": vid,
        "PkgName": pkg,
        "InstalledVersion": installed,
        "Severity": "HIGH",
    }
    if fixed:
        v["FixedVersion"] = fixed
    v.update(extra)
    return v


def full_vuln(vid: str, pkg: str, installed: str, fixed: str, purl: str) -> dict[str, Any]:
    """A vulnerability with every field recent Trivy writes."""
    return vuln(
        vid,
        pkg,
        installed,
        fixed,
        PkgID=f"{pkg}@{installed}",
        PkgIdentifier={"PURL": purl, "UID": "abc123"},
        Layer={"Digest": "sha256:aa", "DiffID": "sha256:bb"},
        SeveritySource="nvd",
        PrimaryURL=f"https://avd.aquasec.com/nvd/{vid.lower()}",
        DataSource={"ID": "ghsa", "Name": "GitHub Security Advisory", "URL": "https://x"},
        Title=f"{pkg}: a flaw",
        Description="A flaw was found.",
        CweIDs=["CWE-79"],
        VendorSeverity={"nvd": 3, "ghsa": 3},
        CVSS={"nvd": {"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "V3Score": 7.5}},
        References=["https://example.org/advisory"],
        PublishedDate="2023-01-01T00:00:00Z",
        LastModifiedDate="2023-02-01T00:00:00Z",
        Status="fixed",
    )


def result(target: str, klass: str, kind: str, **sections: Any) -> dict[str, Any]:
    return {"Target": target, "Class": klass, "Type": kind, **sections}


def report(results: list[dict[str, Any]] | None, **top: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "SchemaVersion": 2,
        "CreatedAt": "2024-05-01T10:00:00Z",
        "ArtifactName": "registry.example/app:1.0",
        "ArtifactType": "container_image",
        "Metadata": {"OS": {"Family": "debian", "Name": "12.5"}, "ImageID": "sha256:img"},
        **top,
    }
    if results is not None:
        doc["Results"] = results
    return doc


def cases() -> list[Case]:
    os_result = result(
        "registry.example/app:1.0 (debian 12.5)",
        "os-pkgs",
        "debian",
        Vulnerabilities=[
            full_vuln("CVE-2023-0001", "openssl", "3.0.11-1", "3.0.13-1", "pkg:deb/debian/openssl"),
            vuln("CVE-2023-0002", "libc6", "2.36-9", Severity="LOW"),
        ],
    )
    pip = result(
        "app/requirements.txt",
        "lang-pkgs",
        "pip",
        Vulnerabilities=[
            vuln("GHSA-aaaa-bbbb-cccc", "Jinja2", "2.10", "2.10.1, 2.11.3", VendorIDs=[]),
            vuln("CVE-2019-10906", "Jinja2", "2.10", "2.10.1", VendorIDs=["GHSA-462w-v97r-4m45"]),
        ],
    )
    keys_v2 = [
        dep("CVE-2023-0001", "deb", "openssl", "3.0.11-1", "3.0.13-1"),
        dep("CVE-2023-0002", "deb", "libc6", "2.36-9"),
        dep("GHSA-aaaa-bbbb-cccc", "pypi", "Jinja2", "2.10", "2.10.1"),
        dep("CVE-2019-10906", "pypi", "Jinja2", "2.10", "2.10.1"),
    ]
    iac = result(
        "Dockerfile",
        "config",
        "dockerfile",
        MisconfSummary={"Successes": 20, "Failures": 1, "Exceptions": 1},
        Misconfigurations=[
            {
                "Type": "Dockerfile Security Check",
                "ID": "DS002",
                "AVDID": "AVD-DS-0002",
                "Title": "Image user should not be 'root'",
                "Severity": "HIGH",
                "Status": "FAIL",
                "CauseMetadata": {"Provider": "Dockerfile", "StartLine": 3, "EndLine": 3},
            },
            {"ID": "DS005", "Title": "ADD instead of COPY", "Severity": "LOW", "Status": "PASS"},
            {
                "ID": "DS026",
                "Title": "No HEALTHCHECK defined",
                "Severity": "LOW",
                "Status": "EXCEPTION",
                "CauseMetadata": {"StartLine": 1},
            },
        ],
    )
    secret = result(
        "app/settings.py",
        "secret",
        "",
        Secrets=[
            {
                "RuleID": "aws-access-key-id",
                "Category": "AWS",
                "Severity": "CRITICAL",
                "Title": "AWS Access Key ID",
                "StartLine": 12,
                "EndLine": 12,
                "Match": "AWS_KEY = ********************",
                "Code": {"Lines": []},
            }
        ],
    )
    modified = result(
        "app/poetry.lock",
        "lang-pkgs",
        "poetry",
        Vulnerabilities=[vuln("CVE-2024-1111", "requests", "2.25.0", "2.32.0")],
        ExperimentalModifiedFindings=[
            {
                "Type": "vulnerability",
                "Status": "ignored",
                "Statement": "Accept the risk until the next release",
                "Source": ".trivyignore.yaml",
                "Finding": vuln("CVE-2024-2222", "urllib3", "1.26.0", "1.26.18"),
            },
            {
                "Type": "vulnerability",
                "Status": "not_affected",
                "Statement": "vulnerable_code_not_in_execute_path",
                "Source": "CycloneDX VEX",
                "Finding": vuln("CVE-2024-3333", "idna", "3.4", "3.7"),
            },
            {
                "Type": "vulnerability",
                "Status": "ignored",
                "Statement": "false positive: we do not use the affected API",
                "Source": ".trivyignore",
                "Finding": vuln("CVE-2024-4444", "certifi", "2022.1.1"),
            },
            {
                "Type": "license",
                "Status": "ignored",
                "Finding": {"Severity": "HIGH", "Name": "GPL-3.0", "PkgName": "x"},
            },
        ],
    )
    k8s = {
        "ClusterName": "prod",
        "Resources": [
            {
                "Namespace": "default",
                "Kind": "Deployment",
                "Name": "web",
                "Results": [
                    result(
                        "nginx:1.25 (debian 12.2)",
                        "os-pkgs",
                        "debian",
                        Vulnerabilities=[vuln("CVE-2023-5555", "zlib1g", "1:1.2.13")],
                    )
                ],
            },
            {"Namespace": "kube-system", "Kind": "Pod", "Name": "dns", "Results": None},
        ],
    }
    minimal = result(
        "go.sum",
        "lang-pkgs",
        "gomod",
        Vulnerabilities=[{"VulnerabilityID": "GO-2023-1111", "PkgName": "golang.org/x/net"}],
    )
    nulls = result(
        "package-lock.json",
        "lang-pkgs",
        "npm",
        Vulnerabilities=[
            vuln(
                "CVE-2022-1234",
                "lodash",
                "4.17.20",
                "4.17.21",
                CVSS=None,
                PkgIdentifier=None,
                References=None,
                CweIDs=None,
                VendorIDs=None,
                Layer=None,
            )
        ],
        Misconfigurations=None,
        Secrets=None,
    )
    huge = result(
        "requirements.txt",
        "lang-pkgs",
        "pip",
        Vulnerabilities=[
            vuln("CVE-2020-9999", "pyyaml", "5.3", "5.4", Title=HUGE, Description=HUGE)
        ],
    )
    odd = result(
        "Gemfile.lock",
        "lang-pkgs",
        "bundler",
        Vulnerabilities=[
            vuln("CVE-2021-7777", "rack", "2.0.0", CVSS=[7.5], References=[{"url": "https://x"}])
        ],
    )

    def huge_is_cut(r: Any) -> None:
        [f] = r.findings
        assert len(f.title) <= 501
        assert len(f.description) <= 8193

    def states(r: Any) -> None:
        by = {f.vuln_id or f.rule_id: f for f in r.findings}
        assert by["CVE-2024-2222"].justification.startswith("Accept the risk")
        assert ".trivyignore.yaml" in by["CVE-2024-2222"].justification
        assert r.metadata["states"] == {"false_positive": 1, "not_affected": 1, "risk_accepted": 1}

    return [
        Case("v2 image, all fields", "trivy", report([os_result, pip]), keys_v2, full_key),
        Case(
            "object form before SchemaVersion",
            "trivy",
            {"ImageID": "sha256:img", "RepoTags": ["app:1.0"], "RepoDigests": [], "Results": [pip]},
            keys_v2[2:],
            full_key,
            check=lambda r: _target(r, "app:1.0"),
        ),
        Case(
            "legacy bare list (Trivy 0.19 and older)",
            "trivy",
            [pip, result("alpine:3.10 (alpine 3.10.2)", "", "alpine", Vulnerabilities=None)],
            keys_v2[2:],
            full_key,
        ),
        Case(
            "clean artifact: Results omitted",
            "trivy",
            report(None),
            [],
            full_key,
            check=lambda r: _target(r, "registry.example/app:1.0"),
        ),
        Case(
            "misconfigurations (FAIL, PASS, EXCEPTION) and secrets",
            "trivy",
            report([iac, secret], ArtifactType="filesystem", ArtifactName="."),
            [
                code("DS002", "Dockerfile", 3),
                code("DS026", "Dockerfile", 1, "risk_accepted"),
                code("aws-access-key-id", "app/settings.py", 12),
            ],
            full_key,
            check=lambda r: _misconf_passed(r, 1),
        ),
        Case(
            "--show-suppressed: ignored and VEX findings kept with their state",
            "trivy",
            report([modified]),
            [
                dep("CVE-2024-1111", "pypi", "requests", "2.25.0", "2.32.0"),
                dep("CVE-2024-2222", "pypi", "urllib3", "1.26.0", "1.26.18", "risk_accepted"),
                dep("CVE-2024-3333", "pypi", "idna", "3.4", "3.7", "not_affected"),
                dep("CVE-2024-4444", "pypi", "certifi", "2022.1.1", "", "false_positive"),
            ],
            full_key,
            check=states,
        ),
        Case(
            "vendor status not_affected",
            "trivy",
            report(
                [
                    result(
                        "x (debian 12)",
                        "os-pkgs",
                        "debian",
                        Vulnerabilities=[
                            vuln("CVE-2019-18276", "bash", "5.2", Status="not_affected")
                        ],
                    )
                ]
            ),
            [dep("CVE-2019-18276", "deb", "bash", "5.2", "", "not_affected")],
            full_key,
        ),
        Case(
            "trivy k8s",
            "trivy",
            k8s,
            [dep("CVE-2023-5555", "deb", "zlib1g", "1:1.2.13")],
            full_key,
            check=lambda r: _target(r, "prod"),
        ),
        Case(
            "optional fields absent",
            "trivy",
            report([minimal]),
            [dep("GO-2023-1111", "go", "golang.org/x/net", "")],
            full_key,
        ),
        Case(
            "null where an object is expected",
            "trivy",
            report([nulls]),
            [dep("CVE-2022-1234", "npm", "lodash", "4.17.20", "4.17.21")],
            full_key,
        ),
        Case(
            "huge strings",
            "trivy",
            report([huge]),
            [dep("CVE-2020-9999", "pypi", "pyyaml", "5.3", "5.4")],
            full_key,
            check=huge_is_cut,
        ),
        Case(
            "a field of an unexpected shape",
            "trivy",
            report([odd]),
            [dep("CVE-2021-7777", "gem", "rack", "2.0.0")],
            full_key,
            notices=True,
        ),
    ]


def _target(report: Any, expected: str) -> None:
    assert report.target == expected


def _misconf_passed(report: Any, n: int) -> None:
    assert report.metadata["misconfigurations_passed"] == n
