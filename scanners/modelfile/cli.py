"""``python -m scanners scan PATH... [--format text|json|sarif] [--fail-on LEVEL]``.

Exit codes: 0 nothing at or above ``--fail-on`` (default high), 1 something was, 2 a usage
or I/O error (one line on stderr; results for the readable files are still printed).
"""

from __future__ import annotations

import argparse
import os
import sys

import orjson

from scanners.modelfile.engine import FileResult, ScanResults, scan_path
from scanners.modelfile.report import summary, to_json_doc, to_report
from scanners.sarif_writer import to_sarif
from scanners.severity import SEVERITY_RANK


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def render_text(results: list[FileResult]) -> str:
    lines: list[str] = []
    for r in results:
        state = r.max_severity.upper() if r.max_severity else "clean"
        lines.append(f"{r.path}  [{r.format}, {_size(r.size)}]  {state}")
        for f in r.findings:
            where = f.archive_member or "-"
            at = f" @{f.byte_offset}" if f.byte_offset is not None else ""
            at += f" line {f.line}" if f.line is not None else ""
            lines.append(f"  {f.severity.upper():8} {f.rule_id:38} {where}{at}")
            lines.append(f"           {f.title}")
    s = summary(results)
    counts = ", ".join(f"{n} {sev}" for sev, n in s["by_severity"].items() if n)
    lines.append(
        f"Scanned {s['files']} file(s): {s['findings']} finding(s)"
        + (f" ({counts})" if counts else "")
    )
    return "\n".join(lines) + "\n"


def scan_main(args: argparse.Namespace) -> int:
    paths: list[str] = list(args.paths)
    fmt: str = args.format
    fail_on: str = args.fail_on
    for p in paths:
        if not os.path.exists(p):
            sys.stderr.write(f"error: cannot read {p}: no such file or directory\n")
            return 2
    results = ScanResults()
    # Only the JSON document carries file hashes; hashing is the one step that reads every
    # byte of a large checkpoint, so text and SARIF output skip it.
    want_hash = fmt == "json"
    try:
        for p in paths:
            results.add(scan_path(p, sha256=want_hash))
    except OSError as exc:
        sys.stderr.write(f"error: {exc.filename or ''}: {exc.strerror or exc}\n")
        return 2
    if fmt == "json":
        out = orjson.dumps(to_json_doc(results), option=orjson.OPT_INDENT_2) + b"\n"
    elif fmt == "sarif":
        out = orjson.dumps(to_sarif([to_report(results)]), option=orjson.OPT_INDENT_2) + b"\n"
    else:
        out = render_text(results).encode("utf-8", "replace")
    sys.stdout.buffer.write(out)
    sys.stdout.flush()
    unreadable = [r for r in results if r.error]
    if unreadable:
        sys.stderr.write(f"error: cannot read {unreadable[0].path}: {unreadable[0].error}\n")
        return 2
    threshold = SEVERITY_RANK[fail_on]
    hit = any(SEVERITY_RANK[f.severity] >= threshold for r in results for f in r.findings)
    return 1 if hit else 0
