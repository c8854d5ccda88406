"""fickling ``--check-safety --json-output FILE``.

fickling *appends* one JSON object per analysed pickle to the file (``json.dump`` with
``indent=4``, no separator), so the file is a stream of concatenated JSON values, not an
array and not one object per line. :func:`json_values` splits it without evaluating
anything; each value is then decoded with orjson.

Each object is ``{"severity", "analysis", "detailed_results": {"AnalysisResult": {...}}}``.
``analysis`` holds one message per line, which is the complete list (``detailed_results``
keeps only the last trigger of each analysis). Messages become findings:

==================================================  ==========================  =========
message                                             rule id                     severity
==================================================  ==========================  =========
```from m import n`` is suspicious ...``           ``unsafe-import`` m.n       critical
```from m import n`` imports a Python module ...`` ``suspicious-import`` m.n   high
``Call to `f(...)` is almost certainly ...``         ``dangerous-call`` f        critical
``Call to `f(...)` can execute arbitrary code ...``  ``dangerous-call`` f        high
``Variable `v` is assigned value ... unused ...``   ``fickling/UnusedVariables``  medium
``... duplicate PROTO`` / ``PROTO opcode is not ...`` ``fickling/tampered-proto`` high
anything else                                       ``fickling/analysis``  from ``severity``
==================================================  ==========================  =========

fickling's report does not say which file it analysed, so findings have no file part
unless the caller passes ``parse(doc, artifact="model.pkl")`` (Warden's CI runner knows
which file it ran fickling on); with it, fingerprints match the other model-file tools.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers import _modelfile_common as mf
from scanners.parsers._fields import Fields

SCAN_TYPE = "fickling"
#: Reads its own stream of concatenated JSON objects and names a broken one by object and
#: byte: the generic "not valid JSON at line L column C" would be less precise.
OWN_JSON_ERRORS = True
CATEGORY = "model_file"
DESCRIPTION = "fickling --check-safety --json-output (one JSON object appended per pickle)"

_F = Fields(SCAN_TYPE)
SEVERITIES = {
    "OVERTLY_MALICIOUS": "critical",
    "LIKELY_OVERTLY_MALICIOUS": "critical",
    "LIKELY_UNSAFE": "high",
    "SUSPICIOUS": "medium",
    "LIKELY_SAFE": "info",
}
_SNIFF = re.compile(
    rb'^\s*\{\s*"severity"\s*:\s*"(?:OVERTLY_MALICIOUS|LIKELY_OVERTLY_MALICIOUS|LIKELY_UNSAFE|'
    rb'SUSPICIOUS|LIKELY_SAFE)"\s*,\s*"analysis"\s*:'
)
_UNSAFE = re.compile(r"^`(?P<code>.+)` is suspicious and indicative of an overtly malicious")
_NON_STANDARD = re.compile(r"^`(?P<code>.+)` imports a Python module that is not a part of")
_BAD_CALL = re.compile(r"^Call to `(?P<code>.+)` is almost certainly evidence of")
_CALL = re.compile(r"^Call to `(?P<code>.+)` can execute arbitrary code")
_UNUSED = re.compile(r"^Variable `(?P<var>[^`]+)` is assigned value `(?P<code>.*)` but unused")
_PROTO = re.compile(r"duplicate PROTO|PROTO opcode is not the first opcode")
_SAFE_NOTE = "Fickling failed to detect any overtly unsafe code"
_IMPORT_ANALYSES = ("UnsafeImports", "UnsafeImportsML", "NonStandardImports")


def sniff(doc: Document) -> bool:
    if _SNIFF.match(doc.data[:4096]):
        return True
    data = doc.json
    return isinstance(data, dict) and {"severity", "analysis", "detailed_results"} <= data.keys()


def parse(doc: Document, *, artifact: str = "") -> Report:
    """``artifact``: the file fickling analysed, when the caller knows it (see module docs)."""
    report = Report(tool="fickling", tool_version="", scan_type=SCAN_TYPE, category=CATEGORY)
    findings: list[NormalizedFinding] = []
    severities: list[str] = []
    for index, (offset, value) in enumerate(json_values(doc.data)):
        where = f"object {index + 1} (byte {offset})"
        result = _F.obj(value, where)
        raw = _F.req_str(result, "severity", where)
        if raw not in SEVERITIES:
            _F.fail(f"{where}.severity", f"unknown fickling severity {raw!r}")
        severities.append(raw)
        if raw != "LIKELY_SAFE":
            findings.extend(_findings(result, where, raw, index, artifact))
    if not severities:
        _F.fail("", "no JSON object in the report")
    report.findings = mf.merge(findings)
    report.metadata = {"pickles": len(severities), "severities": severities[:500]}
    if artifact:
        report.metadata["artifact"] = artifact
    return report


def _findings(
    result: dict[str, Any], where: str, raw: str, index: int, artifact: str
) -> list[NormalizedFinding]:
    analysis = _F.opt_str(result, "analysis", where)
    details = _F.opt_obj(_F.opt_obj(result, "detailed_results", where), "AnalysisResult", where)
    out: list[NormalizedFinding] = []
    seen: set[str] = set()
    base = {"pickle_index": index, "pickle_severity": raw}

    def add_import(code: str, tool_rule: str, suspicious: bool, message: str) -> bool:
        names = mf.imports_from_statement(code)
        for name in names:
            if name in seen:
                continue
            seen.add(name)
            out.append(
                mf.import_finding(
                    tool="fickling",
                    tool_rule=tool_rule,
                    location=artifact,
                    import_name=name,
                    severity="high" if suspicious else "critical",
                    raw_severity="LIKELY_UNSAFE" if suspicious else "LIKELY_OVERTLY_MALICIOUS",
                    suspicious=suspicious,
                    description=message,
                    evidence={**base, "code": code, "message": message},
                )
            )
        return bool(names)

    for line in (m.strip() for m in analysis.splitlines()):
        if not line or _SAFE_NOTE in line:
            continue
        if (m := _UNSAFE.match(line)) and add_import(m["code"], "UnsafeImports", False, line):
            continue
        if (m := _NON_STANDARD.match(line)) and add_import(
            m["code"], "NonStandardImports", True, line
        ):
            continue
        if (m := _BAD_CALL.match(line)) or (m := _CALL.match(line)):
            callee = m["code"].split("(", 1)[0].strip()
            critical = m.re is _BAD_CALL
            out.append(
                _other(
                    artifact,
                    mf.DANGEROUS_CALL,
                    "OvertlyBadEval",
                    f"Dangerous call {callee}(...) in {mf.member_key(artifact) or 'the pickle'}",
                    "critical" if critical else "high",
                    "OVERTLY_MALICIOUS" if critical else "LIKELY_UNSAFE",
                    line,
                    {**base, "code": m["code"], "callable": callee},
                    key=callee,
                )
            )
            continue
        if m := _UNUSED.match(line):
            out.append(
                _other(
                    artifact,
                    "fickling/UnusedVariables",
                    "UnusedVariables",
                    f"Unused variable assigned {m['code'][:80]}",
                    "medium",
                    "SUSPICIOUS",
                    line,
                    {**base, "variable": m["var"], "code": m["code"]},
                    key=m["code"],
                )
            )
            continue
        if _PROTO.search(line):
            out.append(
                _other(
                    artifact,
                    "fickling/tampered-proto",
                    "ProtoAnalysis",
                    line,
                    "high",
                    "LIKELY_UNSAFE",
                    line,
                    base,
                )
            )
            continue
        out.append(
            _other(
                artifact,
                "fickling/analysis",
                "analysis",
                line[:200],
                SEVERITIES[raw],
                raw,
                line,
                base,
                key=line,
            )
        )

    # detailed_results keeps the last trigger of each analysis: it catches an import whose
    # message wording this parser does not know (newer fickling versions).
    for name in _IMPORT_ANALYSES:
        trigger = details.get(name)
        if isinstance(trigger, str):
            add_import(trigger, name, name == "NonStandardImports", f"{name}: {trigger}")
    if not out:
        out.append(
            _other(
                artifact,
                "fickling/analysis",
                "severity",
                f"fickling rated the pickle {raw}",
                SEVERITIES[raw],
                raw,
                analysis,
                base,
            )
        )
    return out


def _other(
    artifact: str,
    rule_id: str,
    tool_rule: str,
    title: str,
    severity: str,
    raw: str,
    message: str,
    evidence: dict[str, Any],
    key: str = "",
) -> NormalizedFinding:
    return mf.finding(
        tool="fickling",
        rule_id=rule_id,
        tool_rule=tool_rule,
        title=title,
        severity=severity,
        location=artifact,
        key=key,
        raw_severity=raw,
        description=message,
        evidence={**evidence, "message": message},
    )


def json_values(data: bytes) -> Iterator[tuple[int, Any]]:
    """``(byte offset, value)`` for each JSON value in a stream of concatenated values
    (``{...}{...}``, ``{...}\\n{...}``, or one array). Strings and escapes are tracked so a
    brace inside a string does not count; every value is decoded by orjson. Raises
    ReportError naming the object and byte offset on malformed input."""
    n = len(data)
    i = 0
    index = 0
    while True:
        while i < n and data[i] in b" \t\r\n":
            i += 1
        if i >= n:
            return
        start = i
        opener = data[i]
        if opener not in b"{[":
            _F.fail(f"byte {i}", f"expected '{{' to start object {index + 1}, got {chr(opener)!r}")
        depth = 0
        in_string = False
        while i < n:
            c = data[i]
            if in_string:
                if c == 0x5C:  # backslash: skip the escaped byte
                    i += 2
                    continue
                if c == 0x22:
                    in_string = False
            elif c == 0x22:
                in_string = True
            elif c in b"{[":
                depth += 1
            elif c in b"}]":
                depth -= 1
                if depth == 0:
                    i += 1
                    break
            i += 1
        else:
            _F.fail(f"object {index + 1} (byte {start})", "unterminated JSON value")
        try:
            value = orjson.loads(data[start:i])
        except orjson.JSONDecodeError as exc:
            _F.fail(f"object {index + 1} (byte {start})", f"invalid JSON ({exc.msg})")
        if opener == ord("[") and isinstance(value, list):
            for item in value:
                yield start, item
        else:
            yield start, value
        index += 1
