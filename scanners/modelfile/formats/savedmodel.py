"""TensorFlow SavedModel (``saved_model.pb``), frozen ``GraphDef`` files and Keras'
``keras_metadata.pb``, walked on the protobuf wire.

Graph ops that run Python (``PyFunc``, ``PyFuncStateless``, ``EagerPyFunc``) are critical;
ops that read, write or list files (``ReadFile``, ``WriteFile``, ``MatchingFiles``,
``ImmutableConst``...) are high. The checkpoint ops every SavedModel has (``SaveV2``,
``RestoreV2``, ``MergeV2Checkpoints``) are not reported: they only touch the model's own
variables directory, with paths given at run time.

Field numbers (tensorflow/core/protobuf): SavedModel.meta_graphs=2; MetaGraphDef.graph_def=2;
GraphDef.node=1, library=2; FunctionDefLibrary.function=1; FunctionDef.node_def=3;
NodeDef.op=2. keras_metadata.pb: SavedMetadata.nodes=1, each with a JSON string field.
"""

from __future__ import annotations

import orjson

from scanners.modelfile.engine import Ctx
from scanners.modelfile.formats import keras
from scanners.modelfile.protowire import LEN, ProtoError, Reader, fields, text
from scanners.modelfile.source import Source
from scanners.parsers import _modelfile_common as mf

_W = "warden-modelscan/"
PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})
FILE_OPS = frozenset(
    {"ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst", "WholeFileReader",
     "WholeFileReaderV2", "DeleteFile", "FileExists", "LoadLibrary"}
)  # fmt: skip
MAX_MESSAGES = 5_000_000

_CHILDREN: dict[str, dict[int, str]] = {
    "saved_model": {2: "meta_graph"},
    "meta_graph": {2: "graph"},
    "graph": {1: "node", 2: "library"},
    "library": {1: "function"},
    "function": {3: "node"},
    "node": {},
}


def _walk(ctx: Ctx, src: Source, member: str, where: str, root: str) -> dict[str, int]:
    r = Reader(src)
    ops: dict[str, int] = {}
    todo = [(root, 0, src.size)]
    seen = 0
    try:
        while todo:
            kind, start, end = todo.pop()
            seen += 1
            if seen > MAX_MESSAGES:
                raise ProtoError("too many messages")
            children = _CHILDREN[kind]
            for num, wt, val, fend in fields(r, start, end):
                if wt != LEN:
                    continue
                if num in children:
                    todo.append((children[num], val, fend))
                elif kind == "node" and num == 2:
                    op = text(r, val, fend, 256)
                    ops[op] = ops.get(op, 0) + 1
    except ProtoError as exc:
        ctx.finding(
            _W + "malformed-file",
            "medium",
            member,
            title=f"{where}: invalid TensorFlow protobuf",
            description=f"The graph cannot be read completely: {exc}.",
            key="tf",
            evidence={"format": root},
        )
    return ops


def _report(ctx: Ctx, ops: dict[str, int], member: str, where: str, fmt: str) -> None:
    for op, count in sorted(ops.items()):
        if op in PYTHON_OPS:
            sev, why = "critical", "runs a Python function when the graph executes"
        elif op in FILE_OPS:
            sev, why = "high", "reads, writes or lists files when the graph executes"
        else:
            continue
        ctx.finding(
            mf.UNSAFE_OPERATOR,
            sev,
            member,
            title=f"{where}: TensorFlow op {op} in the graph",
            description=f"The graph contains {count} {op} node(s): {op} {why}.",
            import_name=f"tensorflow.{op}",
            evidence={"format": fmt, "op": op, "count": count},
        )


def scan(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    where = member or name
    _report(ctx, _walk(ctx, src, member, where, "saved_model"), member, where, "tf-savedmodel")
    return "tf-savedmodel"


def scan_graphdef(ctx: Ctx, src: Source, member: str, name: str, depth: int) -> str:
    where = member or name
    ops = _walk(ctx, src, member, where, "graph")
    if not ops and _keras_metadata(ctx, src, member):
        return "keras-metadata"
    _report(ctx, ops, member, where, "tf-graphdef")
    return "tf-graphdef"


def _keras_metadata(ctx: Ctx, src: Source, member: str) -> bool:
    """``keras_metadata.pb``: SavedMetadata.nodes[].metadata holds each layer's JSON."""
    r = Reader(src)
    found = False
    try:
        for num, wt, val, fend in fields(r, 0, src.size):
            if num != 1 or wt != LEN:
                return found
            for _n2, w2, v2, e2 in fields(r, val, fend):
                if w2 == LEN and r.bytes_at(v2, 1) == b"{":
                    raw = r.bytes_at(v2, e2 - v2)
                    try:
                        obj = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        continue
                    found = True
                    keras.check_config(ctx, obj, member, "keras-savedmodel")
    except ProtoError:
        return found
    return found
