"""ONNX (``ModelProto``), walked on the wire with field numbers from ``onnx.proto``.

Checked: every tensor's external data ``location`` (absolute, drive, ``~`` or ``..`` paths
read files outside the model directory - CVE-2022-25882 class) in initializers, sparse
initializers, node attributes and nested graphs (``If``/``Loop`` bodies, training info,
functions); and operator domains that no standard runtime ships (custom operators are native
libraries). Domains defined by the model's own functions are not custom.
"""

from __future__ import annotations

import posixpath
import re

from scanners.modelfile.engine import Ctx
from scanners.modelfile.protowire import LEN, ProtoError, Reader, fields, text
from scanners.modelfile.source import Source

_W = "warden-modelscan/"
STANDARD_DOMAINS = frozenset(
    {"", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training",
     "com.microsoft", "com.microsoft.nchwc", "com.microsoft.experimental",
     "com.ms.internal.nhwc", "com.microsoft.dml"}
)  # fmt: skip
MAX_MESSAGES = 5_000_000

# message kind -> {field number: child kind} for LEN fields worth descending into
_CHILDREN: dict[str, dict[int, str]] = {
    "model": {7: "graph", 25: "function", 20: "training"},
    "training": {1: "graph", 2: "graph"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "function": {7: "node"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {13: "entry"},
    "entry": {},
}


def scan(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    where = member or name
    r = Reader(src)
    domains: dict[str, str] = {}  # domain -> an op_type using it
    local: set[str] = set()
    locations: list[tuple[str, str, int]] = []  # (tensor, location, offset)
    todo: list[tuple[str, int, int, str]] = [("model", 0, src.size, "")]
    seen = 0
    try:
        while todo:
            kind, start, end, ctx_name = todo.pop()
            seen += 1
            if seen > MAX_MESSAGES:
                raise ProtoError("too many messages")
            op_type = domain = ""
            entry: dict[int, str] = {}
            children = _CHILDREN[kind]
            pushed: list[tuple[str, int, int]] = []
            for num, wt, val, fend in fields(r, start, end):
                if wt == LEN and num in children:
                    pushed.append((children[num], val, fend))
                elif wt != LEN:
                    continue
                elif kind == "node" and num == 4:
                    op_type = text(r, val, fend, 256)
                elif kind == "node" and num == 7:
                    domain = text(r, val, fend, 256)
                elif kind == "function" and num == 10:
                    local.add(text(r, val, fend, 256))
                elif kind == "tensor" and num == 8:
                    ctx_name = text(r, val, fend, 256)
                elif kind == "entry" and num in (1, 2):
                    entry[num] = text(r, val, fend, 4096)
            todo.extend((k, s, e, ctx_name) for k, s, e in pushed)
            if kind == "node" and domain:
                domains.setdefault(domain, op_type)
            if kind == "entry" and entry.get(1) == "location" and 2 in entry:
                locations.append((ctx_name, entry[2], start))
    except ProtoError as exc:
        ctx.finding(
            _W + "malformed-file",
            "medium",
            member,
            title=f"{where}: invalid ONNX protobuf",
            description=f"The model cannot be read completely: {exc}.",
            key="onnx",
            evidence={"format": "onnx"},
        )
    for domain, op in sorted(domains.items()):
        if domain in STANDARD_DOMAINS or domain in local:
            continue
        ctx.finding(
            _W + "onnx-custom-domain",
            "medium",
            member,
            title=f"{where}: custom operator domain {domain!r}",
            description=(
                f"Nodes such as {op!r} use the operator domain {domain!r}, which no standard "
                "runtime provides: the runtime has to load a native custom-op library."
            ),
            import_name=f"{domain}.{op}",
            evidence={"format": "onnx", "domain": domain, "op_type": op},
        )
    for tensor, loc, off in locations[:50]:
        why = escapes(loc)
        if why:
            ctx.finding(
                _W + "onnx-external-data",
                "high",
                member,
                title=f"{where}: external data of {tensor or 'a tensor'} points outside the "
                "model directory",
                description=f"The external data location {loc!r} {why}; loading the model "
                "reads that file.",
                key=loc[:200],
                offset=off,
                evidence={"format": "onnx", "tensor": tensor, "location": loc[:500]},
            )
    return "onnx"


def escapes(loc: str) -> str:
    """Why an external-data location escapes the model directory ('' when it does not)."""
    if "\x00" in loc:
        return "contains a NUL byte"
    norm = loc.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) or norm.startswith("~"):
        return "is an absolute path"
    if norm.startswith("//"):
        return "is a network path"
    parts = posixpath.normpath(norm).split("/")
    if parts and parts[0] == "..":
        return "climbs out of the model directory with '..'"
    return ""
