"""TensorFlow SavedModel (``saved_model.pb``), frozen ``GraphDef`` files and Keras'
``keras_metadata.pb``, walked on the protobuf wire.

Every graph is walked: the meta graphs' GraphDefs, their function libraries, and graphs
serialised *inside* the graph - a ``GraphDef`` stored as bytes in a string tensor (the
``graph_def`` constant a ``DatasetFromGraph`` op deserialises and runs) or in a string
attribute - recursively, up to :data:`MAX_NESTED_GRAPHS` levels.

Graph ops that run Python (``PyFunc``, ``PyFuncStateless``, ``EagerPyFunc``) are critical;
ops that read, write or list files, open databases or talk to the network (``ReadFile``,
``WriteFile``, ``MatchingFiles``, ``ImmutableConst``, dataset readers and writers, summary
writers, data-service datasets...) are high; table initialisers that read a vocabulary file
are medium (usually the model's own asset). The checkpoint ops every SavedModel has
(``SaveV2``, ``RestoreV2``, ``MergeV2Checkpoints``) are not reported: they only touch the
model's own variables directory, with paths given at run time.

Field numbers (tensorflow/core/framework and core/protobuf): SavedModel.meta_graphs=2;
MetaGraphDef.graph_def=2; GraphDef.node=1, library=2; FunctionDefLibrary.function=1;
FunctionDef.node_def=3; NodeDef.op=2, attr=5 (map entry key=1, value=2); AttrValue.s=2,
list=1, tensor=8, func=10; AttrValue.ListValue.s=2, tensor=8, func=9;
NameAttrList.attr=2; TensorProto.string_val=8. keras_metadata.pb: SavedMetadata.nodes=1,
each with a JSON string field.
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
     "WholeFileReaderV2", "DeleteFile", "FileExists", "LoadLibrary", "TextLineReader",
     "TextLineReaderV2", "FixedLengthRecordReader", "FixedLengthRecordReaderV2",
     "TFRecordReader", "TFRecordReaderV2", "LMDBReader", "TFRecordDataset",
     "TFRecordDatasetV2", "TextLineDataset", "FixedLengthRecordDataset",
     "FixedLengthRecordDatasetV2", "CSVDataset", "CSVDatasetV2", "ExperimentalCSVDataset",
     "LMDBDataset", "ExperimentalLMDBDataset", "SqlDataset", "ExperimentalSqlDataset",
     "DatasetToTFRecord", "ExperimentalDatasetToTFRecord", "SaveDataset", "SaveDatasetV2",
     "LoadDataset", "SnapshotDataset", "SnapshotDatasetV2", "CreateSummaryFileWriter",
     "CreateSummaryDbWriter", "DebugIdentity", "DebugIdentityV2", "DebugIdentityV3",
     "DebugNanCount", "DebugNumericSummary"}
)  # fmt: skip
NETWORK_OPS = frozenset(
    {"DataServiceDataset", "DataServiceDatasetV2", "DataServiceDatasetV3",
     "DataServiceDatasetV4", "ExperimentalDataServiceDataset", "RegisterDataset",
     "RegisterDatasetV2", "DistributedSave"}
)  # fmt: skip
VOCAB_FILE_OPS = frozenset({"InitializeTableFromTextFile", "InitializeTableFromTextFileV2"})
MAX_MESSAGES = 5_000_000
MAX_NESTED_GRAPHS = 8
_GRAPH_FIRST_BYTES = frozenset({0x0A, 0x12, 0x1A, 0x22})  # GraphDef fields 1-4, LEN/VARINT

_CHILDREN: dict[str, dict[int, str]] = {
    "saved_model": {2: "meta_graph"},
    "meta_graph": {2: "graph"},
    "graph": {1: "node", 2: "library"},
    "library": {1: "function"},
    "function": {3: "node"},
    "node": {5: "attr_entry"},
    "attr_entry": {2: "attr"},
    "attr": {1: "attr_list", 2: "blob", 8: "tensor", 10: "func"},
    "attr_list": {2: "blob", 8: "tensor", 9: "func"},
    "func": {2: "attr_entry"},
    "tensor": {8: "blob"},
}


def _graph_like(r: Reader, start: int, end: int) -> bool:
    """Is ``[start, end)`` a serialised GraphDef with at least one node that names an op?"""
    if end - start < 4 or r.bytes_at(start, 1)[0] not in _GRAPH_FIRST_BYTES:
        return False
    nodes = 0
    try:
        for num, wt, val, fend in fields(r, start, end):
            if num not in (1, 2, 3, 4):
                return False
            if num == 1:
                if wt != LEN:
                    return False
                op = ""
                for n2, w2, v2, e2 in fields(r, val, fend):
                    if n2 == 2 and w2 == LEN:
                        op = text(r, v2, e2, 256)
                if not op.isidentifier():
                    return False
                nodes += 1
    except ProtoError:
        return False
    return nodes > 0


def _walk(ctx: Ctx, src: Source, member: str, where: str, root: str) -> dict[str, tuple[int, str]]:
    """op -> (count, where the first one is): every node of every graph, nested ones too."""
    r = Reader(src)
    ops: dict[str, tuple[int, str]] = {}
    todo: list[tuple[str, int, int, int, str]] = [(root, 0, src.size, 0, "graph")]
    seen = 0
    try:
        while todo:
            kind, start, end, nested, context = todo.pop()
            seen += 1
            if seen > MAX_MESSAGES:
                raise ProtoError(f"more than {MAX_MESSAGES:,} messages (limit)")
            if kind == "blob":
                if nested < MAX_NESTED_GRAPHS and _graph_like(r, start, end):
                    inner = f"{context} > serialised GraphDef"
                    todo.append(("graph", start, end, nested + 1, inner))
                elif nested >= MAX_NESTED_GRAPHS and _graph_like(r, start, end):
                    raise ProtoError(f"graphs nested deeper than {MAX_NESTED_GRAPHS} (limit)")
                continue
            children = _CHILDREN.get(kind, {})
            node_name = ""
            for num, wt, val, fend in fields(r, start, end):
                if wt != LEN:
                    continue
                if kind == "node" and num == 1:
                    node_name = text(r, val, fend, 200)
                if kind == "node" and num == 2:
                    op = text(r, val, fend, 256)
                    count, first = ops.get(op, (0, context))
                    ops[op] = (count + 1, first)
                    continue
                if num in children:
                    child_ctx = f"{context} > node {node_name!r}" if kind == "node" else context
                    todo.append((children[num], val, fend, nested, child_ctx))
    except ProtoError as exc:
        ctx.finding(
            _W + "malformed-file",
            "high" if "limit" in str(exc) else "medium",
            member,
            title=f"{where}: TensorFlow graph not read completely",
            description=f"The graph cannot be read completely: {exc}.",
            key="tf",
            evidence={"format": root},
        )
    return ops


def _report(ctx: Ctx, ops: dict[str, tuple[int, str]], member: str, where: str, fmt: str) -> None:
    for op, (count, context) in sorted(ops.items()):
        if op in PYTHON_OPS:
            sev, why = "critical", "runs a Python function when the graph executes"
        elif op in FILE_OPS:
            sev, why = "high", "reads, writes or lists files when the graph executes"
        elif op in NETWORK_OPS:
            sev, why = "high", "sends data to or reads it from the network"
        elif op in VOCAB_FILE_OPS:
            sev, why = "medium", "reads a vocabulary file (usually the model's own asset)"
        else:
            continue
        inside = f" (first in {context})" if context != "graph" else ""
        ctx.finding(
            mf.UNSAFE_OPERATOR,
            sev,
            member,
            title=f"{where}: TensorFlow op {op} in the graph{inside}"[:300],
            description=f"The graph contains {count} {op} node(s){inside}: {op} {why}.",
            import_name=f"tensorflow.{op}",
            evidence={"format": fmt, "op": op, "count": count, "where": context},
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
