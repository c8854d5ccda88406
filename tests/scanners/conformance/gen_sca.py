"""Variants of the other dependency formats, from each tool's documented JSON: pip-audit
(``-f json``, old bare list and ``{dependencies, fixes}``), Snyk (``snyk test --json``, one
project and ``--all-projects``), Safety (1.x list, 2.x ``check --json``, 3.x ``scan``
report schema 3.0), Dependabot alerts (GitHub REST API), GitLab dependency and container
scanning (schema 14 and 15), Syft JSON."""

from __future__ import annotations

from typing import Any

from tests.scanners.conformance.harness import HUGE, Case, dep, full_key


def _is(value: Any, expected: Any) -> None:
    assert value == expected, value


def pip_audit() -> list[Case]:
    deps = [
        {
            "name": "jinja2",
            "version": "2.10",
            "vulns": [
                {
                    "id": "PYSEC-2019-217",
                    "fix_versions": ["2.10.1"],
                    "aliases": ["CVE-2019-10906"],
                    "description": "escape",
                }
            ],
        },
        {"name": "requests", "version": "2.31.0", "vulns": []},
        {
            "name": "torch",
            "skip_reason": "Dependency not found on PyPI and could not be audited: torch",
        },
    ]
    return [
        Case(
            "pip-audit: {dependencies, fixes}",
            "pip-audit",
            {"dependencies": deps, "fixes": []},
            [dep("CVE-2019-10906", "pypi", "jinja2", "2.10", "2.10.1")],
            full_key,
            check=lambda r: _is(len(r.metadata["not_audited"]), 1),
        ),
        Case(
            "pip-audit: the old bare list",
            "pip-audit",
            deps[:2],
            [dep("CVE-2019-10906", "pypi", "jinja2", "2.10", "2.10.1")],
            full_key,
        ),
        Case(
            "pip-audit: optional fields absent, huge description",
            "pip-audit",
            {
                "dependencies": [
                    {
                        "name": "pyyaml",
                        "version": "5.3",
                        "vulns": [{"id": "GHSA-8q59-q68h-6hv4", "description": HUGE}],
                    }
                ]
            },
            [dep("GHSA-8q59-q68h-6hv4", "pypi", "pyyaml", "5.3")],
            full_key,
        ),
    ]


def _snyk_vuln(sid: str, pkg: str, version: str, cve: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": sid,
        "title": "A flaw",
        "CVSSv3": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "cvssScore": 9.8,
        "severity": "critical",
        "identifiers": {"CVE": [cve] if cve else [], "CWE": ["CWE-89"], "GHSA": []},
        "packageName": pkg,
        "moduleName": pkg,
        "version": version,
        "name": pkg,
        "language": "python",
        "packageManager": "pip",
        "from": ["app@0.0.0", f"{pkg}@{version}"],
        "upgradePath": [],
        "isUpgradable": False,
        "isPatchable": False,
        "fixedIn": ["3.2.14", "4.0.6"],
        "description": "## Overview",
        "semver": {"vulnerable": ["[3.2,3.2.14)"]},
        "references": [{"title": "advisory", "url": "https://example.org/a"}],
        "exploit": "Not Defined",
        **extra,
    }


def _snyk_project(name: str, vulns: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "vulnerabilities": vulns,
        "ok": not vulns,
        "dependencyCount": 10,
        "org": "acme",
        "policy": "# Snyk policy",
        "isPrivate": True,
        "packageManager": "pip",
        "ignoreSettings": None,
        "summary": "1 vulnerable path",
        "filesystemPolicy": False,
        "filtered": {"ignore": [], "patch": []},
        "uniqueCount": len(vulns),
        "projectName": name,
        "displayTargetFile": "requirements.txt",
        "path": f"/src/{name}",
        **extra,
    }


