"""The pickle machine's state: its read window over the source, stack, marks and memo, and the
decoding of stack values (see :mod:`scanners.modelfile.pickle_scan`, which walks the opcodes).

Scalars are never decoded on the hot path: the stack holds the *offset* of the opcode that
pushed them; :meth:`MachineState.atom` decodes one when it matters. The memo is an
``array('q')`` of those offsets (8 bytes per entry); imports, call results and small tuples
live in a side table whose cells are negative memo values.
"""

from __future__ import annotations

from array import array

from scanners.modelfile.pickle_layout import skim
from scanners.modelfile.pickle_ops import (
    OPAQUE,
    STR_OPS,
    Call,
    Global,
    GlobalName,
    ImportRecord,
    PickleError,
    PickleReport,
    SmallDict,
    decode_atom,
)
from scanners.modelfile.source import Source

CHUNK = 8 << 20  # largest read window
_MIN_WINDOW = 64 << 10
MARGIN = 32  # fixed-size arguments may read this far past the loop's end
_PAD = b"\x00" * MARGIN
MAX_STACK = 4_000_000
MAX_MEMO = 16_000_000
MAX_MEMO_EXTRA = 1_000_000
MAX_SIDE = 200_000
MAX_SMALL_TUPLES = 200_000
MAX_DICT_PAIRS = 64
MAX_PICKLES = 100_000
MAX_FRAME = (1 << 63) - 1  # sys.maxsize: a longer FRAME is refused by both unpicklers
NO_FRAME = 1 << 62
MAX_NESTING = 4
DECODE_CAP = 64 << 10  # largest string decoded for a name or for evidence
EVIDENCE_ARGS = 3


