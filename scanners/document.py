"""A report's bytes, decoded at most once (JSON or JSON Lines), shared by sniffing and parsing."""

from __future__ import annotations

import gc
from typing import Any

import orjson

_UNSET: Any = object()


class Document:
    """Lazy views of one report. JSON goes through orjson only: data, never code."""

    __slots__ = ("_json", "_jsonl", "_text", "data", "filename")

    def __init__(self, data: bytes, filename: str | None = None) -> None:
        self.data = data
        self.filename = filename
        self._json: Any = _UNSET
        self._jsonl: Any = _UNSET
        self._text: Any = _UNSET

    @property
    def json(self) -> Any:
        """The decoded JSON document, or ``None`` when the bytes are not one JSON value."""
        if self._json is _UNSET:
            head = self.data.lstrip()[:1]
            if head in (b"{", b"["):
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
            if self.json is not None or not self.data.lstrip().startswith(b"{"):
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
