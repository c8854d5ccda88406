"""Typed reads of decoded report JSON, failing with a one-line :class:`ReportError` that names
the format and the place (``garak: line 14: eval row missing "probe"``).

Every parser reads JSON through :class:`Fields` (``scanners.parsers._kit.Reader`` is the same
class); it never imports, opens or evaluates anything named in a report.
"""

from __future__ import annotations

from typing import Any, NoReturn

import orjson

from scanners.document import Document
from scanners.findings import ReportError


def at(where: str, key: str | int) -> str:
    """The JSON path of ``key`` under ``where``: ``results[2].comparator``."""
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


class Fields:
    """Readers bound to one format name, so every error message starts with it."""

    __slots__ = ("fmt",)

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt

    def fail(self, where: str, message: str) -> NoReturn:
        fail(self.fmt, where, message)

    # -- whole documents -------------------------------------------------------------------

    def json(self, doc: Document) -> Any:
        """The decoded JSON document; a precise error (line, column) when it is not JSON."""
        value = doc.json
        if value is not None:
            return value
        if not doc.data.strip():
            self.fail("", "the report is empty")
        try:
            return orjson.loads(doc.data)
        except orjson.JSONDecodeError as exc:
            self.fail(f"line {exc.lineno} column {exc.colno}", f"invalid JSON ({exc.msg})")

    def jsonl(self, doc: Document) -> list[tuple[int, Any]]:
        """``(line number, value)`` for each non-blank line of a JSON Lines document. A single
        JSON object on one line counts as one row."""
        rows: list[tuple[int, Any]] = []
        for number, line in enumerate(doc.data.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                rows.append((number, orjson.loads(line)))
            except orjson.JSONDecodeError as exc:
                self.fail(f"line {number}", f"invalid JSON ({exc.msg})")
        return rows

    # -- values ----------------------------------------------------------------------------

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"expected an object, got {kind(value)}")
        return value

    def arr(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(where, f"expected an array, got {kind(value)}")
        return value

    def opt_obj(self, parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        """``parent[key]`` as an object; ``{}`` when missing or null."""
        value = parent.get(key)
        return {} if value is None else self.obj(value, at(where, key))

    def opt_arr(self, parent: dict[str, Any], key: str, where: str) -> list[Any]:
        """``parent[key]`` as an array; ``[]`` when missing or null."""
        value = parent.get(key)
        return [] if value is None else self.arr(value, at(where, key))

    def req(self, parent: dict[str, Any], key: str, where: str) -> Any:
        if key not in parent or parent[key] is None:
            self.fail(where, f'missing "{key}"')
        return parent[key]

    def req_str(self, parent: dict[str, Any], key: str, where: str) -> str:
        value = self.req(parent, key, where)
        if not isinstance(value, str):
            self.fail(at(where, key), f"expected a string, got {kind(value)}")
        if not value.strip():
            self.fail(at(where, key), "must not be empty")
        return value

    def opt_str(self, parent: dict[str, Any], key: str, where: str, default: str = "") -> str:
        """``parent[key]`` as text; numbers are accepted and written out, null gives
        ``default``."""
        value = parent.get(key)
        if value is None:
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self.fail(at(where, key), f"expected a string, got {kind(value)}")

    def opt_num(self, parent: dict[str, Any], key: str, where: str) -> float | None:
        """``parent[key]`` as a number (numeric strings accepted); ``None`` when missing,
        null or ``""`` (tools write an empty string for "no score")."""
        value = parent.get(key)
        if value is None or value == "":
            return None
        number = as_number(value)
        if number is None:
            self.fail(at(where, key), f"expected a number, got {kind(value)}")
        return number

    def req_num(self, parent: dict[str, Any], key: str, where: str) -> float:
        number = self.opt_num(parent, key, where)
        if number is None:
            self.fail(where, f'missing "{key}"')
        return number

    def opt_int(self, parent: dict[str, Any], key: str, where: str) -> int | None:
        number = self.opt_num(parent, key, where)
        if number is None:
            return None
        if number != int(number) or number < 0:
            self.fail(at(where, key), f"expected a whole number >= 0, got {parent[key]!r}")
        return int(number)

    def str_list(self, parent: dict[str, Any], key: str, where: str) -> list[str]:
        """A list of strings at ``key`` (``[]`` when missing); non-strings are an error."""
        items = self.opt_arr(parent, key, where)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                self.fail(at(at(where, key), i), f"expected a string, got {kind(item)}")
        return items

    def opt_line(self, parent: dict[str, Any], key: str, where: str) -> int | None:
        """A 1-based line number, ``None`` when missing, zero or negative."""
        number = self.opt_num(parent, key, where)
        if number is None or number < 1 or number != int(number):
            return None
        return int(number)


#: Most notices kept per report; the rest are counted.
MAX_NOTES = 20


class Notes:
    """Notices of one report (fields left out, entries skipped): the first
    :data:`MAX_NOTES` in full, the rest counted. They end up in ``Report.warnings``."""

    __slots__ = ("fmt", "lines", "more")

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.lines: list[str] = []
        self.more = 0

    def add(self, where: str, message: str) -> None:
        if len(self.lines) < MAX_NOTES:
            text = f"{self.fmt}: {where}: {message}" if where else f"{self.fmt}: {message}"
            self.lines.append(" ".join(text.splitlines()))
        else:
            self.more += 1

    def all(self) -> list[str]:
        if self.more:
            return [*self.lines, f"{self.fmt}: {self.more} more fields were left out"]
        return list(self.lines)


class Lenient:
    """Readers for the optional fields of a decoded report: a value of an unexpected type is
    left out (the default is returned) and a notice naming its path is recorded, so one odd
    field costs that field, not the import. Use :class:`Fields` for what a report means
    (its records and their identity), which stay strict."""

    __slots__ = ("fmt", "notes")

    def __init__(self, fmt: str, notes: Notes | None = None) -> None:
        self.fmt = fmt
        self.notes = notes or Notes(fmt)

    def _left_out(self, where: str, value: Any, want: str) -> None:
        self.notes.add(where, f"expected {want}, got {kind(value)}; left out")

    def obj(self, parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
        value = parent.get(key)
        if isinstance(value, dict):
            return value
        if value is not None:
            self._left_out(at(where, key), value, "an object")
        return {}

    def arr(self, parent: dict[str, Any], key: str, where: str) -> list[Any]:
        value = parent.get(key)
        if isinstance(value, list):
            return value
        if value is not None:
            self._left_out(at(where, key), value, "an array")
        return []

    def text(self, parent: dict[str, Any], key: str, where: str, default: str = "") -> str:
        value = parent.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"{value}"
        if value is not None:
            self._left_out(at(where, key), value, "a string")
        return default

    def texts(self, parent: dict[str, Any], key: str, where: str) -> list[str]:
        """A list of strings; a single string is read as a one-item list."""
        value = parent.get(key)
        if isinstance(value, str):
            return [value]
        out: list[str] = []
        for i, item in enumerate(self.arr(parent, key, where)):
            if isinstance(item, str):
                out.append(item)
            elif item is not None:
                self._left_out(at(at(where, key), i), item, "a string")
        return out

    def number(self, parent: dict[str, Any], key: str, where: str) -> float | None:
        value = parent.get(key)
        if value is None or value == "":
            return None
        number = as_number(value)
        if number is None:
            self._left_out(at(where, key), value, "a number")
        return number

    def flag(self, parent: dict[str, Any], key: str, where: str) -> bool | None:
        value = parent.get(key)
        if isinstance(value, bool):
            return value
        if value is not None:
            self._left_out(at(where, key), value, "true or false")
        return None


def fail(fmt: str, where: str, message: str) -> NoReturn:
    """Raise the one-line ReportError ``<fmt>: <where>: <message>`` (newlines folded, so a
    key or value from the report cannot break the one-line contract)."""
    text = f"{fmt}: {where}: {message}" if where else f"{fmt}: {message}"
    raise ReportError(" ".join(text.splitlines()))


def as_number(value: Any) -> float | None:
    """A finite float from a JSON number or numeric string; ``None`` otherwise (booleans are
    not numbers here)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return number


def kind(value: Any) -> str:
    """A JSON type name for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_kind = kind  # the name the model-file/assessment parsers import
