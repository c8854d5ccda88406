"""Which model files the runner executes, decided before anything is loaded.

Only formats that run no code of their own: ONNX (standard operator domains only: a custom
domain means a native custom-op library) and scikit-learn models saved by skops (every type
in the file on skops' trusted list). Everything pickle-based is refused, by content, never by
name: a pickle, a joblib file, a PyTorch checkpoint, a compressed pickle. A model runs only
when its model-file scan is clean: the caller vouches for it (``scan_clean=True``, e.g. the
server holding a clean scan of that digest) or the runner scans the file itself and refuses
on any finding of severity high or above.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from scanners.assess.errors import ModelRefused
from scanners.modelfile.detect import detect
from scanners.modelfile.formats.onnx import STANDARD_DOMAINS
from scanners.modelfile.protowire import LEN, ProtoError, Reader, fields, text
from scanners.modelfile.source import FileSource
from scanners.modelfile.zipread import ZipError, read_directory

ONNX, SKOPS = "onnx", "skops"
MAX_ZIP_MEMBERS = 100_000
_PICKLED = {
    "pickle": "a pickle",
    "joblib-zf": "a joblib file (pickles inside)",
    "gzip": "gzip-compressed (how joblib stores pickles)",
    "bz2": "bz2-compressed (how joblib stores pickles)",
    "xz": "xz-compressed (how joblib stores pickles)",
    "lzma": "lzma-compressed (how joblib stores pickles)",
    "zlib": "zlib-compressed (how joblib stores pickles)",
}
_BLOCKING = ("critical", "high")
_HINT = "export the model to ONNX or save it with skops"


@dataclass(frozen=True, slots=True)
class ModelFile:
    """A model file the runner accepted: its kind (``onnx`` or ``skops``) and digest."""

    path: str
    kind: str
    sha256: str
    size: int


def inspect_model(path: str | os.PathLike[str], *, scan_clean: bool | None) -> ModelFile:
    """Accept ``path`` for execution or raise :class:`ModelRefused` saying why.
    ``scan_clean``: True when the caller holds a clean model-file scan of this file's digest,
    False when its scan is not clean (always refused), None to scan it here."""
    from scanners.modelfile.engine import file_sha256, scan_file

    name = os.fspath(path)
    label = os.path.basename(name) or name
    if os.path.isdir(name):
        raise ModelRefused(f"model {label}: a directory, not a model file")
    if not os.path.isfile(name):
        raise ModelRefused(f"model {label}: no such file")
    try:
        with FileSource(name) as src:
            fmt = detect(src)
            members = _zip_names(src) if fmt == "zip" else []
    except OSError as exc:
        raise ModelRefused(f"model {label}: cannot read: {exc.strerror or exc}") from None
    kind = _kind(label, fmt, members)
    if scan_clean is False:
        raise ModelRefused(f"model {label} refused: its model-file scan is not clean")
    scan = scan_file(name) if scan_clean is None or kind == ONNX else None
    if scan is not None and scan_clean is None:
        blocking = [f for f in scan.findings if f.severity in _BLOCKING]
        if blocking:
            first = blocking[0]
            more = f" (and {len(blocking) - 1} more)" if len(blocking) > 1 else ""
            raise ModelRefused(
                f"model {label} refused: its model-file scan found {first.severity}: "
                f"{first.title}{more}"
            )
    if kind == ONNX:
        assert scan is not None
        custom = sorted(
            {
                str(f.evidence.get("domain"))
                for f in scan.findings
                if f.rule_id.endswith("onnx-custom-domain")
            }
            | custom_opset_domains(name)
        )
        if custom:
            raise ModelRefused(
                f"model {label} refused: it uses the custom operator domain {custom[0]!r}, "
                "which needs a native custom-op library"
            )
    else:
        untrusted = skops_untrusted_types(name)
        if untrusted:
            shown = ", ".join(untrusted[:5]) + (" ..." if len(untrusted) > 5 else "")
            raise ModelRefused(
                f"model {label} refused: the skops file holds types skops does not trust: {shown}"
            )
    sha = scan.sha256 if scan is not None and scan.sha256 else file_sha256(name)
    return ModelFile(path=name, kind=kind, sha256=sha, size=os.path.getsize(name))


def _kind(label: str, fmt: str, members: list[str]) -> str:
    if fmt == "onnx":
        return ONNX
    if fmt == "zip":
        if any(m.endswith(".pkl") or "/data/" in m for m in members):
            raise ModelRefused(
                f"model {label} refused: a PyTorch-style zip checkpoint, which is pickle-based "
                f"and runs code when loaded; {_HINT}"
            )
        if "schema.json" in members:
            return SKOPS
        raise ModelRefused(f"model {label} refused: a zip archive that is not a skops file")
    if fmt in _PICKLED:
        raise ModelRefused(
            f"model {label} refused: the file is {_PICKLED[fmt]}, a pickle-based format that "
            f"runs code when loaded; {_HINT}"
        )
    raise ModelRefused(
        f"model {label} refused: its content is {fmt}; the runner executes ONNX and skops "
        "models only"
    )


def _zip_names(src: FileSource) -> list[str]:
    try:
        return [e.name for e in read_directory(src, MAX_ZIP_MEMBERS).entries]
    except ZipError:
        return []


def custom_opset_domains(path: str) -> set[str]:
    """Operator-set domains the ONNX model imports (``ModelProto.opset_import``, field 8;
    ``OperatorSetIdProto.domain``, field 1) that no standard runtime implements and no
    function of the model defines (``ModelProto.functions``, field 25; ``domain``, field 10).
    Node domains, nested graphs included, are checked by the model-file scanner."""
    imported: set[str] = set()
    local: set[str] = set()
    with FileSource(path) as src:
        r = Reader(src)
        try:
            for num, wt, val, end in fields(r, 0, src.size):
                if wt != LEN or num not in (8, 25):
                    continue
                want = 1 if num == 8 else 10
                for sub, swt, sval, send in fields(r, val, end):
                    if sub == want and swt == LEN:
                        (imported if num == 8 else local).add(text(r, sval, send, 256))
        except ProtoError as exc:
            raise ModelRefused(f"model {os.path.basename(path)}: invalid ONNX: {exc}") from None
    return imported - local - STANDARD_DOMAINS


def skops_untrusted_types(path: str) -> list[str]:
    """Types in a skops file outside skops' default trusted list (read from its schema,
    nothing imported)."""
    from scanners.assess._deps import need

    sio = need("skops.io")
    try:
        return sorted(str(t) for t in sio.get_untrusted_types(file=path))
    except Exception as exc:  # a broken file must end as a refusal, not a crash
        raise ModelRefused(
            f"model {os.path.basename(path)} refused: not a readable skops file "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
        ) from None
