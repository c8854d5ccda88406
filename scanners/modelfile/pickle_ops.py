"""Pickle opcodes and the values the static pickle machine puts on its stack.

Opcode names are pickletools' names; :data:`KIND` and :data:`SIZE` are the hot loop's
dispatch tables (see :mod:`scanners.modelfile.pickle_scan`).
"""

from __future__ import annotations

import codecs
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

MAX_LINE = 1 << 20  # protocol-0 text arguments are decoded up to this many bytes (read on past)

U16 = struct.Struct("<H").unpack_from
U32 = struct.Struct("<I").unpack_from
I32 = struct.Struct("<i").unpack_from
U64 = struct.Struct("<Q").unpack_from
F64 = struct.Struct(">d").unpack_from

#: Opcode byte -> name (pickletools' names), every opcode of protocols 0-5.
_OPCODES = (
    "( MARK . STOP 0 POP 1 POP_MARK 2 DUP F FLOAT I INT J BININT K BININT1 L LONG M BININT2 "
    "N NONE P PERSID Q BINPERSID R REDUCE S STRING T BINSTRING U SHORT_BINSTRING V UNICODE "
    "X BINUNICODE a APPEND b BUILD c GLOBAL d DICT } EMPTY_DICT e APPENDS g GET h BINGET "
    "i INST j LONG_BINGET l LIST ] EMPTY_LIST o OBJ p PUT q BINPUT r LONG_BINPUT s SETITEM "
    "t TUPLE ) EMPTY_TUPLE u SETITEMS G BINFLOAT B BINBYTES C SHORT_BINBYTES"
)
_OPCODES_HIGH = (
    "PROTO NEWOBJ EXT1 EXT2 EXT4 TUPLE1 TUPLE2 TUPLE3 NEWTRUE NEWFALSE LONG1 LONG4 "
    "SHORT_BINUNICODE BINUNICODE8 BINBYTES8 EMPTY_SET ADDITEMS FROZENSET NEWOBJ_EX "
    "STACK_GLOBAL MEMOIZE FRAME BYTEARRAY8 NEXT_BUFFER READONLY_BUFFER"
)
_pairs = _OPCODES.split()
OPNAMES: dict[int, str] = {ord(k): v for k, v in zip(_pairs[::2], _pairs[1::2], strict=True)}
OPNAMES.update({0x80 + i: name for i, name in enumerate(_OPCODES_HIGH.split())})

# Hot-path kinds. Everything not listed goes to the slow path (_Machine._slow).
_K_SLOW, _K_FIXED, _K_LEN1, _K_MEMOIZE, _K_BINGET, _K_LBINGET = 0, 1, 2, 3, 4, 5
_K_BINPUT, _K_LBINPUT, _K_MARK, _K_LEN4, _K_TUPLE2, _K_TUPLE1 = 6, 7, 8, 9, 10, 11
_K_TUPLE3, _K_EMPTY, _K_EMPTY_DICT, _K_APPEND, _K_SETITEM, _K_STOP = 12, 13, 14, 15, 16, 17
_K_EMPTY_TUPLE = 18

KIND = [_K_SLOW] * 256
SIZE = [0] * 256  # total size of fixed-size opcodes (opcode byte included)
for _c, _n in ((b"J", 5), (b"K", 2), (b"M", 3), (b"G", 9), (b"N", 1), (b"\x88", 1), (b"\x89", 1)):
    KIND[_c[0]] = _K_FIXED
    SIZE[_c[0]] = _n
for _c in (b"\x8c", b"U", b"C", b"\x8a"):
    KIND[_c[0]] = _K_LEN1
for _c in (b"X", b"B"):
    KIND[_c[0]] = _K_LEN4
for _c, _k in (
    (b"\x94", _K_MEMOIZE), (b"h", _K_BINGET), (b"j", _K_LBINGET), (b"q", _K_BINPUT),
    (b"r", _K_LBINPUT), (b"(", _K_MARK), (b"\x86", _K_TUPLE2), (b"\x85", _K_TUPLE1),
    (b"\x87", _K_TUPLE3), (b"]", _K_EMPTY), (b"\x8f", _K_EMPTY), (b"}", _K_EMPTY_DICT),
    (b"a", _K_APPEND), (b"s", _K_SETITEM), (b".", _K_STOP), (b")", _K_EMPTY_TUPLE),
):  # fmt: skip
    KIND[_c[0]] = _k

