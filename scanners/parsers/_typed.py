"""Typed JSON decoding for the formats whose reports get very large (Trivy and Grype image
scans).

:mod:`msgspec` decodes straight into ``Struct`` classes that declare only the fields Warden
keeps: everything else in the report is skipped without building Python objects, and every
kept value arrives already checked against its declared type. That is what makes a
30 MB report parse several times faster than decoding the whole tree with orjson and
walking it. The decoder is data-only, like orjson: nothing in a report is executed.

A report that does not fit the declared types raises :class:`ReportError` in the parsers'
usual one-line form, ``trivy: Results[0].Vulnerabilities[3].PkgName: expected a string, got
a number``, translated from msgspec's own message.
"""

from __future__ import annotations

import re
from typing import NoReturn, TypeVar

import msgspec

from scanners.parsers._fields import fail

T = TypeVar("T")

_LEADING_SPACE = re.compile(rb"[ \t\r\n]*")
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_EXPECTED = re.compile(r"^Expected `(?P<want>[^`]*)`, got `(?P<got>[^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]*)`$")
_NAMES = {
    "str": "a string",
    "int": "a number",
    "float": "a number",
    "bool": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def _type_name(spec: str) -> str:
    """msgspec's ``array | null`` -> ``an array``: null is never the interesting part."""
    parts = [p.strip() for p in spec.split("|")]
    named = dict.fromkeys(_NAMES.get(p, p) for p in parts if p != "null" or len(parts) == 1)
    return " or ".join(named)


def _path(raw: str) -> str:
    """msgspec's ``$.Results[0].Target`` -> ``Results[0].Target`` (``$[2]`` -> ``[2]``)."""
    return raw[1:] if raw.startswith(".") else raw


def first_byte(data: bytes) -> bytes:
    """The first byte after JSON whitespace (``b""`` for none), without copying a report that
    may be 200 MB the way ``data.lstrip()`` does when it starts with whitespace."""
    start = _LEADING_SPACE.match(data).end()  # type: ignore[union-attr]  # always matches
    return data[start : start + 1]


def decode_object_or_none(data: bytes, decoder: msgspec.json.Decoder[T]) -> T | None:
    """``data`` decoded by ``decoder`` when it is a JSON object that fits its types, else
    ``None``: for the ``parse_direct`` hooks, which only claim what they are sure of."""
    if first_byte(data) != b"{":
        return None
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):  # ValidationError is a DecodeError
        return None


def decode(fmt: str, data: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """``data`` decoded by ``decoder``; any decoding or type error is a :class:`ReportError`."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        _validation_failed(fmt, str(exc))
    except msgspec.DecodeError as exc:
        fail(fmt, "", f"not valid JSON ({exc})")
    except UnicodeDecodeError as exc:
        fail(fmt, "", f"not valid UTF-8 ({exc.reason} at byte {exc.start})")


def _validation_failed(fmt: str, text: str) -> NoReturn:
    match = _AT.match(text)
    message, where = text, ""
    if match is not None:
        message, where = match["message"], _path(match["path"] or "")
    expected = _EXPECTED.match(message)
    missing = _MISSING.match(message)
    if expected is not None:
        message = f"expected {_type_name(expected['want'])}, got {_type_name(expected['got'])}"
    elif missing is not None:
        message = f'missing "{missing["field"]}"'
    fail(fmt, where, message)