def snyk() -> list[Case]:
    django = _snyk_vuln("SNYK-PYTHON-DJANGO-2968205", "django", "3.2.0", "CVE-2022-34265")
    ignored = dict(
        _snyk_vuln("SNYK-PYTHON-PYYAML-590151", "pyyaml", "5.3", "CVE-2020-14343", fixedIn=["5.4"]),
        filtered={
            "ignored": [
                {
                    "reason": "not reachable from the API",
                    "reasonType": "not-vulnerable",
                    "expires": "",
                    "source": "cli",
                }
            ]
        },
    )
    one = _snyk_project(
        "api",
        [django, dict(django, **{"from": ["api@0.0.0", "x@1", "django@3.2.0"]})],
        filtered={"ignore": [ignored], "patch": []},
    )
    container = _snyk_project(
        "app:1.0",
        [
            dict(
                _snyk_vuln(
                    "SNYK-DEBIAN12-OPENSSL-1",
                    "openssl",
                    "3.0.11-1",
                    "CVE-2023-5363",
                    packageManager="deb",
                    fixedIn=[],
                ),
                nearestFixedInVersion="3.0.13-1",
            )
        ],
        packageManager="deb",
        docker={"baseImage": "debian:12"},
    )
    minimal = {
        "vulnerabilities": [
            {
                "id": "npm:minimatch:20160620",
                "packageName": "minimatch",
                "version": "2.0.0",
                "severity": "high",
            }
        ],
        "ok": False,
        "packageManager": "npm",
    }
    nulls = _snyk_project(
        "nully",
        [
            _snyk_vuln(
                "SNYK-PYTHON-IDNA-1",
                "idna",
                "3.4",
                "",
                identifiers=None,
                references=None,
                fixedIn=None,
                upgradePath=None,
            )
        ],
        filtered=None,
    )
    return [
        Case(
            "snyk: one project, duplicate paths, an ignore",
            "snyk",
            one,
            [
                dep("CVE-2022-34265", "pypi", "django", "3.2.0", "3.2.14", path="requirements.txt"),
                dep(
                    "CVE-2020-14343",
                    "pypi",
                    "pyyaml",
                    "5.3",
                    "5.4",
                    "false_positive",
                    "requirements.txt",
                ),
            ],
            full_key,
            check=lambda r: _is(len(r.findings[0].evidence["locations"]), 2),
        ),
        Case(
            "snyk: --all-projects array",
            "snyk",
            [one, _snyk_project("web", [])],
            [
                dep("CVE-2022-34265", "pypi", "django", "3.2.0", "3.2.14", path="requirements.txt"),
                dep(
                    "CVE-2020-14343",
                    "pypi",
                    "pyyaml",
                    "5.3",
                    "5.4",
                    "false_positive",
                    "requirements.txt",
                ),
            ],
            full_key,
            check=lambda r: _is(r.target, "api, web"),
        ),
        Case(
            "snyk container",
            "snyk",
            container,
            [
                dep(
                    "CVE-2023-5363",
                    "deb",
                    "openssl",
                    "3.0.11-1",
                    "3.0.13-1",
                    path="requirements.txt",
                )
            ],
            full_key,
        ),
        Case(
            "snyk: optional fields absent",
            "snyk",
            minimal,
            [dep("npm:minimatch:20160620", "npm", "minimatch", "2.0.0")],
            full_key,
        ),
        Case(
            "snyk: null where an object is expected",
            "snyk",
            nulls,
            [dep("SNYK-PYTHON-IDNA-1", "pypi", "idna", "3.4", path="requirements.txt")],
            full_key,
        ),
    ]


