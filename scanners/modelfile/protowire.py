"""Minimal protobuf wire-format reading (no generated code, no protobuf package).

Messages are read from a :class:`Source` through a small cached window, so a 2 GB ONNX file
with embedded weights is walked by reading field headers only: ``raw_data`` and other large
byte fields are skipped by length, never read.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanners.modelfile.source import BytesSource, Source

VARINT, I64, LEN, I32 = 0, 1, 2, 5
_WINDOW = 1 << 20
MAX_DEPTH = 64


class ProtoError(ValueError):
    """Malformed wire data."""


class Reader:
    """Cached random access for varint-heavy parsing."""

    __slots__ = ("base", "buf", "src")

    def __init__(self, src: Source) -> None:
        self.src = src
        self.base = 0
        self.buf = b""

    def window(self, off: int, need: int) -> tuple[bytes, int]:
        rel = off - self.base
        if rel < 0 or rel + need > len(self.buf):
            self.base = off
            self.buf = self.src.read_at(off, max(_WINDOW, need))
            rel = 0
        return self.buf, rel

    def bytes_at(self, off: int, n: int) -> bytes:
        if n > _WINDOW:
            return self.src.read_at(off, n)
        buf, rel = self.window(off, n)
        return buf[rel : rel + n]

    def varint(self, off: int, end: int) -> tuple[int, int]:
        buf, rel = self.window(off, 10)
        result = shift = 0
        i = rel
        limit = min(len(buf), rel + 10, rel + (end - off))
        while i < limit:
            b = buf[i]
            result |= (b & 0x7F) << shift
            i += 1
            if b < 0x80:
                return result, off + (i - rel)
            shift += 7
        raise ProtoError(f"bad varint at {off}")


def fields(r: Reader, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(field number, wire type, value, end of field) for each field of a message. For LEN
    fields ``value`` is the payload's start offset (its end is the 4th item)."""
    pos = start
    while pos < end:
        key, pos = r.varint(pos, end)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise ProtoError(f"field number 0 at {pos}")
        if wt == VARINT:
            val, pos = r.varint(pos, end)
            yield num, wt, val, pos
        elif wt == LEN:
            n, pos = r.varint(pos, end)
            if pos + n > end:
                raise ProtoError(f"field {num} runs past its message at {pos}")
            yield num, wt, pos, pos + n
            pos += n
        elif wt == I64:
            yield num, wt, pos, pos + 8
            pos += 8
        elif wt == I32:
            yield num, wt, pos, pos + 4
            pos += 4
        else:
            raise ProtoError(f"unsupported wire type {wt} at {pos}")
    if pos != end:
        raise ProtoError("message ends inside a field")


def text(r: Reader, start: int, end: int, cap: int = 4096) -> str:
    return r.bytes_at(start, min(end - start, cap)).decode("utf-8", "replace")


def _top_fields(data: bytes) -> list[tuple[int, int, int, int]] | None:
    """Top-level fields of a (possibly truncated) message, or None if it is not one."""
    r = Reader(BytesSource(data))
    out: list[tuple[int, int, int, int]] = []
    pos, end = 0, len(data)
    try:
        while pos < end:
            key, pos = r.varint(pos, end)
            num, wt = key >> 3, key & 7
            if num == 0 or num > 100 or wt not in (VARINT, LEN, I64, I32):
                return None
            if wt == VARINT:
                val, pos = r.varint(pos, end)
                out.append((num, wt, val, pos))
            elif wt == LEN:
                n, pos = r.varint(pos, end)
                out.append((num, wt, pos, pos + n))
                pos += n
            else:
                pos += 8 if wt == I64 else 4
                out.append((num, wt, 0, pos))
    except ProtoError:
        return None
    return out


def sniff_model(head: bytes) -> str | None:
    """``onnx``, ``tf-savedmodel``, ``tf-graphdef`` or None, from a file's first bytes."""
    top = _top_fields(head)
    if not top or len(head) < 8:
        return None
    nums = {f[0] for f in top}
    kinds = {f[0]: f[1] for f in top}
    if kinds.get(7) == LEN and kinds.get(1, VARINT) == VARINT and nums <= _ONNX_MODEL_FIELDS:
        return "onnx"
    if nums <= {1, 2} and kinds.get(2) == LEN and kinds.get(1, VARINT) == VARINT:
        return "tf-savedmodel"
    if top[0][0] == 1 and top[0][1] == LEN and nums <= {1, 2, 3, 4}:
        first = top[0]
        inner = _top_fields(head[first[2] : min(first[3], len(head))])
        if inner:
            return "tf-graphdef"
    return None


_ONNX_MODEL_FIELDS = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 14, 20, 25, 26})
