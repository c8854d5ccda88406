"""Request body parsers beyond DRF's own."""

from __future__ import annotations

from typing import Any

import orjson
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class PlainTextParser(BaseParser):
    """A UTF-8 text body (Prometheus' text exposition, ``text/plain; version=0.0.4``)."""

    media_type = "text/plain"

    def parse(  # type: ignore[override]  # DRF allows any parsed value; the stubs say mapping
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> str:
        raw = stream.read()
        try:
            text: str = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("the body is not UTF-8 text") from None
        if "\x00" in text:
            raise ParseError("the body contains a NUL character")
        return text


class FastJSONParser(BaseParser):
    """JSON through orjson, for bodies the view validates field by field itself (a batch of
    10,000 runtime events): orjson refuses lone surrogates on its own, and the view checks
    every string it stores for NUL, so the generic walk of StrictJSONParser is not needed."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return orjson.loads(stream.read())
        except orjson.JSONDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
