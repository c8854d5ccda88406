"""Pickle streams (raw pickles, joblib, legacy PyTorch) and their findings."""

from __future__ import annotations

import os
import re

from scanners.modelfile import classify as cl
from scanners.modelfile.engine import Ctx, join, scan_source
from scanners.modelfile.pickle_ops import PickleReport
from scanners.modelfile.pickle_scan import scan_pickle
from scanners.modelfile.source import SliceSource, Source
from scanners.modelfile.zipread import find_eocd
from scanners.parsers import _modelfile_common as mf

_W = "warden-modelscan/"
_IDENT = re.compile(r"^[A-Za-z_][\w.]*$")


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
            kind = "standard-library" if verdict.level == cl.STDLIB else "unknown"
            title = f"Unexpected {kind} import {stored} {how} in {where}"
        desc = f"The pickle imports {stored}: {verdict.why}. Loading the file imports it" + (
            f" and calls it with {', '.join(rec.call_args)}." if rec.call_args else "."
        )
        if verdict.resolved and verdict.resolved != stored:
            desc += f" The loader resolves it to {verdict.resolved}."
        if verdict.level == cl.UNKNOWN:
            desc += " It is not on the allow-list: review where it comes from."
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
            "medium",
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
            title=f"Malformed pickle stream in {where}",
            description=(
                f"Parsing stops at byte {off}: {msg}. Every import and call before that "
                "point is reported (a loader runs them before it fails); what follows "
                "is unverified."
            ),
            key="malformed",
            offset=base + off,
            evidence={"format": fmt, "reason": msg, "pickles_read": rep.pickles},
        )
    for limit in rep.limits:
        ctx.finding(
            _W + "scan-limit",
            "low",
            member,
            title=f"Pickle simulation limit reached in {where}",
            description=limit,
            key=limit[:40],
        )
    for off, length, why in rep.nested_payloads[:100]:
        child = join(member, f"[{why}@{off}]")
        scan_source(ctx, SliceSource(src, off, length), child, child, depth + 1)


def identifier(text: str) -> bool:
    return bool(_IDENT.match(text))


def looks_like(src: Source) -> bool:
    """Content check for a pickle without magic (protocols 0 and 1)."""
    from scanners.modelfile.detect import looks_like_pickle

    head = src.read_at(0, 4096)
    return bool(head) and looks_like_pickle(src, head)
