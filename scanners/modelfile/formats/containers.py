"""Compressed streams (gzip, bz2, xz, lzma, zlib, old joblib ``ZF``) and tar archives,
including the legacy PyTorch tar checkpoint (``sys_info``, ``pickle``, ``storages``,
``tensors``), whose ``storages`` and ``tensors`` members interleave pickles with raw data.
"""

from __future__ import annotations

import functools
import hashlib
import re
import struct
import tarfile
from typing import Any, cast

from scanners.modelfile.archive import SourceIO, inflate, priority
from scanners.modelfile.detect import detect
from scanners.modelfile.engine import Ctx, join, scan_source
from scanners.modelfile.formats import pickles
from scanners.modelfile.pickle_ops import GlobalName, PickleReport
from scanners.modelfile.pickle_scan import read_value
from scanners.modelfile.source import SliceSource, Source

_W = "warden-modelscan/"
_SUFFIX = re.compile(r"\.(gz|gzip|bz2|xz|lzma|z|zlib)$", re.I)
_ZF = re.compile(rb"ZF(?:0x)?[0-9a-fA-F]*L? *")
_LEGACY_TAR = frozenset({"sys_info", "pickle", "storages", "tensors"})
_ELEMENT_SIZE = {
    "Double": 8, "Float": 4, "Half": 2, "BFloat16": 2, "Long": 8, "Int": 4, "Short": 2,
    "Char": 1, "Byte": 1, "Bool": 1, "ComplexFloat": 8, "ComplexDouble": 16, "QUInt8": 1,
    "QInt8": 1, "QInt32": 4, "QUInt4x2": 1, "QUInt2x4": 1,
}  # fmt: skip
MAX_ITEMS = 1_000_000
MAX_TAR_ENTRIES = 1_000_000
_REPO_MARKERS = frozenset({"config.json", "MLmodel", "modules.json", "model_index.json"})


