"""A static pickle machine: simulates the unpickler's stack and memo, executes nothing.

It walks the opcodes of one or several concatenated pickles (protocols 0-5) and records every
import (``GLOBAL``, ``STACK_GLOBAL``, ``INST``, ``OBJ``'s class) and every call made on an
import (``REDUCE``, ``NEWOBJ``, ``NEWOBJ_EX``, ``INST``, ``OBJ``, ``BUILD``). Semantics follow
CPython's C unpickler (``Modules/_pickle.c``), which is what ``pickle.load`` and ``torch.load``
run: the mark is a fence the stack cannot be popped through, ``FRAME`` only asks for its bytes
to exist, ``STACK_GLOBAL`` needs two ``str`` on the stack (often fetched from the memo),
``PROTO`` may appear anywhere, and an unknown opcode stops the loader.

Speed and memory. The loop is a tight ``while`` over a bytes window (8 MiB at most, read with
``pread``), dispatching on a 256-entry table. Scalars (numbers, strings, bytes) are never
decoded on the hot path: the stack holds the *offset* of the opcode that pushed them, and the
value is decoded from the source only when it matters (a ``STACK_GLOBAL`` operand, a call's
arguments for evidence, a storage key). The memo is an ``array('q')`` of those offsets (8 bytes
per entry; containers are one shared placeholder), and only imports, call results and small
dicts/tuples live in a side table. A 100 MB pickle of a 5-million-entry dict scans in a few
seconds in under 100 MB of memory.

Nothing here ever calls ``pickle``, ``eval`` or ``importlib``.
"""

from __future__ import annotations

import _compat_pickle
from array import array

