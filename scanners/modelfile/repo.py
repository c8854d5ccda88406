"""A model repository as it is published: a Hugging Face snapshot, an MLflow model directory,
or a tarball of either.

After every file has been scanned by its real format, :func:`analyze` looks at the files
together:

- **custom code that loading runs**: ``*.py`` named by ``auto_map`` (and ``custom_pipelines``)
  in ``config.json`` and the other Hugging Face config files (``trust_remote_code=True``),
  sentence-transformers ``modules.json`` types outside the package, MLflow ``loader_module``
  and ``python_model`` (a ``.py`` for models-from-code), and the files those import; each is
  read with :mod:`scanners.modelfile.codescan` (``ast``, never imported) for process
  execution, network, file writes, ``eval``/``exec``, dynamic imports, deserialisation and
  native code. Code the configuration names but the repository lacks (``repo--module.Class``)
  is ``remote-code``. All of these are category ``model_code``.
- **unsafe weights beside a safe copy**: ``pytorch_model.bin`` next to ``model.safetensors``.
- **a manifest**: every file with its format, size, sha256 and whether it was scanned.

The same analysis runs on a directory (:func:`scanners.modelfile.engine.scan_path`) and on
the members of a tar archive (``formats/containers.py``); :class:`Entry` abstracts both.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from scanners.findings import NormalizedFinding
from scanners.modelfile import codescan, rules
from scanners.modelfile.source import Source

_W = "warden-modelscan/"
MAX_CONFIG = 16 << 20
MAX_CODE_FILES = 500
#: Hugging Face files whose ``auto_map`` names code (transformers' Auto* classes)
HF_CONFIGS = (
    "config.json", "tokenizer_config.json", "preprocessor_config.json",
    "processor_config.json", "feature_extractor_config.json", "image_processor_config.json",
    "video_preprocessor_config.json", "generation_config.json",
)  # fmt: skip
#: formats that can run code when loaded, and the safe one
UNSAFE_WEIGHTS = frozenset(
    {"pickle", "pytorch-zip", "pytorch-legacy", "pytorch-legacy-tar", "torchscript"}
)
WEIGHT_FORMATS = UNSAFE_WEIGHTS | {
    "safetensors", "gguf", "onnx", "keras-v3", "keras-h5", "hdf5", "numpy-npy", "numpy-npz",
    "tf-savedmodel",
}  # fmt: skip
_KIND_RULE = {
    "process": "code-process",
    "eval": "code-eval",
    "network": "code-network",
    "file-write": "code-file-write",
    "dynamic-import": "code-dynamic-import",
    "deserialization": "code-deserialization",
    "native": "code-native",
}


@dataclass(slots=True)
class Entry:
    """One file of the repository, wherever it lives."""

    rel: str  # path inside the repository, "/"-separated
    size: int
    fmt: str
    open: Callable[[], Source]
    file_path: str  # the file findings are about (the archive, for a tarball)
    member: str = ""  # the member inside that archive ("" for a directory scan)
    sha256: str | None = None
    scanned: bool = True
    reason: str = ""


@dataclass(slots=True)
class Analysis:
    layouts: list[dict[str, str]] = field(default_factory=list)
    findings: list[tuple[str, NormalizedFinding]] = field(default_factory=list)  # (rel, f)
    code: dict[str, str] = field(default_factory=dict)  # rel -> why loading runs it
    roles: dict[str, str] = field(default_factory=dict)

    def manifest(self, entries: list[Entry]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for e in sorted(entries, key=lambda e: e.rel):
            row: dict[str, Any] = {
                "path": e.rel,
                "format": e.fmt,
                "size": e.size,
                "sha256": e.sha256,
                "scanned": e.scanned,
                "role": self.roles.get(e.rel, _role(e)),
            }
            if e.reason:
                row["reason"] = e.reason
            out.append(row)
        return out


def _role(e: Entry) -> str:
    base = e.fmt.split("+")[0]
    name = posixpath.basename(e.rel).lower()
    if base in WEIGHT_FORMATS:
        return "weights"
    if base == "python-source":
        return "code"
    if name.startswith("tokenizer") or name in ("vocab.txt", "merges.txt", "vocab.json"):
        return "tokenizer"
    if name.endswith((".json", ".yaml", ".yml")) or name == "mlmodel":
        return "config"
    return "other"


def _read(e: Entry, cap: int) -> bytes:
    src = e.open()
    try:
        return src.read_at(0, min(src.size, cap))
    finally:
        close = getattr(src, "close", None)
        if callable(close):
            close()


def _json(e: Entry) -> Any:
    try:
        return orjson.loads(_read(e, MAX_CONFIG))
    except (orjson.JSONDecodeError, OSError):
        return None


def _refs_in_hf_config(obj: Any) -> list[tuple[str, str]]:
    """(where, "module.Class" or "repo--module.Class") code references of one config."""
    out: list[tuple[str, str]] = []
    if not isinstance(obj, dict):
        return out
    auto_map = obj.get("auto_map")
    if isinstance(auto_map, dict):
        for key, value in auto_map.items():
            values = value if isinstance(value, list) else [value]
            out += [(f"auto_map.{key}", v) for v in values if isinstance(v, str) and v]
    pipelines = obj.get("custom_pipelines")
    if isinstance(pipelines, dict):
        for task, spec in pipelines.items():
            for k in ("impl", "pt", "tf"):
                v = spec.get(k) if isinstance(spec, dict) else None
                values = v if isinstance(v, list) else [v]
                out += [(f"custom_pipelines.{task}.{k}", x) for x in values if isinstance(x, str)]
    return out


class _Analyzer:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.by_rel = {e.rel: e for e in entries}
        self.out = Analysis()
        self.todo: list[str] = []
        self.code_roots: list[str] = []  # MLflow code directories (on sys.path when loading)
        self.too_many = False

    # ------------------------------------------------------------------ findings
    def add(self, e: Entry, rule_id: str, severity: str, **kw: Any) -> None:
        f = rules.make_code(
            _W + rule_id, severity, file_path=e.file_path, member=e.member, rel_path=e.rel, **kw
        )
        self.out.findings.append((e.rel, f))

    def want_code(self, rel: str, why: str) -> bool:
        """Queue ``rel`` as code that loading runs; False when the repository lacks it."""
        if rel not in self.by_rel:
            return False
        if rel not in self.out.code:
            if len(self.out.code) >= MAX_CODE_FILES:
                self.too_many = True
                return True
            self.out.code[rel] = why
            self.todo.append(rel)
        return True

    # -------------------------------------------------------------------- layouts
    def run(self) -> Analysis:
        roots_hf = sorted(
            {posixpath.dirname(e.rel) for e in self.entries if posixpath.basename(e.rel)
             in ("config.json", "modules.json", "tokenizer_config.json", "model_index.json")}
        )  # fmt: skip
        roots_ml = sorted(
            posixpath.dirname(e.rel) for e in self.entries if posixpath.basename(e.rel) == "MLmodel"
        )
        for root in roots_ml:
            self.mlflow(root)
        for root in roots_hf:
            if root not in roots_ml:
                self.huggingface(root)
        self.follow_imports()
        self.beside_safe()
        if self.too_many:
            first = self.by_rel[next(iter(self.out.code))]
            self.add(
                first,
                "custom-code",
                "high",
                title=f"More than {MAX_CODE_FILES} code files are run by loading; the rest "
                "were not read",
                description=(
                    f"The repository's configuration makes loading run more than "
                    f"{MAX_CODE_FILES} Python files; only the first {MAX_CODE_FILES} were "
                    "read (code-file limit)."
                ),
                key="code-file-limit",
                evidence={"limit": f"{MAX_CODE_FILES} code files"},
            )
        return self.out

    def _in(self, root: str, name: str) -> str:
        return posixpath.normpath(posixpath.join(root, name)) if root else posixpath.normpath(name)

    def huggingface(self, root: str) -> None:
        names = {posixpath.basename(r) for r in self.by_rel if posixpath.dirname(r) == root}
        config = self.by_rel.get(self._in(root, "config.json"))
        data = _json(config) if config is not None else None
        hf_keys = ("model_type", "architectures", "auto_map", "transformers_version")
        hf = (isinstance(data, dict) and any(k in data for k in hf_keys)) or bool(
            names & {"tokenizer.json", "tokenizer_config.json", "modules.json",
                     "model_index.json", "pytorch_model.bin", "model.safetensors"}
        )  # fmt: skip
        self.out.layouts.append({"root": root, "kind": "huggingface" if hf else "directory"})
        for name in HF_CONFIGS:
            cfg = self.by_rel.get(self._in(root, name))
            if cfg is None:
                continue
            for where, ref in _refs_in_hf_config(_json(cfg)):
                self.reference(root, cfg, where, ref)
        modules = self.by_rel.get(self._in(root, "modules.json"))
        if modules is not None:
            data = _json(modules)
            for i, mod in enumerate(data if isinstance(data, list) else []):
                typ = mod.get("type") if isinstance(mod, dict) else None
                if isinstance(typ, str) and not typ.startswith("sentence_transformers."):
                    self.reference(root, modules, f"[{i}].type", typ)

    def reference(self, root: str, cfg: Entry, where: str, ref: str) -> None:
        """A configuration names ``module.Class``: the module's file runs when loading."""
        repo, sep, dotted = ref.partition("--")
        if not sep:
            dotted, repo = ref, ""
        module = dotted.rsplit(".", 1)[0] if "." in dotted else dotted
        path = self._in(root, module.replace(".", "/") + ".py")
        if repo:
            self.add(
                cfg,
                "remote-code",
                "high",
                title=f"{cfg.rel} {where} loads code from another repository: {ref}",
                description=(
                    f"{where} in {cfg.rel} names {ref!r}: transformers downloads {module}.py "
                    f"from the repository {repo!r} and runs it (trust_remote_code). That code "
                    "is not in this artifact and was not scanned."
                ),
                key=f"{where}:{ref}",
                evidence={"referenced_by": f"{cfg.rel} {where}", "reference": ref},
            )
            return
        if not self.want_code(path, f"{cfg.rel} {where} ({ref})"):
            self.add(
                cfg,
                "remote-code",
                "high",
                title=f"{cfg.rel} {where} names code the repository lacks: {module}.py",
                description=(
                    f"{where} in {cfg.rel} names {ref!r}, but {path} is not in the "
                    "repository: loading fetches it from the model hub (or fails) and "
                    "runs code that was not scanned."
                ),
                key=f"{where}:{ref}",
                evidence={"referenced_by": f"{cfg.rel} {where}", "reference": ref},
            )

    def mlflow(self, root: str) -> None:
        self.out.layouts.append({"root": root, "kind": "mlflow"})
        entry = self.by_rel[self._in(root, "MLmodel")]
        import yaml  # PyYAML: safe_load only (plain data, no tags)

        try:
            doc = yaml.safe_load(_read(entry, 1 << 20))
        except yaml.YAMLError:
            return
        flavors = doc.get("flavors") if isinstance(doc, dict) else None
        pyfunc = flavors.get("python_function") if isinstance(flavors, dict) else None
        if not isinstance(pyfunc, dict):
            return
        code_dirs = [c for c in [pyfunc.get("code")] if isinstance(c, str) and c]
        roots = [self._in(root, c) for c in code_dirs] + [root]
        self.code_roots += roots
        loader = pyfunc.get("loader_module")
        if isinstance(loader, str) and loader and not loader.startswith("mlflow."):
            found = False
            for base in roots:
                path = self._in(base, loader.replace(".", "/") + ".py")
                if self.want_code(path, f"MLmodel loader_module ({loader})"):
                    found = True
                    break
            if not found:
                self.add(
                    entry,
                    "remote-code",
                    "high",
                    title=f"MLmodel loader_module {loader} is not in the model directory",
                    description=(
                        f"MLflow imports the module {loader!r} and calls its _load_pyfunc to "
                        "load this model; its code is not in the artifact (it must be "
                        "installed) and was not scanned."
                    ),
                    key=f"loader_module:{loader}",
                    evidence={"referenced_by": "MLmodel loader_module", "reference": loader},
                )
        model = pyfunc.get("python_model")
        if isinstance(model, str) and model.endswith(".py"):
            self.want_code(self._in(root, model), "MLmodel python_model (model from code)")
        elif isinstance(model, str) and model:
            pkl = self.by_rel.get(self._in(root, model))
            if pkl is not None:
                self.add(
                    pkl,
                    "custom-code",
                    "medium",
                    title=f"MLflow python_model {pkl.rel} is a pickled Python model",
                    description=(
                        "mlflow.pyfunc.load_model unpickles this file (cloudpickle) and runs "
                        "the model class it holds; its imports are reported with the file's "
                        "pickle findings."
                    ),
                    key="python_model",
                    evidence={"referenced_by": "MLmodel python_model"},
                )

    # ------------------------------------------------------------------- code
    def follow_imports(self) -> None:
        while self.todo:
            rel = self.todo.pop()
            e = self.by_rel[rel]
            text = _read(e, codescan.MAX_SOURCE).decode("utf-8", "replace")
            reading = codescan.read_code(text)
            why = self.out.code[rel]
            self.out.roles[rel] = "model code"
            e.scanned, e.reason = not reading.error, reading.error
            self.add(
                e,
                "custom-code",
                "medium",
                title=f"{rel} is custom code that loading the model runs",
                description=(
                    f"{rel} runs when the model is loaded: {why}. "
                    + (
                        f"It does {len(reading.hits)} thing(s) that reach outside the model "
                        "(see the code-* findings)."
                        if reading.hits
                        else "Nothing in it reaches outside the model as far as a static "
                        "reading tells; review it all the same."
                    )
                ),
                key="custom-code",
                evidence={"referenced_by": why, "findings": len(reading.hits)},
            )
            counts: dict[tuple[str, str, str], int] = {}
            for hit in reading.hits[:200]:
                sev, words = codescan.KINDS[hit.kind]
                n = counts.get((hit.kind, hit.call, hit.function), 0)
                counts[(hit.kind, hit.call, hit.function)] = n + 1
                where = f" in {hit.function}()" if hit.function else " at module level"
                self.add(
                    e,
                    _KIND_RULE[hit.kind],
                    sev,
                    title=f"{rel}:{hit.line} {words}: {hit.written}(…)",
                    description=(
                        f"Line {hit.line} of {rel}{where} calls {hit.written}"
                        + (f" ({hit.call})" if hit.call != hit.written else "")
                        + f", which {words}. This code runs when the model is loaded "
                        f"({why})."
                    ),
                    key=f"{hit.function}:{hit.call}:{n}",
                    line=hit.line,
                    evidence={
                        "call": hit.call,
                        "written": hit.written,
                        "function": hit.function,
                        "line": hit.line,
                        "snippet": hit.snippet,
                        "referenced_by": why,
                    },
                )
            base = posixpath.dirname(rel)
            for level, dotted in reading.relative_imports:
                parent = base
                for _ in range(level - 1):
                    parent = posixpath.dirname(parent)
                self._import_target(parent, dotted, rel)
            for dotted in sorted(reading.absolute_imports):
                for root in self.code_roots:
                    self._import_target(root, dotted, rel)

    def _import_target(self, parent: str, dotted: str, rel: str) -> None:
        stem = self._in(parent, dotted.replace(".", "/"))
        for path in (stem + ".py", stem + "/__init__.py"):
            if path in self.by_rel:
                self.want_code(path, f"imported by {rel}")
                return

    # ---------------------------------------------------------------- weights
    def beside_safe(self) -> None:
        by_dir: dict[str, list[Entry]] = {}
        for e in self.entries:
            by_dir.setdefault(posixpath.dirname(e.rel), []).append(e)
        for files in by_dir.values():
            safe = sorted(e.rel for e in files if e.fmt.split("+")[0] == "safetensors")
            if not safe:
                continue
            for e in files:
                if e.fmt.split("+")[0] not in UNSAFE_WEIGHTS:
                    continue
                copy = _safe_copy(e.rel, safe)
                name, copy_name = posixpath.basename(e.rel), posixpath.basename(copy)
                self.out.findings.append(
                    (
                        e.rel,
                        rules.make(
                            _W + "unsafe-weights-beside-safe",
                            "medium",
                            file_path=e.file_path,
                            member=e.member,
                            title=f"{name} beside {copy_name}: ship only the safetensors",
                            description=(
                                f"{e.rel} ({e.fmt}) can run code when loaded, and the same "
                                f"directory has the safetensors weights {copy}. Loaders "
                                "take the unsafe file in some configurations "
                                "(use_safetensors=False, older versions, other tools)."
                            ),
                            key="beside-safe",
                            evidence={"format": e.fmt, "safe_copy": copy},
                        ),
                    )
                )


def _safe_copy(rel: str, safe: list[str]) -> str:
    """The safetensors file that stands for ``rel`` (same stem, the Hugging Face naming
    pytorch_model* -> model*, or the first one)."""
    stem = posixpath.splitext(posixpath.basename(rel))[0]
    wanted = {stem, stem.replace("pytorch_model", "model")}
    for s in safe:
        if posixpath.splitext(posixpath.basename(s))[0] in wanted:
            return s
    return safe[0]


def analyze(entries: list[Entry]) -> Analysis:
    """The repository-level findings, layouts and code files of ``entries``."""
    return _Analyzer(entries).run()