STR_OPS = frozenset(b"\x8cXV\x8dSTU")  # opcodes whose value is a str for the C unpickler
LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PREFIX = b"\x80\x02\x8a\x0a" + LEGACY_TORCH_MAGIC.to_bytes(10, "little") + b"."


class PickleError(Exception):
    """The loader would stop here: ``offset`` is the opcode's offset in the stream."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(f"{message} (at byte {offset})")
        self.offset = offset
        self.message = message


class PickleLimit(PickleError):
    """A resource limit of the simulation: the loader would go on, the scanner skims the rest
    (imports only) and reports the limit by name."""


class Opaque:
    """A value whose content does not matter (lists, sets, results of safe calls...)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<object>"


OPAQUE = Opaque()


@dataclass(slots=True)
class ImportRecord:
    """One imported name as the loader resolves it (after Python 2 name mapping)."""

    module: str
    name: str
    offset: int
    opcode: str
    original: str = ""  # "module name" before _compat_pickle mapping, when different
    count: int = 1
    called: bool = False
    call_opcode: str = ""
    call_offset: int | None = None
    call_args: list[str] = field(default_factory=list)
    built: bool = False  # BUILD applied to the imported object itself

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


class Global:
    """An imported object on the stack."""

    __slots__ = ("rec",)

    def __init__(self, rec: ImportRecord) -> None:
        self.rec = rec


class Call:
    """The result of calling something (``REDUCE``, ``NEWOBJ``, ``INST``, ``OBJ``...)."""

    __slots__ = ("args", "func", "offset", "opcode")

    def __init__(self, func: object, args: object, offset: int, opcode: str) -> None:
        self.func = func
        self.args = args
        self.offset = offset
        self.opcode = opcode


class GlobalName(NamedTuple):
    """An import inside a decoded value (see :func:`read_value`)."""

    module: str
    name: str


