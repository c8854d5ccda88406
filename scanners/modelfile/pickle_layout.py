"""Opcode layout without a stack: where each opcode's reads start and end, and a skim.

Two uses, both off the hot path:

- :func:`frame_split`: the pure-Python unpickler reads a frame as a buffer of its own and stops
  ("pickle exhausted before end of frame") when one ``read(n)`` or ``readline()`` begins
  inside the frame and ends after it; the C unpickler ignores frame ends and reads on. When the
  pickle machine steps over a frame end, this tells whether an opcode's read was split.
- :func:`skim`: after a resource limit of the machine, the rest of the stream is walked opcode
  by opcode for its imports (``GLOBAL``, ``INST``, ``STACK_GLOBAL``), so a payload placed past
  a limit is still named.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

from scanners.modelfile.pickle_ops import OPNAMES, STR_OPS, decode_atom

Read = Callable[[int, int], bytes]

_FIXED = {
    "BININT": 4, "BININT1": 1, "BININT2": 2, "BINFLOAT": 8, "BINGET": 1, "LONG_BINGET": 4,
    "BINPUT": 1, "LONG_BINPUT": 4, "PROTO": 1, "EXT1": 1, "EXT2": 2, "EXT4": 4, "FRAME": 8,
}  # fmt: skip
_LEN1 = frozenset({"SHORT_BINUNICODE", "SHORT_BINSTRING", "SHORT_BINBYTES", "LONG1"})
_LEN4 = frozenset({"BINUNICODE", "BINBYTES", "BINSTRING", "LONG4"})
_LEN8 = frozenset({"BINUNICODE8", "BINBYTES8", "BYTEARRAY8"})
_ONE_LINE = frozenset({"INT", "LONG", "FLOAT", "STRING", "UNICODE", "GET", "PUT", "PERSID"})
_TWO_LINES = frozenset({"GLOBAL", "INST"})
_SEARCH = 1 << 20


def _line_end(read: Read, pos: int, end: int) -> int:
    """Offset just past the newline of the line starting at ``pos`` (``end`` if none)."""
    while pos < end:
        chunk = read(pos, min(_SEARCH, end - pos))
        if not chunk:
            return end
        i = chunk.find(b"\n")
        if i >= 0:
            return pos + i + 1
        pos += len(chunk)
    return end


def segments(read: Read, pos: int, end: int) -> tuple[str | None, list[tuple[int, int]], int]:
    """(opcode name, [(start, stop) of each read the pure-Python unpickler makes], end of the
    opcode). The name is None for a byte that is not an opcode."""
    head = read(pos, 1)
    if not head:
        return None, [], pos
    name = OPNAMES.get(head[0])
    if name is None:
        return None, [(pos, pos + 1)], pos + 1
    reads = [(pos, pos + 1)]
    q = pos + 1
    if name in _FIXED:
        reads.append((q, q + _FIXED[name]))
        q += _FIXED[name]
    elif name in _LEN1 or name in _LEN4 or name in _LEN8:
        width = 1 if name in _LEN1 else 4 if name in _LEN4 else 8
        raw = read(q, width)
        n = int.from_bytes(raw, "little", signed=name in ("BINSTRING", "LONG4"))
        reads.append((q, q + width))
        q += width
        n = max(n, 0)
        reads.append((q, q + n))
        q += n
    elif name in _ONE_LINE or name in _TWO_LINES:
        for _ in range(2 if name in _TWO_LINES else 1):
            stop = _line_end(read, q, end)
            reads.append((q, stop))
            q = stop
    return name, reads, min(q, end)


def frame_split(read: Read, frame_start: int, frame_end: int, stop: int) -> int | None:
    """Offset of the opcode whose read the end of the frame ``[frame_start, frame_end)`` cuts,
    or None when every read ends at or before the frame's end (``stop`` bounds the walk)."""
    pos = frame_start
    while pos < frame_end:
        name, reads, nxt = segments(read, pos, stop)
        if name is None or nxt <= pos:
            return None
        for a, b in reads:
            if a < frame_end < b:
                return pos
        pos = nxt
    return None


def skim(read: Read, pos: int, end: int) -> Iterator[tuple[int, str, str, str]]:
    """Imports in ``[pos, end)`` without simulating the stack: (offset, opcode, module, name).
    A ``STACK_GLOBAL`` whose two previous value opcodes are not strings is yielded with an
    empty module and name (a computed import)."""
    recent: list[int] = []  # offsets of the last value-pushing opcodes
    while pos < end:
        name, reads, nxt = segments(read, pos, end)
        if name is None or nxt <= pos:
            return
        if name in _TWO_LINES:
            (_a, _b), (m0, m1), (n0, n1) = reads
            module = read(m0, min(m1 - m0, 4096)).rstrip(b"\n")
            attr = read(n0, min(n1 - n0, 4096)).rstrip(b"\n")
            yield pos, name, module.decode("utf-8", "replace"), attr.decode("utf-8", "replace")
        elif name == "STACK_GLOBAL":
            if len(recent) >= 2 and all(read(o, 1)[0] in STR_OPS for o in recent[-2:]):
                module_v = decode_atom(read, recent[-2], 4096)
                attr_v = decode_atom(read, recent[-1], 4096)
                yield pos, name, str(module_v), str(attr_v)
            else:
                yield pos, name, "", ""
        if name not in ("MEMOIZE", "BINPUT", "LONG_BINPUT", "PUT", "FRAME", "PROTO"):
            recent.append(pos)
            del recent[:-2]
        pos = nxt


def u64(raw: bytes) -> int:
    return int(struct.unpack("<Q", raw)[0])
