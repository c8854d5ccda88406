"""SARIF variants, from the OASIS SARIF 2.1.0 standard, the 2.0.0 committee drafts and the
1.0.0 schema (as the .NET compilers' ``/errorlog`` still writes it), and the SARIF that
Trivy, Grype, Checkov and semgrep write (from their SARIF writers' documented fields)."""

from __future__ import annotations

from typing import Any

from tests.scanners.conformance.harness import HUGE, Case, code, dep, full_key

TRIVY_MESSAGE = (
    "Package: requests\nInstalled Version: 2.25.0\nVulnerability CVE-2023-32681\n"
    "Severity: MEDIUM\nFixed Version: 2.31.0\n"
    "Link: [CVE-2023-32681](https://avd.aquasec.com/nvd/cve-2023-32681)"
)
GRYPE_MESSAGE = (
    "A critical vulnerability in java-archive package: log4j-core, version 2.14.1 was found "
    "in image app:1.0 at: /app/log4j-core-2.14.1.jar"
)
SHELL_RULE = "python.lang.security.audit.subprocess-shell-true.subprocess-shell-true"


def loc(uri: str, line: int | None = None, **art: Any) -> dict[str, Any]:
    phys: dict[str, Any] = {"artifactLocation": {"uri": uri, **art}}
    if line is not None:
        phys["region"] = {"startLine": line, "startColumn": 1}
    return {"physicalLocation": phys}


def log(runs: list[Any], version: str = "2.1.0") -> dict[str, Any]:
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": version,
        "runs": runs,
    }


def run(name: str, rules: list[Any], results: list[Any], **extra: Any) -> dict[str, Any]:
    return {
        "tool": {"driver": {"name": name, "version": "1.0.0", "rules": rules}},
        "results": results,
        **extra,
    }


def result(rule: str, uri: str, line: int, **extra: Any) -> dict[str, Any]:
    return {
        "ruleId": rule,
        "message": {"text": f"{rule} here"},
        "locations": [loc(uri, line)],
        **extra,
    }


