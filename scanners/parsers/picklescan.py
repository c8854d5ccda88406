"""picklescan text output (it has no JSON), e.g. ``picklescan -g -p FILE > out.txt``.

Recognised lines (anything else is ignored):

- ``<file>[:<member>]: dangerous import '<module> <name>' FOUND`` -> ``unsafe-import`` of
  ``module.name``, severity critical (picklescan only says "dangerous" for globals that run
  code, touch files or the network). ``global import`` (older wording) is read the same;
  ``suspicious import`` -> ``suspicious-import``, medium.
- ``ERROR: parsing pickle in <file>: <message>`` -> a warning and a ``not-scanned`` finding
  for that file (a broken pickle can still run its payload before the break).
- the ``SCAN SUMMARY`` block: ``Scanned files``, ``Infected files``, ``Dangerous globals``,
  ``Suspicious globals`` into metadata; ``Scanned files: 0`` -> ``not-scanned``.
- ``All globals found:`` (``-g``) ``* module.name - safety`` lines into metadata; they are
  not tied to a file, so "suspicious" ones there are counted, not reported as findings.
- ``exit=N`` (a captured exit code some CI wrappers append) into metadata.
"""

from __future__ import annotations

import re

from scanners.document import Document
from scanners.findings import NormalizedFinding, Report
from scanners.parsers import _modelfile_common as mf
from scanners.parsers._fields import Fields

SCAN_TYPE = "picklescan"
#: A text format: a line that starts with "{" is not broken JSON.
OWN_JSON_ERRORS = True
CATEGORY = "model_file"
DESCRIPTION = "picklescan text output: dangerous pickle imports per file and scan summary"

_F = Fields(SCAN_TYPE)
_FOUND = re.compile(
    r"^(?P<file>.+): (?P<level>dangerous|suspicious|global) import '(?P<g>[^']*)' FOUND$"
)
_PARSE_ERROR = re.compile(r"^ERROR: parsing pickle in (?P<file>.+?): (?P<msg>.*)$")
_SUMMARY_HEADER = "----------- SCAN SUMMARY -----------"
_COUNTER = re.compile(
    r"^(Scanned files|Infected files|Dangerous globals|Suspicious globals): (\d+)$"
)
_GLOBAL = re.compile(r"^\s*\*\s+(?P<name>\S+)\s+-\s+(?P<safety>\w+)\s*$")
_EXIT = re.compile(r"^exit=(\d+)$")
_SNIFF_HEAD = 65536


def sniff(doc: Document) -> bool:
    head = doc.data[:_SNIFF_HEAD].lstrip()
    if head[:1] in (b"{", b"["):
        return False
    text = head.decode("utf-8", "replace")
    if _SUMMARY_HEADER in text and "Scanned files:" in text:
        return True
    return any(_FOUND.match(line.strip()) for line in text.splitlines()[:200])


def parse(doc: Document) -> Report:
    report = Report(tool="picklescan", tool_version="", scan_type=SCAN_TYPE, category=CATEGORY)
    findings: list[NormalizedFinding] = []
    counters: dict[str, int] = {}
    globals_found: dict[str, list[str]] = {}
    in_summary = False
    exit_code: int | None = None

    for line_no, raw in enumerate(doc.text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line == _SUMMARY_HEADER:
            in_summary = True
            continue
        found = _FOUND.match(line)
        if found:
            import_name = mf.import_from_global(found.group("g"))
            if not import_name:
                _F.fail(f"line {line_no}", "dangerous import line without a module name")
            suspicious = found.group("level") == "suspicious"
            findings.append(
                mf.import_finding(
                    tool="picklescan",
                    tool_rule=f"{found.group('level')} import",
                    location=found.group("file"),
                    import_name=import_name,
                    severity="medium" if suspicious else "critical",
                    raw_severity=found.group("level"),
                    suspicious=suspicious,
                    description=line,
                    evidence={"line": line_no},
                )
            )
            continue
        error = _PARSE_ERROR.match(line)
        if error:
            report.warnings.append(f"picklescan could not parse {error.group('file')}")
            findings.append(
                mf.not_scanned(
                    tool="picklescan",
                    tool_rule="parse error",
                    location=error.group("file"),
                    reason=f"picklescan could not parse the pickle: {error.group('msg')}",
                )
            )
            continue
        if line.startswith("ERROR") or line.startswith("Unhandled exception"):
            report.warnings.append(f"picklescan line {line_no}: {line[:300]}")
            continue
        counter = _COUNTER.match(line)
        if counter and in_summary:
            counters[counter.group(1).lower().replace(" ", "_")] = int(counter.group(2))
            continue
        glob = _GLOBAL.match(raw)
        if glob and in_summary:
            globals_found.setdefault(glob.group("safety"), []).append(glob.group("name"))
            continue
        code = _EXIT.match(line)
        if code:
            exit_code = int(code.group(1))

    if not in_summary and not findings:
        _F.fail("", f'no "dangerous import" lines and no "{_SUMMARY_HEADER}" block')
    if not in_summary:
        report.warnings.append("picklescan output has no SCAN SUMMARY block: it may be cut short")
    if exit_code == 2:
        report.warnings.append("picklescan exited with 2 (unhandled exception)")
    if counters.get("scanned_files") == 0 or (exit_code == 2 and not findings):
        report.warnings.append(
            "picklescan scanned no file: the artifact was not scanned, which is not clean"
        )
        if not findings:
            findings.append(
                mf.not_scanned(
                    tool="picklescan",
                    tool_rule="Scanned files: 0",
                    location="",
                    reason="picklescan found no file it could scan",
                )
            )
    suspicious_globals = globals_found.get("suspicious", [])
    if suspicious_globals:
        report.warnings.append(
            f"picklescan listed {len(suspicious_globals)} suspicious global(s) not tied to a "
            "file; see metadata.globals"
        )

    report.findings = mf.merge(findings)
    report.metadata = {
        **counters,
        "globals": {k: v[:200] for k, v in globals_found.items()},
        "exit_code": exit_code,
    }
    return report