class MachineState:
    """State of the pickle being read: read window, stack, memo, and value decoding."""

    def __init__(self, src: Source, report: PickleReport, stream_end: int, depth: int) -> None:
        self.src = src
        self.rep = report
        self.stream_end = stream_end
        self.depth = depth
        self.win = _MIN_WINDOW
        self.buf = b""
        self.base = 0
        self.real = 0  # bytes of buf that are real data (the rest is padding)
        self.eof = False
        self.pending: dict[tuple[str, str], ImportRecord] = {}
        self._reset()

    def _reset(self) -> None:
        self.stack: list[object] = []
        self.marks: list[int] = []
        self.memo = array("q")
        self.memo_extra: dict[int, int] = {}
        self.memo_dropped = 0
        self.dense = True
        self.side: list[object] = []
        self.small_tuples = 0
        self.proto = 0
        self.result: object = None
        self.frame_start = 0
        self.frame_end = NO_FRAME  # end of the current frame (pure-Python reading)

    # ----------------------------------------------------------------- windows and reads
    def _load_window(self, pos: int, size: int) -> None:
        size = max(size, MARGIN * 2)
        data = self.src.read_at(pos, size + MARGIN)
        self.base = pos
        if pos + len(data) >= self.stream_end or len(data) < size + MARGIN:
            real = max(0, min(len(data), self.stream_end - pos))
            self.buf = data[:real] + _PAD
            self.real = real
            self.eof = True
        else:
            self.buf = data
            self.real = len(data)
            self.eof = False

    def read(self, off: int, n: int) -> bytes:
        """Up to ``n`` bytes of the stream at ``off`` (from the window when possible)."""
        n = max(0, min(n, self.stream_end - off))
        rel = off - self.base
        if rel >= 0 and rel + n <= self.real:
            return self.buf[rel : rel + n]
        return self.src.read_at(off, n)

    def _line(self, start: int) -> tuple[bytes, int, bool]:
        """The text argument at ``start`` (relative to the window): (its bytes without the
        newline, capped at DECODE_CAP; the relative offset after the newline; whether a
        newline ends it). Lines of any length are followed past the window; a line cut by
        the end of the stream is returned with ``False`` (and its full rest)."""
        nl = self.buf.find(b"\n", start, self.real)
        if nl >= 0:
            return self.buf[start:nl], nl + 1, True
        abs_start = self.base + start
        pos = self.base + self.real
        while not self.eof and pos < self.stream_end:
            chunk = self.src.read_at(pos, min(CHUNK, self.stream_end - pos))
            if not chunk:
                break
            i = chunk.find(b"\n")
            if i >= 0:
                length = pos + i - abs_start
                line = self.read(abs_start, min(length, DECODE_CAP))
                if length > DECODE_CAP:  # keep the last byte: STRING's closing quote
                    line = line[:-1] + self.read(abs_start + length - 1, 1)
                return line, pos + i + 1 - self.base, True
            pos += len(chunk)
        rest = self.read(abs_start, min(self.stream_end - abs_start, DECODE_CAP))
        return rest, self.stream_end - self.base, False

    def _anomaly(self, off: int, note: str) -> None:
        if len(self.rep.anomalies) < 20 and all(n != note for _o, n in self.rep.anomalies):
            self.rep.anomalies.append((off, note))

    # ------------------------------------------------------------------------ values
    def atom(self, off: int, cap: int = DECODE_CAP) -> object:
        """Decode the scalar pushed by the opcode at ``off``."""
        return decode_atom(self.read, off, cap)

    def describe(self, v: object, depth: int = 0) -> str:
        """A short, safe rendering of a stack value for evidence."""
        if type(v) is int:
            val = self.atom(v, 300)
            text = repr(val)
            return text if len(text) <= 200 else text[:200] + "…"
        if isinstance(v, Global):
            return v.rec.qualname
        if isinstance(v, Call):
            inner = self.describe(v.func, depth + 1) if depth < 2 else "…"
            return f"{inner}(…)"
        if isinstance(v, tuple):
            if depth > 2:
                return "(…)"
            items = [self.describe(x, depth + 1) for x in v[:6]]
            return "(" + ", ".join(items) + (", …" if len(v) > 6 else "") + ")"
        if isinstance(v, SmallDict):
            return "{…}"
        return "<object>"

    def plain(self, v: object, depth: int = 0) -> object:
        """A stack value as plain Python data: scalars decoded, tuples kept, imports as
        ``GlobalName``; anything else None."""
        if type(v) is int:
            return self.atom(v, 4096)
        if type(v) is tuple and depth < 4:
            return tuple(self.plain(x, depth + 1) for x in v[:64])
        if isinstance(v, Global):
            return GlobalName(v.rec.module, v.rec.name)
        return None

    def str_value(self, v: object) -> str | None:
        """The str a stack value holds, or None when it is not a (known) str."""
        if type(v) is int:
            head = self.read(v, 1)
            if head and head[0] in STR_OPS:
                s = self.atom(v)
                return s if isinstance(s, str) else None
        return None

    def str_value_full(self, v: object) -> str | None:
        """Like :meth:`str_value`, without the decoding cap (nested payloads)."""
        if type(v) is int:
            head = self.read(v, 1)
            if head and head[0] in STR_OPS:
                s = self.atom(v, self.stream_end - v)
                return s if isinstance(s, str) else None
        return None

    def int_value(self, v: object) -> int | None:
        if type(v) is int:
            head = self.read(v, 1)
            if head and head[0] in b"JKMI\x8a\x8bL":
                x = self.atom(v)
                return x if isinstance(x, int) else None
        return None

    # -------------------------------------------------------------------------- memo
    def encode(self, v: object) -> int:
        """A memo cell for a stack value: >= 0 atom offset, -1 opaque, <= -2 side table."""
        if type(v) is int:
            return v
        if isinstance(v, Global | Call) or (
            type(v) is tuple and len(v) <= 16 and self.small_tuples < MAX_SMALL_TUPLES
        ):
            if len(self.side) >= MAX_SIDE:
                self._limit("memo side table")
                return -1
            if type(v) is tuple:
                self.small_tuples += 1
            self.side.append(v)
            return -1 - len(self.side)
        return -1

    def decode(self, cell: int) -> object:
        if cell >= 0:
            return cell
        if cell == -1:
            return OPAQUE
        return self.side[-2 - cell]

    def memo_put(self, idx: int, v: object, off: int) -> None:
        """PUT/MEMOIZE outside the hot path (sparse indices, limits)."""
        if idx < 0:
            raise PickleError(off, "negative memo index")
        memo = self.memo
        n = len(memo)
        if idx < n:
            memo[idx] = self.encode(v)
        elif idx == n and not self.memo_extra and n < MAX_MEMO:
            memo.append(self.encode(v))
        elif idx in self.memo_extra or len(self.memo_extra) < MAX_MEMO_EXTRA:
            self.memo_extra[idx] = self.encode(v)
        else:
            self.memo_dropped += 1
            self._limit("memo size")
        self.dense = not self.memo_extra and not self.memo_dropped and len(memo) < MAX_MEMO

    def memo_get(self, idx: int, off: int) -> object:
        if 0 <= idx < len(self.memo):
            return self.decode(self.memo[idx])
        cell = self.memo_extra.get(idx)
        if cell is None:
            if self.memo_dropped:
                return OPAQUE
            raise PickleError(off, f"memo value not found at index {idx}")
        return self.decode(cell)

    def memo_len(self) -> int:
        """How many memo entries exist: MEMOIZE stores at this index (as C does)."""
        return len(self.memo) + len(self.memo_extra) + self.memo_dropped

    def _limit(self, what: str) -> None:
        msg = f"{what} limit reached; later memo references are treated as unknown"
        if msg not in self.rep.limits:
            self.rep.limits.append(msg)

    def _skim_rest(self, pos: int, why: str) -> None:
        """After a limit: name every import in the rest of the stream (no stack)."""
        if why not in self.rep.limits:
            self.rep.limits.append(why)
        for off, opcode, module, attr in skim(self.read, pos, self.stream_end):
            if module and attr:
                self._import(module, attr, off, opcode)
            else:
                self.rep.dynamic_globals.append((off, "computed operands (skimmed past a limit)"))

    # --------------------------------------------------------------------- the stream
    def _import(self, module: str, attr: str, off: int, opcode: str) -> Global:
        raise NotImplementedError  # pragma: no cover - the machine defines it
