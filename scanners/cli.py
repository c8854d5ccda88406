"""Command line: ``parse FILE``, ``formats`` and ``scan PATH...`` (the model-file scanner).

Exit codes: 0 success, 1 findings at or above ``--fail-on`` (scan only), 2 usage, I/O or
report errors - always with one line on stderr.
"""

from __future__ import annotations

import argparse
import sys

import orjson

from scanners import ReportError, parse
from scanners.registry import available
from scanners.sarif_writer import to_sarif


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def _build() -> _Parser:
    p = _Parser(prog="python -m scanners", description="Warden report parsers and scanner")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    pp = sub.add_parser("parse", help="parse a report into normalized findings")
    pp.add_argument("file")
    pp.add_argument(
        "--scan-type",
        "--type",  # the flag's first name, kept working
        dest="scan_type",
        default=None,
        help="the report's format, one of `python -m scanners formats` (default: detected)",
    )
    pp.add_argument("--format", choices=("json", "sarif"), default="json")
    sub.add_parser("formats", help="list supported scan types")
    sc = sub.add_parser("scan", help="scan model files and directories (never loads them)")
    sc.add_argument("paths", nargs="+")
    sc.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    sc.add_argument(
        "--fail-on",
        choices=("critical", "high", "medium", "low"),
        default="high",
        help="exit 1 when a finding at or above this severity is found (default: high)",
    )
    return p


def _cmd_parse(args: argparse.Namespace) -> int:
    try:
        with open(args.file, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        sys.stderr.write(f"error: cannot read {args.file}: {exc.strerror or exc}\n")
        return 2
    try:
        report = parse(data, filename=args.file, scan_type=args.scan_type)
    except ReportError as exc:
        sys.stderr.write(f"error: {args.file}: {str(exc).splitlines()[0] if str(exc) else exc}\n")
        return 2
    doc = to_sarif([report]) if args.format == "sarif" else report.to_dict()
    sys.stdout.buffer.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    return 0


def _cmd_formats() -> int:
    for scan_type, module in available().items():
        sys.stdout.write(f"{scan_type:22} {module.CATEGORY:11} {module.DESCRIPTION}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _build().parse_args(argv)
    if args.command == "parse":
        return _cmd_parse(args)
    if args.command == "formats":
        return _cmd_formats()
    from scanners.modelfile.cli import scan_main

    return scan_main(args)
