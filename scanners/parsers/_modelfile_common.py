"""Shared rules for model-file findings: modelscan, picklescan, ModelAudit, fickling and
Warden's own model-file scanner all follow them, so one dangerous import in one file gets
one fingerprint whichever tool reported it.

Fingerprint
    ``fingerprint.make("model_file", rule_id, member, import)`` (see :func:`fingerprint`).

Rule ids (shared; the tool's own rule, severity and message go into ``evidence``)
    ``unsafe-import``
        a pickle global/import the tool calls dangerous: it can run code, spawn processes,
        touch files or the network (``posix.system``, ``builtins.eval``, ``subprocess.Popen``).
    ``suspicious-import``
        an import the tool does not trust but does not call dangerous (not on its allow-list,
        not standard library).
    ``dangerous-call``
        a call the tool flags without naming a module (fickling's ``eval(...)``).
    ``unsafe-operator``
        a code-running construct outside pickle (Keras ``Lambda`` layer, TensorFlow file ops);
        the "import" is ``framework.operator`` as the tool names it (``Keras.Lambda``).
    ``not-scanned``
        the tool could not read the file (corrupt archive, unknown format, pickle parse
        error, nothing scanned). It is not a clean result: malformed pickles that still load
        are a known way past scanners, so it is ``high``.
    ``<tool>/<rule>``
        anything else, under the tool's own rule id (``modelaudit/S201``).

Member (the "artifact member path" of the fingerprint)
    ``<file name>[:<path inside the archive>]`` -- ``model.pt:archive/data.pkl``, or
    ``model.pkl`` for a bare pickle. The file part is the last path component only: tools
    print absolute paths (picklescan), paths relative to the scan root (modelscan) or the
    path they were given (ModelAudit), and CI runs scan from temporary directories, so the
    directories would break both cross-tool and run-to-run matching. Two files with the same
    name in different folders of one artifact that carry the same import therefore share one
    finding; each location stays in its evidence. Separators are ``/``, ModelAudit's
    ``(pos N)`` suffix is dropped, a Windows drive or URL scheme is not taken for the
    file/member separator. The full location is kept in ``file_path``/``archive_member``.

Import (the "offending import")
    ``module.name`` exactly as stored in the pickle (``posix.system`` stays ``posix.system``:
    a pickle written on Windows says ``nt.system``, and that is a different artifact).
    picklescan's ``'posix system'``, fickling's ``from posix import system`` and ModelAudit's
    ``posix.system`` all normalize to ``posix.system``. Empty when the finding is not about an
    import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from scanners.evidence import trim
from scanners.findings import NormalizedFinding
from scanners.fingerprint import make
from scanners.severity import SEVERITY_RANK, worst
from scanners.taxonomy import ATLAS_UNSAFE_ARTIFACT, OWASP_ML_SUPPLY_CHAIN

CATEGORY = "model_file"

UNSAFE_IMPORT = "unsafe-import"
SUSPICIOUS_IMPORT = "suspicious-import"
DANGEROUS_CALL = "dangerous-call"
UNSAFE_OPERATOR = "unsafe-operator"
NOT_SCANNED = "not-scanned"

REMEDIATION_UNSAFE = (
    "Do not load this artifact. Get the model from a trusted source in a format that cannot "
    "run code (safetensors, ONNX, GGUF), or re-export it yourself in a trusted environment."
)
REMEDIATION_NOT_SCANNED = (
    "Treat the artifact as unverified and do not load it: find out why the scanner could not "
    "read it (corrupt or unsupported file, parse error) and scan it again."
)

_POS_SUFFIX = re.compile(r"\s*\((?:pos|position|offset)\s+\d+\)\s*$")
_DRIVE = re.compile(r"^[A-Za-z]:/")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/]*")
_FROM_IMPORT = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+\(?([^)]*)\)?\s*$")
_PLAIN_IMPORT = re.compile(r"^\s*import\s+(.+)$")


def split_location(location: str) -> tuple[str, str]:
    """``("dir/model.pt", "archive/data.pkl")`` from ``dir/model.pt:archive/data.pkl (pos 42)``."""
    loc = _POS_SUFFIX.sub("", location.strip()).replace("\\", "/")
    start = 0
    if _DRIVE.match(loc):
        start = 2
    else:
        scheme = _SCHEME.match(loc)
        if scheme:
            start = scheme.end()
    cut = loc.find(":", start)
    if cut < 0:
        return loc, ""
    return loc[:cut], _clean_member(loc[cut + 1 :])


def member_key(location: str) -> str:
    """The fingerprint's member part: ``model.pt:archive/data.pkl`` (see module docs)."""
    file_path, member = split_location(location)
    name = file_path.rstrip("/").rsplit("/", 1)[-1]
    return f"{name}:{member}" if member else name


def normalize_import(module: str, name: str = "") -> str:
    """``module.name`` from a module and a name (either may be empty)."""
    m = module.strip().strip(".")
    n = name.strip().strip(".")
    if m and n:
        return f"{m}.{n}"
    return m or n


