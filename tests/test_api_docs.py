"""The published API docs (OpenAPI from drf-spectacular) are written for the people calling the
API: every operation says what it does in their words, responses have a schema (never a bare
object, Swagger's "additionalProp1"), the report formats are an enum, and the main calls have
examples."""

from __future__ import annotations

import re
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from scanners import registry

#: Words of the code, not of the API's users.
INTERNAL = re.compile(
    r"base_queryset|lookup_object|subclass|mixin|viewset|queryset|TeamScoped|GenericViewSet"
    r"|XViewSet|get_object|:mod:|:class:|governance\.",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _free_form(schema: dict[str, Any], node: dict[str, Any], where: str, seen: set[str]) -> list:
    """Paths inside a response schema that are objects with no declared shape."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return []
        seen = seen | {name}
        where = f"{where}<{name}>"
    node = _resolve(schema, node)
    found = []
    extra = node.get("additionalProperties")
    typed_extra = isinstance(extra, dict) and bool(extra)  # {} is "additionalProp1": anything
    if node.get("type") == "object" and not (node.get("properties") or typed_extra):
        found.append(where or "<root>")
    if typed_extra:
        found += _free_form(schema, extra, f"{where}{{*}}", seen)
    for key, sub in (node.get("properties") or {}).items():
        found += _free_form(schema, sub, f"{where}.{key}", seen)
    if isinstance(node.get("items"), dict):
        found += _free_form(schema, node["items"], f"{where}[]", seen)
    for sub in node.get("allOf", []) + node.get("oneOf", []):
        found += _free_form(schema, sub, where, seen)
    return found


def test_every_operation_has_its_own_user_facing_description(schema: dict[str, Any]) -> None:
    ops = _operations(schema)
    assert len(ops) >= 35
    missing = [f"{m} {p}" for m, p, op in ops if len(op.get("description", "").strip()) < 30]
    assert not missing, f"operations without a description: {missing}"
    internal = [
        f"{m} {p}: {INTERNAL.search(op['description']).group(0)}"  # type: ignore[union-attr]
        for m, p, op in ops
        if INTERNAL.search(op["description"])
    ]
    assert not internal, f"internal notes in the API docs: {internal}"
    by_text: dict[str, list[str]] = {}
    for m, p, op in ops:
        by_text.setdefault(op["description"], []).append(f"{m} {p}")
    shared = {text[:60]: where for text, where in by_text.items() if len(where) > 1}
    assert not shared, f"one description for several operations: {shared}"


def test_no_free_form_object_in_any_response(schema: dict[str, Any]) -> None:
    free = []
    for m, p, op in _operations(schema):
        for code, response in op.get("responses", {}).items():
            for content_type, content in response.get("content", {}).items():
                if "json" not in content_type:
                    continue
                for where in _free_form(schema, content.get("schema", {}), "", set()):
                    free.append(f"{m} {p} {code}: {where}")
    assert not free, "responses without a schema:\n" + "\n".join(free)


def test_scan_type_lists_every_report_format(schema: dict[str, Any]) -> None:
    upload = _resolve(schema, {"$ref": "#/components/schemas/ScanUpload"})
    field = upload["properties"]["scan_type"]
    scan_type = _resolve(schema, field["allOf"][0]) if "allOf" in field else field
    assert scan_type["enum"] == sorted(registry.available())
    assert {"pip-audit", "trivy", "modelscan", "garak", "cyclonedx"} <= set(scan_type["enum"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/scans/"),
        ("GET", "/api/v1/models/{id}/gate/"),
        ("PATCH", "/api/v1/findings/{id}/"),
        ("POST", "/api/v1/exceptions/"),
        ("GET", "/api/v1/sla/metrics/"),
    ],
)
def test_the_main_calls_have_examples(schema: dict[str, Any], method: str, path: str) -> None:
    op = schema["paths"][path][method.lower()]
    examples = [
        ex
        for part in [op.get("requestBody", {}), *op.get("responses", {}).values()]
        for content in part.get("content", {}).values()
        for ex in content.get("examples", {}).values()
    ]
    assert examples, f"{method} {path} has no example"


#: Request fields that are free-form by design: a policy is a document of its own schema
#: (docs/policies.md, /policies/schema.json), an event's detail is the sender's context.
FREE_BY_DESIGN = {"<PolicyImportInput>.document", "<PolicyReplaceInput>.document"}


def test_request_bodies_have_schemas(schema: dict[str, Any]) -> None:
    free = []
    for m, p, op in _operations(schema):
        for content_type, content in op.get("requestBody", {}).get("content", {}).items():
            for where in _free_form(schema, content.get("schema", {}), "", set()):
                if where not in FREE_BY_DESIGN and not where.endswith(".detail"):
                    free.append(f"{m} {p} {content_type}: {where}")
    assert not free, "request bodies without a schema:\n" + "\n".join(free)