def safety() -> list[Case]:
    v2vuln = {
        "vulnerability_id": "44742",
        "package_name": "django",
        "ignored": {},
        "ignored_reason": None,
        "ignored_expires": None,
        "vulnerable_spec": [">=3.2a1,<3.2.14"],
        "all_vulnerable_specs": [">=3.2a1,<3.2.14"],
        "analyzed_version": "3.2",
        "advisory": "SQL injection",
        "is_transitive": False,
        "published_date": "2022-Jul-04",
        "fixed_versions": ["3.2.14", "4.0.6"],
        "closest_versions_without_known_vulnerabilities": [],
        "resources": [],
        "CVE": "CVE-2022-34265",
        "severity": {
            "source": "CVE-2022-34265",
            "cvssv2": None,
            "cvssv3": {"base_score": 9.8, "base_severity": "CRITICAL"},
        },
        "affected_versions": [],
        "more_info_url": "https://data.safetycli.com/v/44742/f17",
    }
    v2 = {
        "report_meta": {
            "scan_target": "environment",
            "scanned": ["/venv/lib/python3.11/site-packages"],
            "api_key": False,
            "packages_found": 40,
            "timestamp": "2023-10-28 14:40:18",
            "safety_version": "2.3.5",
            "vulnerabilities_found": 1,
            "vulnerabilities_ignored": 1,
        },
        "scanned_packages": {},
        "affected_packages": {},
        "announcements": [],
        "vulnerabilities": [v2vuln],
        "ignored_vulnerabilities": [
            dict(
                v2vuln,
                vulnerability_id="51457",
                package_name="py",
                analyzed_version="1.11.0",
                CVE="CVE-2022-42969",
                ignored=True,
                ignored_reason="no user input reaches it",
                severity=None,
                fixed_versions=[""],
            )
        ],
        "remediations": {},
    }
    v2_old = dict(
        v2,
        vulnerabilities=[
            dict(v2vuln, vulnerable_spec=">=3.2a1,<3.2.14", ignored=False, CVE=None, severity=None)
        ],
        ignored_vulnerabilities=[],
    )
    v3 = {
        "meta": {
            "scan_type": "scan",
            "stage": "development",
            "scan_locations": ["/src/app"],
            "authenticated": True,
            "authentication_method": "token",
            "timestamp": "2024-06-01T10:00:00",
            "telemetry": {"safety_options": {}, "safety_version": "3.2.3", "safety_source": "cli"},
            "schema_version": "3.0",
        },
        "scan_results": {
            "files": [],
            "projects": [
                {
                    "id": "app",
                    "upload_request_id": None,
                    "location": "/src/app",
                    "policy": None,
                    "git": None,
                    "files": [
                        {
                            "location": "/src/app/requirements.txt",
                            "type": "requirements.txt",
                            "categories": ["python"],
                            "results": {
                                "dependencies": [
                                    {
                                        "name": "django",
                                        "specifications": [
                                            {
                                                "raw": "django==3.2",
                                                "vulnerabilities": {
                                                    "known_vulnerabilities": [
                                                        {
                                                            "id": "44742",
                                                            "vulnerable_spec": ">=3.2a1,<3.2.14",
                                                        },
                                                        {
                                                            "id": "53048",
                                                            "ignored": {
                                                                "code": "manual",
                                                                "reason": "accepted",
                                                                "expires": None,
                                                            },
                                                            "vulnerable_spec": "<4.1.7",
                                                        },
                                                    ],
                                                    "remediation": {
                                                        "vulnerabilities_found": 1,
                                                        "closest_secure_version": {
                                                            "upper": "3.2.25",
                                                            "lower": None,
                                                        },
                                                        "recommended": "3.2.25",
                                                        "other_recommended": ["4.2.11"],
                                                    },
                                                },
                                            }
                                        ],
                                    },
                                    {
                                        "name": "flask",
                                        "specifications": [
                                            {
                                                "raw": "flask>=2",
                                                "vulnerabilities": {
                                                    "known_vulnerabilities": [],
                                                    "remediation": None,
                                                },
                                            }
                                        ],
                                    },
                                ]
                            },
                        }
                    ],
                }
            ],
        },
    }
    v1 = [
        ["django", "<2.2.24", "2.2", "Django 2.2.24 fixes a path traversal", "40637", None, None],
        [
            "flask",
            "<0.12.3",
            "0.12",
            "Flask before 0.12.3 denial of service",
            "36388",
            "CVE-2018-1000656",
            None,
        ],
    ]
    return [
        Case(
            "safety 2.x check --json",
            "safety",
            v2,
            [
                dep("CVE-2022-34265", "pypi", "django", "3.2", "3.2.14"),
                dep("CVE-2022-42969", "pypi", "py", "1.11.0", "", "risk_accepted"),
            ],
            full_key,
            check=lambda r: _is((r.tool_version, r.findings[0].severity), ("2.3.5", "critical")),
        ),
        Case(
            "safety 2.0: spec as a string, no CVE, no severity",
            "safety",
            v2_old,
            [dep("44742", "pypi", "django", "3.2", "3.2.14")],
            full_key,
        ),
        Case(
            "safety 3.x scan report",
            "safety",
            v3,
            [
                dep("44742", "pypi", "django", "3.2", "3.2.25", path="/src/app/requirements.txt"),
                dep(
                    "53048",
                    "pypi",
                    "django",
                    "3.2",
                    "3.2.25",
                    "risk_accepted",
                    "/src/app/requirements.txt",
                ),
            ],
            full_key,
            check=lambda r: _is((r.tool_version, r.target), ("3.2.3", "/src/app")),
        ),
        Case(
            "safety 1.x bare list",
            "safety",
            v1,
            [
                dep("40637", "pypi", "django", "2.2"),
                dep("CVE-2018-1000656", "pypi", "flask", "0.12"),
            ],
            full_key,
        ),
    ]


