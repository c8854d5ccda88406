"""Warden's scanners: report parsers and the model-file scanner. Plain Python, no Django.

``parse(data)`` turns any supported report into a :class:`Report` of
:class:`NormalizedFinding`; nothing in a report is ever executed, imported or opened.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from scanners.findings import CATEGORIES, SEVERITIES, NormalizedFinding, Report, ReportError
from scanners.registry import PARSERS, available, load

_T = TypeVar("_T")

if TYPE_CHECKING:  # the Document (and orjson) load on first parse: `warden` needs neither
    from scanners.document import Document

__all__ = [
    "CATEGORIES",
    "SEVERITIES",
    "NormalizedFinding",
    "Report",
    "ReportError",
    "detect",
    "parse",
]


#: How a user names a format explicitly (the CLI flag; the API field is ``scan_type``).
SCAN_TYPE_FLAG = "--scan-type"


def detect(doc: Document) -> str:
    """The scan type of a report, from its content. Raises ReportError when none matches."""
    for scan_type, module in available().items():
        try:
            if module.sniff(doc):
                return scan_type
        except Exception:  # noqa: S112 - a sniffer that trips on odd input just says no
            continue
    if doc.json is None and doc.jsonl is None:
        problem = doc.problem()
        if problem:
            raise ReportError(f"unknown format: {problem}")
    kind = "JSON" if doc.json is not None else "JSON Lines" if doc.jsonl is not None else "text"
    raise ReportError(
        f"unknown format: this {kind} document matches none of the supported report formats; "
        f"name its format with {SCAN_TYPE_FLAG} (one of: {', '.join(PARSERS)})"
    )


def parse(data: bytes, *, filename: str | None = None, scan_type: str | None = None) -> Report:
    """Parse a report. ``scan_type`` is detected from the content when not given."""
    # Decoding and parsing build (and then free) one large acyclic tree of containers; the
    # cyclic GC would re-scan it again and again, doubling the time of a big report. It is
    # paused for the call and the decoded document is freed before it resumes.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse(data, filename, scan_type)
    finally:
        if gc_was_enabled:
            gc.enable()


def _parse(data: bytes, filename: str | None, scan_type: str | None) -> Report:
    from scanners.document import Document

    doc = Document(data, filename)  # any byte-order mark and UTF-16/32 become UTF-8 here
    if scan_type is None:
        for direct_type, module in available().items():
            direct = getattr(module, "parse_direct", None)
            if direct is not None:
                report: Report | None = _guarded(direct_type, direct, doc.data)
                if report is not None:
                    return report
        scan_type = detect(doc)
    elif scan_type not in PARSERS:
        raise ReportError(
            f"unknown scan type {_short(scan_type)!r} given with {SCAN_TYPE_FLAG}; "
            f"supported: {', '.join(PARSERS)}"
        )
    try:
        module = load(scan_type)
    except ModuleNotFoundError as exc:
        raise ReportError(f"{scan_type}: parser not available") from exc
    try:
        parsed: Report = _guarded(scan_type, module.parse, doc)
    except ReportError as exc:
        # Bytes that start like JSON but are not valid JSON (nor JSON Lines): that is the
        # problem to name, whatever the parser tripped on first.
        own = getattr(module, "OWN_JSON_ERRORS", False)
        if not own and doc.first_byte() in (b"{", b"[") and doc.json is None and doc.jsonl is None:
            problem = doc.problem()
            if problem:
                raise ReportError(f"{scan_type}: {problem}") from exc
        raise
    return parsed


def _short(text: str) -> str:
    return " ".join(text.split())[:60]


def _guarded(scan_type: str, parse: Callable[[Any], _T], arg: object) -> _T:
    try:
        return parse(arg)
    except ReportError as exc:
        message = str(exc)
        if "\n" in message or "\r" in message:  # the one-line contract, whatever raised it
            raise ReportError(" ".join(message.split())) from exc
        raise
    except RecursionError as exc:
        raise ReportError(
            f"{scan_type}: the report is nested too deeply to read (no supported tool writes that)"
        ) from exc
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        # A parser bug on hostile input must still surface as a clean ReportError.
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
        raise ReportError(f"{scan_type}: malformed report ({detail})") from exc