def scan_compressed(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    kind = detect(src)
    start = 0
    if kind == "joblib-zf":  # joblib < 0.10: "ZF" + hex length padded with spaces + zlib
        m = _ZF.match(src.read_at(0, 64))
        start, kind = (m.end() if m else 2), "zlib"
    inner = inflate(src, start, src.size - start, kind, ctx.budget)
    child = join(member, f"[{kind}]")
    inner_name = _SUFFIX.sub("", name) if _SUFFIX.search(name) else name
    fmt = scan_source(ctx, inner, child, inner_name, depth + 1)
    ctx.note_member(child, fmt, inner.size)
    return f"{fmt}+{kind}"


def scan_tar(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    try:
        tf = tarfile.open(fileobj=SourceIO(src), mode="r:")  # noqa: SIM115 - closed below
    except (tarfile.TarError, ValueError, OSError) as exc:
        ctx.not_scanned(member, f"tar: {exc}")
        return "tar"
    found: list[tuple[str, int, int]] = []
    dropped = 0
    try:
        while True:
            try:
                ti = tf.next()
            except (tarfile.TarError, ValueError, OSError, UnicodeError) as exc:
                ctx.not_scanned(member, f"tar: {exc}")
                break
            if ti is None:
                break
            cast(Any, tf).members.clear()  # keep memory flat on huge archives
            _check_path(ctx, member, ti)
            if ti.isreg() and not ti.issparse():
                if len(found) < MAX_TAR_ENTRIES or priority(ti.name) < 2:
                    found.append((ti.name, ti.offset_data, ti.size))
                else:
                    dropped += 1
    finally:
        tf.close()
    where = member or name
    if dropped:
        ctx.limit(
            member,
            f"{where}: more than {MAX_TAR_ENTRIES:,} archive entries",
            f"{dropped:,} members past the first {MAX_TAR_ENTRIES:,} were not scanned "
            "(pickle, code and config members always are).",
            f"{MAX_TAR_ENTRIES} tar entries",
        )
    legacy = {n for n, _o, _s in found} >= {"pickle", "storages"} and all(
        n in _LEGACY_TAR for n, _o, _s in found
    )
    found.sort(key=lambda item: priority(item[0]))
    skipped = 0
    formats: dict[str, str] = {}
    for tname, off, size in found:
        child = join(member, tname)
        if size == 0:
            ctx.note_member(child, "empty", 0)
            formats[tname] = "empty"
            continue
        if ctx.budget.members >= ctx.limits.max_members:
            skipped += 1
            continue
        ctx.budget.members += 1
        sub = SliceSource(src, off, size)
        if legacy and tname in ("storages", "tensors"):
            _legacy_sequence(ctx, sub, child, tname, depth)
            formats[tname] = "pytorch-legacy-" + tname
        else:
            formats[tname] = scan_source(ctx, sub, child, tname.rsplit("/", 1)[-1], depth + 1)
        ctx.note_member(child, formats[tname], size)
    if not legacy and _REPO_MARKERS & {n.rsplit("/", 1)[-1] for n, _o, _s in found}:
        _repository(ctx, src, member, found, formats)
    if skipped:
        ctx.limit(
            member,
            f"{where}: {skipped:,} member(s) not scanned (limit: "
            f"{ctx.limits.max_members:,} scanned members)",
            f"{skipped:,} members of {where} were not scanned: the file reached the limit of "
            f"{ctx.limits.max_members:,} scanned members. Members that can run code were "
            "scanned first.",
            f"{ctx.limits.max_members} scanned members",
        )
    return "pytorch-legacy-tar" if legacy else "tar"


def _repository(
    ctx: Ctx,
    src: Source,
    member: str,
    found: list[tuple[str, int, int]],
    formats: dict[str, str],
) -> None:
    """A tarball of a model repository: the same reading as a directory (custom code, unsafe
    weights beside a safe copy) and its manifest in ``FileResult.repository``."""
    from scanners.modelfile import repo

    entries = []
    for tname, off, size in found:
        sub = SliceSource(src, off, size)
        fmt = formats.get(tname, "not-scanned")
        digest = None
        if ctx.hashes:
            h = hashlib.sha256()
            for pos in range(0, size, 1 << 20):
                h.update(sub.read_at(pos, 1 << 20))
            digest = h.hexdigest()
        scanned = fmt not in ("not-scanned", "unknown", "python-source")
        reason = "" if scanned else (
            "past a limit" if fmt == "not-scanned" else "no model format recognised"
            if fmt == "unknown" else "Python source that loading the model does not run"
        )  # fmt: skip
        entries.append(
            repo.Entry(
                rel=tname,
                size=size,
                fmt=fmt,
                open=functools.partial(SliceSource, src, off, size),
                file_path=ctx.file_path,
                member=join(member, tname),
                sha256=digest,
                scanned=scanned,
                reason=reason,
            )
        )
    analysis = repo.analyze(entries)
    for _rel, finding in analysis.findings:
        ctx.add(finding)
    ctx.result.repository = {
        "member": member,
        "layouts": analysis.layouts,
        "manifest": analysis.manifest(entries),
    }


def _check_path(ctx: Ctx, member: str, ti: tarfile.TarInfo) -> None:
    n = ti.name.replace("\\", "/")
    bad = n.startswith("/") or ".." in n.split("/")
    link = ti.issym() or ti.islnk()
    if bad or link:
        what = f"a link to {ti.linkname!r}" if link else "a path outside the extraction directory"
        ctx.finding(
            _W + "archive-path",
            "high",
            join(member, ti.name),
            title=f"Archive member {ti.name!r} is {what}",
            description=f"Extracting the archive writes {what}: {ti.name!r}.",
            key=ti.name[:80],
            evidence={"format": "tar", "member": ti.name, "link": ti.linkname[:200]},
        )


def _legacy_sequence(ctx: Ctx, sub: Source, child: str, kind: str, depth: int) -> None:
    """Walk ``storages``/``tensors`` the way torch's legacy_load reads them."""
    rep = PickleReport()
    pos, count = read_value(sub, 0, rep)
    if pos >= 0 and isinstance(count, int) and not isinstance(count, bool):
        for _ in range(min(max(count, 0), MAX_ITEMS)):
            pos, value = read_value(sub, pos, rep)
            if pos < 0:
                break
            if kind == "storages":
                size = _element_size(value)
                raw = sub.read_at(pos, 8)
                if size is None or len(raw) < 8:
                    rep.errors.append((pos, "legacy storage record not understood"))
                    break
                pos += 8 + struct.unpack("<q", raw)[0] * size
            else:
                raw = sub.read_at(pos, 4)
                if len(raw) < 4:
                    rep.errors.append((pos, "legacy tensor record truncated"))
                    break
                ndim = struct.unpack("<i", raw)[0]
                pos += 8 + 16 * max(ndim, 0) + 8
            if pos > sub.size:
                rep.errors.append((sub.size, "legacy record runs past the member's end"))
                break
        else:
            if kind == "storages" and pos < sub.size:
                read_value(sub, pos, rep)  # storage views
    elif pos >= 0:
        rep.errors.append((0, f"legacy {kind} member does not start with a count"))
    pickles.report(ctx, rep, sub, child, "pytorch-legacy-tar", depth + 1)


def _element_size(value: object) -> int | None:
    if isinstance(value, tuple) and len(value) >= 3 and isinstance(value[2], GlobalName):
        name = value[2].name
        if name.endswith("Storage"):
            return _ELEMENT_SIZE.get(name[: -len("Storage")])
    return None
