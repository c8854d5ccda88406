"""A tiny pickle opcode builder for tests: writes exactly the opcodes asked for.

Hostile pickles are generated here, in the tests, never committed. Nothing in this module
ever loads a pickle.
"""

from __future__ import annotations

import struct


class P:
    """Append opcodes; ``bytes(p)`` or ``p.data`` is the stream."""

    def __init__(self, proto: int | None = None) -> None:
        self.b = bytearray()
        if proto is not None:
            self.proto(proto)

    @property
    def data(self) -> bytes:
        return bytes(self.b)

    def __bytes__(self) -> bytes:
        return self.data

    def raw(self, data: bytes) -> P:
        self.b += data
        return self

    # --- structure
    def proto(self, n: int) -> P:
        return self.raw(b"\x80" + bytes([n]))

    def frame(self, n: int) -> P:
        return self.raw(b"\x95" + struct.pack("<Q", n))

    def stop(self) -> P:
        return self.raw(b".")

    def mark(self) -> P:
        return self.raw(b"(")

    def pop(self) -> P:
        return self.raw(b"0")

    def dup(self) -> P:
        return self.raw(b"2")

    # --- scalars
    def none(self) -> P:
        return self.raw(b"N")

    def int_(self, v: int) -> P:
        if 0 <= v < 256:
            return self.raw(b"K" + bytes([v]))
        if 0 <= v < 65536:
            return self.raw(b"M" + struct.pack("<H", v))
        return self.raw(b"J" + struct.pack("<i", v))

    def text_int(self, v: int) -> P:
        return self.raw(b"I%d\n" % v)

    def float_(self, v: float) -> P:
        return self.raw(b"G" + struct.pack(">d", v))

    def str_(self, s: str) -> P:
        """SHORT_BINUNICODE / BINUNICODE."""
        d = s.encode()
        if len(d) < 256:
            return self.raw(b"\x8c" + bytes([len(d)]) + d)
        return self.raw(b"X" + struct.pack("<I", len(d)) + d)

    def binunicode(self, s: str) -> P:
        d = s.encode()
        return self.raw(b"X" + struct.pack("<I", len(d)) + d)

    def string0(self, s: str) -> P:
        """Protocol 0 STRING: S'...'\\n."""
        return self.raw(b"S'" + s.encode("unicode_escape") + b"'\n")

    def unicode0(self, s: str) -> P:
        return self.raw(b"V" + s.encode("raw_unicode_escape") + b"\n")

    def bytes_(self, d: bytes) -> P:
        if len(d) < 256:
            return self.raw(b"C" + bytes([len(d)]) + d)
        return self.raw(b"B" + struct.pack("<I", len(d)) + d)

    # --- memo
    def memoize(self) -> P:
        return self.raw(b"\x94")

    def binput(self, i: int) -> P:
        return self.raw(b"q" + bytes([i]))

    def long_binput(self, i: int) -> P:
        return self.raw(b"r" + struct.pack("<I", i))

    def put(self, i: int) -> P:
        return self.raw(b"p%d\n" % i)

    def binget(self, i: int) -> P:
        return self.raw(b"h" + bytes([i]))

    def long_binget(self, i: int) -> P:
        return self.raw(b"j" + struct.pack("<I", i))

    def get(self, i: int) -> P:
        return self.raw(b"g%d\n" % i)

    # --- containers
    def tuple_(self) -> P:
        return self.raw(b"t")

    def tuple1(self) -> P:
        return self.raw(b"\x85")

    def tuple2(self) -> P:
        return self.raw(b"\x86")

    def tuple3(self) -> P:
        return self.raw(b"\x87")

    def empty_tuple(self) -> P:
        return self.raw(b")")

    def empty_dict(self) -> P:
        return self.raw(b"}")

    def empty_list(self) -> P:
        return self.raw(b"]")

    def setitem(self) -> P:
        return self.raw(b"s")

    def setitems(self) -> P:
        return self.raw(b"u")

    def appends(self) -> P:
        return self.raw(b"e")

    # --- imports and calls
    def global_(self, module: str, name: str) -> P:
        return self.raw(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def stack_global(self) -> P:
        return self.raw(b"\x93")

    def inst(self, module: str, name: str) -> P:
        return self.raw(b"i" + module.encode() + b"\n" + name.encode() + b"\n")

    def obj(self) -> P:
        return self.raw(b"o")

    def reduce(self) -> P:
        return self.raw(b"R")

    def newobj(self) -> P:
        return self.raw(b"\x81")

    def newobj_ex(self) -> P:
        return self.raw(b"\x92")

    def build(self) -> P:
        return self.raw(b"b")

    def binpersid(self) -> P:
        return self.raw(b"Q")

    def ext1(self, code: int) -> P:
        return self.raw(b"\x82" + bytes([code]))

    # --- recipes
    def call(self, module: str, name: str, *args: str, proto4: bool = True) -> P:
        """``module.name(*args)`` with STACK_GLOBAL (protocol 4) or GLOBAL."""
        if proto4:
            self.str_(module).memoize().str_(name).memoize().stack_global().memoize()
        else:
            self.global_(module, name)
        self.mark()
        for a in args:
            self.str_(a)
        return self.tuple_().reduce()


def call_pickle(module: str, name: str, *args: str, proto: int = 4) -> bytes:
    """A complete pickle that calls ``module.name(*args)``."""
    p = P(proto)
    p.call(module, name, *args, proto4=proto >= 4)
    return p.stop().data


def proto0_call(module: str, name: str, arg: str) -> bytes:
    """Protocol 0 (text): ``cmodule\\nname\\n(S'arg'\\ntR.``"""
    return P().global_(module, name).mark().string0(arg).tuple_().reduce().stop().data


def rebuild_tensor_pickle(keys: list[str], proto: int = 2) -> bytes:
    """A torch-like data.pkl: an OrderedDict of tensors rebuilt from storages ``keys``."""
    p = P(proto)
    p.global_("collections", "OrderedDict").empty_tuple().reduce().binput(0)
    p.mark()
    for i, key in enumerate(keys):
        p.str_(f"layer{i}.weight")
        p.global_("torch._utils", "_rebuild_tensor_v2")
        p.mark()
        p.mark().str_("storage").global_("torch", "FloatStorage").str_(key).str_("cpu")
        p.int_(4).tuple_().binpersid()
        p.int_(0).int_(2).int_(2).tuple2().int_(2).int_(1).tuple2().raw(b"\x89")
        p.global_("collections", "OrderedDict").empty_tuple().reduce()
        p.tuple_().reduce()
    p.setitems()
    return p.stop().data
