"""Streamed downloads that know nothing of the domain: CSV and JSON written row by row, so a
response of any size holds one row in memory at a time."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from rest_framework.utils.encoders import JSONEncoder

#: A cell starting with one of these is read as a formula by spreadsheets (CSV injection):
#: such text cells are prefixed with an apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """A file-like object whose write returns what it was given (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any) -> str:
    """One value as a CSV cell: "" for None, true/false, lists of plain values joined by
    "; ", other lists and objects as JSON; text that a spreadsheet would run as a formula is
    prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple) and all(
        isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
    ):
        text = "; ".join(str(v) for v in value)
    elif isinstance(value, list | tuple | dict):
        text = json.dumps(value, sort_keys=True, cls=JSONEncoder)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The header and each row as CSV text, one line at a time."""
    writer = csv.writer(_Line())
    yield writer.writerow(list(header))
    for row in rows:
        yield writer.writerow([csv_cell(v) for v in row])


def json_array_lines(items: Iterable[Any]) -> Iterator[str]:
    """A JSON array, one element per line."""
    yield "["
    first = True
    for item in items:
        yield ("\n" if first else ",\n") + json.dumps(item, cls=JSONEncoder, ensure_ascii=False)
        first = False
    yield "\n]\n"


def json_lines(items: Iterable[Any]) -> Iterator[str]:
    """JSON lines (one object per line, for log shippers and SIEMs)."""
    for item in items:
        yield json.dumps(item, cls=JSONEncoder, ensure_ascii=False, sort_keys=True) + "\n"