def _alert(
    n: int, state: str, eco: str, name: str, ghsa: str, cve: str | None, **extra: Any
) -> dict[str, Any]:
    return {
        "number": n,
        "state": state,
        "dependency": {
            "package": {"ecosystem": eco, "name": name},
            "manifest_path": "requirements.txt",
            "scope": "runtime",
            "relationship": "direct",
        },
        "security_advisory": {
            "ghsa_id": ghsa,
            "cve_id": cve,
            "summary": f"{name} flaw",
            "description": "Details.",
            "severity": "high",
            "identifiers": [{"value": ghsa, "type": "GHSA"}]
            + ([{"value": cve, "type": "CVE"}] if cve else []),
            "references": [{"url": f"https://github.com/advisories/{ghsa}"}],
            "published_at": "2023-01-01T00:00:00Z",
            "updated_at": "2023-01-02T00:00:00Z",
            "withdrawn_at": None,
            "vulnerabilities": [],
            "cvss": {"vector_string": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "score": 7.5},
            "cvss_severities": {
                "cvss_v3": {
                    "vector_string": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
                    "score": 7.5,
                },
                "cvss_v4": {"vector_string": None, "score": 0.0},
            },
            "cwes": [{"cwe_id": "CWE-79", "name": "XSS"}],
        },
        "security_vulnerability": {
            "package": {"ecosystem": eco, "name": name},
            "severity": "high",
            "vulnerable_version_range": "< 2.0.2",
            "first_patched_version": {"identifier": "2.0.2"},
        },
        "url": f"https://api.github.com/repos/acme/app/dependabot/alerts/{n}",
        "html_url": f"https://github.com/acme/app/security/dependabot/{n}",
        "created_at": "2023-01-03T00:00:00Z",
        "updated_at": "2023-01-04T00:00:00Z",
        "dismissed_at": None,
        "dismissed_by": None,
        "dismissed_reason": None,
        "dismissed_comment": None,
        "fixed_at": None,
        "auto_dismissed_at": None,
        **extra,
    }


