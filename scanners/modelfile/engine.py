"""The scan driver: one :class:`FileResult` per file, formats dispatched by content.

``scan_source`` detects the format of a byte source and hands it to the format's scanner,
which may call ``scan_source`` again for archive members and embedded payloads (with the
archive limits of :mod:`scanners.modelfile.archive`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import os
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from scanners.findings import NormalizedFinding
from scanners.modelfile import rules
from scanners.modelfile.archive import Budget, LimitExceeded, Limits
from scanners.modelfile.detect import INERT, SUFFIXES, detect
from scanners.modelfile.source import BytesSource, FileSource, Source
from scanners.parsers import _modelfile_common as mf
from scanners.severity import SEVERITY_RANK

MAX_MEMBER_LIST = 2000


@dataclass(slots=True)
class FileResult:
    """What the scanner found in one file."""

    path: str
    format: str = "unknown"
    size: int = 0
    sha256: str | None = None
    findings: list[NormalizedFinding] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    #: a tarball of a model repository: its layouts and manifest (see :mod:`.repo`)
    repository: dict[str, Any] | None = None

    @property
    def max_severity(self) -> str | None:
        if not self.findings:
            return None
        return max((f.severity for f in self.findings), key=lambda s: SEVERITY_RANK[s])

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "size": self.size,
            "sha256": self.sha256,
            "max_severity": self.max_severity,
            "members": self.members,
            "findings": [f.to_dict() for f in self.findings],
            "error": self.error,
            "seconds": round(self.seconds, 4),
            **({"repository": self.repository} if self.repository else {}),
        }

    def scan_state(self) -> tuple[bool, str]:
        """(whether the file's content was scanned, why not): an unreadable file, a format
        the scanner has no reader for, or a file whose reading stopped at its top level."""
        if self.error:
            return False, f"unreadable: {self.error}"
        base = self.format.split("+")[0]
        if base in ("unknown", "not-scanned"):
            return False, "no model format recognised in the content (nothing to scan)"
        if base == "python-source":
            return False, "Python source that loading the model does not run"
        for f in self.findings:
            if f.rule_id == mf.NOT_SCANNED and not f.archive_member:
                return False, f.description[:200]
        return True, ""


@dataclass(slots=True)
class Target:
    """One path given to the scanner: a file, or a directory (a model repository)."""

    path: str  # as given
    kind: str  # "file" | "directory"
    layouts: list[dict[str, str]] = field(default_factory=list)
    manifest: list[dict[str, Any]] = field(default_factory=list)
    artifact_sha256: str = ""  # the one weights file's digest, when there is exactly one

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "layouts": self.layouts,
            "artifact_sha256": self.artifact_sha256,
            "manifest": self.manifest,
        }


class ScanResults(list[FileResult]):
    """The files of one or more scanned paths, with what each path was (:class:`Target`)."""

    def __init__(self, items: Iterable[FileResult] = (), targets: Iterable[Target] = ()) -> None:
        super().__init__(items)
        self.targets: list[Target] = list(targets)

    def add(self, other: ScanResults) -> None:
        self.extend(other)
        self.targets.extend(other.targets)


class Ctx:
    """Per-file scan state shared by the format scanners."""

    def __init__(self, result: FileResult, limits: Limits, *, hashes: bool = False) -> None:
        self.result = result
        self.file_path = result.path
        self.budget = Budget(limits)
        self.limits = limits
        self.hashes = hashes  # members of a repository tarball get a sha256 in its manifest
        self._by_fp: dict[str, NormalizedFinding] = {}

    def add(self, finding: NormalizedFinding) -> None:
        """Add a finding; a repeat of the same fingerprint keeps the worse severity."""
        old = self._by_fp.get(finding.fingerprint)
        if old is None:
            self._by_fp[finding.fingerprint] = finding
            self.result.findings.append(finding)
            return
        if SEVERITY_RANK[finding.severity] > SEVERITY_RANK[old.severity]:
            old.severity = finding.severity
            old.raw_severity = finding.raw_severity
            old.title = finding.title
            old.description = finding.description
        count = old.evidence.get("occurrences", 1)
        old.evidence["occurrences"] = (count if isinstance(count, int) else 1) + 1

    def finding(self, rule_id: str, severity: str, member: str, **kw: Any) -> None:
        self.add(rules.make(rule_id, severity, file_path=self.file_path, member=member, **kw))

    def not_scanned(self, member: str, reason: str, offset: int | None = None) -> None:
        where = member or os.path.basename(self.file_path) or self.file_path
        self.finding(
            mf.NOT_SCANNED,
            "high",
            member,
            title=f"{where} was not scanned completely",
            description=reason,
            key=reason[:80],
            offset=offset,
            evidence={"reason": reason},
        )

    def limit(self, member: str, title: str, description: str, limit: str) -> None:
        """A limit was reached: a high finding that names it (a limit never passes a file)."""
        self.finding(
            rules.RULES["warden-modelscan/archive-limit"].rule_id,
            "high",
            member,
            title=title,
            description=description,
            key=limit[:60],
            evidence={"limit": limit},
        )

    def note_member(self, member: str, fmt: str, size: int) -> None:
        if len(self.result.members) < MAX_MEMBER_LIST:
            self.result.members.append({"name": member, "format": fmt, "size": size})


Scanner = Callable[[Ctx, Source, str, str, int], str]


def join(member: str, child: str) -> str:
    return f"{member}/{child}" if member else child


#: format -> (module under scanners.modelfile.formats, function); imported on first use so a
#: one-file scan only loads the parsers it needs.
_SCANNERS: dict[str, tuple[str, str]] = {
    "pickle": ("pickles", "scan"),
    "zip": ("zips", "scan"),
    "numpy-npy": ("numpy_fmt", "scan"),
    "gguf": ("gguf", "scan"),
    "hdf5": ("keras", "scan_hdf5"),
    "keras-json": ("keras", "scan_json"),
    "safetensors": ("safetensors", "scan"),
    "onnx": ("onnx", "scan"),
    "tf-savedmodel": ("savedmodel", "scan"),
    "tf-graphdef": ("savedmodel", "scan_graphdef"),
    "gzip": ("containers", "scan_compressed"),
    "bz2": ("containers", "scan_compressed"),
    "xz": ("containers", "scan_compressed"),
    "lzma": ("containers", "scan_compressed"),
    "zlib": ("containers", "scan_compressed"),
    "joblib-zf": ("containers", "scan_compressed"),
    "tar": ("containers", "scan_tar"),
}


def _scanner(fmt: str) -> Scanner | None:
    spec = _SCANNERS.get(fmt)
    if spec is None:
        return None
    module = importlib.import_module(f"scanners.modelfile.formats.{spec[0]}")
    return cast(Scanner, getattr(module, spec[1]))


def scan_source(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    """Detect and scan one source; returns the format label."""
    if depth > ctx.limits.max_depth:
        ctx.limit(
            member,
            f"{member or name}: nesting deeper than {ctx.limits.max_depth} levels",
            "Archives nested this deep are not scanned further (depth limit).",
            f"nesting depth {ctx.limits.max_depth}",
        )
        return "not-scanned"
    try:
        fmt = detect(src)
    except Exception as exc:  # hostile input must end as a finding, never as a crash
        ctx.not_scanned(member, f"format detection failed: {type(exc).__name__}: {exc}"[:500])
        return "unknown"
    scanner = _scanner(fmt)
    label = fmt
    if scanner is not None:
        try:
            label = scanner(ctx, src, member, name, depth)
        except LimitExceeded as exc:
            ctx.limit(
                member,
                f"{member or name}: {exc}",
                f"{exc}: this part of the file was not scanned.",
                str(exc),
            )
        except Exception as exc:
            ctx.not_scanned(member, f"{fmt}: {type(exc).__name__}: {exc}"[:500])
    _check_name(ctx, member, name, label)
    return label


_SAME = {"keras-h5": "hdf5", "keras-json": "keras-json", "unknown": "keras-json"}


def _check_name(ctx: Ctx, member: str, name: str, label: str) -> None:
    lower = name.lower()
    base = label.split("+")[0]
    for fmt, suffixes in SUFFIXES.items():
        if not lower.endswith(suffixes) or base == "empty":
            continue
        if base == fmt or _SAME.get(base) == fmt:
            return
        if fmt == "hdf5" and base in ("zip", "keras-v3"):
            return
        code = base in ("pickle", "pytorch-zip", "pytorch-legacy", "zip", "torchscript")
        sev = "high" if code and fmt in INERT else "medium"
        ctx.finding(
            "warden-modelscan/format-mismatch",
            sev,
            member,
            title=f"{name} is named like {fmt} but its content is {label}",
            description=(
                f"The file name says {fmt}; the bytes are {label}. Loaders pick the "
                "parser from the content or from the caller, not from the name."
            ),
            key=f"{fmt}:{label}",
            evidence={"format": label, "named_as": fmt},
        )
        return


def scan_file(path: str, *, limits: Limits | None = None, sha256: bool = True) -> FileResult:
    """Scan one regular file. I/O errors are raised (OSError)."""
    t0 = time.perf_counter()
    result = FileResult(path=path)
    with FileSource(path) as src:
        result.size = src.size
        ctx = Ctx(result, limits or Limits(), hashes=sha256)
        result.format = scan_source(ctx, src, "", os.path.basename(path), 0)
    if sha256:
        result.sha256 = file_sha256(path)
    result.findings.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.archive_member))
    result.seconds = time.perf_counter() - t0
    return result


def file_sha256(path: str) -> str:
    """SHA-256 of a file, read into one reused buffer (constant memory)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def scan_bytes(data: bytes, name: str = "<bytes>", *, limits: Limits | None = None) -> FileResult:
    """Scan bytes in memory as if they were a file called ``name``."""
    t0 = time.perf_counter()
    result = FileResult(path=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    ctx = Ctx(result, limits or Limits(), hashes=True)
    result.format = scan_source(ctx, BytesSource(data), "", os.path.basename(name), 0)
    result.findings.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.archive_member))
    result.seconds = time.perf_counter() - t0
    return result


