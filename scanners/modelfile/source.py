"""Random-access byte sources: a file (``os.pread``), bytes in memory, or a slice of another.

The scanner never reads a whole artifact when it does not need to: a zip checkpoint is
scanned by reading its central directory and its pickle members only. :class:`FileSource`
counts the bytes it reads (and can record the ranges), so tests can prove that tensor data
is never touched.
"""

from __future__ import annotations

import os
import stat
from typing import Protocol


class Source(Protocol):
    """Bytes with a size, read at an offset. ``read_at`` may return fewer bytes at the end."""

    @property
    def size(self) -> int: ...

    def read_at(self, offset: int, length: int) -> bytes: ...


class FileSource:
    """A regular file read with ``pread`` (no shared file position, no whole-file read)."""

    __slots__ = ("_fd", "_size", "bytes_read", "ranges", "record")

    def __init__(self, path: str, *, record: bool = False) -> None:
        # Non-blocking: opening a FIFO must not wait for a writer (it is refused just below).
        flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
        self._fd = os.open(path, flags)
        try:
            info = os.fstat(self._fd)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(f"{path} is not a regular file (a pipe, device or socket)")
            self._size = info.st_size
        except OSError:
            os.close(self._fd)
            raise
        self.bytes_read = 0
        self.record = record
        self.ranges: list[tuple[int, int]] = []

    @classmethod
    def from_fd(cls, fd: int) -> FileSource:
        """Wrap an already open descriptor (the source owns it from now on)."""
        obj = cls.__new__(cls)
        obj._fd = fd
        obj._size = os.fstat(fd).st_size
        obj.bytes_read = 0
        obj.record = False
        obj.ranges = []
        return obj

    @property
    def size(self) -> int:
        return self._size

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0 or offset >= self._size:
            return b""
        length = min(length, self._size - offset)
        data = os.pread(self._fd, length, offset)
        while len(data) < length:  # pread may return short reads on some filesystems
            more = os.pread(self._fd, length - len(data), offset + len(data))
            if not more:
                break
            data += more
        self.bytes_read += len(data)
        if self.record:
            self.ranges.append((offset, offset + len(data)))
        return data

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class BytesSource:
    """Bytes already in memory."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    @property
    def size(self) -> int:
        return len(self.data)

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or length <= 0:
            return b""
        if offset == 0 and length >= len(self.data):
            return self.data
        return self.data[offset : offset + length]


class SliceSource:
    """``length`` bytes of ``parent`` starting at ``start`` (a stored zip or tar member)."""

    __slots__ = ("_length", "parent", "start")

    def __init__(self, parent: Source, start: int, length: int) -> None:
        self.parent = parent
        self.start = start
        self._length = max(0, min(length, parent.size - start))

    @property
    def size(self) -> int:
        return self._length

    def read_at(self, offset: int, length: int) -> bytes:
        if offset < 0 or offset >= self._length or length <= 0:
            return b""
        return self.parent.read_at(self.start + offset, min(length, self._length - offset))


def read_all(src: Source, limit: int) -> bytes:
    """The first ``limit`` bytes of a source (callers bound ``limit``)."""
    return src.read_at(0, min(src.size, limit))