from scanners.modelfile.pickle_ops import (
    I32,
    KIND,
    LEGACY_PREFIX,
    MAX_LINE,
    OPAQUE,
    OPNAMES,
    SIZE,
    STR_OPS,
    U32,
    U64,
    Call,
    Global,
    GlobalName,
    ImportRecord,
    NeedMore,
    PickleError,
    PickleReport,
    SmallDict,
    check_text,
    decode_atom,
    dtype_info,
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
MAX_NESTING = 4
DECODE_CAP = 64 << 10  # largest string decoded for a name or for evidence
EVIDENCE_ARGS = 3


class _Machine:
    """State of the pickle being read; one machine walks every pickle of a stream."""

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

    def _line(self, buf: bytes, start: int) -> bytes:
        """The text argument starting at ``start`` (relative), without its newline."""
        nl = buf.find(b"\n", start, self.real)
        if nl < 0:
            if not self.eof and self.real - start < MAX_LINE:
                raise NeedMore
            raise PickleError(self.base + start - 1, "unterminated text argument")
        return buf[start:nl]

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

    # --------------------------------------------------------------------- the stream
    def run_stream(self, start: int, max_pickles: int = MAX_PICKLES) -> None:
        """Scan every pickle from ``start`` to the end of the stream."""
        rep = self.rep
        pos = start
        first = True
        while pos < self.stream_end and rep.pickles < max_pickles:
            self._reset()
            self.pending = {}
            began_proto = self.read(pos, 1) == b"\x80"
            try:
                end = self.run_one(pos)
            except PickleError as exc:
                if first or self.pending or began_proto:
                    self._merge()
                    rep.errors.append((exc.offset, exc.message))
                else:
                    rep.trailing_bytes = self.stream_end - pos
                rep.end = max(exc.offset, pos)
                return
            self._merge()
            if first and self.read(pos, len(LEGACY_PREFIX)) == LEGACY_PREFIX:
                rep.legacy_torch = True
                max_pickles = min(max_pickles, 5)  # torch.load reads 5 pickles, then raw data
            rep.pickles += 1
            first = False
            pos = end
            rep.end = end
        if pos < self.stream_end:
            rep.trailing_bytes = self.stream_end - pos

    def _merge(self) -> None:
        for key, rec in self.pending.items():
            old = self.rep.imports.get(key)
            if old is None:
                self.rep.imports[key] = rec
            else:
                old.count += rec.count
                if rec.called and not old.called:
                    old.called, old.call_opcode = True, rec.call_opcode
                    old.call_offset, old.call_args = rec.call_offset, rec.call_args
                old.built = old.built or rec.built
        self.pending = {}

    def run_one(self, start: int) -> int:
        """Walk one pickle from ``start``; return the offset just after its STOP."""
        self._load_window(start, self.win)
        p = 0
        while True:
            try:
                stopped, p = self._loop(p)
            except NeedMore:
                self.win = min(max(self.win * 4, MAX_LINE * 2), CHUNK * 2)
                self._load_window(self.base + p, self.win)
                p = 0
                continue
            if stopped:
                return self.base + p
            if self.eof:
                if p > self.real:
                    raise PickleError(self.base + self.real, "pickle data was truncated")
                raise PickleError(self.base + p, "pickle data ends without STOP")
            if len(self.stack) > MAX_STACK:
                raise PickleError(self.base + p, "stack too deep (resource limit)")
            jumped = p > self.real
            self.win = _MIN_WINDOW if jumped else min(self.win * 2, CHUNK)
            self._load_window(self.base + p, self.win)
            p = 0

    def _loop(self, p: int) -> tuple[bool, int]:
        """The hot loop over the current window. Returns (stopped, relative position)."""
        buf = self.buf
        base = self.base
        end = self.real if self.eof else self.real - MARGIN
        stack = self.stack
        push = stack.append
        marks = self.marks
        memo = self.memo
        kind = KIND
        size = SIZE
        u32 = U32
        fence = marks[-1] if marks else 0
        dense = self.dense
        mlen = len(memo)
        while p < end:
            op = buf[p]
            k = kind[op]
            if k == 1:  # fixed-size scalar
                push(base + p)
                p += size[op]
            elif k == 2:  # scalar with a 1-byte length
                q = p + 2 + buf[p + 1]
                if q < end and buf[q] == 0x94 and dense and mlen < MAX_MEMO:
                    memo.append(base + p)  # the usual "short string, MEMOIZE" pair
                    mlen += 1
                    q += 1
                push(base + p)
                p = q
            elif k == 3:  # MEMOIZE
                if len(stack) <= fence:
                    raise PickleError(base + p, "MEMOIZE on an empty stack")
                top = stack[-1]
                if dense and mlen < MAX_MEMO:
                    memo.append(top if type(top) is int else self.encode(top))
                    mlen += 1
                else:
                    self.memo_put(self.memo_len(), top, base + p)
                    dense = self.dense
                    memo = self.memo
                    mlen = len(memo)
                p += 1
            elif k == 4 or k == 5:  # BINGET, LONG_BINGET
                idx = buf[p + 1] if k == 4 else u32(buf, p + 1)[0]
                if dense and idx < mlen:
                    cell = memo[idx]
                    push(cell if cell >= 0 else self.decode(cell))
                else:
                    push(self.memo_get(idx, base + p))
                p += 2 if k == 4 else 5
            elif k == 8:  # MARK
                fence = len(stack)
                marks.append(fence)
                p += 1
            elif k == 9:  # BINUNICODE, BINBYTES
                push(base + p)
                p += 5 + u32(buf, p + 1)[0]
            elif k == 10:  # TUPLE2
                if len(stack) - fence < 2:
                    raise PickleError(base + p, "stack underflow (TUPLE2)")
                t = (stack[-2], stack[-1])
                del stack[-2:]
                push(t)
                p += 1
            elif k == 6 or k == 7:  # BINPUT, LONG_BINPUT
                if len(stack) <= fence:
                    raise PickleError(base + p, "PUT on an empty stack")
                idx = buf[p + 1] if k == 6 else u32(buf, p + 1)[0]
                self.memo_put(idx, stack[-1], base + p)
                dense = self.dense
                memo = self.memo
                mlen = len(memo)
                p += 2 if k == 6 else 5
            elif k == 11 or k == 12:  # TUPLE1, TUPLE3
                n = 1 if k == 11 else 3
                if len(stack) - fence < n:
                    raise PickleError(base + p, "stack underflow (TUPLE)")
                tn = tuple(stack[-n:])
                del stack[-n:]
                push(tn)
                p += 1
            elif k == 13:  # EMPTY_LIST, EMPTY_SET
                push(OPAQUE)
                p += 1
            elif k == 14:
                push(SmallDict())
                p += 1
            elif k == 18:
                push(())
                p += 1
            elif k == 15:  # APPEND
                if len(stack) - fence < 2:
                    raise PickleError(base + p, "stack underflow (APPEND)")
                stack.pop()
                p += 1
            elif k == 16:  # SETITEM
                if len(stack) - fence < 3:
                    raise PickleError(base + p, "stack underflow (SETITEM)")
                value = stack.pop()
                key = stack.pop()
                target = stack[-1]
                if type(target) is SmallDict and len(target.items) < MAX_DICT_PAIRS:
                    target.items.append((key, value))
                p += 1
            elif k == 17:  # STOP
                if len(stack) <= fence:
                    raise PickleError(base + p, "STOP with an empty stack")
                self.result = stack[-1]
                return True, p + 1
            else:
                p = self._slow(op, p)
                fence = marks[-1] if marks else 0
                dense = self.dense
                memo = self.memo
                mlen = len(memo)
                if p < 0:  # a nested pickle moved the window
                    p = 0
                    buf = self.buf
                    base = self.base
                    end = self.real if self.eof else self.real - MARGIN
        return False, p

    # ---------------------------------------------------------------------- slow path
    def _pop(self, off: int, what: str) -> object:
        fence = self.marks[-1] if self.marks else 0
        if len(self.stack) <= fence:
            raise PickleError(off, f"stack underflow ({what})")
        return self.stack.pop()

    def _pop_mark(self, off: int, what: str) -> list[object]:
        if not self.marks:
            raise PickleError(off, f"could not find MARK ({what})")
        m = self.marks.pop()
        items = self.stack[m:]
        del self.stack[m:]
        return items

    def _slow(self, op: int, p: int) -> int:
        buf = self.buf
        off = self.base + p
        name = OPNAMES.get(op)
        stack = self.stack
        if name is None:
            raise PickleError(off, f"invalid opcode 0x{op:02x}")
        if name == "FRAME":
            n = int(U64(buf, p + 1)[0])
            if off + 9 + n > self.stream_end:
                raise PickleError(off, "FRAME longer than the remaining data")
            return p + 9
        if name == "PROTO":
            proto = buf[p + 1]
            if proto > 5:
                raise PickleError(off, f"unsupported pickle protocol {proto}")
            self.proto = proto
            self.rep.protocol = max(self.rep.protocol, proto)
            return p + 2
        if name in ("SETITEMS", "APPENDS", "ADDITEMS"):
            items = self._pop_mark(off, name)
            fence = self.marks[-1] if self.marks else 0
            if len(stack) <= fence:
                raise PickleError(off, f"stack underflow ({name})")
            if name == "SETITEMS":
                if len(items) % 2:
                    raise PickleError(off, "odd number of items for SETITEMS")
                target = stack[-1]
                if type(target) is SmallDict and len(target.items) < MAX_DICT_PAIRS:
                    room = MAX_DICT_PAIRS - len(target.items)
                    target.items.extend(
                        zip(items[0 : 2 * room : 2], items[1 : 2 * room : 2], strict=True)
                    )
            return p + 1
        if name in ("LONG4", "BINSTRING"):
            n = int(I32(buf, p + 1)[0])
            if n < 0:
                raise PickleError(off, f"{name} has a negative byte count")
            stack.append(off)
            return p + 5 + n
        if name in ("BINUNICODE8", "BINBYTES8", "BYTEARRAY8"):
            stack.append(off)
            return p + 9 + int(U64(buf, p + 1)[0])
        if name in ("STRING", "UNICODE", "INT", "LONG", "FLOAT"):
            line = self._line(buf, p + 1)
            check_text(name, line, off)
            stack.append(off)
            return p + 2 + len(line)
        if name in ("GET", "PUT"):
            line = self._line(buf, p + 1)
            try:
                idx = int(line)
            except ValueError:
                raise PickleError(off, f"{name} needs an integer") from None
            if name == "GET":
                stack.append(self.memo_get(idx, off))
            else:
                if len(stack) <= (self.marks[-1] if self.marks else 0):
                    raise PickleError(off, "PUT on an empty stack")
                self.memo_put(idx, stack[-1], off)
            return p + 2 + len(line)
        if name in ("GLOBAL", "INST"):
            module_b = self._line(buf, p + 1)
            name_b = self._line(buf, p + 2 + len(module_b))
            nxt = p + 3 + len(module_b) + len(name_b)
            try:
                module, attr = module_b.decode("utf-8"), name_b.decode("utf-8")
            except UnicodeDecodeError:
                raise PickleError(off, f"{name}: module or name is not UTF-8") from None
            g = self._import(module, attr, off, name)
            if name == "GLOBAL":
                stack.append(g)
            else:
                inst_args = self._pop_mark(off, name)
                stack.append(self._call(g, tuple(inst_args), off, "INST"))
            return nxt
        if name == "STACK_GLOBAL":
            attr_v = self._pop(off, name)
            module_v = self._pop(off, name)
            module_s, attr_s = self.str_value(module_v), self.str_value(attr_v)
            if module_s is None or attr_s is None:
                if type(module_v) is int and type(attr_v) is int:
                    raise PickleError(off, "STACK_GLOBAL requires str")
                what = f"{self.describe(module_v)} . {self.describe(attr_v)}"
                self.rep.dynamic_globals.append((off, what))
                stack.append(OPAQUE)
            else:
                stack.append(self._import(module_s, attr_s, off, name))
            return p + 1
        if name == "REDUCE":
            args = self._pop(off, name)
            func = self._pop(off, name)
            stack.append(self._call(func, args, off, name))
            return p + 1
        if name == "NEWOBJ":
            args = self._pop(off, name)
            cls = self._pop(off, name)
            stack.append(self._call(cls, args, off, name))
            return p + 1
        if name == "NEWOBJ_EX":
            kwargs = self._pop(off, name)
            args = self._pop(off, name)
            cls = self._pop(off, name)
            stack.append(self._call(cls, (args, kwargs), off, name))
            return p + 1
        if name == "OBJ":
            items = self._pop_mark(off, name)
            if not items:
                raise PickleError(off, "stack underflow (OBJ)")
            stack.append(self._call(items[0], tuple(items[1:]), off, name))
            return p + 1
        if name == "BUILD":
            state = self._pop(off, name)
            fence = self.marks[-1] if self.marks else 0
            if len(stack) <= fence:
                raise PickleError(off, "stack underflow (BUILD)")
            return self._build(stack[-1], state, p, off)
        if name in ("TUPLE", "LIST", "DICT", "FROZENSET"):
            items = self._pop_mark(off, name)
            if name == "TUPLE":
                stack.append(tuple(items))
            elif name == "DICT":
                if len(items) % 2:
                    raise PickleError(off, "odd number of items for DICT")
                d = SmallDict()
                d.items = list(zip(items[0::2], items[1::2], strict=True))[:MAX_DICT_PAIRS]
                stack.append(d)
            else:
                stack.append(OPAQUE)
            return p + 1
        if name == "POP":
            fence = self.marks[-1] if self.marks else 0
            if len(stack) > fence:
                stack.pop()
            elif self.marks:
                self.marks.pop()
            else:
                raise PickleError(off, "stack underflow (POP)")
            return p + 1
        if name == "POP_MARK":
            self._pop_mark(off, name)
            return p + 1
        if name == "DUP":
            fence = self.marks[-1] if self.marks else 0
            if len(stack) <= fence:
                raise PickleError(off, "stack underflow (DUP)")
            stack.append(stack[-1])
            return p + 1
        if name == "PERSID":
            line = self._line(buf, p + 1)
            stack.append(OPAQUE)
            return p + 2 + len(line)
        if name == "BINPERSID":
            pid = self._pop(off, name)
            self._persistent(pid)
            stack.append(OPAQUE)
            return p + 1
        if name in ("EXT1", "EXT2", "EXT4"):
            width = {"EXT1": 1, "EXT2": 2, "EXT4": 4}[name]
            code = int.from_bytes(buf[p + 1 : p + 1 + width], "little")
            self.rep.ext_codes.append((off, code))
            stack.append(OPAQUE)
            return p + 1 + width
        if name == "NEXT_BUFFER":
            raise PickleError(off, "NEXT_BUFFER: out-of-band buffer that loaders do not provide")
        if name == "READONLY_BUFFER":
            if len(stack) <= (self.marks[-1] if self.marks else 0):
                raise PickleError(off, "stack underflow (READONLY_BUFFER)")
            return p + 1
        raise PickleError(off, f"unhandled opcode {name}")  # pragma: no cover

    def _import(self, module: str, attr: str, off: int, opcode: str) -> Global:
        original = ""
        if self.proto < 3:
            key = (module, attr)
            if key in _compat_pickle.NAME_MAPPING:
                module, attr = _compat_pickle.NAME_MAPPING[key]
                original = f"{key[0]} {key[1]}"
            elif module in _compat_pickle.IMPORT_MAPPING:
                original = f"{module} {attr}"
                module = _compat_pickle.IMPORT_MAPPING[module]
        key2 = (module, attr)
        rec = self.pending.get(key2)
        if rec is None:
            rec = ImportRecord(module, attr, off, opcode, original=original)
            self.pending[key2] = rec
        else:
            rec.count += 1
        return Global(rec)

    def _call(self, func: object, args: object, off: int, opcode: str) -> Call:
        if isinstance(func, Global):
            rec = func.rec
            if not rec.called:
                rec.called, rec.call_opcode, rec.call_offset = True, opcode, off
            if len(rec.call_args) < EVIDENCE_ARGS and rec.module not in _QUIET_MODULES:
                rec.call_args.append(self.describe(args))
            if rec.name == "_load_from_bytes" and type(args) is tuple and len(args) == 1:
                self._nested_bytes(args[0], "torch.storage._load_from_bytes")
        return Call(func, args, off, opcode)

    def _nested_bytes(self, v: object, why: str) -> None:
        if type(v) is not int:
            return
        head = self.read(v, 9)
        if not head:
            return
        if head[0] in (0x43,):
            n, hdr = head[1], 2
        elif head[0] == 0x42:
            n, hdr = int(U32(head, 1)[0]), 5
        elif head[0] in (0x8E, 0x96):
            n, hdr = int(U64(head, 1)[0]), 9
        else:
            return
        self.rep.nested_payloads.append((v + hdr, n, why))

    def _persistent(self, pid: object) -> None:
        if type(pid) is tuple and len(pid) >= 3 and len(self.rep.storage_keys) < 1_000_000:
            key = self.str_value(pid[2])
            if key is None:
                ikey = self.int_value(pid[2])
                key = None if ikey is None else str(ikey)
            if key is not None:
                self.rep.storage_keys.append(key)

    def _build(self, target: object, state: object, p: int, off: int) -> int:
        if isinstance(target, Global):
            target.rec.built = True
            return p + 1
        if (
            isinstance(target, Call)
            and isinstance(target.func, Global)
            and target.func.rec.name == "NumpyArrayWrapper"
            and target.func.rec.module.endswith("numpy_pickle")
        ):
            return self._joblib_array(state, p, off)
        return p + 1

    # ------------------------------------------------------------------ joblib arrays
    def _joblib_array(self, state: object, p: int, off: int) -> int:
        """joblib writes each array's bytes right after its wrapper's BUILD; skip them the
        way ``NumpyArrayWrapper.read`` does (an object array is a nested pickle)."""
        fields: dict[str, object] = {}
        if isinstance(state, SmallDict):
            for k, v in state.items:
                ks = self.str_value(k)
                if ks is not None:
                    fields[ks] = v
        dtype = fields.get("dtype")
        descr = None
        if isinstance(dtype, Call) and type(dtype.args) is tuple and dtype.args:
            descr = dtype_info(self.str_value(dtype.args[0]) or "")
        shape = fields.get("shape")
        pos = off + 1
        if descr is None:
            raise PickleError(off, "joblib array with an unreadable dtype: data not located")
        itemsize, hasobject = descr
        if hasobject:
            if self.depth >= MAX_NESTING:
                raise PickleError(off, "nested pickles too deep")
            sub = _Machine(self.src, self.rep, self.stream_end, self.depth + 1)
            sub.pending = self.pending
            end = sub.run_one(pos)
            self._load_window(end, _MIN_WINDOW)
            return -1  # restart the loop at the new window's start
        count = 1
        if type(shape) is tuple:
            for dim in shape:
                d = self.int_value(dim)
                if d is None or d < 0:
                    raise PickleError(off, "joblib array with an unreadable shape")
                count *= d
        else:
            raise PickleError(off, "joblib array with an unreadable shape")
        if "numpy_array_alignment_bytes" in fields:
            align = fields["numpy_array_alignment_bytes"]
            if self.int_value(align) is not None:
                pad = self.read(pos, 1)
                pos += 1 + (pad[0] if pad else 0)
        pos += count * itemsize
        if pos > self.stream_end:
            raise PickleError(off, "joblib array data runs past the end of the file")
        return pos - self.base


_QUIET_MODULES = frozenset({"torch._utils", "collections", "numpy.core.multiarray"})


def scan_pickle(src: Source, start: int = 0, end: int | None = None) -> PickleReport:
    """Scan every pickle in ``src[start:end]`` (concatenated pickles included)."""
    report = PickleReport()
    stream_end = src.size if end is None else min(end, src.size)
    _Machine(src, report, stream_end, 0).run_stream(start)
    return report


def scan_one_pickle(src: Source, start: int, end: int | None = None) -> PickleReport:
    """Scan exactly one pickle at ``start`` (``report.end`` is where it stopped)."""
    report = PickleReport()
    stream_end = src.size if end is None else min(end, src.size)
    _Machine(src, report, stream_end, 0).run_stream(start, max_pickles=1)
    return report


def read_value(src: Source, start: int, report: PickleReport) -> tuple[int, object]:
    """Read one pickle at ``start`` into ``report`` and return (end offset, its value as
    plain data). On a parse error the error is recorded and (-1, None) returned."""
    m = _Machine(src, report, src.size, 0)
    m._reset()
    try:
        end = m.run_one(start)
    except PickleError as exc:
        m._merge()
        report.errors.append((exc.offset, exc.message))
        return -1, None
    m._merge()
    report.pickles += 1
    report.end = end
    return end, m.plain(m.result)