def dependabot() -> list[Case]:
    alerts = [
        _alert(1, "open", "pip", "jinja2", "GHSA-462w-v97r-4m45", "CVE-2019-10906"),
        _alert(
            2,
            "dismissed",
            "npm",
            "lodash",
            "GHSA-35jh-r3h4-6jhm",
            "CVE-2021-23337",
            dismissed_reason="inaccurate",
            dismissed_comment="not our lodash",
        ),
        _alert(
            3,
            "dismissed",
            "rust",
            "regex",
            "GHSA-m5pq-gvj9-9vr8",
            None,
            dismissed_reason="tolerable_risk",
        ),
        _alert(
            4,
            "dismissed",
            "maven",
            "org.apache.logging.log4j:log4j-core",
            "GHSA-jfh8-c2jp-5v3q",
            "CVE-2021-44228",
            dismissed_reason="not_used",
        ),
        _alert(
            5,
            "fixed",
            "go",
            "golang.org/x/net",
            "GHSA-vvpx-j8f3-3w6h",
            "CVE-2022-41723",
            fixed_at="2023-03-01T00:00:00Z",
        ),
        _alert(6, "auto_dismissed", "npm", "ms", "GHSA-w9mr-4mfr-499f", None),
    ]
    minimal = [
        {
            "number": 7,
            "state": "open",
            "dependency": {"package": {"ecosystem": "pip", "name": "idna"}},
            "security_advisory": {"ghsa_id": "GHSA-jjg7-2v4v-x38h"},
            "security_vulnerability": None,
        }
    ]
    p = "requirements.txt"
    return [
        Case(
            "dependabot: open, dismissed by reason, fixed, auto-dismissed",
            "dependabot",
            alerts,
            [
                dep("CVE-2019-10906", "pypi", "jinja2", "", "2.0.2", "", p),
                dep("CVE-2021-23337", "npm", "lodash", "", "2.0.2", "false_positive", p),
                dep("GHSA-m5pq-gvj9-9vr8", "cargo", "regex", "", "2.0.2", "risk_accepted", p),
                dep(
                    "CVE-2021-44228",
                    "maven",
                    "org.apache.logging.log4j:log4j-core",
                    "",
                    "2.0.2",
                    "not_affected",
                    p,
                ),
                dep("CVE-2022-41723", "go", "golang.org/x/net", "", "2.0.2", "resolved", p),
                dep("GHSA-w9mr-4mfr-499f", "npm", "ms", "", "2.0.2", "risk_accepted", p),
            ],
            full_key,
            check=lambda r: _is(r.target, "acme/app"),
        ),
        Case(
            "dependabot: one alert object, optional fields absent",
            "dependabot",
            minimal[0],
            [dep("GHSA-jjg7-2v4v-x38h", "pypi", "idna", "")],
            full_key,
        ),
    ]


def _gl_vuln(name: str, version: str, file: str, cve: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"id-{cve}",
        "name": f"{name} flaw",
        "description": "Details.",
        "severity": "High",
        "solution": "Upgrade to version 2.6.9 or above.",
        "identifiers": [
            {
                "type": "gemnasium",
                "name": "Gemnasium-1",
                "value": "1",
                "url": "https://gitlab.com/gemnasium",
            },
            {"type": "cve", "name": cve, "value": cve, "url": f"https://cve/{cve}"},
        ],
        "links": [{"url": "https://example.org"}],
        "location": {
            "file": file,
            "dependency": {"package": {"name": name}, "version": version, "direct": True},
        },
        **extra,
    }


def gitlab() -> list[Case]:
    scan = {
        "analyzer": {
            "id": "gemnasium",
            "name": "Gemnasium",
            "version": "5.1.0",
            "vendor": {"name": "GitLab"},
        },
        "scanner": {
            "id": "gemnasium",
            "name": "Gemnasium",
            "version": "5.1.0",
            "vendor": {"name": "GitLab"},
        },
        "type": "dependency_scanning",
        "start_time": "2024-01-01T00:00:00",
        "end_time": "2024-01-01T00:01:00",
        "status": "success",
    }
    v15 = {
        "version": "15.0.7",
        "scan": scan,
        "vulnerabilities": [
            _gl_vuln("debug", "1.0.5", "web/yarn.lock", "CVE-2017-16137"),
            _gl_vuln(
                "jinja2", "2.10", "api/requirements.txt", "CVE-2019-10906", severity="Unknown"
            ),
        ],
        "dependency_files": [
            {"path": "web/yarn.lock", "package_manager": "yarn", "dependencies": []},
            {"path": "api/requirements.txt", "package_manager": "pip", "dependencies": []},
        ],
    }
    v14 = {
        "version": "14.1.2",
        "scan": scan,
        "vulnerabilities": [
            dict(
                _gl_vuln("lodash", "4.17.20", "package-lock.json", "CVE-2021-23337"),
                category="dependency_scanning",
                message="lodash flaw",
                confidence="Unknown",
                scanner={"id": "gemnasium", "name": "Gemnasium"},
                cve="package-lock.json:lodash:gemnasium:1",
            )
        ],
        "remediations": [],
        "dependency_files": [
            {"path": "package-lock.json", "package_manager": "npm", "dependencies": []}
        ],
    }
    container = {
        "version": "15.0.7",
        "scan": dict(
            scan,
            type="container_scanning",
            scanner={
                "id": "trivy",
                "name": "Trivy",
                "version": "0.50.0",
                "vendor": {"name": "GitLab"},
            },
        ),
        "vulnerabilities": [
            {
                "id": "c1",
                "severity": "Medium",
                "identifiers": [{"type": "cve", "name": "CVE-2023-5363", "value": "CVE-2023-5363"}],
                "location": {
                    "dependency": {"package": {"name": "openssl"}, "version": "3.0.11-1"},
                    "operating_system": "debian 12.2",
                    "image": "registry.example/app:1.0",
                },
            }
        ],
    }
    return [
        Case(
            "gitlab dependency scanning 15",
            "gitlab-dependency-scanning",
            v15,
            [
                dep("CVE-2017-16137", "npm", "debug", "1.0.5", "2.6.9", path="web/yarn.lock"),
                dep(
                    "CVE-2019-10906", "pypi", "jinja2", "2.10", "2.6.9", path="api/requirements.txt"
                ),
            ],
            full_key,
            check=lambda r: _is((r.tool, r.findings[1].severity), ("Gemnasium", "medium")),
        ),
        Case(
            "gitlab dependency scanning 14",
            "gitlab-dependency-scanning",
            v14,
            [dep("CVE-2021-23337", "npm", "lodash", "4.17.20", "2.6.9", path="package-lock.json")],
            full_key,
        ),
        Case(
            "gitlab container scanning",
            "gitlab-dependency-scanning",
            container,
            [dep("CVE-2023-5363", "deb", "openssl", "3.0.11-1")],
            full_key,
            check=lambda r: _is(r.target, "registry.example/app:1.0"),
        ),
    ]


