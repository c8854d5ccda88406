"""Evaluation and reference tables: CSV or Parquet, recognised by content, with a fingerprint
(the file's SHA-256, its size, row count and columns) recorded in every assessment."""

from __future__ import annotations

import codecs
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scanners.assess._deps import need
from scanners.assess.errors import AssessmentError

SNIFF = 64 << 10
_MAGIC = (
    (b"PK\x03\x04", "a zip archive (an Excel workbook or a zipped file?)"),
    (b"\x1f\x8b", "gzip-compressed (decompress it first)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/OLE document"),
    (b"ARROW1", "an Arrow IPC file"),
    (b"BZh", "bzip2-compressed (decompress it first)"),
    (b"\xfd7zXZ\x00", "xz-compressed (decompress it first)"),
)


@dataclass(slots=True)
class Table:
    """A loaded table. ``data`` is a ``pyarrow.Table``."""

    name: str
    format: str
    sha256: str
    size: int
    data: Any
    _frame: Any = field(default=None, repr=False)

    @property
    def rows(self) -> int:
        return int(self.data.num_rows)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.data.column_names]

    def frame(self) -> Any:
        """The table as a pandas DataFrame (converted once)."""
        if self._frame is None:
            self._frame = self.data.to_pandas()
        return self._frame

    def fingerprint(self) -> dict[str, Any]:
        """What the assessment ran on: ``sha256`` of the file as given, so anyone holding the
        file can check it (``sha256sum eval.csv``)."""
        return {
            "name": self.name,
            "format": self.format,
            "sha256": self.sha256,
            "bytes": self.size,
            "rows": self.rows,
            "columns": [{"name": str(f.name), "type": str(f.type)} for f in self.data.schema],
        }

    def require(self, column: str, role: str) -> None:
        if column not in self.columns:
            shown = ", ".join(self.columns[:20]) + (" ..." if len(self.columns) > 20 else "")
            raise AssessmentError(f"{self.name}: no column {column!r} ({role}); columns: {shown}")


def load_table(source: str | os.PathLike[str] | bytes, *, name: str | None = None) -> Table:
    """Read a CSV or Parquet table from a path or from bytes. The format is recognised from
    the content, never from the name; anything else is an :class:`AssessmentError`."""
    pa = need("pyarrow")
    if isinstance(source, bytes):
        label = name or "<data>"
        data = source
        head, tail, size = data[:SNIFF], data[-8:], len(data)
        sha = hashlib.sha256(data).hexdigest()
        reader: Any = pa.BufferReader(data)
    else:
        path = Path(source)
        label = name or path.name
        try:
            size = path.stat().st_size
            with open(path, "rb") as fh:
                head = fh.read(SNIFF)
                fh.seek(max(0, size - 8))
                tail = fh.read(8)
                fh.seek(0)
                sha = hashlib.file_digest(fh, "sha256").hexdigest()
        except FileNotFoundError:
            raise AssessmentError(f"{label}: no such file") from None
        except OSError as exc:
            raise AssessmentError(f"{label}: cannot read: {exc.strerror or exc}") from None
        reader = str(path)
    fmt = sniff(label, head, tail)
    table = _read_parquet(label, reader) if fmt == "parquet" else _read_csv(label, reader)
    names = [str(c) for c in table.column_names]
    duplicates = sorted({c for c in names if names.count(c) > 1})
    if duplicates:
        raise AssessmentError(f"{label}: duplicate column {duplicates[0]!r}")
    if table.num_rows == 0:
        raise AssessmentError(f"{label}: the table has no rows")
    return Table(name=label, format=fmt, sha256=sha, size=size, data=table)


def sniff(label: str, head: bytes, tail: bytes) -> str:
    """``parquet`` or ``csv`` from the first bytes (and the last 8), else AssessmentError."""
    if not head:
        raise AssessmentError(f"{label}: the file is empty")
    if head[:4] == b"PAR1":
        if tail[-4:] != b"PAR1":
            raise AssessmentError(f"{label}: a Parquet file without its footer (truncated?)")
        return "parquet"
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise AssessmentError(f"{label}: not CSV or Parquet: the file is {what}")
    if b"\x00" in head:
        raise AssessmentError(f"{label}: not CSV or Parquet: the file is binary")
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise AssessmentError(
            f"{label}: not CSV or Parquet: not UTF-8 text (byte {exc.start})"
        ) from None
    first = text.lstrip()[:1]
    if first in ("{", "["):
        raise AssessmentError(f"{label}: not CSV or Parquet: the file looks like JSON")
    if not text.strip():
        raise AssessmentError(f"{label}: the file is empty")
    return "csv"


def _read_csv(label: str, reader: Any) -> Any:
    pa = need("pyarrow")
    from pyarrow import csv  # type: ignore[import-untyped]

    try:
        return csv.read_csv(
            reader,
            convert_options=csv.ConvertOptions(strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeDecodeError) as exc:
        raise AssessmentError(f"{label}: not a valid CSV table: {_one_line(exc)}") from None


def _read_parquet(label: str, reader: Any) -> Any:
    pa = need("pyarrow")
    from pyarrow import parquet

    try:
        return parquet.read_table(reader)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
        raise AssessmentError(f"{label}: not a valid Parquet table: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300]
