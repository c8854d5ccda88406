"""Warden's static model-file scanner: finds what runs when a model file is loaded.

It never loads, unpickles, imports or executes anything from a scanned file: pickles are
walked opcode by opcode by a stack/memo simulator (:mod:`.pickle_scan`), archives and
protobufs are parsed by hand, and every import is judged against an allow-list
(:mod:`.classify`).

- :func:`scan_path` - a file or a directory (recursively, read as a model repository too) ->
  :class:`ScanResults` (a ``list[FileResult]`` with the path's :class:`Target`: layouts,
  manifest)
- :func:`scan_bytes` - bytes in memory -> ``FileResult``
- :func:`to_report` - results -> a :class:`scanners.findings.Report` (for ingestion)

Formats are detected by content (magic bytes, zip end records, pickle opcodes, protobuf
shape), never by file name alone.
"""

from __future__ import annotations

from scanners.modelfile.archive import Limits
from scanners.modelfile.engine import (
    FileResult,
    ScanResults,
    Target,
    scan_bytes,
    scan_file,
    scan_path,
)
from scanners.modelfile.report import SCHEMA, VERSION, to_json_doc, to_report

__all__ = [
    "SCHEMA",
    "VERSION",
    "FileResult",
    "Limits",
    "ScanResults",
    "Target",
    "scan_bytes",
    "scan_file",
    "scan_path",
    "to_json_doc",
    "to_report",
]
