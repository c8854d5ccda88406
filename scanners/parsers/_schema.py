"""JSON Schema validation for Warden's own report formats, with one-line errors that name
the place: ``warden-assessment: results[2].comparator: must be one of >=, >, <=, <, ==, !=``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

from scanners.findings import ReportError

_TYPE_WORDS = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}


def validate(fmt: str, schema: dict[str, Any], data: Any) -> None:
    """Raise ReportError for the first schema violation in document order (with the count
    of the others)."""
    errors = sorted(Draft202012Validator(schema).iter_errors(data), key=_order)
    if not errors:
        return
    where, message = describe(errors[0])
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    raise ReportError(f"{fmt}: {where}: {message}{more}" if where else f"{fmt}: {message}{more}")


def path(parts: Iterable[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe(error: ValidationError) -> tuple[str, str]:
    """``(json path, message)`` for one validation error, in plain words."""
    where = path(error.absolute_path)
    kind = error.validator
    expected = error.validator_value
    instance = error.instance
    if kind == "required" and isinstance(instance, dict):
        missing = [k for k in expected if k not in instance]
        return where, f'missing required field "{missing[0] if missing else expected}"'
    if kind == "additionalProperties" and isinstance(instance, dict):
        known = set((error.schema.get("properties") or {}).keys())
        extra = sorted(k for k in instance if k not in known)
        name = extra[0] if extra else "?"
        return path([*error.absolute_path, name]), "unknown field"
    if kind == "enum":
        return where, "must be one of " + ", ".join(str(v) for v in expected)
    if kind == "const":
        return where, f"must be {json.dumps(expected)}"
    if kind == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return where, "must be " + " or ".join(_TYPE_WORDS.get(str(k), str(k)) for k in kinds)
    if kind == "minLength":
        return where, "must not be empty" if expected == 1 else f"must be at least {expected} long"
    if kind == "maxLength":
        return where, f"must be at most {expected} characters long"
    if kind == "minimum":
        return where, f"must be >= {expected}"
    if kind == "exclusiveMinimum":
        return where, f"must be > {expected}"
    if kind == "minItems":
        return where, f"must have at least {expected} item(s)"
    if kind == "pattern":
        return where, f"must match the pattern {expected}"
    return where, error.message


def _order(error: ValidationError) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in error.absolute_path)
