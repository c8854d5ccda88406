"""A report's bytes, decoded at most once (JSON or JSON Lines), shared by sniffing and parsing.

Reports arrive in whatever encoding the tool (or the shell that redirected its output) wrote:
UTF-8, UTF-8 with a byte-order mark (.NET tools), UTF-16 with a BOM (PowerShell's ``>``),
UTF-32. :func:`to_utf8` turns all of them into plain UTF-8 first, so detection and every
parser only ever see UTF-8 text.
"""

from __future__ import annotations

import gc
import re
from typing import Any

import orjson

from scanners.findings import ReportError

_UNSET: Any = object()

#: Byte-order marks, longest first (the UTF-32 LE mark starts with the UTF-16 LE one).
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
)
#: A JSON document's first character (RFC 4627 section 3: the NUL pattern of its first
#: bytes tells UTF-16/32 without a BOM apart).
_JSON_START = frozenset(b"{[ \t\r\n")
#: Deepest nesting orjson decodes; deeper documents are refused with a clean message.
MAX_DEPTH = 1024
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1f\x7f]")
_LEADING_SPACE = re.compile(rb"[ \t\r\n]*")


def first_byte(data: bytes) -> bytes:
    """The first byte after JSON whitespace (``b""`` for none), without copying a report that
    may be 200 MB the way ``data.lstrip()`` does when it starts with whitespace."""
    start = _LEADING_SPACE.match(data).end()  # type: ignore[union-attr]  # always matches
    return data[start : start + 1]


def to_utf8(data: bytes) -> tuple[bytes, str]:
    """``(the report as UTF-8 without a BOM, what it was)``; ``what`` is ``""`` for plain
    UTF-8 (returned as is, without a copy). Raises :class:`ReportError` when a BOM promises
    an encoding the bytes do not hold."""
    head = data[:4]
    for bom, codec, name in _BOMS:
        if head.startswith(bom):
            if codec == "utf-8":
                return data[len(bom) :], "UTF-8 with a byte-order mark"
            return _recode(data[len(bom) :], codec, name), f"{name} with a byte-order mark"
    if b"\x00" in head:
        codec = _nul_pattern(head)
        if codec:
            name = "UTF-32" if codec.startswith("utf-32") else "UTF-16"
            return _recode(data, codec, name), name
    return data, ""


def _nul_pattern(head: bytes) -> str:
    """The UTF-16/32 codec whose NUL pattern the first four bytes of a JSON text show."""
    if len(head) < 4:
        return ""
    zero = [b == 0 for b in head]
    if zero == [True, True, True, False] and head[3] in _JSON_START:
        return "utf-32-be"
    if zero == [False, True, True, True] and head[0] in _JSON_START:
        return "utf-32-le"
    if zero[0] and not zero[1] and zero[2] and head[1] in _JSON_START:
        return "utf-16-be"
    if not zero[0] and zero[1] and not zero[2] and head[0] in _JSON_START:
        return "utf-16-le"
    return ""


def _recode(data: bytes, codec: str, name: str) -> bytes:
    try:
        return data.decode(codec).encode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise ReportError(
            f"the report is marked as {name} but is not valid {name} (at byte {exc.start}); "
            "save it again as UTF-8"
        ) from None


def position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based ``(line, column)`` of a byte offset (columns count bytes)."""
    offset = max(0, min(offset, len(data)))
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, offset - start + 1


def utf8_problem(data: bytes) -> str:
    """ "" when ``data`` is valid UTF-8, else where it is not, in the user's terms."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = position(data, exc.start)
        return (
            f"not valid UTF-8 at line {line} column {column} (byte 0x{data[exc.start]:02X}); "
            "save the report as UTF-8"
        )
    return ""


def json_problem(data: bytes) -> str:
    """Why ``data`` is not one JSON value, as ``not valid JSON at line L column C (...)``
    (the tool's output was cut, edited or is not JSON). "" when it is valid JSON."""
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "UTF-8" in exc.msg:
            return utf8_problem(data) or f"not valid JSON ({exc.msg})"
        if "depth" in exc.msg or "ecursion" in exc.msg:
            return f"the JSON is nested more than {MAX_DEPTH} levels deep"
        line, column = exc.lineno, exc.colno
        ends_early = exc.pos >= len(data.rstrip())
        why = "the report ends early; was it cut off?" if ends_early else exc.msg
        return f"not valid JSON at line {line} column {column} ({why})"
    except RecursionError:  # pragma: no cover - orjson has its own depth limit
        return f"the JSON is nested more than {MAX_DEPTH} levels deep"
    return ""


