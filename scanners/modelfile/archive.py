"""Limits for archives and compressed streams, and bounded decompression.

Archives are scanned recursively, so one hostile file must not be able to exhaust memory or
disk: nesting depth, member count, each member's and the file's total uncompressed bytes,
and the compression ratio are all bounded. Decompressed data stays in memory up to
``Limits.memory_spool`` bytes and spills to an anonymous temporary file beyond that.

A limit never makes a file pass: reaching one is a ``high`` finding that names it. Members are
scanned in :func:`priority` order - what a loader opens by name and runs first (pickles,
TorchScript code, configs and code files), then other model files, then the rest - and each
member's size and ratio limits are its own, so padding or a bomb in one member never hides a
payload in another. Empty members cost nothing and count against no limit.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from scanners.modelfile.source import BytesSource, FileSource, Source

READ_CHUNK = 1 << 20


@dataclass(slots=True)
class Limits:
    max_depth: int = 6
    max_members: int = 100_000
    max_member_size: int = 8 << 30  # uncompressed bytes of one member or stream
    max_total_size: int = 32 << 30  # uncompressed bytes per scanned file, all members
    max_ratio: float = 250.0  # uncompressed / compressed, checked past ratio_floor bytes
    ratio_floor: int = 16 << 20
    memory_spool: int = 64 << 20


class LimitExceeded(Exception):
    """An archive limit was reached; the message says which."""


#: name suffixes / parts a loader opens by name and runs (rank 0) or reads as configuration
#: or code (rank 1); other model formats (rank 2); everything else (rank 3).
_RUN = (".pkl", ".pickle", ".pkl.gz", ".dill", ".joblib")
_CONFIG = (".json", ".yaml", ".yml", ".py", ".toml", ".cfg", "mlmodel", ".pbtxt")
_MODEL = (
    ".pt", ".pth", ".bin", ".ckpt", ".npy", ".npz", ".h5", ".hdf5", ".keras", ".pb", ".onnx",
    ".gguf", ".safetensors", ".msgpack", ".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz",
)  # fmt: skip


def priority(name: str) -> int:
    """Scan order of an archive member (lower first); see the module docstring."""
    lower = name.lower()
    if lower.endswith(_RUN) or lower.startswith("code/") or "/code/" in lower:
        return 0
    if lower.endswith(_CONFIG):
        return 1
    if lower.endswith(_MODEL):
        return 2
    return 3


@dataclass(slots=True)
class Budget:
    """What one top-level file has used so far."""

    limits: Limits
    decompressed: int = 0
    members: int = 0


class _Spool:
    """Collects decompressed bytes in memory, then in a temporary file."""

    def __init__(self, limit: int) -> None:
        self.mem = io.BytesIO()
        self.fd = -1
        self.size = 0
        self.limit = limit

    def write(self, data: bytes) -> None:
        if self.fd < 0 and self.size + len(data) > self.limit:
            import tempfile

            fd, path = tempfile.mkstemp(prefix="warden-scan-")
            os.unlink(path)
            os.write(fd, self.mem.getvalue())
            self.mem = io.BytesIO()
            self.fd = fd
        if self.fd >= 0:
            view = memoryview(data)
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
        else:
            self.mem.write(data)
        self.size += len(data)

    def source(self) -> Source:
        if self.fd >= 0:
            return FileSource.from_fd(self.fd)
        return BytesSource(self.mem.getvalue())

    def discard(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _chunks(src: Source, start: int, length: int) -> Iterator[bytes]:
    pos, end = start, start + length
    while pos < end:
        data = src.read_at(pos, min(READ_CHUNK, end - pos))
        if not data:
            return
        pos += len(data)
        yield data


Decompressor = Callable[[bytes, int], bytes]


def _check(budget: Budget, out: int, consumed: int) -> None:
    lim = budget.limits
    if out > lim.max_member_size:
        raise LimitExceeded(f"member larger than {lim.max_member_size} bytes uncompressed")
    if budget.decompressed > lim.max_total_size:
        raise LimitExceeded(f"more than {lim.max_total_size} bytes uncompressed in total")
    if out > lim.ratio_floor and out > lim.max_ratio * max(consumed, 1):
        raise LimitExceeded(f"compression ratio above {lim.max_ratio:g}:1 (decompression bomb)")


def inflate(
    src: Source, start: int, length: int, kind: str, budget: Budget, max_out: int | None = None
) -> Source:
    """Decompress ``length`` bytes of ``src`` at ``start``. ``kind``: deflate (raw),
    zlib, gzip (all members), bz2, xz, lzma (alone). ``max_out``: the loader reads no more
    than this (a zip member's declared size), so neither does the scanner. Raises
    LimitExceeded or ValueError."""
    spool = _Spool(budget.limits.memory_spool)
    consumed = 0
    done = False
    try:
        dec = _new(kind)
        for chunk in _chunks(src, start, length):
            consumed += len(chunk)
            data = chunk
            while data or not _needs_input(dec):
                out = _step(dec, data)
                data = b""
                if out:
                    if max_out is not None and spool.size + len(out) >= max_out:
                        out = out[: max_out - spool.size]
                        done = True
                    spool.write(out)
                    budget.decompressed += len(out)
                    _check(budget, spool.size, consumed)
                    if done:
                        break
                if _eof(dec):
                    rest = _unused(dec).lstrip(b"\x00")
                    if kind == "gzip" and rest:
                        dec = _new(kind)  # concatenated gzip members
                        data = rest
                        continue
                    done = True
                    break
            if done:
                break
        if not done:
            raise ValueError(f"truncated {kind} stream")
        return spool.source()
    except (LimitExceeded, ValueError):
        spool.discard()
        raise
    except Exception as exc:  # zlib.error, OSError, EOFError, lzma.LZMAError (lazy import)
        spool.discard()
        raise ValueError(f"corrupt {kind} stream: {exc}") from exc
    except BaseException:
        spool.discard()
        raise


_OUT_STEP = 4 << 20
_ZLIB = type(zlib.decompressobj())


def _new(kind: str) -> object:
    if kind == "deflate":
        return zlib.decompressobj(-15)
    if kind == "zlib":
        return zlib.decompressobj()
    if kind == "gzip":
        return zlib.decompressobj(31)
    if kind == "bz2":
        import bz2

        return bz2.BZ2Decompressor()
    if kind in ("xz", "lzma"):
        import lzma

        return lzma.LZMADecompressor(lzma.FORMAT_XZ if kind == "xz" else lzma.FORMAT_ALONE)
    raise ValueError(f"unknown compression {kind}")


def _step(dec: object, data: bytes) -> bytes:
    """Bounded output: at most _OUT_STEP bytes per call (zip bombs never fill memory)."""
    if isinstance(dec, _ZLIB):
        feed = dec.unconsumed_tail + data if dec.unconsumed_tail else data
        return dec.decompress(feed, _OUT_STEP)
    if getattr(dec, "eof", False):
        return b""
    out = dec.decompress(data, _OUT_STEP)  # type: ignore[attr-defined]
    assert isinstance(out, bytes)
    return out


def _eof(dec: object) -> bool:
    return bool(getattr(dec, "eof", False))


def _needs_input(dec: object) -> bool:
    if isinstance(dec, _ZLIB):
        return not dec.unconsumed_tail
    return bool(getattr(dec, "needs_input", True))


def _unused(dec: object) -> bytes:
    data = getattr(dec, "unused_data", b"")
    return data if isinstance(data, bytes) else b""


class SourceIO(io.RawIOBase):
    """A read-only, seekable file object over a Source (for :mod:`tarfile`)."""

    def __init__(self, src: Source) -> None:
        super().__init__()
        self.src = src
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            self.pos = offset
        elif whence == 1:
            self.pos += offset
        else:
            self.pos = self.src.size + offset
        self.pos = max(0, self.pos)
        return self.pos

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.src.read_at(self.pos, len(b))
        n = len(data)
        b[:n] = data
        self.pos += n
        return n
