"""Format detection by content: magic bytes, zip end records, pickle opcodes, protobuf shape.

Never by file name: a raw pickle named ``.safetensors`` is a pickle, a zip checkpoint named
``.bin`` is a zip. The name is only used afterwards, to report a mismatch.
"""

from __future__ import annotations

import struct

from scanners.modelfile.pickle_ops import OPNAMES
from scanners.modelfile.pickle_scan import scan_one_pickle
from scanners.modelfile.source import Source
from scanners.modelfile.zipread import find_eocd

HEAD = 4096
PROBE = 64 << 10
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
    joblib-zf, tar, safetensors, pickle, onnx, tf-savedmodel, keras-json, unknown."""
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
    """Try to parse: it is a pickle if the first pickle ends with STOP, imports something, or
    parses cleanly through a 64 KiB window of a larger file. Protocol 0/1 pickles have no
    magic; a stream the loader rejects before it imports anything cannot run code. Raw tensor
    bytes can start like ``PROTO`` (0x80 0x00..0x05): PROTO counts only before an opcode."""
    if head[0] not in OPNAMES or head[0] == 0x2E:
        return False
    if head[0] == 0x80:  # PROTO n, then an opcode: a pickle even if the loader stops early
        return len(head) > 2 and head[1] <= 5 and head[2] in OPNAMES
    end = min(src.size, PROBE)
    rep = scan_one_pickle(src, 0, end)
    if rep.pickles or rep.imports or rep.dynamic_globals:
        return True
    return src.size > PROBE and bool(rep.errors) and rep.errors[0][0] >= end - 16