class SmallDict:
    """A dict whose first few items are kept (joblib array headers need them)."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[tuple[object, object]] = []


@dataclass(slots=True)
class PickleReport:
    """What one pickle stream does, as far as a static reading can tell."""

    imports: dict[tuple[str, str], ImportRecord] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)
    pickles: int = 0
    protocol: int = 0
    end: int = 0
    legacy_torch: bool = False
    plausible: bool = False  # the first pickle ended with one value and no open mark
    storage_keys: list[str] = field(default_factory=list)
    dynamic_globals: list[tuple[int, str]] = field(default_factory=list)
    ext_codes: list[tuple[int, int]] = field(default_factory=list)
    nested_payloads: list[tuple[int, int, str]] = field(default_factory=list)  # off, len, why
    nested_blobs: list[tuple[int, bytes, str]] = field(default_factory=list)  # off, data, why
    limits: list[str] = field(default_factory=list)
    #: (offset, note): layouts the C and the pure-Python unpicklers read differently; the
    #: scanner read on the way the one that goes further does.
    anomalies: list[tuple[int, str]] = field(default_factory=list)
    #: (offset, what): a nested payload an allow-listed helper loads that could not be located.
    unresolved: list[tuple[int, str]] = field(default_factory=list)
    trailing_bytes: int = 0

    @property
    def malformed(self) -> bool:
        return bool(self.errors)


def decode_atom(read: Callable[[int, int], bytes], off: int, cap: int) -> object:
    """Decode the scalar pushed by the opcode at ``off``."""
    head = read(off, 9)
    if not head:
        return None
    op = head[0]
    if op == 0x4B:  # BININT1
        return head[1]
    if op == 0x4D:
        return int(U16(head, 1)[0])
    if op == 0x4A:
        return int(I32(head, 1)[0])
    if op == 0x47:
        return float(F64(head, 1)[0])
    if op == 0x4E:
        return None
    if op in (0x88, 0x89):
        return op == 0x88
    if op in (0x8C, 0x55, 0x43, 0x8A):
        n, hdr = head[1], 2
    elif op in (0x58, 0x42, 0x54, 0x8B):
        n, hdr = int(U32(head, 1)[0]), 5
    elif op in (0x8D, 0x8E, 0x96):
        n, hdr = int(U64(head, 1)[0]), 9
    else:
        return _text_atom(read, off, op, cap)
    raw = read(off + hdr, min(n, cap))
    if op == 0x8A or op == 0x8B:
        return int.from_bytes(raw, "little", signed=True)
    if op in (0x8C, 0x58, 0x8D):
        try:
            return raw.decode("utf-8", "surrogatepass")
        except UnicodeDecodeError:  # the loader stops here; keep something readable
            return raw.decode("utf-8", "replace")
    if op in (0x55, 0x54):
        try:
            return raw.decode("ascii")
        except UnicodeDecodeError:
            return raw
    return raw


def _text_atom(read: Callable[[int, int], bytes], off: int, op: int, cap: int) -> object:
    raw = read(off + 1, min(cap, MAX_LINE))
    nl = raw.find(b"\n")
    line = raw[: nl if nl >= 0 else len(raw)]
    try:
        if op == 0x56:  # UNICODE
            return line.decode("raw-unicode-escape")
        if op == 0x53:  # STRING
            text = codecs.escape_decode(line[1:-1])[0]
            try:
                return text.decode("ascii")
            except UnicodeDecodeError:
                return text
        if op == 0x49:  # INT
            if line in (b"00", b"01"):
                return line == b"01"
            return int(line, 0)
        if op == 0x4C:
            return int(line.rstrip(b"L"), 0)
        if op == 0x46:
            return float(line)
    except (ValueError, UnicodeDecodeError):
        return None
    return None


# What the C unpickler accepts in text arguments (strtol / strtod, see Modules/_pickle.c);
# the pure-Python unpickler uses int(x, 0) and float(x), which accept other spellings.
_C_INT = re.compile(rb"^[ \t\r\f\v]*[+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$")
_C_FLOAT = re.compile(
    rb"^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)$", re.I
)


def _py_accepts(name: str, line: bytes) -> bool:
    try:
        if name == "INT":
            if line not in (b"00", b"01"):
                int(line, 0)
        elif name == "LONG":
            int(line[:-1] if line.endswith(b"L") else line, 0)
        elif name == "FLOAT":
            float(line)
    except ValueError:
        return False
    return True


def _c_accepts(name: str, line: bytes) -> bool:
    if name == "INT":  # strtol must consume the whole line (an overflow falls back to int())
        return line in (b"00", b"01") or bool(_C_INT.match(line))
    if name == "FLOAT":
        return bool(_C_FLOAT.match(line))
    return _py_accepts(name, line)  # LONG: both call int(x, 0) after dropping the 'L'


def check_text(name: str, line: bytes, off: int) -> str | None:
    """Judge a protocol-0 text argument as both unpicklers would. Raises PickleError when both
    stop; returns a note when only one of them stops (the scanner reads on, as the other
    loader does); None when both accept it."""
    if name == "STRING":
        if len(line) < 2 or line[:1] != line[-1:] or line[:1] not in (b"'", b'"'):
            raise PickleError(off, "the STRING opcode argument must be quoted")
        return None
    if name not in ("INT", "LONG", "FLOAT"):
        return None
    c_ok, py_ok = _c_accepts(name, line), _py_accepts(name, line)
    if not c_ok and not py_ok:
        raise PickleError(off, f"invalid {name} argument")
    if c_ok != py_ok:
        who = "C" if c_ok else "pure-Python"
        other = "pure-Python" if c_ok else "C"
        return (
            f"{name} argument {line[:40]!r} is accepted by the {who} unpickler and rejected "
            f"by the {other} one"
        )
    return None


_DTYPE_SIZES = {"b": 1, "i": 1, "u": 1, "f": 1, "c": 1, "m": 1, "M": 1, "S": 1, "V": 1, "U": 4}


def dtype_info(descr: str) -> tuple[int, bool] | None:
    """(itemsize, has objects) of a NumPy dtype string such as ``<f8``, ``|O``, ``U10``."""
    if not descr:
        return None
    descr = descr.lstrip("<>|=")
    if descr.startswith("O"):
        return 8, True
    kind, digits = descr[:1], descr[1:]
    if kind == "?":
        return 1, False
    if kind not in _DTYPE_SIZES or not digits.isdigit():
        return None
    return _DTYPE_SIZES[kind] * int(digits), False
