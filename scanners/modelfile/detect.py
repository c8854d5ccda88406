"""Format detection by content: magic bytes, zip end records, pickle opcodes, protobuf shape.

Never by file name: a raw pickle named ``.safetensors`` is a pickle, a zip checkpoint named
``.bin`` is a zip. The name is only used afterwards, to report a mismatch.

Never by a guess on text either. A protocol 0 or 1 pickle has no magic, and many text files
start with a byte that is an opcode (``import`` starts with INST, ``class`` with GLOBAL), so a
file without ``PROTO`` is a pickle only when a real parse says so: the first pickle reaches
STOP with one value and no open mark, or the parse calls an import with a valid dotted name
before it fails (a loader would have run that call), or it still parses at the end of a
16 MiB probe. Python source is recognised by parsing it with :mod:`ast` (parse only, nothing
is compiled or run).
"""

from __future__ import annotations

import ast
import re
import struct

from scanners.modelfile.pickle_ops import OPNAMES
from scanners.modelfile.pickle_scan import scan_one_pickle
from scanners.modelfile.source import Source
from scanners.modelfile.zipread import find_eocd

HEAD = 4096
PROBE = 16 << 20  # a protocol 0/1 parse that is still going here is a pickle
MAX_SOURCE = 8 << 20
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_HDF5 = b"\x89HDF\r\n\x1a\n"

#: Format -> file name suffixes that claim it (for mismatch findings).
SUFFIXES: dict[str, tuple[str, ...]] = {
    "safetensors": (".safetensors",),
    "gguf": (".gguf",),
    "onnx": (".onnx",),
    "numpy-npy": (".npy",),
    "hdf5": (".h5", ".hdf5", ".keras.h5"),
    "keras-json": (".json",),
}
#: Formats that cannot run code by themselves: a pickle disguised as one is worse.
INERT = frozenset({"safetensors", "gguf", "onnx", "numpy-npy", "hdf5", "keras-json"})


def detect(src: Source) -> str:
    """The format of ``src``. One of: zip, numpy-npy, gguf, hdf5, gzip, bz2, xz, lzma, zlib,
    joblib-zf, tar, safetensors, pickle, python-source, onnx, tf-savedmodel, keras-json,
    unknown."""
    head = src.read_at(0, 16)  # a zip checkpoint's tensor data may start right after
    if not head:
        return "empty"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    head = src.read_at(0, HEAD)
    if head[:6] == b"\x93NUMPY":
        return "numpy-npy"
    if head[:4] == b"GGUF":
        return "gguf"
    if head[:8] == _HDF5 or _hdf5_userblock(src):
        return "hdf5"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:3] == b"BZh" and head[3:4].isdigit():
        return "bz2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if head[:2] == b"ZF" and len(head) > 18 and head[2:18].strip().isalnum():
        return "joblib-zf"
    if len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0:
        return "zlib"
    if len(head) >= 13 and head[0] == 0x5D and head[1:3] == b"\x00\x00" and head[12] in (0, 255):
        return "lzma"
    if _is_tar(head):
        return "tar"
    if _is_safetensors(head, src.size):
        return "safetensors"
    if looks_like_pickle(src, head):
        return "pickle"
    if is_python_source(src, head):
        return "python-source"
    from scanners.modelfile import protowire

    proto = protowire.sniff_model(src.read_at(0, PROBE))
    if proto:
        return proto
    if head.lstrip()[:1] == b"{" and b'"class_name"' in head:
        return "keras-json"
    if find_eocd(src) is not None:
        return "zip"
    return "unknown"


def _hdf5_userblock(src: Source) -> bool:
    for off in (512, 1024, 2048):
        if off >= src.size:
            return False
        if src.read_at(off, 8) == _HDF5:
            return True
    return False


def _is_tar(head: bytes) -> bool:
    if len(head) < 512:
        return False
    if head[257:262] == b"ustar":
        return True
    try:
        stored = int(head[148:156].replace(b"\x00", b" ").strip() or b"-1", 8)
    except ValueError:
        return False
    block = head[:148] + b" " * 8 + head[156:512]
    return stored == sum(block) and head[0] != 0


def _is_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 10:
        return False
    n = struct.unpack_from("<Q", head)[0]
    return n >= 2 and head[8:9] == b"{" and (n <= size - 8 or n < 1 << 40)


def looks_like_pickle(src: Source, head: bytes) -> bool:
    """Is ``src`` a pickle? With ``PROTO`` first: when an opcode follows it (raw tensor bytes
    can start like ``PROTO``: 0x80 0x00..0x05). Without: only when a real parse says so (see
    the module docstring)."""
    if head[0] not in OPNAMES or head[0] == 0x2E:
        return False
    if head[0] == 0x80:  # PROTO n, then an opcode: a pickle even if the loader stops early
        return len(head) > 2 and head[1] <= 5 and head[2] in OPNAMES
    end = min(src.size, PROBE)
    rep = scan_one_pickle(src, 0, end)
    if rep.pickles:
        return rep.plausible
    from scanners.modelfile.classify import DANGEROUS, classify

    for rec in rep.imports.values():
        if not (_DOTTED.match(rec.module) and _DOTTED.match(rec.name or "x")):
            continue
        if rec.called or rec.built or classify(rec.module, rec.name).level == DANGEROUS:
            return True
    if rep.dynamic_globals:
        return True
    if src.size > end and rep.errors:
        msg = rep.errors[0][1]
        return msg.startswith("pickle data was truncated") or "without STOP" in msg
    return False


def is_python_source(src: Source, head: bytes) -> bool:
    """UTF-8 text that :func:`ast.parse` accepts and that holds a statement a program has
    (an import, a definition, an assignment, a control-flow block)."""
    if src.size > MAX_SOURCE or b"\x00" in head:
        return False
    try:
        text = src.read_at(0, src.size).decode("utf-8")
        tree = ast.parse(text)
    except (UnicodeDecodeError, SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    program = (
        ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
        ast.Assign, ast.AnnAssign, ast.If, ast.For, ast.While, ast.With, ast.Try,
    )  # fmt: skip
    return any(isinstance(node, program) for node in tree.body)