def import_from_global(text: str) -> str:
    """``posix.system`` from a pickle GLOBAL argument ``posix system`` (as picklescan prints
    it) or from an already dotted ``posix.system``."""
    parts = text.split()
    if len(parts) == 2:
        return normalize_import(parts[0], parts[1])
    return text.strip()


def imports_from_statement(code: str) -> list[str]:
    """``["posix.system"]`` from ``from posix import system`` (fickling's rendering);
    ``["os"]`` from ``import os``. Aliases (``as x``) are dropped; ``[]`` if not an import."""
    match = _FROM_IMPORT.match(code)
    if match:
        module = match.group(1)
        out = []
        for part in match.group(2).split(","):
            name = part.strip().split(" as ")[0].strip()
            if name:
                out.append(normalize_import(module, name))
        return out
    match = _PLAIN_IMPORT.match(code)
    if match:
        return [p.strip().split(" as ")[0].strip() for p in match.group(1).split(",") if p.strip()]
    return []


def fingerprint(rule_id: str, location: str, import_name: str = "") -> str:
    return make(CATEGORY, rule_id, member_key(location), import_name)


def finding(
    *,
    tool: str,
    rule_id: str,
    tool_rule: str,
    title: str,
    severity: str,
    location: str,
    import_name: str = "",
    key: str = "",
    raw_severity: str = "",
    description: str = "",
    remediation: str = REMEDIATION_UNSAFE,
    references: Iterable[str] = (),
    evidence: dict[str, Any] | None = None,
) -> NormalizedFinding:
    """One model-file finding with the shared fingerprint and taxonomy (ATLAS
    AML.T0011.000 / AML.T0010.003, OWASP ML06:2023). ``key`` stands in for the import in the
    fingerprint of a finding that is not about an import (a call, a message) so that two
    different ones in one member stay apart."""
    file_path, member = split_location(location)
    ev: dict[str, Any] = {"tool_rule": tool_rule, "location": location.strip()}
    if import_name:
        ev["import"] = import_name
    if evidence:
        ev.update(evidence)
    return NormalizedFinding(
        fingerprint=fingerprint(rule_id, location, import_name or key),
        category=CATEGORY,
        tool=tool,
        rule_id=rule_id,
        title=title,
        severity=severity,
        description=description,
        raw_severity=raw_severity,
        file_path=file_path,
        archive_member=member,
        atlas=list(ATLAS_UNSAFE_ARTIFACT),
        owasp_ml=[OWASP_ML_SUPPLY_CHAIN],
        references=list(references),
        remediation=remediation,
        evidence=trim(ev),
    )


def import_finding(
    *,
    tool: str,
    tool_rule: str,
    location: str,
    import_name: str,
    severity: str,
    raw_severity: str = "",
    suspicious: bool = False,
    description: str = "",
    evidence: dict[str, Any] | None = None,
) -> NormalizedFinding:
    """An ``unsafe-import`` (or, with ``suspicious``, ``suspicious-import``) finding."""
    rule_id = SUSPICIOUS_IMPORT if suspicious else UNSAFE_IMPORT
    word = "Suspicious" if suspicious else "Unsafe"
    return finding(
        tool=tool,
        rule_id=rule_id,
        tool_rule=tool_rule,
        title=f"{word} import {import_name} in {member_key(location) or 'the artifact'}",
        severity=severity,
        location=location,
        import_name=import_name,
        raw_severity=raw_severity,
        description=description,
        evidence=evidence,
    )


def not_scanned(
    *, tool: str, tool_rule: str, location: str, reason: str, raw_severity: str = ""
) -> NormalizedFinding:
    """The artifact (or one file in it) was not scanned: ``high``, never clean."""
    name = member_key(location) or "the artifact"
    return finding(
        tool=tool,
        rule_id=NOT_SCANNED,
        tool_rule=tool_rule,
        title=f"{name} was not scanned",
        severity="high",
        location=location,
        raw_severity=raw_severity,
        description=reason,
        remediation=REMEDIATION_NOT_SCANNED,
        evidence={"reason": reason},
    )


def merge(findings: Iterable[NormalizedFinding]) -> list[NormalizedFinding]:
    """One finding per fingerprint, in first-seen order. A repeat raises the severity to the
    worst seen and is listed under ``evidence["also_reported_as"]`` (its tool rule, location,
    raw severity and title), so no detection is lost."""
    out: dict[str, NormalizedFinding] = {}
    for f in findings:
        first = out.get(f.fingerprint)
        if first is None:
            out[f.fingerprint] = f
            continue
        if SEVERITY_RANK.get(f.severity, -1) > SEVERITY_RANK.get(first.severity, -1):
            first.raw_severity = f.raw_severity
        first.severity = worst(first.severity, f.severity)
        also = first.evidence.setdefault("also_reported_as", [])
        if isinstance(also, list) and len(also) < 20:
            also.append(
                trim(
                    {
                        "tool_rule": f.evidence.get("tool_rule", ""),
                        "location": f.evidence.get("location", ""),
                        "raw_severity": f.raw_severity,
                        "title": f.title,
                    },
                    limit=600,
                )
            )
    return list(out.values())


def _clean_member(member: str) -> str:
    m = member.strip()
    while m.startswith("./"):
        m = m[2:]
    return m.lstrip("/")