def cases() -> list[Case]:
    codeql = log(
        [
            run(
                "CodeQL",
                [
                    {
                        "id": "py/sql-injection",
                        "shortDescription": {
                            "text": "SQL query built from user-controlled sources"
                        },
                        "defaultConfiguration": {"level": "error"},
                        "properties": {
                            "security-severity": "8.8",
                            "tags": ["security", "external/cwe/cwe-089"],
                        },
                    },
                    {"id": "py/unused-import", "defaultConfiguration": {"level": "note"}},
                ],
                [
                    result(
                        "py/sql-injection",
                        "app/db.py",
                        10,
                        ruleIndex=0,
                        partialFingerprints={"primaryLocationLineHash": "abc:1"},
                    ),
                    result("py/unused-import", "app/x.py", 1, ruleIndex=1),
                    result(
                        "py/unused-import",
                        "app/y.py",
                        2,
                        ruleIndex=1,
                        suppressions=[{"kind": "inSource"}],
                    ),
                    result(
                        "py/unused-import",
                        "app/z.py",
                        3,
                        ruleIndex=1,
                        suppressions=[
                            {
                                "kind": "external",
                                "status": "accepted",
                                "justification": "won't fix: generated code",
                            }
                        ],
                    ),
                    result(
                        "py/unused-import",
                        "app/w.py",
                        4,
                        ruleIndex=1,
                        suppressions=[{"kind": "external", "status": "underReview"}],
                    ),
                    result(
                        "py/unused-import",
                        "app/v.py",
                        5,
                        ruleIndex=1,
                        suppressions=[
                            {
                                "kind": "external",
                                "state": "accepted",
                                "justification": "a false positive",
                            }
                        ],
                    ),
                    result("py/unused-import", "app/u.py", 6, ruleIndex=1, baselineState="absent"),
                    result("py/unused-import", "app/t.py", 7, ruleIndex=1, kind="pass"),
                ],
                automationDetails={"id": "codeql/analyze/python/"},
                originalUriBaseIds={"%SRCROOT%": {"uri": "file:///src/repo/"}},
            )
        ]
    )
    v200 = log(
        [
            {
                "tool": {"name": "SecurityScanner", "version": "4.2", "semanticVersion": "4.2.0"},
                "resources": {
                    "rules": {
                        "SEC001": {
                            "id": "SEC001",
                            "shortDescription": {"text": "Hardcoded password"},
                            "configuration": {"defaultLevel": "error"},
                        }
                    }
                },
                "files": {"src/app.config": {"mimeType": "text/xml"}},
                "results": [
                    {
                        "ruleId": "SEC001",
                        "message": {"text": "password in config"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "fileLocation": {"uri": "src/app.config"},
                                    "region": {"startLine": 4},
                                }
                            }
                        ],
                    },
                    {
                        "ruleId": "SEC001",
                        "message": {"text": "suppressed"},
                        "suppressionStates": ["suppressedExternally"],
                        "locations": [
                            {
                                "physicalLocation": {
                                    "fileLocation": {"uri": "src/b.config"},
                                    "region": {"startLine": 2},
                                }
                            }
                        ],
                    },
                    {"ruleId": "SEC001", "level": "pass", "message": {"text": "ok"}},
                ],
            }
        ],
        version="2.0.0",
    )
    v200["$schema"] = "http://json.schemastore.org/sarif-2.0.0"
    v100 = {
        "$schema": "http://json.schemastore.org/sarif-1.0.0",
        "version": "1.0.0",
        "runs": [
            {
                "tool": {
                    "name": "Microsoft (R) Visual C# Compiler",
                    "version": "4.8.0-7.23572.1",
                    "fileVersion": "4.8.0",
                    "semanticVersion": "4.8.0",
                    "language": "en-US",
                },
                "results": [
                    {
                        "ruleId": "CA2100",
                        "level": "warning",
                        "message": "Review SQL queries for security vulnerabilities",
                        "locations": [
                            {
                                "resultFile": {
                                    "uri": "file:///C:/src/Db.cs",
                                    "region": {
                                        "startLine": 12,
                                        "startColumn": 5,
                                        "endLine": 12,
                                        "endColumn": 40,
                                    },
                                }
                            }
                        ],
                        "properties": {"warningLevel": 1},
                    },
                    {
                        "ruleId": "CA5350",
                        "level": "error",
                        "message": "Do not use weak cryptographic algorithms",
                        "suppressionStates": ["suppressedInSource"],
                        "locations": [
                            {
                                "resultFile": {
                                    "uri": "file:///C:/src/Crypto.cs",
                                    "region": {"startLine": 3},
                                }
                            }
                        ],
                    },
                ],
                "rules": {
                    "CA2100": {
                        "id": "CA2100",
                        "shortDescription": "Review SQL queries for security vulnerabilities",
                        "defaultLevel": "warning",
                        "helpUri": "https://learn.microsoft.com/ca2100",
                        "properties": {"category": "Security"},
                    },
                    "CA5350": {
                        "id": "CA5350",
                        "shortDescription": "Do Not Use Weak Cryptographic Algorithms",
                        "defaultLevel": "warning",
                    },
                },
            }
        ],
    }
    trivy = log(
        [
            run(
                "Trivy",
                [
                    {
                        "id": "CVE-2023-32681",
                        "name": "LanguageSpecificPackageVulnerability",
                        "shortDescription": {"text": "python-requests: Unintended leak"},
                        "defaultConfiguration": {"level": "warning"},
                        "helpUri": "https://avd.aquasec.com/nvd/cve-2023-32681",
                        "properties": {
                            "precision": "very-high",
                            "security-severity": "6.1",
                            "tags": ["vulnerability", "security", "MEDIUM"],
                        },
                    },
                    {
                        "id": "DS002",
                        "name": "Misconfiguration",
                        "shortDescription": {"text": "Image user should not be 'root'"},
                        "defaultConfiguration": {"level": "error"},
                        "properties": {
                            "precision": "very-high",
                            "security-severity": "8.0",
                            "tags": ["misconfiguration", "security", "HIGH"],
                        },
                    },
                    {
                        "id": "aws-access-key-id",
                        "name": "Secret",
                        "shortDescription": {"text": "AWS Access Key ID"},
                        "defaultConfiguration": {"level": "error"},
                        "properties": {
                            "precision": "very-high",
                            "security-severity": "9.5",
                            "tags": ["secret", "security", "CRITICAL"],
                        },
                    },
                ],
                [
                    {
                        "ruleId": "CVE-2023-32681",
                        "ruleIndex": 0,
                        "level": "warning",
                        "message": {"text": TRIVY_MESSAGE},
                        "locations": [
                            {
                                **loc("requirements.txt", 1, uriBaseId="ROOTPATH"),
                                "message": {"text": "requirements.txt: requests@2.25.0"},
                            }
                        ],
                    },
                    {
                        "ruleId": "DS002",
                        "ruleIndex": 1,
                        "level": "error",
                        "message": {
                            "text": "Artifact: Dockerfile\nType: dockerfile\nVulnerability DS002"
                        },
                        "locations": [loc("Dockerfile", 1, uriBaseId="ROOTPATH")],
                    },
                    {
                        "ruleId": "aws-access-key-id",
                        "ruleIndex": 2,
                        "level": "error",
                        "message": {
                            "text": "Artifact: app/settings.py\nType: \nSecret AWS Access Key ID"
                        },
                        "locations": [loc("app/settings.py", 12, uriBaseId="ROOTPATH")],
                    },
                ],
                columnKind="utf16CodeUnits",
                originalUriBaseIds={"ROOTPATH": {"uri": "file:///home/ci/app/"}},
            )
        ]
    )
    grype = log(
        [
            run(
                "grype",
                [
                    {
                        "id": "CVE-2021-44228-log4j-core",
                        "name": "JavaMatcherExactDirectMatch",
                        "helpUri": "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
                        "shortDescription": {
                            "text": "CVE-2021-44228 critical vulnerability for log4j-core package"
                        },
                        "properties": {
                            "security-severity": "10.0",
                            "purls": ["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"],
                        },
                    },
                ],
                [
                    {
                        "ruleId": "CVE-2021-44228-log4j-core",
                        "level": "error",
                        "message": {"text": GRYPE_MESSAGE},
                        "partialFingerprints": {"primaryLocationLineHash": "deadbeef:1"},
                        "locations": [loc("app/app/log4j-core-2.14.1.jar", 1)],
                    },
                ],
            )
        ]
    )
    checkov = log(
        [
            run(
                "Checkov",
                [
                    {
                        "id": "CKV_AWS_20",
                        "name": "S3 Bucket has an ACL defined which allows public READ access.",
                        "shortDescription": {
                            "text": "S3 Bucket has an ACL defined which allows public READ access."
                        },
                        "fullDescription": {
                            "text": "S3 Bucket has an ACL defined which allows public READ access."
                        },
                        "help": {"text": "x\nResource: aws_s3_bucket.data"},
                        "defaultConfiguration": {"level": "error"},
                    },
                    {
                        "id": "CKV_AWS_19",
                        "name": "Ensure the S3 bucket has server-side-encryption enabled",
                        "shortDescription": {
                            "text": "Ensure the S3 bucket has server-side-encryption enabled"
                        },
                        "defaultConfiguration": {"level": "error"},
                        "properties": {"security-severity": "8.9"},
                    },
                ],
                [
                    {
                        "ruleId": "CKV_AWS_20",
                        "ruleIndex": 0,
                        "level": "error",
                        "attachments": [],
                        "message": {
                            "text": "S3 Bucket has an ACL defined which allows public READ access."
                        },
                        "locations": [loc("main.tf", 1)],
                    },
                    {
                        "ruleId": "CKV_AWS_19",
                        "ruleIndex": 1,
                        "level": "error",
                        "message": {"text": "encryption"},
                        "locations": [loc("main.tf", 1)],
                    },
                    {
                        "ruleId": "CKV_AWS_20",
                        "ruleIndex": 0,
                        "message": {"text": "skipped"},
                        "locations": [loc("legacy.tf", 4)],
                        "suppressions": [
                            {
                                "kind": "inSource",
                                "justification": "public website bucket, accepted risk",
                            }
                        ],
                    },
                ],
            )
        ]
    )
    semgrep = log(
        [
            run(
                "Semgrep OSS",
                [
                    {
                        "id": SHELL_RULE,
                        "name": SHELL_RULE,
                        "shortDescription": {"text": f"Semgrep Finding: {SHELL_RULE}"},
                        "fullDescription": {
                            "text": "Found 'subprocess' function with 'shell=True'."
                        },
                        "defaultConfiguration": {"level": "error"},
                        "help": {"text": "use shell=False"},
                        "properties": {
                            "precision": "very-high",
                            "tags": [
                                "CWE-78: Improper Neutralization of Special Elements used in an OS "
                                "Command",
                                "HIGH CONFIDENCE",
                                "OWASP-A01:2017 - Injection",
                                "security",
                            ],
                        },
                    },
                    {
                        "id": "python.flask.security.audit.debug-enabled",
                        "name": "python.flask.security.audit.debug-enabled",
                        "defaultConfiguration": {"level": "warning"},
                        "properties": {
                            "precision": "very-high",
                            "tags": [],
                            "security-severity": 5.3,
                        },
                    },
                ],
                [
                    {
                        "ruleId": SHELL_RULE,
                        "message": {"text": "Found 'subprocess' function with 'shell=True'."},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "app.py", "uriBaseId": "%SRCROOT%"},
                                    "region": {
                                        "startLine": 19,
                                        "snippet": {"text": "subprocess.call(cmd, shell=True)"},
                                    },
                                }
                            }
                        ],
                        "fingerprints": {"matchBasedId/v1": "f00d"},
                        "properties": {},
                    },
                    {
                        "ruleId": "python.flask.security.audit.debug-enabled",
                        "message": {"text": "debug"},
                        "locations": [loc("app.py", 40)],
                        "suppressions": [{"kind": "inSource"}],
                    },
                ],
            )
        ]
    )
    minimal = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "lint"}},
                "results": [{"message": {"text": "x"}, "ruleId": "R1"}],
            }
        ],
    }
    nulls = log(
        [
            {
                "tool": {"driver": {"name": "nully", "rules": None}},
                "results": [
                    {
                        "ruleId": "R2",
                        "message": {"text": "m"},
                        "locations": None,
                        "properties": None,
                        "partialFingerprints": None,
                        "suppressions": None,
                    },
                    {
                        "ruleId": "R3",
                        "message": {"text": "m"},
                        "locations": [{"physicalLocation": None}],
                        "level": None,
                    },
                ],
                "artifacts": None,
            }
        ]
    )
    huge = log([run("hugey", [], [result("R4", "a.py", 1, message={"text": HUGE})])])
    odd = log(
        [
            run(
                "oddy",
                [{"id": "R5", "properties": {"security-severity": "high"}}, 7],
                [result("R5", "b.py", 2, level="error")],
            )
        ]
    )

    def cwe(r: Any) -> None:
        shell = next(f for f in r.findings if "shell" in f.rule_id)
        assert shell.evidence["cwes"] == ["CWE-78"]
        assert shell.severity == "high"
        debug = next(f for f in r.findings if "debug" in f.rule_id)
        assert debug.severity == "medium"
        assert debug.state == "false_positive"

    def checkov_sev(r: Any) -> None:
        by = {(f.rule_id, f.file_path): f.severity for f in r.findings}
        assert by[("CKV_AWS_20", "main.tf")] == "medium"  # "error" is Checkov's placeholder
        assert by[("CKV_AWS_19", "main.tf")] == "high"  # security-severity 8.9

    return [
        Case(
            "2.1.0: suppressions, baseline, pass",
            "sarif",
            codeql,
            [
                code("py/sql-injection", "app/db.py", 10),
                code("py/unused-import", "app/x.py", 1),
                code("py/unused-import", "app/y.py", 2, "false_positive"),
                code("py/unused-import", "app/z.py", 3, "risk_accepted"),
                code("py/unused-import", "app/w.py", 4),
                code("py/unused-import", "app/v.py", 5, "false_positive"),
                code("py/unused-import", "app/u.py", 6, "resolved"),
            ],
            full_key,
            check=lambda r: _is(r.target, "codeql/analyze/python/"),
        ),
        Case(
            "2.0.0 draft: tool without driver, resources.rules, fileLocation",
            "sarif",
            v200,
            [
                code("SEC001", "src/app.config", 4),
                code("SEC001", "src/b.config", 2, "risk_accepted"),
            ],
            full_key,
            check=lambda r: _is(
                (r.tool, r.findings[0].severity, r.warnings), ("SecurityScanner", "high", [])
            ),
        ),
        Case(
            "1.0.0 (the .NET compilers' /errorlog)",
            "sarif",
            v100,
            [
                code("CA2100", "C:/src/Db.cs", 12),
                code("CA5350", "C:/src/Crypto.cs", 3, "false_positive"),
            ],
            full_key,
            check=lambda r: _is(
                r.findings[0].title, "Review SQL queries for security vulnerabilities"
            ),
        ),
        Case(
            "Trivy's SARIF: vulnerabilities, misconfigurations, secrets",
            "sarif",
            trivy,
            [
                dep(
                    "CVE-2023-32681",
                    "pypi",
                    "requests",
                    "2.25.0",
                    "2.31.0",
                    path="requirements.txt",
                    line=1,
                ),
                code("DS002", "Dockerfile", 1),
                code("aws-access-key-id", "app/settings.py", 12),
            ],
            full_key,
            check=lambda r: _is(r.target, "/home/ci/app"),
        ),
        Case(
            "Grype's SARIF: the package from the rule's purl",
            "sarif",
            grype,
            [
                dep(
                    "CVE-2021-44228",
                    "maven",
                    "org.apache.logging.log4j:log4j-core",
                    "2.14.1",
                    path="app/app/log4j-core-2.14.1.jar",
                    line=1,
                ),
            ],
            full_key,
        ),
        Case(
            "Checkov's SARIF: error without a severity is unrated",
            "sarif",
            checkov,
            [
                code("CKV_AWS_20", "main.tf", 1),
                code("CKV_AWS_19", "main.tf", 1),
                code("CKV_AWS_20", "legacy.tf", 4, "risk_accepted"),
            ],
            full_key,
            check=checkov_sev,
        ),
        Case(
            "semgrep's SARIF: rule levels, CWE tags, nosemgrep",
            "sarif",
            semgrep,
            [
                code(
                    SHELL_RULE,
                    "app.py",
                    19,
                ),
                code("python.flask.security.audit.debug-enabled", "app.py", 40, "false_positive"),
            ],
            full_key,
            check=cwe,
        ),
        Case("optional fields absent", "sarif", minimal, [code("R1", "", None)], full_key),
        Case(
            "null where an object is expected",
            "sarif",
            nulls,
            [code("R2", "", None), code("R3", "", None)],
            full_key,
        ),
        Case(
            "huge strings",
            "sarif",
            huge,
            [code("R4", "a.py", 1)],
            full_key,
            check=lambda r: _is(len(r.findings[0].description) <= 8193, True),
        ),
        Case(
            "fields of an unexpected shape",
            "sarif",
            odd,
            [code("R5", "b.py", 2)],
            full_key,
            notices=True,
        ),
    ]


def _is(value: Any, expected: Any) -> None:
    assert value == expected, value
