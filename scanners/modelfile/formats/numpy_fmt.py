"""NumPy ``.npy`` arrays (``.npz`` files are zips of them, handled by the zip scanner).

An array with an object dtype (``|O``, or a structured dtype with an object field) stores its
data as a pickle right after the header; ``numpy.load(allow_pickle=True)`` unpickles it. That
pickle is scanned like any other. The header is a Python literal: it is read with
``ast.literal_eval`` (literals only, no names, no calls), as NumPy itself does.
"""

from __future__ import annotations

import ast
import math
import struct
from typing import Any

from scanners.modelfile.engine import Ctx
from scanners.modelfile.formats import pickles
from scanners.modelfile.pickle_scan import scan_pickle
from scanners.modelfile.source import SliceSource, Source

_W = "warden-modelscan/"
MAX_HEADER = 1 << 20
_SIZES = {"b": 1, "i": 1, "u": 1, "f": 1, "c": 1, "m": 1, "M": 1, "S": 1, "V": 1, "U": 4, "?": 1}


def _has_object(descr: Any) -> bool:
    if isinstance(descr, str):
        return descr.lstrip("<>|=").startswith("O")
    if isinstance(descr, list | tuple):
        return any(_has_object(d) for d in descr)
    return False


def _itemsize(descr: Any) -> int | None:
    if isinstance(descr, str):
        d = descr.lstrip("<>|=")
        kind, digits = d[:1], d[1:]
        if kind == "?" and not digits:
            return 1
        if kind in _SIZES and digits.isdigit():
            return _SIZES[kind] * int(digits)
        return None
    if isinstance(descr, list):
        total = 0
        for field in descr:
            if not isinstance(field, tuple) or len(field) < 2:
                return None
            size = _itemsize(field[1])
            if size is None:
                return None
            shape = field[2] if len(field) > 2 else ()
            count = math.prod(shape) if isinstance(shape, tuple) else int(shape)
            total += size * count
        return total
    return None


def _malformed(ctx: Ctx, member: str, why: str) -> str:
    ctx.finding(
        _W + "malformed-file",
        "medium",
        member,
        title=f"{member or 'file'}: invalid .npy file",
        description=why,
        key="npy",
        evidence={"format": "numpy-npy"},
    )
    return "numpy-npy"


def scan(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    head = src.read_at(0, 12)
    if len(head) < 10:
        return _malformed(ctx, member, "truncated .npy header")
    major = head[6]
    if major == 1:
        hlen, start = struct.unpack_from("<H", head, 8)[0], 10
    elif major in (2, 3):
        hlen, start = struct.unpack_from("<I", head, 8)[0], 12
    else:
        return _malformed(ctx, member, f"unknown .npy format version {major}")
    if hlen > MAX_HEADER:
        return _malformed(ctx, member, f"header of {hlen} bytes is too large")
    raw = src.read_at(start, hlen)
    try:
        header = ast.literal_eval(raw.decode("utf-8" if major == 3 else "latin1"))
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        return _malformed(ctx, member, "the header is not a Python literal")
    if not isinstance(header, dict) or not {"descr", "shape"} <= header.keys():
        return _malformed(ctx, member, "the header lacks descr/shape")
    descr, shape = header["descr"], header["shape"]
    data_off = start + hlen
    where = member or name
    if _has_object(descr):
        ctx.finding(
            _W + "numpy-object-array",
            "medium",
            member,
            title=f"{where} is an object array: its data is a pickle",
            description=(
                "numpy.load needs allow_pickle=True for this array and unpickles its data; "
                "the pickle's imports are reported separately."
            ),
            key="object-dtype",
            offset=data_off,
            evidence={"format": "numpy-npy", "descr": str(descr)[:200]},
        )
        data = SliceSource(src, data_off, src.size - data_off)
        rep = scan_pickle(data)
        pickles.report(ctx, rep, data, member, "numpy-npy", depth, base=data_off)
        return "numpy-npy"
    size = _itemsize(descr)
    if size is not None and isinstance(shape, tuple) and all(isinstance(d, int) for d in shape):
        need = size * math.prod(shape)
        if any(d < 0 for d in shape) or need > src.size - data_off:
            return _malformed(
                ctx,
                member,
                f"shape {shape} x {size} bytes needs {need} bytes of data; "
                f"the file has {src.size - data_off}",
            )
    return "numpy-npy"