def iter_files(path: str, confine: Sequence[str] = ()) -> Iterator[tuple[str, str]]:
    """Files under ``path`` (itself if it is a file), sorted, symlinked dirs skipped, each with
    why it must not be read ("" when it may): a pipe, device or socket is never opened (it
    could block or never end), and with ``confine`` a file whose real path leads outside those
    directories (a symlink out of the artifact roots) is not read either."""
    roots = [os.path.realpath(r) for r in confine]

    def why_not(full: str) -> str:
        try:
            info = os.stat(full)
        except OSError as exc:
            return f"cannot read the file: {exc.strerror or exc}"
        if not stat.S_ISREG(info.st_mode):
            return "not a regular file (a pipe, device or socket): not read"
        if roots:
            real = os.path.realpath(full)
            if not any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
                return "a symlink to a file outside the allowed directories: not read"
        return ""

    if not os.path.isdir(path):
        yield path, why_not(path)
        return
    for root, dirs, files in os.walk(path, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            yield full, why_not(full)


def scan_path(
    path: str | os.PathLike[str],
    *,
    limits: Limits | None = None,
    sha256: bool = True,
    confine: Sequence[str] = (),
) -> ScanResults:
    """Scan a file or a directory (recursively). A file that cannot be read gets a result
    with ``error`` set (and a ``not-scanned`` finding) instead of raising; so does a pipe or
    device, and, with ``confine`` (the server's artifact roots), a symlink that leads out of
    those directories: neither is ever opened. A directory is read as a model repository too
    (:mod:`.repo`): custom code that loading runs, unsafe weights beside a safe copy, and a
    manifest in ``targets[0]``."""
    out: list[FileResult] = []
    root = os.fspath(path)
    if not os.path.lexists(root):
        raise FileNotFoundError(root)
    for file_path, refused in iter_files(root, confine):
        if refused:
            res = FileResult(path=file_path, format="unreadable", error=refused)
            Ctx(res, limits or Limits()).not_scanned("", refused)
            out.append(res)
            continue
        try:
            out.append(scan_file(file_path, limits=limits, sha256=sha256))
        except OSError as exc:
            res = FileResult(path=file_path, format="unreadable", error=str(exc))
            ctx = Ctx(res, limits or Limits())
            ctx.not_scanned("", f"cannot read the file: {exc.strerror or exc}")
            out.append(res)
    if not os.path.isdir(root):
        target = Target(path=root, kind="file", layouts=_file_layouts(out))
        if out and out[0].sha256:
            target.artifact_sha256 = out[0].sha256
        return ScanResults(out, [target])
    return ScanResults(out, [_repository(root, out)])


def _file_layouts(results: list[FileResult]) -> list[dict[str, str]]:
    repo = results[0].repository if results else None
    layouts = repo.get("layouts") if repo else None
    return list(layouts) if isinstance(layouts, list) else []


def _repository(root: str, results: list[FileResult]) -> Target:
    """The repository-level reading of a scanned directory."""
    from scanners.modelfile import repo

    entries: list[repo.Entry] = []
    by_rel: dict[str, FileResult] = {}
    for r in results:
        rel = os.path.relpath(r.path, root).replace(os.sep, "/")
        scanned, reason = r.scan_state()
        entries.append(
            repo.Entry(
                rel=rel,
                size=r.size,
                fmt=r.format,
                open=functools.partial(FileSource, r.path),
                file_path=r.path,
                sha256=r.sha256,
                scanned=scanned,
                reason=reason,
            )
        )
        by_rel[rel] = r
    analysis = repo.analyze(entries)
    for rel, finding in analysis.findings:
        res = by_rel[rel]
        if all(f.fingerprint != finding.fingerprint for f in res.findings):
            res.findings.append(finding)
    for r in results:
        r.findings.sort(key=lambda f: (-SEVERITY_RANK[f.severity], f.archive_member, f.line or 0))
    weights = [r for r in results if r.format.split("+")[0] in repo.WEIGHT_FORMATS]
    return Target(
        path=root,
        kind="directory",
        layouts=analysis.layouts or [{"root": "", "kind": "directory"}],
        manifest=analysis.manifest(entries),
        artifact_sha256=(weights[0].sha256 or "") if len(weights) == 1 else "",
    )
