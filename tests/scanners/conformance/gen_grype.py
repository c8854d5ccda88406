"""Grype JSON variants, from Grype's presenter models (Document, Match, IgnoredMatch,
IgnoreRule, Vulnerability, Package) across its releases: ``matchDetails`` as one object
(before 0.12), as an array (since); ``ignoredMatches`` with ignore rules and VEX statuses."""

from __future__ import annotations

from typing import Any

from tests.scanners.conformance.harness import HUGE, Case, dep, full_key


def match(
    vid: str,
    name: str,
    version: str,
    kind: str,
    purl: str = "",
    *,
    fixed: str = "",
    related: list[str] | None = None,
    details: Any = None,
    **vuln: Any,
) -> dict[str, Any]:
    v: dict[str, Any] = {
        "id": vid,
        "dataSource": f"https://nvd.nist.gov/vuln/detail/{vid}",
        "namespace": "nvd:cpe",
        "severity": "High",
        "urls": [f"https://example.org/{vid}"],
        "description": "A flaw.",
        "cvss": [
            {
                "version": "3.1",
                "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
                "metrics": {"baseScore": 7.5, "exploitabilityScore": 3.9, "impactScore": 3.6},
                "vendorMetadata": {},
            }
        ],
        "fix": {"versions": [fixed] if fixed else [], "state": "fixed" if fixed else "not-fixed"},
        "advisories": [],
        **vuln,
    }
    art: dict[str, Any] = {
        "id": "a1",
        "name": name,
        "version": version,
        "type": kind,
        "locations": [{"path": f"/app/{name}", "layerID": "sha256:l1"}],
        "language": "",
        "licenses": [],
        "cpes": [f"cpe:2.3:a:{name}:{name}:{version}:*:*:*:*:*:*:*"],
        "purl": purl,
        "upstreams": [],
        "metadata": {"files": [{"path": f"/app/{name}/x"}] * 3},
    }
    return {
        "vulnerability": v,
        "relatedVulnerabilities": [
            {"id": r, "dataSource": "", "namespace": "nvd:cpe", "severity": "High", "urls": []}
            for r in related or []
        ],
        "matchDetails": details
        if details is not None
        else [
            {
                "type": "exact-direct-match",
                "matcher": "python-matcher",
                "searchedBy": {"language": "python"},
                "found": {"versionConstraint": "< 2.0"},
            }
        ],
        "artifact": art,
    }


def document(matches: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "matches": matches,
        "source": {"type": "image", "target": {"userInput": "app:1.0", "imageID": "sha256:i"}},
        "distro": {"name": "debian", "version": "12", "idLike": []},
        "descriptor": {"name": "grype", "version": "0.80.0", "configuration": {}, "db": {}},
        **extra,
    }


