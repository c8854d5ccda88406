"""Pickle streams (raw pickles, joblib, legacy PyTorch) and their findings."""

from __future__ import annotations

import os
import re

from scanners.modelfile import classify as cl
from scanners.modelfile.engine import Ctx, join, scan_source
from scanners.modelfile.pickle_ops import PickleReport
from scanners.modelfile.pickle_scan import scan_pickle
from scanners.modelfile.source import BytesSource, SliceSource, Source
from scanners.modelfile.zipread import find_eocd
from scanners.parsers import _modelfile_common as mf

_W = "warden-modelscan/"
_IDENT = re.compile(r"^[A-Za-z_][\w.]*$")
MAX_NESTED = 100


def scan(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    rep = scan_pickle(src)
    fmt = "pytorch-legacy" if rep.legacy_torch else "pickle"
    report(ctx, rep, src, member, fmt, depth)
    if member:
        ctx.note_member(member, fmt, src.size)
    eocd = find_eocd(src)
    if eocd is not None and eocd >= rep.end:  # a zip inside a bytes value is not a polyglot
        from scanners.modelfile.formats import zips

        where = member or name
        ctx.finding(
            _W + "polyglot",
            "high",
            member,
            title=f"{where} is both a pickle and a zip archive",
            description=(
                "The file starts with a pickle and ends with a zip directory: torch.load and "
                "pickle.load run the pickle, zip readers see the archive. Both are scanned."
            ),
            key="pickle+zip",
        )
        zips.scan(ctx, src, member, name, depth)
        return fmt + "+zip"
    return fmt


def report(
    ctx: Ctx,
    rep: PickleReport,
    src: Source,
    member: str,
    fmt: str,
    depth: int,
    *,
    torchscript: bool = False,
    base: int = 0,
) -> None:
    """Turn a pickle report into findings (and scan embedded payloads). ``base`` is added to
    offsets (the pickle's position in the file when it is embedded, e.g. in a .npy)."""
    where = member or os.path.basename(ctx.file_path)
    for rec in rep.imports.values():
        stored = rec.original.replace(" ", ".") if rec.original else rec.qualname
        if torchscript and (rec.module.startswith("__torch__") or rec.module == "torch.jit"):
            continue  # TorchScript classes resolve inside the TorchScript runtime
        verdict = cl.classify(rec.module, rec.name)
        active = rec.called or rec.built
        severity = cl.severity_for(verdict, active)
        if rec.built and verdict.level != cl.SAFE:
            ctx.finding(
                _W + "build-on-import",
                "high",
                member,
                title=f"BUILD sets attributes on the imported object {stored} in {where}",
                description=(
                    f"The pickle applies BUILD directly to {stored} (not to an instance): "
                    "it changes a module-level object while loading."
                ),
                import_name=stored,
                offset=base + rec.offset,
                evidence={"format": fmt, "opcode": "BUILD"},
            )
        if severity is None:
            continue
        dangerous = verdict.level == cl.DANGEROUS
        how = f"called ({rec.call_opcode})" if rec.called else "imported"
        if dangerous:
            title = f"Dangerous import {stored} {how} in {where}"
        else:
            kind = "standard-library import" if verdict.level == cl.STDLIB else "import"
            title = f"{kind[:1].upper()}{kind[1:]} {stored} not on the allow-list, {how} in {where}"
        desc = f"The pickle imports {stored}: {verdict.why}. Loading the file imports it" + (
            f" and calls it with {', '.join(rec.call_args)}." if rec.call_args else "."
        )
        if verdict.resolved and verdict.resolved != stored:
            desc += f" The loader resolves it to {verdict.resolved}."
        if not dangerous:
            desc += (
                " Only objects that build data are allowed; review where this one comes from"
                " before loading the file."
            )
        ctx.finding(
            mf.UNSAFE_IMPORT if dangerous else mf.SUSPICIOUS_IMPORT,
            severity,
            member,
            title=title,
            description=desc,
            import_name=stored,
            offset=base + rec.offset,
            evidence={
                "format": fmt,
                "opcode": rec.opcode,
                "resolved": verdict.resolved,
                "verdict": verdict.level,
                "called": rec.called,
                "call_opcode": rec.call_opcode,
                "call_offset": rec.call_offset,
                "args": rec.call_args,
                "occurrences": rec.count,
            },
        )
    for off, what in rep.dynamic_globals[:20]:
        ctx.finding(
            _W + "dynamic-global",
            "critical",
            member,
            title=f"Import with a computed name in {where}",
            description=(
                f"STACK_GLOBAL at byte {off} imports a name built at load time ({what}); "
                "nothing legitimate does that."
            ),
            key=f"dynamic@{off}",
            offset=base + off,
            evidence={"format": fmt, "opcode": "STACK_GLOBAL", "operands": what},
        )
    for off, code in rep.ext_codes[:20]:
        ctx.finding(
            _W + "extension-code",
            "high",
            member,
            title=f"Import through the copyreg extension registry (code {code}) in {where}",
            description="EXT1/2/4 import whatever the loading process registered under this code.",
            key=f"ext{code}",
            offset=base + off,
            evidence={"format": fmt, "opcode": "EXT", "code": code},
        )
    for off, msg in rep.errors:
        ctx.finding(
            mf.NOT_SCANNED,
            "high",
            member,
            title=f"Unparseable pickle in {where}: the loader may read it differently",
            description=(
                f"Parsing stops at byte {off}: {msg}. Every import and call before that "
                "point is reported (a loader runs them before it fails); what follows "
                "is unverified."
            ),
            key="malformed",
            offset=base + off,
            evidence={"format": fmt, "reason": msg, "pickles_read": rep.pickles},
        )
    for off, note in rep.anomalies:
        ctx.finding(
            _W + "pickle-ambiguity",
            "high",
            member,
            title=f"Pickle in {where} is read differently by the C and pure-Python unpicklers",
            description=(
                f"{note}. Only a hand-made pickle does this. Warden read on the way the loader "
                "that goes further does, so every import either one makes is reported."
            ),
            key=note[:60],
            offset=base + off,
            evidence={"format": fmt, "reason": note},
        )
    for off, what in rep.unresolved[:20]:
        ctx.finding(
            mf.NOT_SCANNED,
            "high",
            member,
            title=f"Nested payload in {where} could not be located",
            description=(
                f"{what} at byte {off} loads bytes the scanner could not trace back to the "
                "file, so they were not scanned."
            ),
            key=f"unresolved@{off}",
            offset=base + off,
            evidence={"format": fmt, "reason": what},
        )
    for limit in rep.limits:
        ctx.finding(
            _W + "scan-limit",
            "high",
            member,
            title=f"Pickle simulation limit reached in {where}: {limit.split(';')[0]}",
            description=(
                f"{limit}. A limit never makes a file pass: imports past it are still "
                "named (the rest of the stream is skimmed for them), but calls and nested "
                "payloads past it are unverified."
            ),
            key=limit[:40],
            evidence={"format": fmt, "limit": limit},
        )
    nested = len(rep.nested_payloads) + len(rep.nested_blobs)
    if nested > MAX_NESTED:
        ctx.finding(
            _W + "scan-limit",
            "high",
            member,
            title=f"Pickle in {where}: more than {MAX_NESTED} nested payloads",
            description=(
                f"The pickle loads {nested} nested pickles; the first {MAX_NESTED} were "
                "scanned, the rest were not (nested-payload limit)."
            ),
            key="nested-payloads",
            evidence={"format": fmt, "limit": f"{MAX_NESTED} nested payloads"},
        )
    for off, length, why in rep.nested_payloads[:MAX_NESTED]:
        child = join(member, f"[{why}@{off}]")
        scan_source(ctx, SliceSource(src, off, length), child, child, depth + 1)
    for off, blob, why in rep.nested_blobs[: max(0, MAX_NESTED - len(rep.nested_payloads))]:
        child = join(member, f"[{why}@{off}]")
        scan_source(ctx, BytesSource(blob), child, child, depth + 1)


def identifier(text: str) -> bool:
    return bool(_IDENT.match(text))


def looks_like(src: Source) -> bool:
    """Content check for a pickle without magic (protocols 0 and 1)."""
    from scanners.modelfile.detect import looks_like_pickle

    head = src.read_at(0, 4096)
    return bool(head) and looks_like_pickle(src, head)
