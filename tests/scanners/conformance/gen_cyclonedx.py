"""CycloneDX variants, from the CycloneDX 1.4-1.6 JSON schemas (components, vulnerabilities,
affects, ratings, analysis) and what Trivy, OSV-Scanner, Grype, Syft and pip-audit write in
them (their CycloneDX writers' documented fields)."""

from __future__ import annotations

from typing import Any

from tests.scanners.conformance.harness import HUGE, Case, dep, full_key


def bom(
    spec: str,
    components: list[Any] | None,
    vulns: list[Any] | None,
    tool: Any = None,
    main: Any = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": spec,
        "version": 1,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "metadata": {"timestamp": "2024-05-01T00:00:00Z"},
    }
    if tool is not None:
        doc["metadata"]["tools"] = tool
    if main is not None:
        doc["metadata"]["component"] = main
    if components is not None:
        doc["components"] = components
    if vulns is not None:
        doc["vulnerabilities"] = vulns
    return doc


def comp(
    name: str, version: str, purl: str, ref: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "bom-ref": ref or purl,
        "type": "library",
        "name": name,
        "version": version,
        "purl": purl,
        **extra,
    }


def cases() -> list[Case]:
    pip_audit = bom(
        "1.4",
        [{"bom-ref": "jinja2==2.10", "type": "library", "name": "jinja2", "version": "2.10"}],
        [
            {
                "bom-ref": "x",
                "id": "PYSEC-2019-217",
                "description": "sandbox escape",
                "recommendation": "Upgrade",
                "affects": [{"ref": "jinja2==2.10"}],
                "references": [{"id": "CVE-2019-10906", "source": {}}],
            }
        ],
        tool=[{"vendor": "pypa", "name": "pip-audit", "version": "2.7.3"}],
    )
    trivy = bom(
        "1.5",
        [
            comp(
                "openssl",
                "3.1.4-r0",
                "pkg:apk/alpine/openssl@3.1.4-r0?distro=3.19.0",
                properties=[{"name": "aquasecurity:trivy:PkgType", "value": "alpine"}],
            )
        ],
        [
            {
                "id": "CVE-2023-6129",
                "source": {"name": "alpine", "url": "https://secdb.alpinelinux.org/"},
                "ratings": [
                    {
                        "source": {"name": "nvd"},
                        "score": 6.5,
                        "severity": "medium",
                        "method": "CVSSv31",
                        "vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:H",
                    }
                ],
                "cwes": [787],
                "description": "POLY1305 MAC",
                "recommendation": "Upgrade openssl to version 3.1.4-r3",
                "advisories": [{"url": "https://avd.aquasec.com/nvd/cve-2023-6129"}],
                "affects": [
                    {
                        "ref": "pkg:apk/alpine/openssl@3.1.4-r0?distro=3.19.0",
                        "versions": [{"version": "3.1.4-r0", "status": "affected"}],
                    }
                ],
            }
        ],
        tool={
            "components": [
                {
                    "type": "application",
                    "group": "aquasecurity",
                    "name": "trivy",
                    "version": "0.50.1",
                }
            ]
        },
        main={
            "bom-ref": "pkg:oci/alpine@sha256%3Aabc",
            "type": "container",
            "name": "alpine:3.19",
            "purl": "pkg:oci/alpine@sha256%3Aabc",
        },
    )
    osv = bom(
        "1.5",
        [
            comp("django", "2.2.27", "pkg:pypi/django@2.2.27"),
            comp("flask", "2.0.0", "pkg:pypi/flask@2.0.0"),
        ],
        [
            {
                "id": "GHSA-2gwj-7jmv-h26r",
                "references": [{"id": "CVE-2022-28346", "source": {}}],
                "ratings": [
                    {"method": "CVSSv31", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}
                ],
                "description": "SQL injection",
                "affects": [{"ref": "pkg:pypi/django"}],
            }
        ],
    )
    grype_vex = bom(
        "1.6",
        [
            comp("requests", "2.25.0", "pkg:pypi/requests@2.25.0"),
            comp("idna", "3.4", "pkg:pypi/idna@3.4"),
        ],
        [
            {
                "bom-ref": "urn:uuid:1",
                "id": "CVE-2023-32681",
                "source": {"name": "nvd"},
                "ratings": [{"score": 6.1, "severity": "medium", "method": "CVSSv31"}],
                "affects": [{"ref": "pkg:pypi/requests@2.25.0"}],
                "properties": [{"name": "grype:fixed_versions", "value": "2.31.0"}],
                "analysis": {
                    "state": "not_affected",
                    "justification": "code_not_reachable",
                    "detail": "we never send proxies",
                },
            },
            {
                "id": "CVE-2024-35195",
                "affects": [{"ref": "pkg:pypi/requests@2.25.0"}],
                "analysis": {
                    "state": "exploitable",
                    "response": ["will_not_fix"],
                    "detail": "internal tool",
                },
            },
            {
                "id": "CVE-2024-3651",
                "affects": [{"ref": "pkg:pypi/idna@3.4"}],
                "analysis": {"state": "resolved_with_pedigree"},
            },
            {
                "id": "CVE-2024-9999",
                "affects": [{"ref": "pkg:pypi/idna@3.4"}],
                "analysis": {"state": "in_triage"},
            },
            {
                "id": "CVE-2024-8888",
                "affects": [{"ref": "pkg:pypi/idna@3.4"}],
                "analysis": {"state": "false_positive", "detail": "wrong package"},
            },
        ],
        tool={
            "components": [
                {"type": "application", "author": "anchore", "name": "grype", "version": "0.80.0"}
            ]
        },
    )
    syft = bom(
        "1.5",
        [
            comp("requests", "2.31.0", "pkg:pypi/requests@2.31.0", ref="r1"),
            comp(
                "log4j-core",
                "2.14.1",
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                ref="r2",
                group="org.apache.logging.log4j",
            ),
            {"bom-ref": "os", "type": "operating-system", "name": "debian", "version": "12"},
        ],
        None,
        tool={
            "components": [
                {"type": "application", "author": "anchore", "name": "syft", "version": "1.4.1"}
            ]
        },
        main={"bom-ref": "img", "type": "container", "name": "app", "version": "sha256:abc"},
    )
    nested = bom(
        "1.6",
        [
            {
                "bom-ref": "app",
                "type": "application",
                "name": "app",
                "components": [comp("urllib3", "1.26.0", "pkg:pypi/urllib3@1.26.0")],
            }
        ],
        [{"id": "CVE-2023-43804", "affects": [{"ref": "pkg:pypi/urllib3@1.26.0"}]}],
    )
    minimal = bom(
        "1.4", None, [{"id": "CVE-2021-1", "affects": [{"ref": "pkg:npm/left-pad@1.0.0"}]}]
    )
    nulls = bom(
        "1.5",
        [comp("lodash", "4.17.20", "pkg:npm/lodash@4.17.20", hashes=None, licenses=None)],
        [
            {
                "id": "CVE-2021-23337",
                "ratings": None,
                "analysis": None,
                "references": None,
                "cwes": None,
                "advisories": None,
                "affects": [{"ref": "pkg:npm/lodash@4.17.20", "versions": None}],
            }
        ],
    )
    huge = bom(
        "1.5",
        [comp("pyyaml", "5.3", "pkg:pypi/pyyaml@5.3")],
        [
            {
                "id": "CVE-2020-14343",
                "description": HUGE,
                "detail": HUGE,
                "affects": [{"ref": "pkg:pypi/pyyaml@5.3"}],
            }
        ],
    )
    odd = bom(
        "1.5",
        [comp("rack", "2.0.0", "pkg:gem/rack@2.0.0")],
        [{"id": "CVE-2022-5", "ratings": "high", "affects": [{"ref": "pkg:gem/rack@2.0.0"}]}],
    )

    def vex(r: Any) -> None:
        by = {f.vuln_id: f for f in r.findings}
        assert (by["CVE-2023-32681"].reachable, by["CVE-2023-32681"].justification) == (
            False,
            "code_not_reachable: we never send proxies",
        )
        assert by["CVE-2024-35195"].justification == "internal tool"

    def inventory(r: Any) -> None:
        assert r.complete is False
        assert r.metadata["components_list"] == [
            {
                "name": "requests",
                "version": "2.31.0",
                "purl": "pkg:pypi/requests@2.31.0",
                "ecosystem": "pypi",
            },
            {
                "name": "org.apache.logging.log4j:log4j-core",
                "version": "2.14.1",
                "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                "ecosystem": "maven",
            },
            {"name": "debian", "version": "12", "purl": "", "ecosystem": ""},
        ]
        assert r.target == "app@sha256:abc"

    return [
        Case(
            "1.4, pip-audit: no purl, no rating",
            "cyclonedx",
            pip_audit,
            [dep("CVE-2019-10906", "pypi", "jinja2", "2.10")],
            full_key,
            check=lambda r: _is((r.tool, r.complete), ("pip-audit", True)),
        ),
        Case(
            "1.5, Trivy: recommendation gives the fixed version",
            "cyclonedx",
            trivy,
            [dep("CVE-2023-6129", "apk", "openssl", "3.1.4-r0", "3.1.4-r3")],
            full_key,
            check=lambda r: _is((r.tool, r.target), ("trivy", "alpine:3.19")),
        ),
        Case(
            "1.5, OSV-Scanner: versionless affects ref",
            "cyclonedx",
            osv,
            [
                dep("CVE-2022-28346", "pypi", "django", "2.2.27"),
            ],
            full_key,
        ),
        Case(
            "1.6, Grype with VEX analysis",
            "cyclonedx",
            grype_vex,
            [
                dep("CVE-2023-32681", "pypi", "requests", "2.25.0", "2.31.0", "not_affected"),
                dep("CVE-2024-35195", "pypi", "requests", "2.25.0", "", "risk_accepted"),
                dep("CVE-2024-3651", "pypi", "idna", "3.4", "", "resolved"),
                dep("CVE-2024-9999", "pypi", "idna", "3.4"),
                dep("CVE-2024-8888", "pypi", "idna", "3.4", "", "false_positive"),
            ],
            full_key,
            check=vex,
        ),
        Case(
            "Syft SBOM without vulnerabilities: an inventory",
            "cyclonedx",
            syft,
            [],
            full_key,
            check=inventory,
        ),
        Case(
            "nested components",
            "cyclonedx",
            nested,
            [dep("CVE-2023-43804", "pypi", "urllib3", "1.26.0")],
            full_key,
        ),
        Case(
            "optional fields absent",
            "cyclonedx",
            minimal,
            [dep("CVE-2021-1", "npm", "left-pad", "1.0.0")],
            full_key,
        ),
        Case(
            "null where an object is expected",
            "cyclonedx",
            nulls,
            [dep("CVE-2021-23337", "npm", "lodash", "4.17.20")],
            full_key,
        ),
        Case(
            "huge strings",
            "cyclonedx",
            huge,
            [dep("CVE-2020-14343", "pypi", "pyyaml", "5.3")],
            full_key,
            check=lambda r: _is(len(r.findings[0].description) <= 8193, True),
        ),
        Case(
            "a field of an unexpected shape",
            "cyclonedx",
            odd,
            [dep("CVE-2022-5", "gem", "rack", "2.0.0")],
            full_key,
            notices=True,
        ),
    ]


def _is(value: Any, expected: Any) -> None:
    assert value == expected, value