def cases() -> list[Case]:
    current = [
        match(
            "GHSA-9wx4-h78v-vm56",
            "requests",
            "2.25.0",
            "python",
            "pkg:pypi/requests@2.25.0",
            fixed="2.32.0",
            related=["CVE-2024-35195"],
        ),
        match(
            "CVE-2021-44228",
            "log4j-core",
            "2.14.1",
            "java-archive",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            fixed="2.15.0",
        ),
    ]
    current_keys = [
        dep("CVE-2024-35195", "pypi", "requests", "2.25.0", "2.32.0", path="/app/requests"),
        dep(
            "CVE-2021-44228",
            "maven",
            "org.apache.logging.log4j:log4j-core",
            "2.14.1",
            "2.15.0",
            path="/app/log4j-core",
        ),
    ]
    old_details = {
        "matcher": "dpkg-matcher",
        "searchedBy": {"distro": {"type": "debian", "version": "10"}},
        "matchedOn": {"constraint": "< 1.2"},
    }
    old = document(
        [match("CVE-2019-5094", "e2fsprogs", "1.44.5-1", "deb", details=old_details)],
        source={"type": "directory", "target": "/src"},
    )
    old["descriptor"] = {"name": "grype", "version": "0.7.0"}
    ignored = dict(
        match(
            "CVE-2023-1111",
            "urllib3",
            "1.26.0",
            "python",
            "pkg:pypi/urllib3@1.26.0",
            fixed="1.26.18",
        ),
        appliedIgnoreRules=[
            {
                "vulnerability": "CVE-2023-1111",
                "namespace": "",
                "vex-status": "not_affected",
                "vex-justification": "vulnerable_code_not_in_execute_path",
            }
        ],
    )
    ignored_fixed = dict(
        match("CVE-2023-2222", "idna", "3.4", "python", "pkg:pypi/idna@3.4"),
        appliedIgnoreRules=[
            {"vulnerability": "CVE-2023-2222", "namespace": "", "vex-status": "fixed"}
        ],
    )
    ignored_rule = dict(
        match("CVE-2023-3333", "certifi", "2022.1.1", "python", "pkg:pypi/certifi@2022.1.1"),
        appliedIgnoreRules=[
            {
                "vulnerability": "CVE-2023-3333",
                "reason": "accepted for the demo",
                "namespace": "",
                "fix-state": "unknown",
            }
        ],
    )
    minimal = {"matches": [{"vulnerability": {"id": "CVE-2020-1"}, "artifact": {"name": "zlib"}}]}
    nulls = document(
        [
            match(
                "CVE-2022-2",
                "lodash",
                "4.17.20",
                "npm",
                "pkg:npm/lodash@4.17.20",
                fix=None,
                cvss=None,
                urls=None,
                description=None,
                epss=None,
            )
            | {"relatedVulnerabilities": None, "matchDetails": None}
        ],
        source=None,
        distro=None,
    )
    huge = document(
        [match("CVE-2022-3", "pyyaml", "5.3", "python", "pkg:pypi/pyyaml@5.3", description=HUGE)]
    )
    odd = document(
        [match("CVE-2022-4", "rack", "2.0.0", "gem", "pkg:gem/rack@2.0.0", cvss={"version": "3.1"})]
    )

    def state_check(r: Any) -> None:
        by = {f.vuln_id: f for f in r.findings}
        assert by["CVE-2023-1111"].justification.startswith("VEX not_affected")
        assert by["CVE-2023-3333"].justification == "accepted for the demo"

    return [
        Case(
            "current release",
            "grype",
            document(current),
            current_keys,
            full_key,
            check=lambda r: _is(r.target, "app:1.0"),
        ),
        Case(
            "matchDetails as one object (Grype before 0.12)",
            "grype",
            old,
            [dep("CVE-2019-5094", "deb", "e2fsprogs", "1.44.5-1", path="/app/e2fsprogs")],
            full_key,
            check=lambda r: _is(r.warnings, []),
        ),
        Case(
            "ignoredMatches: VEX and ignore rules kept with their state",
            "grype",
            document(current[:1], ignoredMatches=[ignored, ignored_fixed, ignored_rule]),
            [
                current_keys[0],
                dep(
                    "CVE-2023-1111",
                    "pypi",
                    "urllib3",
                    "1.26.0",
                    "1.26.18",
                    "not_affected",
                    "/app/urllib3",
                ),
                dep("CVE-2023-2222", "pypi", "idna", "3.4", "", "resolved", "/app/idna"),
                dep(
                    "CVE-2023-3333",
                    "pypi",
                    "certifi",
                    "2022.1.1",
                    "",
                    "risk_accepted",
                    "/app/certifi",
                ),
            ],
            full_key,
            check=state_check,
        ),
        Case(
            "optional fields absent",
            "grype",
            minimal,
            [dep("CVE-2020-1", "", "zlib", "")],
            full_key,
        ),
        Case(
            "null where an object is expected",
            "grype",
            nulls,
            [dep("CVE-2022-2", "npm", "lodash", "4.17.20", path="/app/lodash")],
            full_key,
        ),
        Case(
            "huge strings",
            "grype",
            huge,
            [dep("CVE-2022-3", "pypi", "pyyaml", "5.3", path="/app/pyyaml")],
            full_key,
            check=lambda r: _is(len(r.findings[0].description) <= 8193, True),
        ),
        Case(
            "a field of an unexpected shape",
            "grype",
            odd,
            [dep("CVE-2022-4", "gem", "rack", "2.0.0", path="/app/rack")],
            full_key,
            notices=True,
        ),
        Case("no matches", "grype", document([]), [], full_key),
    ]


def _is(value: Any, expected: Any) -> None:
    assert value == expected, value
