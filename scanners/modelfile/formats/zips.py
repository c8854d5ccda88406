"""Zip archives: PyTorch checkpoints, TorchScript, Keras v3, .npz and plain zips.

Every member is identified by content, whatever its name. PyTorch tensor storages are the
exception, and on purpose: the members ``<root>/data/<key>`` whose keys the checkpoint's
pickles load with ``persistent_load`` are read by ``torch.load`` as raw bytes, never
unpickled, so they are not read at all. A 2 GB checkpoint costs its central directory and
its pickles.

Members are scanned in :func:`scanners.modelfile.archive.priority` order (pickles and
TorchScript code first, then configs, then other model files), each within its own size and
ratio budget: a member that reaches a limit is a high finding and the next member is
scanned. Empty members are skipped; past ``Limits.max_members`` scanned members the rest is
one high finding.
"""

from __future__ import annotations

import re

from scanners.modelfile import classify as cl
from scanners.modelfile.archive import LimitExceeded, inflate, priority
from scanners.modelfile.engine import MAX_MEMBER_LIST, Ctx, join, scan_source
from scanners.modelfile.formats import keras, pickles
from scanners.modelfile.pickle_scan import scan_pickle
from scanners.modelfile.source import SliceSource, Source
from scanners.modelfile.zipread import ZipEntry, ZipError, local_header, read_directory
from scanners.parsers import _modelfile_common as mf

_W = "warden-modelscan/"
_METHODS = {8: "deflate", 12: "bz2"}
_TS_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import|import\s+([\w.]+))", re.M)
_TS_OPS = re.compile(r"\bops\.([A-Za-z_]\w*)\.")
_TS_ALLOWED_IMPORTS = ("__torch__", "torch", "typing", "builtins", "math", "__builtins__")
_TS_STD_OPS = frozenset({"aten", "prim", "quantized", "_caffe2", "_quantized", "profiler"})
MAX_CODE = 4 << 20
MAX_DIRECTORY = 1_000_000


def _wanted(name: str) -> bool:
    return priority(name) < 2