def jsonl_problem(data: bytes) -> str:
    """Why ``data`` is not JSON Lines (the first line that is not JSON), else ""."""
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            if "UTF-8" in exc.msg:
                return utf8_problem(data) or f"line {number} is not valid UTF-8"
            cut = exc.pos >= len(line.rstrip())
            why = "the line ends early; was the report cut off?" if cut else exc.msg
            return f"line {number} column {exc.colno} is not valid JSON ({why})"
    return ""


def looks_binary(data: bytes) -> bool:
    """True when the first 8 KB cannot be a text report: a NUL byte, bytes that are not
    UTF-8, or many control characters."""
    head = data[:8192]
    if not head:
        return False
    if b"\x00" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the 8 KB boundary
            return True
    return len(_CONTROL.findall(head)) * 20 > len(head)


class Document:
    """Lazy views of one report. JSON goes through orjson only: data, never code.

    ``data`` is always UTF-8 (see :func:`to_utf8`); ``encoding`` says what the report was
    when it was not plain UTF-8 (``"UTF-16 with a byte-order mark"``), else ``""``."""

    __slots__ = ("_json", "_jsonl", "_text", "data", "encoding", "filename")

    def __init__(self, data: bytes, filename: str | None = None) -> None:
        self.data, self.encoding = to_utf8(data)
        self.filename = filename
        self._json: Any = _UNSET
        self._jsonl: Any = _UNSET
        self._text: Any = _UNSET

    def first_byte(self) -> bytes:
        """The first byte after whitespace (``b""`` for none), without copying the report."""
        return first_byte(self.data)

    @property
    def json(self) -> Any:
        """The decoded JSON document, or ``None`` when the bytes are not one JSON value."""
        if self._json is _UNSET:
            if self.first_byte() in (b"{", b"["):
                # orjson builds the whole tree at once: pausing the cyclic GC meanwhile keeps
                # it from re-scanning hundreds of thousands of fresh containers (decoding a
                # 30 MB report takes about half the time). Decoded JSON holds no cycles.
                gc_was_enabled = gc.isenabled()
                gc.disable()
                try:
                    self._json = orjson.loads(self.data)
                except orjson.JSONDecodeError:
                    self._json = None
                finally:
                    if gc_was_enabled:
                        gc.enable()
            else:
                self._json = None
        return self._json

    @property
    def jsonl(self) -> list[Any] | None:
        """Decoded JSON Lines (blank lines skipped), or ``None`` when any line is not JSON
        or the document is a single JSON value."""
        if self._jsonl is _UNSET:
            rows: list[Any] | None = []
            if self.json is not None or self.first_byte() != b"{":
                rows = None
            else:
                assert rows is not None
                for line in self.data.splitlines():
                    if not line.strip():
                        continue
                    try:
                        rows.append(orjson.loads(line))
                    except orjson.JSONDecodeError:
                        rows = None
                        break
            self._jsonl = rows
        return self._jsonl  # type: ignore[no-any-return]

    @property
    def text(self) -> str:
        """The bytes as UTF-8 text (invalid bytes replaced)."""
        if self._text is _UNSET:
            self._text = self.data.decode("utf-8", "replace")
        return self._text  # type: ignore[no-any-return]

    def problem(self) -> str:
        """Why no format could read this document, in the user's terms (one line)."""
        data = self.data
        if not data.strip():
            return "the report is empty"
        head = self.first_byte()
        if head in (b"{", b"["):
            lines = [line for line in data.splitlines()[:3] if line.strip()]
            if head == b"{" and len(lines) > 1 and not json_problem(lines[0]):
                return f"not valid JSON Lines: {jsonl_problem(data)}"
            return json_problem(data) or "not a JSON document"
        if looks_binary(data):
            return "the report is binary data, not a JSON, JSON Lines or text report"
        return ""
