"""Typed JSON decoding for the formats whose reports get very large (Trivy and Grype image
scans).

:mod:`msgspec` decodes straight into ``Struct`` classes that declare only the fields Warden
keeps: everything else in the report is skipped without building Python objects, and every
kept value arrives already checked against its declared type. That is what makes a
30 MB report parse several times faster than decoding the whole tree with orjson and
walking it. The decoder is data-only, like orjson: nothing in a report is executed.

A report that does not fit the declared types is not refused: :func:`decode_tolerant` decodes
it again with orjson and fits it to the same structs field by field
(:mod:`scanners.parsers._tolerant`), leaving out what does not fit with a notice. What still
cannot be read raises :class:`ReportError` in the parsers' usual one-line form, ``trivy:
Results[0].Vulnerabilities[3]: expected an object, got a number``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NoReturn, TypeVar

import msgspec
import orjson

from scanners.document import MAX_DEPTH, json_problem
from scanners.document import first_byte as first_byte
from scanners.parsers import _tolerant
from scanners.parsers._fields import fail

T = TypeVar("T")
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


def decode_object_or_none(data: bytes, decoder: msgspec.json.Decoder[T]) -> T | None:
    """``data`` decoded by ``decoder`` when it is a JSON object that fits its types, else
    ``None``: for the ``parse_direct`` hooks, which only claim what they are sure of."""
    if first_byte(data) != b"{":
        return None
    try:
        return decoder.decode(data)
    # ValidationError is a DecodeError; RecursionError: nested deeper than msgspec goes
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None


def decode(fmt: str, data: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """``data`` decoded by ``decoder``; any decoding or type error is a :class:`ReportError`."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        _validation_failed(fmt, str(exc))
    except (msgspec.DecodeError, UnicodeDecodeError):
        not_json(fmt, data)
    except RecursionError:
        fail(fmt, "", f"the JSON is nested more than {MAX_DEPTH} levels deep")


def decode_tolerant(
    fmt: str,
    data: bytes,
    decoder: msgspec.json.Decoder[T],
    cls: type[T],
    notes: _tolerant.Notes,
    tree: Callable[[], object] | None = None,
) -> T:
    """``data`` decoded by ``decoder`` (the fast path, the common shape); when a value does
    not fit its declared type, decoded again with orjson and fitted field by field, the
    fields left out recorded in ``notes``. Invalid JSON is a :class:`ReportError`."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError:
        pass
    except (msgspec.DecodeError, UnicodeDecodeError):
        not_json(fmt, data)
    except RecursionError:
        fail(fmt, "", f"the JSON is nested more than {MAX_DEPTH} levels deep")
    return _tolerant.convert(fmt, _loads(fmt, data, tree), cls, notes)


def decode_list_tolerant(
    fmt: str,
    data: bytes,
    decoder: msgspec.json.Decoder[list[T]],
    cls: type[T],
    notes: _tolerant.Notes,
    tree: Callable[[], object] | None = None,
) -> list[T]:
    """:func:`decode_tolerant` for a document that is a JSON array of ``cls``."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError:
        pass
    except (msgspec.DecodeError, UnicodeDecodeError):
        not_json(fmt, data)
    except RecursionError:
        fail(fmt, "", f"the JSON is nested more than {MAX_DEPTH} levels deep")
    return _tolerant.convert_list(fmt, _loads(fmt, data, tree), cls, notes)


def _loads(fmt: str, data: bytes, tree: Callable[[], object] | None) -> object:
    """The decoded document: ``tree()`` when given (the Document's own, decoded at most
    once), else orjson's."""
    if tree is not None:
        value = tree()
        if value is not None:
            return value
        not_json(fmt, data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        not_json(fmt, data)


def not_json(fmt: str, data: bytes) -> NoReturn:
    """Fail with where ``data`` stops being JSON (``not valid JSON at line L column C``)."""
    fail(fmt, "", json_problem(data) or "not valid JSON")


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
