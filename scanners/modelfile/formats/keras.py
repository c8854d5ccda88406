"""Keras model configs: v3 ``.keras`` zips (``config.json``), legacy HDF5 ``.h5`` files (the
``model_config`` attribute) and standalone JSON configs.

What runs code when Keras loads a model: ``Lambda`` layers (marshalled Python bytecode in
legacy files, source in v3 - blocked by ``safe_mode`` in Keras 3 only), and every object whose
``module`` Keras imports by name (custom layers, losses, activations serialised as
``{"module": ..., "class_name": "function", "config": name}``). Modules outside Keras are
judged with the same allow/deny lists as pickle imports.

HDF5 without h5py: the scanner does not parse HDF5. It looks for the JSON that Keras stores in
the ``model_config`` attribute (fixed-length strings are stored as plain bytes) and decodes
every JSON object that starts with ``{"class_name"`` or ``{"module"`` in the first 512 MiB and
the last 16 MiB of the file.
"""

from __future__ import annotations

import json
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
    """Walk a decoded Keras config and report code-running objects."""
    todo: list[Any] = [obj]
    nodes = 0
    while todo and nodes < MAX_NODES:
        node = todo.pop()
        nodes += 1
        if isinstance(node, list):
            todo.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        todo.extend(node.values())
        cls = node.get("class_name")
        module = node.get("module")
        reg = node.get("registered_name")
        if not isinstance(cls, str):
            continue
        if cls in _LAMBDA or reg in _LAMBDA:
            _lambda(ctx, node, member, fmt)
            continue
        target = ""
        if isinstance(module, str) and module and not _is_keras(module):
            name = node.get("config") if cls == "function" else cls
            target = f"{module}.{name}" if isinstance(name, str) else module
            _module_import(ctx, module, name if isinstance(name, str) else cls, member, fmt)
        if isinstance(reg, str) and ">" in reg and not target:
            ctx.finding(
                _W + "keras-custom-object",
                "medium",
                member,
                title=f"Keras custom object {reg}",
                description=(
                    f"The model uses the registered custom object {reg} ({cls}); its code "
                    "must be importable and runs when the model is loaded."
                ),
                import_name=reg,
                evidence={"format": fmt, "class_name": cls, "registered_name": reg},
            )


def _lambda(ctx: Ctx, node: dict[str, Any], member: str, fmt: str) -> None:
    cfg = node.get("config") if isinstance(node.get("config"), dict) else {}
    assert isinstance(cfg, dict)
    layer = cfg.get("name") if isinstance(cfg.get("name"), str) else "?"
    code = cfg.get("function") if "function" in cfg else cfg.get("code")
    snippet = json.dumps(code)[:300] if code is not None else ""
    ctx.finding(
        mf.UNSAFE_OPERATOR,
        "critical",
        member,
        title=f"Keras Lambda layer {layer!r} carries Python code",
        description=(
            f"The Lambda layer {layer!r} stores a Python function that Keras deserialises "
            "and runs (legacy .h5 files always; Keras 3 unless safe_mode=True)."
        ),
        import_name="Keras.Lambda",
        key=str(layer),
        evidence={"format": fmt, "layer": layer, "function": snippet},
    )


def _module_import(ctx: Ctx, module: str, name: str, member: str, fmt: str) -> None:
    verdict = cl.classify(module, name)
    sev = cl.severity_for(verdict, True)
    if sev is None:
        return
    stored = f"{module}.{name}"
    dangerous = verdict.level == cl.DANGEROUS
    ctx.finding(
        mf.UNSAFE_IMPORT if dangerous else mf.SUSPICIOUS_IMPORT,
        sev,
        member,
        title=f"Keras config imports {stored} from outside Keras",
        description=(
            f"Keras imports the module {module!r} by name to rebuild {name!r}: {verdict.why}."
        ),
        import_name=stored,
        evidence={"format": fmt, "module": module, "name": name, "verdict": verdict.level},
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