def syft() -> list[Case]:
    doc = {
        "artifacts": [
            {
                "id": "1",
                "name": "requests",
                "version": "2.31.0",
                "type": "python",
                "foundBy": "python-installed-package-cataloger",
                "locations": [{"path": "/usr/lib/python3/dist-packages/requests"}],
                "licenses": [
                    {"value": "Apache-2.0", "spdxExpression": "Apache-2.0", "type": "declared"}
                ],
                "language": "python",
                "cpes": [],
                "purl": "pkg:pypi/requests@2.31.0",
                "metadata": {},
            },
            {
                "id": "2",
                "name": "musl",
                "version": "1.2.4-r2",
                "type": "apk",
                "purl": "pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.19.0",
            },
            {"id": "3", "name": "", "version": "", "type": "binary"},
        ],
        "artifactRelationships": [],
        "files": [],
        "source": {
            "id": "s",
            "name": "alpine",
            "version": "3.19",
            "type": "image",
            "metadata": {"userInput": "alpine:3.19", "imageID": "sha256:abc"},
        },
        "distro": {
            "prettyName": "Alpine Linux v3.19",
            "name": "Alpine Linux",
            "id": "alpine",
            "versionID": "3.19.0",
        },
        "descriptor": {"name": "syft", "version": "1.4.1", "configuration": {}},
        "schema": {
            "version": "16.0.7",
            "url": "https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-16.0.7.json",
        },
    }
    old = {
        "artifacts": [
            {
                "name": "lodash",
                "version": "4.17.20",
                "type": "npm",
                "purl": "pkg:npm/lodash@4.17.20",
            }
        ],
        "source": {"type": "directory", "target": "/src/web"},
        "descriptor": {"name": "syft", "version": "0.60.0"},
        "schema": {"version": "4.1.0"},
    }

    def inventory(expected: list[tuple[str, str]], target: str) -> Any:
        def check(r: Any) -> None:
            assert r.complete is False
            assert r.target == target
            assert [(c["name"], c["ecosystem"]) for c in r.metadata["components_list"]] == expected

        return check

    return [
        Case(
            "syft JSON, schema 16",
            "syft",
            doc,
            [],
            full_key,
            check=inventory([("requests", "pypi"), ("musl", "apk")], "alpine:3.19"),
            notices=True,
        ),
        Case(
            "syft JSON, before schema 5 (source.target)",
            "syft",
            old,
            [],
            full_key,
            check=inventory([("lodash", "npm")], "/src/web"),
        ),
    ]


def cases() -> list[Case]:
    return pip_audit() + snyk() + safety() + dependabot() + gitlab() + syft()
