"""The tolerant path of the typed decoders: a report whose common shape did not fit the
``msgspec`` structs of :mod:`scanners.parsers._typed` is decoded with orjson and then fitted
to the same structs field by field.

What a supported tool really wrote is read, not refused:

- a value of the wrong JSON type in an optional field is left out, and a notice naming its
  path goes to ``Report.warnings`` (``trivy: Results[0].Vulnerabilities[3].CVSS.nvd.V3Score:
  expected a number, got an object; left out``);
- numbers written as strings (``"7.5"``) and strings written as numbers are converted;
- an object where an array of objects is expected is read as a one-element array (older
  Grype wrote ``matchDetails`` as one object);
- a string in a list of strings that is not one is dropped (with a notice).

Only the records that do not fit are walked field by field (the others are converted by
msgspec at C speed), so a large report with one odd field costs about three passes over it.

Strict about what a report means: an entry of a list of records (a vulnerability, a match)
that is not an object at all, a record without a field the structs declare required, or an
identity field (a struct's ``IDENTITY``: a vulnerability id, a package name) of the wrong
type, still raises :class:`ReportError` with its path.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi
import orjson

from scanners.parsers._fields import Notes, as_number, fail, kind

T = TypeVar("T")
__all__ = ["Notes", "convert", "convert_list"]


class _Mismatch(Exception):
    """A value that does not fit. ``strict``: the report cannot be read past it (a record
    that is not one, a required field missing); otherwise the nearest optional field that
    holds it is left out."""

    def __init__(self, where: str, message: str, *, strict: bool = False) -> None:
        super().__init__(message)
        self.where = where
        self.message = message
        self.strict = strict


def _at(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def _plan(cls: type[Any]) -> tuple[tuple[str, str, Any, bool], ...]:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _make_plan(cls)
    return plan


_PLANS: dict[type[Any], tuple[tuple[str, str, Any, bool], ...]] = {}


def _make_plan(cls: type[Any]) -> tuple[tuple[str, str, Any, bool], ...]:
    """``(JSON name, attribute, type, strict)`` per field. Strict: required, or named in the
    struct's ``STRICT`` class variable (the core of a report, such as Grype's ``matches``:
    optional in the common shape, but a report where it is not an array cannot be read)."""
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    core: frozenset[str] = getattr(cls, "STRICT", frozenset())
    return tuple((f.encode_name, f.name, f.type, f.required or f.name in core) for f in info.fields)


def _want(t: Any) -> str:
    if isinstance(t, mi.StructType | mi.DictType):
        return "an object"
    if isinstance(t, mi.ListType):
        return "an array"
    if isinstance(t, mi.StrType):
        return "a string"
    if isinstance(t, mi.IntType | mi.FloatType):
        return "a number"
    if isinstance(t, mi.BoolType):
        return "a boolean"
    if isinstance(t, mi.UnionType):
        return " or ".join(dict.fromkeys(_want(m) for m in t.types if not _is_none(m)))
    return "a value"


def _is_none(t: Any) -> bool:
    return isinstance(t, mi.NoneType)


def _record(t: Any) -> bool:
    """True for a struct type (or a union holding one): the records of a report."""
    if isinstance(t, mi.StructType):
        return True
    return isinstance(t, mi.UnionType) and any(isinstance(m, mi.StructType) for m in t.types)


def _value(value: Any, t: Any, where: str, notes: Notes) -> Any:
    if isinstance(t, mi.AnyType):
        return value
    if isinstance(t, mi.RawType):
        return msgspec.Raw(orjson.dumps(value))
    if isinstance(t, mi.UnionType):
        return _union(value, t, where, notes)
    if isinstance(t, mi.NoneType):
        if value is None:
            return None
        raise _Mismatch(where, f"expected null, got {kind(value)}")
    if isinstance(t, mi.StructType):
        if not isinstance(value, dict):
            raise _Mismatch(where, f"expected an object, got {kind(value)}")
        return _struct(value, t.cls, where, notes)
    if isinstance(t, mi.ListType):
        if isinstance(value, dict) and isinstance(t.item_type, mi.StructType):
            notes.add(where, "an object where an array is expected; read as a one-element array")
            value = [value]
        if not isinstance(value, list):
            raise _Mismatch(where, f"expected an array, got {kind(value)}")
        return _items(value, t.item_type, where, notes)
    if isinstance(t, mi.DictType):
        if not isinstance(value, dict):
            raise _Mismatch(where, f"expected an object, got {kind(value)}")
        out: dict[str, Any] = {}
        for key, item in value.items():
            try:
                out[key] = _value(item, t.value_type, _at(where, key), notes)
            except _Mismatch as exc:
                notes.add(exc.where, f"{exc.message}; left out")
        return out
    if isinstance(t, mi.StrType):
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise _Mismatch(where, f"expected a string, got {kind(value)}")
    if isinstance(t, mi.BoolType):
        if isinstance(value, bool):
            return value
        raise _Mismatch(where, f"expected a boolean, got {kind(value)}")
    if isinstance(t, mi.IntType | mi.FloatType):
        number = as_number(value)
        if number is None:
            raise _Mismatch(where, f"expected a number, got {kind(value)}")
        if isinstance(t, mi.IntType):
            if number != int(number):
                raise _Mismatch(where, f"expected a whole number, got {number!r}")
            return int(number)
        return number
    raise _Mismatch(where, f"unexpected {kind(value)}")  # pragma: no cover - no such field


def _union(value: Any, t: mi.UnionType, where: str, notes: Notes) -> Any:
    members = t.types
    if value is None:
        if any(_is_none(m) for m in members):
            return None
        raise _Mismatch(where, f"expected {_want(t)}, got null")
    # The member whose JSON kind matches the value, then the lenient conversions.
    order = sorted(members, key=lambda m: 0 if _same_kind(value, m) else 1)
    error: _Mismatch | None = None
    for member in order:
        if _is_none(member):
            continue
        try:
            return _value(value, member, where, notes)
        except _Mismatch as exc:
            if error is None or _same_kind(value, member):
                error = exc
    raise error or _Mismatch(where, f"expected {_want(t)}, got {kind(value)}")


def _same_kind(value: Any, t: Any) -> bool:
    if isinstance(value, dict):
        return isinstance(t, mi.StructType | mi.DictType | mi.AnyType)
    if isinstance(value, list):
        return isinstance(t, mi.ListType | mi.AnyType)
    if isinstance(value, bool):
        return isinstance(t, mi.BoolType)
    if isinstance(value, str):
        return isinstance(t, mi.StrType)
    if isinstance(value, int | float):
        return isinstance(t, mi.IntType | mi.FloatType)
    return False


def _items(values: list[Any], item_type: Any, where: str, notes: Notes) -> list[Any]:
    out: list[Any] = []
    record = _record(item_type)
    for i, item in enumerate(values):
        try:
            out.append(_value(item, item_type, _at(where, i), notes))
        except _Mismatch as exc:
            if record or exc.strict:
                exc.strict = True  # a record that is not one: its path is in the error
                raise
            notes.add(exc.where, f"{exc.message}; left out")
    return out


def _struct(value: dict[str, Any], cls: type[T], where: str, notes: Notes) -> T:
    # Most records of a report that needed this path fit as they are: msgspec converts
    # those at C speed, and only the records that do not are fitted field by field.
    try:
        return msgspec.convert(value, cls, strict=False)
    except msgspec.ValidationError:
        pass
    kwargs: dict[str, Any] = {}
    identity: frozenset[str] = getattr(cls, "IDENTITY", frozenset())
    for encode_name, name, t, required in _plan(cls):
        if encode_name not in value:
            if required and name not in getattr(cls, "STRICT", ()):
                raise _Mismatch(where, f'missing "{encode_name}"', strict=True)
            continue
        raw = value[encode_name]
        if name in identity and raw is not None and not isinstance(raw, str):
            # An id or a name of the wrong type is not a value to convert: the finding's
            # identity is unknown, and no supported tool writes that.
            raise _Mismatch(
                _at(where, encode_name), f"expected a string, got {kind(raw)}", strict=True
            )
        try:
            kwargs[name] = _value(value[encode_name], t, _at(where, encode_name), notes)
        except _Mismatch as exc:
            if required or exc.strict:
                exc.strict = True
                raise
            notes.add(exc.where, f"{exc.message}; left out")
    return cls(**kwargs)


def convert(fmt: str, tree: Any, cls: type[T], notes: Notes) -> T:
    """``tree`` (decoded JSON) fitted to the struct ``cls``; see the module docstring."""
    if not isinstance(tree, dict):
        fail(fmt, "", f"expected an object, got {kind(tree)}")
    try:
        return _struct(tree, cls, "", notes)
    except _Mismatch as exc:
        fail(fmt, exc.where, exc.message)


def convert_list(fmt: str, tree: Any, cls: type[T], notes: Notes) -> list[T]:
    """``tree`` (a decoded JSON array) fitted to ``list[cls]``."""
    if not isinstance(tree, list):
        fail(fmt, "", f"expected an array, got {kind(tree)}")
    try:
        return [_struct_or_fail(item, cls, f"[{i}]", notes) for i, item in enumerate(tree)]
    except _Mismatch as exc:
        fail(fmt, exc.where, exc.message)


def _struct_or_fail(item: Any, cls: type[T], where: str, notes: Notes) -> T:
    if not isinstance(item, dict):
        raise _Mismatch(where, f"expected an object, got {kind(item)}")
    return _struct(item, cls, where, notes)
