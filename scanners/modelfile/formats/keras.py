"""Keras model configs: v3 ``.keras`` zips (``config.json``), legacy HDF5 ``.h5`` files (the
``model_config`` attribute) and standalone JSON configs.

What runs code or reaches outside the file when Keras loads a model:

- ``Lambda`` layers (marshalled Python bytecode in legacy files, source in v3 - blocked by
  ``safe_mode`` in Keras 3 only): critical;
- layers that load an external model: ``TFSMLayer`` (a SavedModel at ``filepath``, whose
  graph then runs) and TensorFlow Hub's ``KerasLayer`` (``handle``): critical;
- layers that read a file or URL at load time: the vocabulary of ``StringLookup``,
  ``IntegerLookup`` and ``TextVectorization`` (and the vocabulary/merges/proto files of
  KerasHub tokenizers) given as a string, and any other config string that is a URL, an
  absolute path or climbs out with ``..``: high;
- every object whose ``module`` Keras imports by name (custom layers, losses, activations
  serialised as ``{"module": ..., "class_name": "function", "config": name}``) outside Keras:
  judged with the same allow/deny lists as pickle imports (high at least), and registered
  custom objects (``registered_name`` ``package>Name``): high.

Each finding names the layer path (``model/encoder/lookup``) where it sits.

HDF5 without h5py: the scanner does not parse HDF5. It looks for the JSON that Keras stores in
the ``model_config`` attribute (fixed-length strings are stored as plain bytes) and decodes
every JSON object that starts with ``{"class_name"`` or ``{"module"`` in the first 512 MiB and
the last 16 MiB of the file.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from scanners.modelfile import classify as cl
from scanners.modelfile.engine import Ctx
from scanners.modelfile.source import Source
from scanners.parsers import _modelfile_common as mf

_W = "warden-modelscan/"
MAX_CONFIG = 64 << 20
MAX_NODES = 2_000_000
KERAS_PACKAGES = ("keras", "keras_hub", "keras_nlp", "keras_cv", "tf_keras", "keras_core")
_HDF5_HEAD = 512 << 20
_HDF5_TAIL = 16 << 20
_CHUNK = 8 << 20
_NEEDLES = (b'{"class_name"', b'{"module"', b"model_config")
_LAMBDA = frozenset({"Lambda", "__lambda__"})
#: class name -> config keys that hold a file name (read when the layer is built)
_FILE_KEYS: dict[str, tuple[str, ...]] = {
    "StringLookup": ("vocabulary",),
    "IntegerLookup": ("vocabulary",),
    "TextVectorization": ("vocabulary", "idf_weights"),
    "BytePairTokenizer": ("vocabulary", "merges"),
    "WordPieceTokenizer": ("vocabulary",),
    "SentencePieceTokenizer": ("proto",),
}
#: class name -> the config key naming the external model it loads
_EXTERNAL_MODEL: dict[str, str] = {"TFSMLayer": "filepath", "KerasLayer": "handle"}
_PATHLIKE_KEYS = frozenset({"filepath", "file_path", "path", "model_path", "saved_model_dir"})
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_ABS = re.compile(r"^(?:/[^/\s]|~[/\\]|[A-Za-z]:[/\\]|\\\\)")
_CLIMB = re.compile(r"(?:^|[/\\])\.\.(?:[/\\]|$)")
_INLINE_DATA = frozenset({k for keys in _FILE_KEYS.values() for k in keys})
_NOT_VALUES = frozenset({"name", "class_name", "module", "registered_name", "dtype"})


def _is_keras(module: str) -> bool:
    return module.split(".", 1)[0] in KERAS_PACKAGES or module.startswith("tensorflow.keras")


def check_config_bytes(ctx: Ctx, data: bytes, member: str, fmt: str = "keras-v3") -> None:
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        ctx.finding(
            _W + "malformed-file",
            "medium",
            member,
            title=f"{member or 'config'}: Keras config is not valid JSON",
            description=f"The model config cannot be decoded ({exc}); it was not checked.",
            key="keras-json",
        )
        return
    check_config(ctx, obj, member, fmt)


def check_config(ctx: Ctx, obj: Any, member: str, fmt: str) -> None:
    """Walk a decoded Keras config and report code-running objects and outside references,
    each with the path of the layer it sits in."""
    todo: list[tuple[Any, str]] = [(obj, "")]
    nodes = 0
    while todo and nodes < MAX_NODES:
        node, path = todo.pop()
        nodes += 1
        if isinstance(node, list):
            todo.extend((item, path) for item in node)
            continue
        if not isinstance(node, dict):
            continue
        cls = node.get("class_name")
        here = _layer_path(path, node) if isinstance(cls, str) else path
        todo.extend((v, here) for v in node.values())
        module = node.get("module")
        reg = node.get("registered_name")
        if not isinstance(cls, str):
            continue
        if cls in _LAMBDA or reg in _LAMBDA:
            _lambda(ctx, node, member, fmt, here)
            continue
        cfg = node.get("config")
        if isinstance(cfg, dict):
            _references(ctx, cls, cfg, member, fmt, here)
        target = ""
        if isinstance(module, str) and module and not _is_keras(module):
            name = node.get("config") if cls == "function" else cls
            target = f"{module}.{name}" if isinstance(name, str) else module
            _module_import(ctx, module, name if isinstance(name, str) else cls, member, fmt, here)
        if isinstance(reg, str) and ">" in reg and not target:
            ctx.finding(
                _W + "keras-custom-object",
                "high",
                member,
                title=f"Keras custom object {reg} in layer {here}",
                description=(
                    f"The layer {here} uses the registered custom object {reg} ({cls}); its "
                    "code is not in the file, must be importable, and runs when the model is "
                    "loaded."
                ),
                import_name=reg,
                key=here,
                evidence={
                    "format": fmt,
                    "class_name": cls,
                    "registered_name": reg,
                    "layer_path": here,
                },
            )
    if todo:
        ctx.finding(
            _W + "archive-limit",
            "high",
            member,
            title=f"{member or 'config'}: Keras config larger than {MAX_NODES:,} nodes",
            description="The rest of the config was not checked (node-count limit).",
            key="keras-nodes",
            evidence={"format": fmt, "limit": f"{MAX_NODES} config nodes"},
        )


def _layer_path(parent: str, node: dict[str, Any]) -> str:
    cfg = node.get("config")
    name = cfg.get("name") if isinstance(cfg, dict) else None
    if not isinstance(name, str):
        name = node.get("name") if isinstance(node.get("name"), str) else None
    label = str(name or node.get("class_name") or "?")[:120]
    return f"{parent}/{label}" if parent else label


def _strings(value: Any, key: str, depth: int = 0) -> list[tuple[str, str]]:
    """(key, string) pairs in a layer config, not descending into nested layers."""
    if isinstance(value, str):
        return [(key, value)]
    out: list[tuple[str, str]] = []
    if depth > 6:
        return out
    if isinstance(value, list):
        if key in _INLINE_DATA:
            return out  # an inline vocabulary: tokens, not references
        for item in value[:1000]:
            out += _strings(item, key, depth + 1)
    elif isinstance(value, dict) and not isinstance(value.get("class_name"), str):
        for k, v in list(value.items())[:1000]:
            if k not in _NOT_VALUES:
                out += _strings(v, str(k), depth + 1)
    return out


def _references(ctx: Ctx, cls: str, cfg: dict[str, Any], member: str, fmt: str, here: str) -> None:
    """External models and files or URLs a layer reads when Keras builds it."""
    ext_key = _EXTERNAL_MODEL.get(cls)
    if ext_key is not None:
        where_to = cfg.get(ext_key)
        ctx.finding(
            _W + "keras-external-model",
            "critical",
            member,
            title=f"Keras layer {here} ({cls}) loads an external model",
            description=(
                f"{cls} loads the model at {str(where_to)[:300]!r} when this model is loaded "
                "and runs its graph; that model is not in this file and was not scanned, and "
                "safe_mode does not stop it."
            ),
            import_name=f"Keras.{cls}",
            key=here,
            evidence={"format": fmt, "class_name": cls, "layer_path": here, "target": where_to},
        )
        return
    file_keys = _FILE_KEYS.get(cls, ())
    seen: set[str] = set()
    for key, text in _strings(cfg, ""):
        if key in _NOT_VALUES or not text or text in seen:
            continue
        named = key in file_keys or key in _PATHLIKE_KEYS
        outside = bool(_URL.match(text) or _ABS.match(text) or _CLIMB.search(text))
        if not (named or outside):
            continue
        seen.add(text)
        kind = "URL" if _URL.match(text) else "file"
        ctx.finding(
            _W + "keras-file-reference",
            "high",
            member,
            title=f"Keras layer {here} ({cls}) reads the {kind} {text[:120]!r} when loaded",
            description=(
                f"The {key or 'config'} of {cls} names the {kind} {text[:300]!r}: Keras reads "
                "it when the model is loaded, from wherever the model is loaded (a way to "
                "read local files into the model or to fetch content at load time)."
            ),
            import_name=f"Keras.{cls}",
            key=f"{here}:{text[:80]}",
            evidence={
                "format": fmt,
                "class_name": cls,
                "layer_path": here,
                "config_key": key,
                "reference": text[:500],
            },
        )


def _lambda(ctx: Ctx, node: dict[str, Any], member: str, fmt: str, here: str) -> None:
    cfg = node.get("config") if isinstance(node.get("config"), dict) else {}
    assert isinstance(cfg, dict)
    layer = cfg.get("name") if isinstance(cfg.get("name"), str) else "?"
    code = cfg.get("function") if "function" in cfg else cfg.get("code")
    snippet = json.dumps(code)[:300] if code is not None else ""
    ctx.finding(
        mf.UNSAFE_OPERATOR,
        "critical",
        member,
        title=f"Keras Lambda layer {here} carries Python code",
        description=(
            f"The Lambda layer {layer!r} ({here}) stores a Python function that Keras "
            "deserialises and runs (legacy .h5 files always; Keras 3 unless safe_mode=True)."
        ),
        import_name="Keras.Lambda",
        key=here,
        evidence={"format": fmt, "layer": layer, "layer_path": here, "function": snippet},
    )


def _module_import(ctx: Ctx, module: str, name: str, member: str, fmt: str, here: str) -> None:
    verdict = cl.classify(module, name)
    sev = cl.severity_for(verdict)
    if sev is None:
        return
    stored = f"{module}.{name}"
    dangerous = verdict.level == cl.DANGEROUS
    ctx.finding(
        mf.UNSAFE_IMPORT if dangerous else mf.SUSPICIOUS_IMPORT,
        sev,
        member,
        title=f"Keras config imports {stored} from outside Keras (layer {here})",
        description=(
            f"Keras imports the module {module!r} by name to rebuild {name!r} in {here}: "
            f"{verdict.why}."
        ),
        import_name=stored,
        evidence={
            "format": fmt,
            "module": module,
            "name": name,
            "verdict": verdict.level,
            "layer_path": here,
        },
    )


def scan_json(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    check_config_bytes(ctx, src.read_at(0, MAX_CONFIG), member, "keras-json")
    return "keras-json"


def scan_hdf5(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    ranges = [(0, min(src.size, _HDF5_HEAD))]
    if src.size > _HDF5_HEAD:
        ranges.append((max(_HDF5_HEAD, src.size - _HDF5_TAIL), src.size))
    covered = -1
    found = False
    for start, end in ranges:
        pos = start
        while pos < end:
            chunk = src.read_at(pos, min(_CHUNK, end - pos) + 64)
            if not chunk:
                break
            hits: list[int] = []
            for needle in _NEEDLES:
                i = chunk.find(needle)
                while 0 <= i < _CHUNK:
                    if needle == b"model_config":
                        brace = src.read_at(pos + i, 4096).find(b"{")
                        if brace >= 0:
                            hits.append(pos + i + brace)
                    else:
                        hits.append(pos + i)
                    i = chunk.find(needle, i + 1)
            for at in sorted(set(hits)):
                if at < covered:
                    continue  # inside a config already decoded
                length = _decode_at(ctx, src, at, member)
                if length:
                    found = True
                    covered = at + length
            pos += _CHUNK
    return "keras-h5" if found else "hdf5"


def _decode_at(ctx: Ctx, src: Source, at: int, member: str) -> int:
    """Decode the JSON object at ``at``; returns its length in bytes (0 if none)."""
    for size in (64 << 10, MAX_CONFIG):
        data = src.read_at(at, size)
        raw = data.decode("utf-8", "replace")
        try:
            obj, end = json.JSONDecoder().raw_decode(raw)
        except ValueError:
            if len(data) < size:
                return 0
            continue
        if not isinstance(obj, dict) or "class_name" not in obj:
            return 0
        check_config(ctx, obj, member, "keras-h5")
        return len(raw[:end].encode("utf-8", "replace"))
    return 0
