"""The conformance harness: each format's generator (``gen_*.py``) gives :class:`Case` values,
variant shapes written from the tool's published schema and documentation (old and new
versions, optional fields absent, null where an object is expected, huge strings); the tests
parse every case as detected and as chosen, and in every byte encoding tools and shells
write (UTF-8 with and without a byte-order mark, UTF-16 and UTF-32 with one), and compare the
findings' key fields with what the case expects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from scanners.findings import NormalizedFinding, Report

#: How the same report reaches Warden: as written, or re-encoded by an editor or a shell.
ENCODINGS: dict[str, Callable[[bytes], bytes]] = {
    "utf-8": lambda b: b,
    "utf-8-bom": lambda b: b"\xef\xbb\xbf" + b,
    "utf-16-le-bom": lambda b: b.decode("utf-8").encode("utf-16"),  # PowerShell's ">"
    "utf-16-be-bom": lambda b: b"\xfe\xff" + b.decode("utf-8").encode("utf-16-be"),
    "utf-32-bom": lambda b: b.decode("utf-8").encode("utf-32"),
}
#: A string far longer than any field Warden keeps.
HUGE = "A" * 1_000_000

Key = tuple[Any, ...]


def by_rule(f: NormalizedFinding) -> Key:
    return (f.rule_id, f.state)


def dependency_key(f: NormalizedFinding) -> Key:
    return (f.vuln_id, f.ecosystem, f.package, f.package_version, f.fixed_version, f.state)


@dataclass
class Case:
    """One variant of one format and what parsing it must give."""

    name: str
    scan_type: str
    document: Any  # JSON-ready value (dumped as JSON, or as JSON Lines when ``jsonl``)
    findings: list[Key]  # sorted keys of the findings, by ``key``
    key: Callable[[NormalizedFinding], Key] = dependency_key
    jsonl: bool = False
    passed: int | None = None  # how many passed checks, when the format has them
    check: Callable[[Report], None] | None = None  # further assertions on the report
    notices: bool = False  # the variant is odd: it must leave a notice in warnings
    extra: dict[str, Any] = field(default_factory=dict)

    def data(self) -> bytes:
        if self.jsonl:
            return b"\n".join(orjson.dumps(row) for row in self.document) + b"\n"
        return orjson.dumps(self.document)


def keys(report: Report, key: Callable[[NormalizedFinding], Key]) -> list[Key]:
    return sorted((key(f) for f in report.findings), key=repr)


def full_key(f: NormalizedFinding) -> Key:
    """The fields a user reads first, whatever the category."""
    return (
        f.category,
        f.vuln_id or f.rule_id,
        f.ecosystem,
        f.package,
        f.package_version,
        f.fixed_version,
        f.state,
        f.file_path,
        f.line,
    )


def dep(
    vid: str,
    eco: str,
    pkg: str,
    version: str,
    fixed: str = "",
    state: str = "",
    path: str = "",
    line: int | None = None,
) -> Key:
    """``full_key`` of a dependency finding."""
    return ("dependency", vid, eco, pkg, version, fixed, state, path, line)


def code(rule: str, path: str, line: int | None, state: str = "") -> Key:
    """``full_key`` of a code finding."""
    return ("code", rule, "", "", "", "", state, path, line)
