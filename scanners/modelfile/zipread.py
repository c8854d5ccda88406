"""A zip reader that reads what PyTorch's loader reads, and trusts what it ignores.

Python's :mod:`zipfile` refuses archives that ``torch.load`` happily opens: a member whose
local header name differs from the central directory's, a set "encrypted" flag bit, a bad
CRC. PyTorch (miniz) finds members by their central-directory name, takes the data offset
from the *local* header's name and extra lengths, the sizes from the central directory, and
does not check CRCs. This module does the same, by hand: the end-of-central-directory record
(zip64 included, prepended data allowed), the central directory, and each local header on
demand. Nothing is extracted to disk; stored members are read in place.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from scanners.modelfile.source import Source

EOCD_SIG = b"PK\x05\x06"
EOCD64_SIG = b"PK\x06\x06"
EOCD64_LOC_SIG = b"PK\x06\x07"
CDH_SIG = b"PK\x01\x02"
LFH_SIG = b"PK\x03\x04"
MAX_CD_SIZE = 256 << 20

_EOCD = struct.Struct("<4s4H2LH")
_EOCD64_LOC = struct.Struct("<4sLQL")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")
_CDH = struct.Struct("<4s6H3L5H2L")
_LFH = struct.Struct("<4s5H3L2H")


class ZipError(Exception):
    """Not a zip, or a zip whose directory cannot be read."""


@dataclass(slots=True)
class ZipEntry:
    name: str
    method: int
    flags: int
    csize: int
    usize: int
    header_offset: int
    external_attr: int
    create_system: int

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def is_symlink(self) -> bool:
        return self.create_system == 3 and (self.external_attr >> 16) & 0o170000 == 0o120000


@dataclass(slots=True)
class ZipDirectory:
    entries: list[ZipEntry]
    prefix: int  # bytes of data before the archive (a polyglot or self-extractor)
    declared: int  # entry count the end record declares
    anomalies: list[str] = field(default_factory=list)
    total: int = 0  # central-directory records read (kept or not)
    empty: list[str] = field(default_factory=list)  # names of members without data


def find_eocd(src: Source) -> int | None:
    """Offset of the last end-of-central-directory record, or None. The common case (no
    archive comment) reads only the last 22 bytes, so no member data is touched."""
    size = src.size
    if size < _EOCD.size:
        return None
    last = src.read_at(size - _EOCD.size, _EOCD.size)
    if last[:4] == EOCD_SIG and last[20:22] == b"\x00\x00":
        return size - _EOCD.size
    start = max(0, size - (65535 + _EOCD.size))
    tail = src.read_at(start, size - start)
    pos = len(tail)
    while True:
        pos = tail.rfind(EOCD_SIG, 0, pos)
        if pos < 0:
            return None
        if pos + _EOCD.size <= len(tail):
            comment_len = struct.unpack_from("<H", tail, pos + 20)[0]
            if pos + _EOCD.size + comment_len <= len(tail):
                return start + pos


def _decode_name(raw: bytes, flags: int) -> str:
    if raw.isascii():
        return raw.decode("ascii")
    if flags & 0x800:
        return raw.decode("utf-8", "replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp437")


def read_directory(
    src: Source, max_entries: int, keep: Callable[[str], bool] | None = None
) -> ZipDirectory:
    """The central directory. Every record is read; the first ``max_entries`` are kept, and
    past that only those whose name ``keep`` accepts (so a member a loader opens by name is
    never pushed out by padding entries)."""
    eocd = find_eocd(src)
    if eocd is None:
        raise ZipError("no end-of-central-directory record")
    head = src.read_at(eocd, _EOCD.size)
    _sig, _disk, _cd_disk, _n_here, n_total, cd_size, cd_offset, _clen = _EOCD.unpack(head)
    end_of_cd = eocd
    anomalies: list[str] = []
    if eocd >= _EOCD64_LOC.size:
        loc = src.read_at(eocd - _EOCD64_LOC.size, _EOCD64_LOC.size)
        if loc[:4] == EOCD64_LOC_SIG:
            _s, _d, off64, _t = _EOCD64_LOC.unpack(loc)
            rec = src.read_at(off64, _EOCD64.size)
            if len(rec) < _EOCD64.size or rec[:4] != EOCD64_SIG:
                # prepended data shifts the zip64 record too: look just before the locator
                guess = eocd - _EOCD64_LOC.size - _EOCD64.size
                rec = src.read_at(guess, _EOCD64.size)
                off64 = guess
            if len(rec) == _EOCD64.size and rec[:4] == EOCD64_SIG:
                fields = _EOCD64.unpack(rec)
                n_total, cd_size, cd_offset = fields[7], fields[8], fields[9]
                end_of_cd = off64
    prefix = end_of_cd - cd_size - cd_offset
    if prefix < 0:
        raise ZipError("central directory offset points past its end record")
    if prefix:
        anomalies.append(f"{prefix} bytes of other data before the archive")
    if cd_size > MAX_CD_SIZE:
        raise ZipError(f"central directory of {cd_size} bytes is too large")
    cd = src.read_at(cd_offset + prefix, cd_size)
    entries: list[ZipEntry] = []
    empty: list[str] = []
    pos = 0
    total = 0
    while pos + _CDH.size <= len(cd):
        if cd[pos : pos + 4] != CDH_SIG:
            anomalies.append(f"central directory damaged after {total} entries")
            break
        (
            _sig, create_version, _need, flags, method, _time, _date, _crc,
            csize, usize, nlen, xlen, clen, _dstart, _iattr, eattr, hoff,
        ) = _CDH.unpack_from(cd, pos)  # fmt: skip
        name_raw = cd[pos + 46 : pos + 46 + nlen]
        total += 1
        name = _decode_name(name_raw, flags)
        if csize == 0 and usize == 0 and (eattr >> 16) & 0o170000 != 0o120000:
            empty.append(name)  # nothing to read: only its name matters (a path check)
            pos += 46 + nlen + xlen + clen
            continue
        if len(entries) >= max_entries and (keep is None or not keep(name)):
            pos += 46 + nlen + xlen + clen
            continue
        extra = cd[pos + 46 + nlen : pos + 46 + nlen + xlen]
        if 0xFFFFFFFF in (csize, usize, hoff):
            usize, csize, hoff = _zip64_extra(extra, usize, csize, hoff)
        entries.append(
            ZipEntry(
                name=name,
                method=method,
                flags=flags,
                csize=csize,
                usize=usize,
                header_offset=hoff + prefix,
                external_attr=eattr,
                create_system=create_version >> 8,
            )
        )
        pos += 46 + nlen + xlen + clen
    if total < n_total and not anomalies:
        anomalies.append(f"end record declares {n_total} entries, {total} found")
    return ZipDirectory(
        entries=entries,
        prefix=prefix,
        declared=n_total,
        anomalies=anomalies,
        total=total,
        empty=empty,
    )


def _zip64_extra(extra: bytes, usize: int, csize: int, hoff: int) -> tuple[int, int, int]:
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag == 1:
            body = extra[pos + 4 : pos + 4 + size]
            vals = [struct.unpack_from("<Q", body, i)[0] for i in range(0, len(body) - 7, 8)]
            it = iter(vals)
            if usize == 0xFFFFFFFF:
                usize = next(it, usize)
            if csize == 0xFFFFFFFF:
                csize = next(it, csize)
            if hoff == 0xFFFFFFFF:
                hoff = next(it, hoff)
            break
        pos += 4 + size
    return usize, csize, hoff


@dataclass(slots=True)
class LocalHeader:
    data_offset: int
    name: str
    flags: int
    method: int


def local_header(src: Source, entry: ZipEntry) -> LocalHeader:
    """The member's local header; data starts after *its* name and extra fields."""
    raw = src.read_at(entry.header_offset, _LFH.size)
    if len(raw) < _LFH.size or raw[:4] != LFH_SIG:
        raise ZipError(f"{entry.name}: no local header at offset {entry.header_offset}")
    fields = _LFH.unpack(raw)
    flags, method, nlen, xlen = fields[2], fields[3], fields[9], fields[10]
    name = _decode_name(src.read_at(entry.header_offset + _LFH.size, nlen), flags)
    return LocalHeader(entry.header_offset + _LFH.size + nlen + xlen, name, flags, method)