def scan(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    try:
        d = read_directory(src, MAX_DIRECTORY, keep=_wanted)
    except ZipError as exc:
        ctx.not_scanned(member, f"zip: {exc}")
        return "zip"
    where = member or name
    for note in d.anomalies:
        _anomaly(ctx, member, where, note)
    if d.prefix and member.rsplit("/", 1)[-1] != "[prefix]":
        child = join(member, "[prefix]")
        scan_source(ctx, SliceSource(src, 0, d.prefix), child, child, depth + 1)
    files = [e for e in d.entries if not e.is_dir]
    for empty in d.empty:  # inline fast path: archives padded with 100,000 of these exist
        if ".." in empty or empty[:1] in ("/", "\\") or ":" in empty[:2]:
            _check_name(ctx, member, empty, False)
        if len(ctx.result.members) < MAX_MEMBER_LIST and not empty.endswith("/"):
            ctx.note_member(join(member, empty), "empty", 0)
    if d.total > len(d.entries) + len(d.empty):
        ctx.limit(
            member,
            f"{where}: more than {MAX_DIRECTORY:,} archive entries",
            f"The central directory lists {d.total:,} entries; the first {MAX_DIRECTORY:,} "
            "and every pickle, code or config member were scanned, the other "
            f"{d.total - len(d.entries) - len(d.empty):,} were not (directory-size limit).",
            f"{MAX_DIRECTORY} directory entries",
        )
    # the layout is told by members with data (an empty data.pkl or code file runs nothing)
    names = {e.name for e in files}
    root = _root(files)
    pre = f"{root}/" if root else ""
    code_dir = pre + "code/"
    is_keras = "config.json" in names and bool({"metadata.json", "model.weights.h5"} & names)
    is_ts = any(n.startswith(code_dir) for n in names) or pre + "constants.pkl" in names
    is_torch = pre + "data.pkl" in names or any(n.endswith("/data.pkl") for n in names)
    is_npz = bool(files) and all(n.endswith(".npy") for n in names)
    label = (
        "keras-v3"
        if is_keras
        else "torchscript"
        if is_ts
        else "pytorch-zip"
        if is_torch
        else "numpy-npz"
        if is_npz
        else "zip"
    )
    for e in files:
        _check_path(ctx, member, e)
    files.sort(key=lambda e: priority(e.name))  # stable: directory order within a rank
    storage_keys: set[str] = set()
    code: list[str] = []
    ops: set[str] = set()
    tensor_dirs = (pre + "data/", pre + "constants/") if is_ts else (pre + "data/",)
    skipped = 0
    for e in files:
        child = join(member, e.name)
        if e.usize == 0 and e.csize <= 2 and not e.is_symlink:
            ctx.note_member(child, "empty", 0)
            continue
        if (is_torch or is_ts) and e.name.startswith(tensor_dirs):
            key = e.name.rsplit("/", 1)[-1]
            if key in storage_keys and e.name.count("/") == pre.count("/") + 1:
                ctx.note_member(child, "tensor-data", e.usize)
                continue
        if ctx.budget.members >= ctx.limits.max_members:
            skipped += 1
            continue
        ctx.budget.members += 1
        if ctx.budget.decompressed > ctx.limits.max_total_size:
            skipped += 1
            continue
        data = _open(ctx, src, e, child)
        if data is None:
            continue
        if e.name.endswith(".pkl"):
            head = data.read_at(0, 2)
            if head[:1] == b"\x80" or pickles.looks_like(data):
                rep = scan_pickle(data)
                storage_keys.update(rep.storage_keys)
                pickles.report(ctx, rep, data, child, label, depth + 1, torchscript=is_ts)
                ctx.note_member(child, "pickle", data.size)
                continue
        if is_ts and e.name.startswith(pre + "code/") and e.name.endswith(".py"):
            code.append(e.name)
            _torchscript_code(ctx, data, child, ops)
            continue
        if is_keras and e.name == "config.json":
            keras.check_config_bytes(ctx, data.read_at(0, keras.MAX_CONFIG), child)
            ctx.note_member(child, "keras-config", data.size)
            continue
        fmt = scan_source(ctx, data, child, e.name.rsplit("/", 1)[-1], depth + 1)
        ctx.note_member(child, fmt, data.size)
    if skipped:
        total = ctx.budget.decompressed > ctx.limits.max_total_size
        what = (
            f"{ctx.limits.max_total_size:,} bytes uncompressed in total"
            if total
            else f"{ctx.limits.max_members:,} scanned members"
        )
        ctx.limit(
            member,
            f"{where}: {skipped:,} member(s) not scanned (limit: {what})",
            f"{skipped:,} members of {where} were not scanned: the file reached the limit of "
            f"{what}. Members that can run code were scanned first.",
            what,
        )
    if code:
        custom = sorted(ops - _TS_STD_OPS)
        ctx.finding(
            _W + "torchscript-code",
            "medium",
            member,
            title=f"{where} is a TorchScript archive with {len(code)} code file(s)",
            description=(
                "torch.jit.load compiles and runs the code in this archive"
                + (f"; it calls custom operator namespaces {', '.join(custom)}" if custom else "")
                + "."
            ),
            key="code",
            evidence={"format": "torchscript", "code_files": code[:50], "op_namespaces": custom},
        )
    return label


def _root(files: list[ZipEntry]) -> str:
    """The folder a PyTorch checkpoint keeps its members in (``archive`` by default)."""
    for e in files:
        if e.name.endswith("/data.pkl") or e.name.endswith("/constants.pkl"):
            return e.name.rsplit("/", 1)[0].split("/", 1)[0]
    return files[0].name.split("/", 1)[0] if files and "/" in files[0].name else ""


def _open(ctx: Ctx, src: Source, e: ZipEntry, child: str) -> Source | None:
    try:
        lh = local_header(src, e)
    except ZipError as exc:
        ctx.not_scanned(child, str(exc))
        return None
    if lh.name != e.name:
        _anomaly(
            ctx,
            child,
            child,
            f"local header name {lh.name!r} differs from the central directory's {e.name!r}"
            " (read as PyTorch reads it: central-directory name, local-header offsets)",
        )
    if e.flags & 1:
        _anomaly(ctx, child, child, "flagged encrypted but readable (PyTorch ignores the flag)")
    if e.method == 0:
        return SliceSource(src, lh.data_offset, e.usize)
    lim = ctx.limits
    declared = e.usize > lim.max_member_size or (
        e.usize > lim.ratio_floor and e.usize > lim.max_ratio * max(e.csize, 1)
    )
    if declared:  # the loader sizes its buffer from these: no need to inflate to know
        what = (
            f"member larger than {lim.max_member_size} bytes uncompressed"
            if e.usize > lim.max_member_size
            else f"compression ratio above {lim.max_ratio:g}:1 (decompression bomb)"
        )
        ctx.limit(
            child,
            f"{child}: {what}",
            f"{what}: the directory declares {e.usize:,} bytes from {e.csize:,}; the member "
            "was not inflated or scanned, the other members were.",
            what,
        )
        return None
    kind = _METHODS.get(e.method)
    if kind is None:
        ctx.not_scanned(child, f"zip compression method {e.method} is not supported")
        return None
    try:
        return inflate(src, lh.data_offset, e.csize, kind, ctx.budget, max_out=e.usize)
    except LimitExceeded as exc:  # this member only: the next one is scanned
        ctx.limit(
            child,
            f"{child}: {exc}",
            f"{exc}: the member was not scanned; the other members were.",
            str(exc),
        )
        return None
    except ValueError as exc:
        ctx.not_scanned(child, str(exc))
        return None


def _anomaly(ctx: Ctx, member: str, where: str, note: str) -> None:
    ctx.finding(
        _W + "zip-anomaly",
        "medium",
        member,
        title=f"Zip structure anomaly in {where}",
        description=note[:500] + ". Other scanners skip or misread such entries.",
        key=note[:40],
        evidence={"format": "zip", "anomaly": note[:500]},
    )


_DRIVE = re.compile(r"^[A-Za-z]:")


def _check_path(ctx: Ctx, member: str, e: ZipEntry) -> None:
    _check_name(ctx, member, e.name, e.is_symlink)


def _check_name(ctx: Ctx, member: str, name: str, is_symlink: bool) -> None:
    n = name
    if ".." not in n and n[:1] not in ("/", "\\") and ":" not in n[:2] and not is_symlink:
        return  # the common case, without building anything
    n = n.replace("\\", "/")
    bad = n.startswith("/") or _DRIVE.match(n) or ".." in n.split("/")
    if bad or is_symlink:
        what = "a symbolic link" if is_symlink else "a path outside the extraction directory"
        ctx.finding(
            _W + "archive-path",
            "high",
            join(member, name),
            title=f"Archive member {name!r} is {what}",
            description=f"Extracting the archive writes {what}: {name!r}.",
            key=name[:80],
            evidence={"format": "zip", "member": name},
        )


def _torchscript_code(ctx: Ctx, data: Source, child: str, ops: set[str]) -> None:
    text = data.read_at(0, MAX_CODE).decode("utf-8", "replace")
    ops.update(_TS_OPS.findall(text))
    for m in _TS_IMPORT.finditer(text):
        mod = m.group(1) or m.group(2)
        if mod.split(".")[0] in _TS_ALLOWED_IMPORTS:
            continue
        verdict = cl.classify(mod, "*")
        sev = "critical" if verdict.level == cl.DANGEROUS else "high"
        ctx.finding(
            mf.UNSAFE_IMPORT if sev == "critical" else _W + "torchscript-code",
            sev,
            child,
            title=f"TorchScript code imports {mod}",
            description=(
                f"The TorchScript code in {child} imports the Python module {mod}; TorchScript "
                "models only need torch."
            ),
            import_name=mod,
            evidence={"format": "torchscript", "line": m.group(0).strip()[:200]},
        )
