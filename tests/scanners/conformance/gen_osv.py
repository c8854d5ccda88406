"""OSV-Scanner JSON variants, from its result models (VulnerabilityResults, PackageSource,
PackageVulns, GroupInfo with ``experimental_analysis``, PackageInfo with ``commit``) in v1
and v2, and the OSV schema for the records."""

from __future__ import annotations

from typing import Any

from tests.scanners.conformance.harness import HUGE, Case, dep, full_key


def record(
    vid: str, aliases: list[str], pkg: str, eco: str, fixed: str = "", **extra: Any
) -> dict[str, Any]:
    events: list[dict[str, str]] = [{"introduced": "0"}]
    if fixed:
        events.append({"fixed": fixed})
    return {
        "schema_version": "1.6.0",
        "id": vid,
        "modified": "2024-01-01T00:00:00Z",
        "published": "2023-01-01T00:00:00Z",
        "aliases": aliases,
        "summary": f"{pkg}: a flaw",
        "details": "Details.",
        "affected": [
            {
                "package": {"ecosystem": eco, "name": pkg, "purl": f"pkg:{eco.lower()}/{pkg}"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
        "references": [{"type": "ADVISORY", "url": f"https://osv.dev/{vid}"}],
        **extra,
    }


def package(
    name: str, version: str, eco: str, records: list[Any], groups: list[Any] | None, **extra: Any
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "package": {"name": name, "version": version, "ecosystem": eco, **extra},
        "vulnerabilities": records,
    }
    if groups is not None:
        entry["groups"] = groups
    return entry


def source(path: str, packages: list[Any], kind: str = "lockfile") -> dict[str, Any]:
    return {"source": {"path": path, "type": kind}, "packages": packages}


def doc(results: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "results": results,
        "experimental_config": {"licenses": {"summary": False, "allowlist": []}},
        **extra,
    }


def cases() -> list[Case]:
    jinja = record(
        "PYSEC-2019-217",
        ["CVE-2019-10906", "GHSA-462w-v97r-4m45"],
        "jinja2",
        "PyPI",
        "2.10.1",
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:N"}],
    )
    ghsa = record(
        "GHSA-462w-v97r-4m45", ["CVE-2019-10906", "PYSEC-2019-217"], "jinja2", "PyPI", "2.10.1"
    )
    v2 = doc(
        [
            source(
                "/src/app/requirements.txt",
                [
                    package(
                        "jinja2",
                        "2.10",
                        "PyPI",
                        [jinja, ghsa],
                        [
                            {
                                "ids": ["GHSA-462w-v97r-4m45", "PYSEC-2019-217"],
                                "aliases": [
                                    "CVE-2019-10906",
                                    "GHSA-462w-v97r-4m45",
                                    "PYSEC-2019-217",
                                ],
                                "max_severity": "8.6",
                            }
                        ],
                    )
                ],
            )
        ]
    )
    go = record(
        "GO-2023-1571", ["CVE-2022-41723", "GHSA-vvpx-j8f3-3w6h"], "golang.org/x/net", "Go", "0.7.0"
    )
    identity = doc(
        [
            source(
                "/src/app/go.mod",
                [
                    package(
                        "golang.org/x/net",
                        "0.5.0",
                        "Go",
                        [go],
                        [
                            {
                                "ids": ["GHSA-vvpx-j8f3-3w6h"],
                                "aliases": ["GHSA-vvpx-j8f3-3w6h"],
                                "max_severity": "7.5",
                                "experimental_analysis": {
                                    "GO-2023-1571": {"called": False, "unimportant": False}
                                },
                            }
                        ],
                    )
                ],
            )
        ]
    )
    v1 = doc(
        [
            source(
                "/src/app/Cargo.lock",
                [
                    package(
                        "regex",
                        "1.5.4",
                        "crates.io",
                        [
                            record(
                                "RUSTSEC-2022-0013",
                                ["CVE-2022-24713"],
                                "regex",
                                "crates.io",
                                "1.5.5",
                            ),
                        ],
                        [
                            {
                                "ids": ["RUSTSEC-2022-0013"],
                                "experimentalAnalysis": {"RUSTSEC-2022-0013": {"called": True}},
                            }
                        ],
                    )
                ],
            )
        ]
    )
    v1.pop("experimental_config")
    commit = doc(
        [
            source(
                "/src/app/deps_flatten.txt",
                [
                    {
                        "package": {
                            "name": "",
                            "version": "",
                            "ecosystem": "",
                            "commit": "b8da07095979310818f0efde2ef3c69ea70d62c5",
                        },
                        "groups": [
                            {"ids": ["OSV-2023-72"], "aliases": ["OSV-2023-72"], "max_severity": ""}
                        ],
                        "vulnerabilities": [
                            {
                                "id": "OSV-2023-72",
                                "summary": "Heap-buffer-overflow",
                                "affected": [
                                    {
                                        "package": {"ecosystem": "OSS-Fuzz", "name": "perfetto"},
                                        "ranges": [
                                            {
                                                "type": "GIT",
                                                "repo": "https://android.googlesource.com/platform/external/perfetto/",
                                                "events": [
                                                    {"introduced": "8209fb9"},
                                                    {"fixed": "9a7f093"},
                                                ],
                                            }
                                        ],
                                    }
                                ],
                            }
                        ],
                    },
                    {
                        "package": {
                            "name": "https://github.com/openssl/openssl.git",
                            "commit": "aea7aaf2",
                        },
                        "vulnerabilities": [{"id": "CVE-2025-3416", "summary": "openssl flaw"}],
                    },
                ],
            )
        ]
    )
    several = doc(
        [
            source(
                "/src/app/api/requirements.txt", [package("jinja2", "2.10", "PyPI", [jinja], None)]
            ),
            source(
                "/src/app/web/package-lock.json",
                [
                    package(
                        "lodash",
                        "4.17.20",
                        "npm",
                        [
                            record(
                                "GHSA-35jh-r3h4-6jhm",
                                ["CVE-2021-23337"],
                                "lodash",
                                "npm",
                                "4.17.21",
                            )
                        ],
                        None,
                    )
                ],
            ),
        ]
    )
    minimal = doc(
        [
            {
                "source": {"path": "poetry.lock"},
                "packages": [
                    {
                        "package": {"name": "urllib3", "version": "1.26.0", "ecosystem": "PyPI"},
                        "vulnerabilities": [{"id": "GHSA-v845-jxx5-vc9f"}],
                    }
                ],
            }
        ]
    )
    nulls = doc(
        [
            {
                "source": None,
                "packages": [
                    {
                        "package": {"name": "idna", "version": "3.4", "ecosystem": "PyPI"},
                        "groups": None,
                        "vulnerabilities": [
                            {
                                "id": "PYSEC-2024-60",
                                "aliases": None,
                                "affected": None,
                                "references": None,
                                "severity": None,
                                "database_specific": None,
                            }
                        ],
                    }
                ],
            }
        ]
    )
    huge = doc(
        [
            source(
                "requirements.txt",
                [
                    package(
                        "pyyaml",
                        "5.3",
                        "PyPI",
                        [
                            record(
                                "PYSEC-2020-96",
                                ["CVE-2020-14343"],
                                "pyyaml",
                                "PyPI",
                                "5.4",
                                details=HUGE,
                                summary=HUGE,
                            )
                        ],
                        None,
                    )
                ],
            )
        ]
    )
    image = doc(
        [
            source(
                "/var/lib/dpkg/status",
                [
                    package(
                        "openssl",
                        "3.0.11-1~deb12u2",
                        "Debian:12",
                        [
                            record(
                                "DSA-5532-1",
                                ["CVE-2023-5363"],
                                "openssl",
                                "Debian:12",
                                "3.0.11-1~deb12u2+x",
                            )
                        ],
                        None,
                    )
                ],
                "os",
            )
        ],
        image_metadata={"base_image": {}},
    )

    return [
        Case(
            "v2 lockfile: group of records with aliases",
            "osv-scanner",
            v2,
            [
                dep(
                    "CVE-2019-10906",
                    "pypi",
                    "jinja2",
                    "2.10",
                    "2.10.1",
                    path="/src/app/requirements.txt",
                )
            ],
            full_key,
            check=lambda r: _is(r.target, "/src/app/requirements.txt"),
        ),
        Case(
            "a GHSA group and the GO record aliasing it are one finding",
            "osv-scanner",
            identity,
            [
                dep(
                    "CVE-2022-41723",
                    "go",
                    "golang.org/x/net",
                    "0.5.0",
                    "0.7.0",
                    path="/src/app/go.mod",
                )
            ],
            full_key,
            check=lambda r: _is(r.findings[0].reachable, False),
        ),
        Case(
            "v1: experimentalAnalysis, no group aliases",
            "osv-scanner",
            v1,
            [dep("CVE-2022-24713", "cargo", "regex", "1.5.4", "1.5.5", path="/src/app/Cargo.lock")],
            full_key,
            check=lambda r: _is(r.findings[0].reachable, True),
        ),
        Case(
            "packages known only by a git commit",
            "osv-scanner",
            commit,
            [
                dep(
                    "OSV-2023-72",
                    "git",
                    "android.googlesource.com/platform/external/perfetto",
                    "b8da07095979310818f0efde2ef3c69ea70d62c5",
                    path="/src/app/deps_flatten.txt",
                ),
                dep(
                    "CVE-2025-3416",
                    "git",
                    "github.com/openssl/openssl",
                    "aea7aaf2",
                    path="/src/app/deps_flatten.txt",
                ),
            ],
            full_key,
        ),
        Case(
            "several sources: the common directory is the target",
            "osv-scanner",
            several,
            [
                dep(
                    "CVE-2019-10906",
                    "pypi",
                    "jinja2",
                    "2.10",
                    "2.10.1",
                    path="/src/app/api/requirements.txt",
                ),
                dep(
                    "CVE-2021-23337",
                    "npm",
                    "lodash",
                    "4.17.20",
                    "4.17.21",
                    path="/src/app/web/package-lock.json",
                ),
            ],
            full_key,
            check=lambda r: _is(r.target, "/src/app"),
        ),
        Case(
            "optional fields absent",
            "osv-scanner",
            minimal,
            [dep("GHSA-v845-jxx5-vc9f", "pypi", "urllib3", "1.26.0", path="poetry.lock")],
            full_key,
        ),
        Case(
            "null where an object is expected",
            "osv-scanner",
            nulls,
            [dep("PYSEC-2024-60", "pypi", "idna", "3.4")],
            full_key,
        ),
        Case(
            "huge strings",
            "osv-scanner",
            huge,
            [dep("CVE-2020-14343", "pypi", "pyyaml", "5.3", "5.4", path="requirements.txt")],
            full_key,
            check=lambda r: _is(len(r.findings[0].title) <= 501, True),
        ),
        Case(
            "container image: OS packages",
            "osv-scanner",
            image,
            [
                dep(
                    "CVE-2023-5363",
                    "deb",
                    "openssl",
                    "3.0.11-1~deb12u2",
                    "3.0.11-1~deb12u2+x",
                    path="/var/lib/dpkg/status",
                )
            ],
            full_key,
        ),
        Case("no results", "osv-scanner", {"results": []}, [], full_key),
    ]


def _is(value: Any, expected: Any) -> None:
    assert value == expected, value
