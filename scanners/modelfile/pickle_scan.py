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

from scanners.modelfile.pickle_layout import frame_split
from scanners.modelfile.pickle_ops import (
    I32,
    KIND,
    LEGACY_PREFIX,
    OPAQUE,
    OPNAMES,
    SIZE,
    U32,
    U64,
    Call,
    Global,
    ImportRecord,
    PickleError,
    PickleLimit,
    PickleReport,
    SmallDict,
    check_text,
    dtype_info,
)
from scanners.modelfile.pickle_state import (
    _MIN_WINDOW,
    CHUNK,
    EVIDENCE_ARGS,
    MARGIN,
    MAX_DICT_PAIRS,
    MAX_FRAME,
    MAX_MEMO,
    MAX_NESTING,
    MAX_PICKLES,
    MAX_STACK,
    NO_FRAME,
    MachineState,
)
from scanners.modelfile.source import Source


class _Machine(MachineState):
    """Walks every pickle of a stream, opcode by opcode."""

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
            except PickleLimit as exc:
                self._skim_rest(exc.offset, exc.message)
                self._merge()
                rep.end = self.stream_end
                return
            except PickleError as exc:
                if first or self.pending or began_proto:
                    self._merge()
                    rep.errors.append((exc.offset, exc.message))
                else:
                    rep.trailing_bytes = self.stream_end - pos
                rep.end = max(exc.offset, pos)
                return
            self._merge()
            if first:
                rep.plausible = len(self.stack) == 1 and not self.marks
            if first and self.read(pos, len(LEGACY_PREFIX)) == LEGACY_PREFIX:
                rep.legacy_torch = True
                max_pickles = min(max_pickles, 5)  # torch.load reads 5 pickles, then raw data
            rep.pickles += 1
            first = False
            pos = end
            rep.end = end
        if pos < self.stream_end and rep.pickles >= max_pickles == MAX_PICKLES:
            self._skim_rest(pos, f"more than {MAX_PICKLES} concatenated pickles")
            self._merge()
        elif pos < self.stream_end:
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
            stopped, p = self._loop(p)
            if stopped:
                return self.base + p
            if self.base + p >= self.frame_end:
                self._end_frame(self.base + p)
                if p < (self.real if self.eof else self.real - MARGIN):
                    continue  # the frame ended inside the window: go on from here
            if self.eof:
                if p > self.real:
                    raise PickleError(self.base + self.real, "pickle data was truncated")
                raise PickleError(self.base + p, "pickle data ends without STOP")
            if len(self.stack) > MAX_STACK:
                raise PickleLimit(self.base + p, f"stack depth limit ({MAX_STACK:,} entries)")
            jumped = p > self.real
            self.win = _MIN_WINDOW if jumped else min(self.win * 2, CHUNK)
            self._load_window(self.base + p, self.win)
            p = 0

    def _end_frame(self, pos: int) -> None:
        """The machine reached or stepped over the end of the current frame."""
        if pos > self.frame_end:
            cut = frame_split(self.read, self.frame_start, self.frame_end, self.stream_end)
            if cut is not None:
                self._anomaly(
                    cut,
                    f"the opcode at byte {cut} reads across the end of its frame (byte "
                    f"{self.frame_end}): the pure-Python unpickler stops there, the C "
                    "unpickler reads on",
                )
        self.frame_end = NO_FRAME

    def _loop(self, p: int) -> tuple[bool, int]:
        """The hot loop over the current window. Returns (stopped, relative position)."""
        buf = self.buf
        base = self.base
        end = self.real if self.eof else self.real - MARGIN
        if self.frame_end - base < end:
            end = max(self.frame_end - base, p)  # stop at the frame's end (see run_one)
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
                if op == 0x95 and self.frame_end - base < end:  # FRAME: stop at its end
                    end = max(self.frame_end - base, p)
                if p < 0:  # a nested pickle moved the window
                    p = 0
                    buf = self.buf
                    base = self.base
                    end = self.real if self.eof else self.real - MARGIN
                    if self.frame_end - base < end:
                        end = max(self.frame_end - base, 0)
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
            return self._frame(p, off)
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
            line, nxt, ended = self._line(p + 1)
            if not ended:
                raise PickleError(off, "pickle data was truncated (text argument)")
            note = check_text(name, line, off)
            if note:
                self._anomaly(off, note)
            stack.append(off)
            return nxt
        if name in ("GET", "PUT"):
            line, nxt, ended = self._line(p + 1)
            if not ended:
                raise PickleError(off, "pickle data was truncated (text argument)")
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
            return nxt
        if name in ("GLOBAL", "INST"):
            return self._global(name, p, off)
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
            _line, nxt, ended = self._line(p + 1)
            if not ended:
                raise PickleError(off, "pickle data was truncated (text argument)")
            stack.append(OPAQUE)
            return nxt
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

    def _frame(self, p: int, off: int) -> int:
        """FRAME: the C unpickler only needs the frame's bytes to be there; the pure-Python
        unpickler reads the frame into a buffer of its own, refuses a new frame before the
        current one is used up, and reads on when fewer bytes remain than announced."""
        if off + 9 > self.stream_end:
            raise PickleError(off, "pickle data was truncated (FRAME)")
        n = int(U64(self.buf, p + 1)[0])
        if n > MAX_FRAME:
            raise PickleError(off, "FRAME length exceeds the largest size a loader accepts")
        if off < self.frame_end < NO_FRAME:
            self._anomaly(
                off,
                f"FRAME at byte {off} starts before the previous frame ends (byte "
                f"{self.frame_end}): the pure-Python unpickler stops there, the C unpickler "
                "reads on",
            )
        start = off + 9
        if start + n > self.stream_end:
            self._anomaly(
                off,
                f"FRAME at byte {off} announces {n:,} bytes, {self.stream_end - start:,} "
                "remain: the C unpickler stops there, the pure-Python unpickler (joblib, "
                "pickle._load) reads on; the rest was scanned as it does",
            )
            self.frame_end = NO_FRAME
        else:
            self.frame_start, self.frame_end = start, start + n
        return p + 9

    def _global(self, name: str, p: int, off: int) -> int:
        """GLOBAL / INST: two text lines. A last line cut by the end of the data is read the
        pure-Python way: ``readline()[:-1]`` drops its last byte, and the import (for INST,
        the call too) happens before the loader finds the data truncated."""
        module_b, q, ended = self._line(p + 1)
        name_b, nxt, ended2 = (b"", q, False) if not ended else self._line(q)
        cut = not (ended and ended2)
        if cut:
            if ended:
                name_b = name_b[:-1]
            else:
                module_b = module_b[:-1]
        try:
            module = module_b.decode("utf-8")
            attr = name_b.decode("utf-8")
        except UnicodeDecodeError:
            raise PickleError(off, f"{name}: module or name is not UTF-8") from None
        if cut and not module:
            raise PickleError(off, "pickle data was truncated (text argument)")
        g = self._import(module, attr, off, name)
        if name == "GLOBAL":
            self.stack.append(g)
        elif self.marks or not cut:
            inst_args = self._pop_mark(off, name)
            self.stack.append(self._call(g, tuple(inst_args), off, "INST"))
        if cut:
            self._anomaly(
                off,
                f"{name} at byte {off} is cut by the end of the data: the pure-Python "
                "unpickler drops the last byte of the cut line and imports "
                f"{module}.{attr} before it stops; the C unpickler stops without importing",
            )
            raise PickleError(off, "pickle data was truncated (after an import)")
        return nxt

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
            nested = rec.name == "_load_from_bytes" and rec.module == "torch.storage"
            if nested and not (
                type(args) is tuple and len(args) == 1 and self._nested_bytes(args[0])
            ):
                self.rep.unresolved.append((off, "torch.storage._load_from_bytes"))
        return Call(func, args, off, opcode)

    def _nested_bytes(self, v: object) -> bool:
        """Queue the bytes value ``v`` as a nested pickle; False when it is not one. Protocol
        2 writes bytes as ``_codecs.encode(str, 'latin1')``: that is undone here."""
        if (
            isinstance(v, Call)
            and isinstance(v.func, Global)
            and v.func.rec.qualname == "_codecs.encode"
            and type(v.args) is tuple
            and v.args
        ):
            text = self.str_value_full(v.args[0])
            if text is None:
                return False
            try:
                blob = text.encode("latin-1")
            except UnicodeEncodeError:
                return False
            self.rep.nested_blobs.append((v.offset, blob, "torch.storage._load_from_bytes"))
            return True
        if type(v) is not int:
            return False
        head = self.read(v, 9)
        if not head:
            return False
        if head[0] == 0x43:
            n, hdr = head[1], 2
        elif head[0] == 0x42:
            n, hdr = int(U32(head, 1)[0]), 5
        elif head[0] in (0x8E, 0x96):
            n, hdr = int(U64(head, 1)[0]), 9
        else:
            return False
        self.rep.nested_payloads.append((v + hdr, n, "torch.storage._load_from_bytes"))
        return True

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
