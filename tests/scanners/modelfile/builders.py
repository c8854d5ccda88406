"""Writers for the model formats the tests need, built from the format specs by hand (no
torch, numpy, onnx, tensorflow, h5py or gguf package is needed or used)."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Sequence
from typing import Any

from tests.scanners.modelfile.picklegen import rebuild_tensor_pickle

# --------------------------------------------------------------------------- protobuf


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num: int, value: int | str | bytes) -> bytes:
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    data = value.encode() if isinstance(value, str) else value
    return varint(num << 3 | 2) + varint(len(data)) + data


def onnx_model(
    nodes: Sequence[tuple[str, str]] = (),
    initializers: Sequence[tuple[str, str | None]] = (),
    function_domains: Sequence[str] = (),
    subgraph_location: str | None = None,
) -> bytes:
    """ModelProto: ir_version, producer, graph(nodes, initializers), opset_import, functions."""
    graph = field(2, "g")
    for op, domain in nodes:
        node = field(1, "x") + field(2, "y") + field(4, op) + (field(7, domain) if domain else b"")
        graph += field(1, node)
    for name, location in initializers:
        tensor = field(1, 4) + field(2, 1) + field(8, name)
        if location is None:
            tensor += field(9, b"\x00" * 16)
        else:
            tensor += field(13, field(1, "location") + field(2, location)) + field(14, 1)
        graph += field(5, tensor)
    if subgraph_location is not None:
        inner_tensor = (
            field(8, "inner")
            + field(13, field(1, "location") + field(2, subgraph_location))
            + field(14, 1)
        )
        body = field(5, inner_tensor)
        attr = field(1, "then_branch") + field(6, body) + field(20, 5)
        graph += field(1, field(4, "If") + field(5, attr))
    model = field(1, 8) + field(2, "pytorch") + field(3, "2.3") + field(7, graph)
    model += field(8, field(1, "") + field(2, 17))
    for dom in function_domains:
        model += field(25, field(1, "f") + field(10, dom) + field(7, field(4, "Relu")))
    return model


def saved_model(ops: Sequence[str], function_ops: Sequence[str] = ()) -> bytes:
    graph = b"".join(field(1, field(1, f"n{i}") + field(2, op)) for i, op in enumerate(ops))
    if function_ops:
        fdef = b"".join(
            field(3, field(1, f"f{i}") + field(2, op)) for i, op in enumerate(function_ops)
        )
        graph += field(2, field(1, field(1, field(1, "fn")) + fdef))
    meta = field(1, field(1, "serve")) + field(2, graph)
    return field(1, 1) + field(2, meta)


def graph_def(ops: Sequence[str]) -> bytes:
    """A GraphDef with one node per op."""
    return b"".join(field(1, field(1, f"n{i}") + field(2, op)) for i, op in enumerate(ops))


def const_string_node(name: str, value: bytes) -> bytes:
    """NodeDef ``Const`` whose ``value`` attr is a DT_STRING tensor holding ``value``."""
    tensor = field(1, 7) + field(8, value)  # dtype DT_STRING, string_val
    attr_entry = field(1, "value") + field(2, field(8, tensor))
    return field(1, name) + field(2, "Const") + field(5, attr_entry)


def saved_model_with_graph_in_string(
    inner_ops: Sequence[str], *, in_function: bool = False, in_attr: bool = False
) -> bytes:
    """A SavedModel whose dangerous ops are only inside a GraphDef serialised as bytes: in the
    string tensor of a Const that a DatasetFromGraph op reads (the tf.data layout), or in a
    string attribute; in the top graph or inside a library function."""
    inner = graph_def(inner_ops)
    if in_attr:
        attr_entry = field(1, "graph") + field(2, field(2, inner))  # AttrValue.s
        holder = field(1, "ds") + field(2, "DatasetFromGraph") + field(5, attr_entry)
        nodes = [holder]
    else:
        nodes = [
            const_string_node("dataset/graph_def", inner),
            field(1, "ds") + field(2, "DatasetFromGraph") + field(3, "dataset/graph_def"),
        ]
    nodes.append(field(1, "out") + field(2, "Identity"))
    if in_function:
        fdef = field(1, field(1, "__inference_fn")) + b"".join(field(3, n) for n in nodes)
        graph = field(1, field(1, "x") + field(2, "Placeholder")) + field(2, field(1, fdef))
    else:
        graph = b"".join(field(1, n) for n in nodes)
    meta = field(1, field(1, "serve")) + field(2, graph)
    return field(1, 1) + field(2, meta)


# ------------------------------------------------------------------------------- gguf


def _gstr(s: str) -> bytes:
    d = s.encode()
    return struct.pack("<Q", len(d)) + d


def gguf(kvs: dict[str, Any], tensors: Sequence[tuple[str, int]] = ()) -> bytes:
    """GGUF v3 with string/u32/string-array values and F32 1-D tensors (name, n elems)."""
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, value in kvs.items():
        out += _gstr(key)
        if isinstance(value, str):
            out += struct.pack("<I", 8) + _gstr(value)
        elif isinstance(value, int):
            out += struct.pack("<II", 4, value)
        elif isinstance(value, list):
            out += struct.pack("<IIQ", 9, 8, len(value)) + b"".join(_gstr(v) for v in value)
    offset = 0
    infos = b""
    for name, n in tensors:
        infos += _gstr(name) + struct.pack("<IQIQ", 1, n, 0, offset)
        offset += -(-n * 4 // 32) * 32
    out += infos
    out += b"\x00" * (-len(out) % 32)
    return out + b"\x00" * offset


# ------------------------------------------------------------------------ safetensors


def safetensors(tensors: dict[str, tuple[str, list[int], bytes]], header: Any = None) -> bytes:
    meta: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    data = b""
    for name, (dtype, shape, raw) in tensors.items():
        meta[name] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [len(data), len(data) + len(raw)],
        }
        data += raw
    head = json.dumps(header if header is not None else meta).encode()
    head += b" " * (-len(head) % 8)
    return struct.pack("<Q", len(head)) + head + data


# ------------------------------------------------------------------------------ numpy


def npy(descr: Any, shape: tuple[int, ...], data: bytes) -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


# ------------------------------------------------------------------------------ zips


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def torch_zip(
    root: str = "archive",
    pickle_data: bytes | None = None,
    storages: dict[str, bytes] | None = None,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """The PyTorch >= 1.6 layout: <root>/data.pkl, <root>/data/<key>, <root>/version."""
    storages = storages if storages is not None else {"0": b"\x00" * 16, "1": b"\x01" * 16}
    pkl = pickle_data if pickle_data is not None else rebuild_tensor_pickle(list(storages))
    members = {f"{root}/data.pkl": pkl, f"{root}/byteorder": b"little"}
    for key, raw in storages.items():
        members[f"{root}/data/{key}"] = raw
    members[f"{root}/version"] = b"3\n"
    members.update(extra or {})
    return zip_bytes(members)


def keras_zip(config: dict[str, Any]) -> bytes:
    return zip_bytes(
        {
            "metadata.json": json.dumps({"keras_version": "3.3.3"}).encode(),
            "config.json": json.dumps(config).encode(),
            "model.weights.h5": b"\x89HDF\r\n\x1a\n" + b"\x00" * 64,
        },
        zipfile.ZIP_DEFLATED,
    )


def keras_config(layers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "layers": layers},
        "registered_name": None,
    }


def dense_layer(name: str = "dense") -> dict[str, Any]:
    return {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {"name": name, "units": 4, "activation": "relu"},
        "registered_name": None,
    }


def hdf5_like(config: dict[str, Any]) -> bytes:
    """HDF5 signature + superblock-sized padding + an attribute-message-shaped record whose
    name is model_config and whose value is the JSON, as Keras stores a fixed-length string
    attribute. Not a complete HDF5 file (that needs h5py to write): it exercises the
    byte-level fallback the scanner uses when h5py is absent."""
    value = json.dumps(config).encode()
    attr = b"\x0c\x00" + struct.pack("<H", 0) + b"model_config\x00\x00\x00\x00"
    attr += struct.pack("<I", len(value)) + value
    return b"\x89HDF\r\n\x1a\n" + b"\x00" * 88 + attr + b"\x00" * 128
