"""safetensors: a u64 header length, a JSON header, then the tensor bytes.

The format cannot run code; what can go wrong is structural, and parsers disagree on it:
a header length past the file, invalid JSON, unknown dtypes, offsets outside the data,
overlapping tensors (two names for the same bytes), gaps or trailing bytes (data no tensor
accounts for), and byte ranges that do not match dtype x shape. The reference implementation
rejects all of them.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import orjson

from scanners.modelfile.engine import Ctx
from scanners.modelfile.source import Source

_W = "warden-modelscan/"
MAX_HEADER = 100 << 20  # the reference implementation's limit
MAX_PROBLEMS = 20
DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16,
    "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "F64": 64, "I64": 64,
    "U64": 64, "C64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}  # fmt: skip


def scan(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    problems = check(src)
    where = member or name
    for kind, text in problems[:MAX_PROBLEMS]:
        ctx.finding(
            _W + "malformed-file",
            "medium",
            member,
            title=f"{where}: invalid safetensors {kind}",
            description=text,
            key=f"safetensors:{kind}:{text[:60]}",
            evidence={"format": "safetensors", "problem": kind},
        )
    return "safetensors"


def check(src: Source) -> list[tuple[str, str]]:
    """Problems as (kind, plain-words description); empty when the file is valid."""
    head = src.read_at(0, 8)
    if len(head) < 8:
        return [("header", "the file is shorter than the 8-byte header length")]
    n = struct.unpack("<Q", head)[0]
    if n > MAX_HEADER or n > src.size - 8:
        return [("header", f"header length {n} exceeds the file ({src.size} bytes) or 100 MB")]
    raw = src.read_at(8, n)
    try:
        header: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return [("header", f"the header is not valid JSON: {exc}")]
    if not isinstance(header, dict):
        return [("header", "the header is not a JSON object")]
    data_len = src.size - 8 - n
    out: list[tuple[str, str]] = []
    spans: list[tuple[int, int, str]] = []
    for key, info in header.items():
        if key == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                out.append(("metadata", "__metadata__ must map strings to strings"))
            continue
        if not isinstance(info, dict):
            out.append(("tensor", f"tensor {key!r} is not an object"))
            continue
        dtype, shape, offs = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in DTYPE_BITS:
            out.append(("dtype", f"tensor {key!r} has an unknown dtype {dtype!r}"))
            continue
        if not (isinstance(shape, list) and all(_uint(d) for d in shape)):
            out.append(("shape", f"tensor {key!r} has an invalid shape {shape!r}"))
            continue
        if not (isinstance(offs, list) and len(offs) == 2 and all(_uint(o) for o in offs)):
            out.append(("offsets", f"tensor {key!r} has invalid data_offsets {offs!r}"))
            continue
        begin, end = offs
        if begin > end or end > data_len:
            out.append(
                ("offsets", f"tensor {key!r} spans [{begin}, {end}) outside the data "
                 f"({data_len} bytes)")
            )  # fmt: skip
            continue
        need = math.ceil(math.prod(shape) * DTYPE_BITS[str(dtype)] / 8)
        if end - begin != need:
            out.append(
                ("size", f"tensor {key!r}: {dtype} x {shape} needs {need} bytes, its range "
                 f"holds {end - begin}")
            )  # fmt: skip
        spans.append((begin, end, key))
    spans.sort()
    pos = 0
    for begin, end, key in spans:
        if begin < pos:
            out.append(("overlap", f"tensor {key!r} overlaps the previous tensor's bytes"))
        elif begin > pos:
            out.append(("gap", f"{begin - pos} bytes before tensor {key!r} belong to no tensor"))
        pos = max(pos, end)
    if spans and pos < data_len:
        out.append(("trailing", f"{data_len - pos} bytes after the last tensor belong to none"))
    return out


def _uint(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0
