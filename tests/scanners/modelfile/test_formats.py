"""NumPy, joblib compression, Keras (v3 zip, HDF5, JSON), SavedModel, ONNX, GGUF,
safetensors."""

from __future__ import annotations

import bz2
import gzip
import lzma
import pickle
import struct
import zlib

import pytest

from tests.scanners.modelfile import builders as b
from tests.scanners.modelfile.helpers import (
    assert_clean,
    assert_critical,
    at_least,
    by_import,
    rule_ids,
    scan,
)
from tests.scanners.modelfile.picklegen import P, call_pickle

EVIL = call_pickle("os", "system", "touch /nonexistent/x", proto=2)

# ------------------------------------------------------------------------------ numpy


def test_npy_object_array_pickle_is_scanned() -> None:
    data = b.npy("|O", (2,), EVIL)
    res = scan(data, "arr.npy")
    assert res.format == "numpy-npy"
    assert_critical(res, "os.system")
    assert "warden-modelscan/numpy-object-array" in rule_ids(res)
    f = next(f for f in res.findings if f.rule_id == "unsafe-import")
    assert data[f.byte_offset : f.byte_offset + 1] == b"c"  # file offset, not pickle offset


def test_npy_benign_numeric_and_benign_object() -> None:
    assert not scan(b.npy("<f4", (2, 3), b"\x00" * 24), "w.npy").findings
    benign_obj = b.npy("|O", (2,), pickle.dumps(["a", "b"], protocol=2))
    res = scan(benign_obj, "labels.npy")
    assert_clean(res)
    assert rule_ids(res) == {"warden-modelscan/numpy-object-array"}


def test_npy_structured_dtype_with_object_field() -> None:
    data = b.npy([("a", "<f8"), ("b", "|O")], (1,), EVIL)
    assert_critical(scan(data), "os.system")


def test_npy_malformed_shape() -> None:
    res = scan(b.npy("<f8", (1000,), b"\x00" * 8), "w.npy")
    assert rule_ids(res) == {"warden-modelscan/malformed-file"}
    assert_clean(res)


def test_npz_with_object_member() -> None:
    data = b.zip_bytes({"a.npy": b.npy("<i8", (1,), b"\x00" * 8), "b.npy": b.npy("|O", (1,), EVIL)})
    res = scan(data, "arrays.npz")
    assert res.format == "numpy-npz"
    assert_critical(res, "os.system")


# ----------------------------------------------------------------------------- joblib


@pytest.mark.parametrize(
    ("kind", "compress"),
    [
        ("zlib", zlib.compress),
        ("gzip", gzip.compress),
        ("bz2", bz2.compress),
        ("xz", lzma.compress),
        ("lzma", lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE)),
    ],
)
def test_compressed_joblib(kind: str, compress: object) -> None:
    assert callable(compress)
    res = scan(compress(EVIL), "model.joblib")
    assert res.format == f"pickle+{kind}"
    assert_critical(res, "os.system")
    benign = scan(compress(pickle.dumps({"coef": [1.0, 2.0]}, protocol=4)), "model.joblib")
    assert not benign.findings


def test_old_joblib_zf_format() -> None:
    body = zlib.compress(EVIL)
    data = b"ZF" + hex(len(EVIL)).encode().ljust(19) + body
    res = scan(data, "model.pkl.z")
    assert_critical(res, "os.system")


# ------------------------------------------------------------------------------ keras


def test_keras_v3_lambda_and_modules() -> None:
    lam = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": "evil",
            "function": {"class_name": "__lambda__", "config": {"code": "4wEA"}},
        },
        "registered_name": None,
    }
    os_fn = {
        "module": "keras.layers",
        "class_name": "Activation",
        "config": {"activation": {"module": "os", "class_name": "function", "config": "system"}},
    }
    custom = {
        "module": "my_pkg.layers",
        "class_name": "Block",
        "config": {},
        "registered_name": "MyPkg>Block",
    }
    reg_only = {"class_name": "Gate", "config": {}, "registered_name": "Custom>Gate"}
    cfg = b.keras_config([b.dense_layer(), lam, os_fn, custom, reg_only])
    res = scan(b.keras_zip(cfg), "model.keras")
    assert res.format == "keras-v3"
    got = by_import(res)
    assert got["Keras.Lambda"] == "critical"
    assert got["os.system"] == "critical"
    # Issue 12: code from outside the file is high (it was medium, exit 0).
    assert got["my_pkg.layers.Block"] == "high"
    assert got["Custom>Gate"] == "high"
    paths = {f.evidence.get("layer_path") for f in res.findings}
    assert {"sequential/evil", "sequential/Block", "sequential/Gate"} <= paths


def test_keras_v3_benign() -> None:
    res = scan(b.keras_zip(b.keras_config([b.dense_layer("a"), b.dense_layer("b")])), "m.keras")
    assert res.format == "keras-v3"
    assert not res.findings, [f.title for f in res.findings]


def test_keras_json_config() -> None:
    cfg = b.keras_config(
        [{"class_name": "Lambda", "config": {"name": "l", "function": ["4wEA", None, None]}}]
    )
    import json

    res = scan(json.dumps(cfg).encode(), "model.json")
    assert res.format == "keras-json"
    assert by_import(res)["Keras.Lambda"] == "critical"


def test_legacy_h5_model_config_without_h5py() -> None:
    legacy_lambda = {
        "class_name": "Lambda",
        "config": {
            "name": "lambda",
            "function": ["4wEAAAAAAAAA", None, None],
            "function_type": "lambda",
        },
    }
    cfg = {"class_name": "Sequential", "config": {"name": "seq", "layers": [legacy_lambda]}}
    res = scan(b.hdf5_like(cfg), "model.h5")
    assert res.format == "keras-h5"
    assert by_import(res)["Keras.Lambda"] == "critical"
    benign = {
        "class_name": "Sequential",
        "config": {"layers": [{"class_name": "Dense", "config": {}}]},
    }
    assert not scan(b.hdf5_like(benign), "model.h5").findings


def test_real_h5_file_with_h5py() -> None:
    h5py = pytest.importorskip(
        "h5py", reason="h5py is an optional extra; the byte fallback is tested above"
    )
    import io
    import json

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.attrs["model_config"] = json.dumps(
            {
                "class_name": "Sequential",
                "config": {"layers": [{"class_name": "Lambda", "config": {"name": "x"}}]},
            }
        ).encode()
    assert by_import(scan(buf.getvalue(), "m.h5"))["Keras.Lambda"] == "critical"


# ------------------------------------------------------------------------- savedmodel


def test_savedmodel_ops() -> None:
    res = scan(
        b.saved_model(["MatMul", "PyFunc", "ReadFile"], ["EagerPyFunc", "WriteFile"]),
        "saved_model.pb",
    )
    assert res.format == "tf-savedmodel"
    got = by_import(res)
    assert got["tensorflow.PyFunc"] == "critical"
    assert got["tensorflow.EagerPyFunc"] == "critical"
    assert got["tensorflow.ReadFile"] == "high"
    assert got["tensorflow.WriteFile"] == "high"


def test_savedmodel_benign_checkpoint_ops() -> None:
    ops = ["Placeholder", "MatMul", "SaveV2", "RestoreV2", "MergeV2Checkpoints", "StringJoin"]
    res = scan(b.saved_model(ops), "saved_model.pb")
    assert res.format == "tf-savedmodel"
    assert not res.findings


# ------------------------------------------------------------------------------- onnx


def test_onnx_benign() -> None:
    data = b.onnx_model([("Conv", ""), ("Relu", "")], [("w", None), ("b", "weights.bin")])
    res = scan(data, "model.onnx")
    assert res.format == "onnx"
    assert not res.findings, [f.title for f in res.findings]


@pytest.mark.parametrize(
    "location", ["../../etc/passwd", "/etc/passwd", "C:\\secrets.txt", "~/.ssh/id_rsa"]
)
def test_onnx_external_data_escape(location: str) -> None:
    res = scan(b.onnx_model([("Conv", "")], [("w", location)]), "model.onnx")
    assert rule_ids(res) == {"warden-modelscan/onnx-external-data"}
    assert res.findings[0].severity == "high"


def test_onnx_external_data_in_subgraph() -> None:
    res = scan(b.onnx_model([("Relu", "")], subgraph_location="../x.bin"), "model.onnx")
    assert "warden-modelscan/onnx-external-data" in rule_ids(res)


def test_onnx_custom_domain_and_local_functions() -> None:
    res = scan(b.onnx_model([("Evil", "com.attacker"), ("Fused", "com.microsoft")]), "m.onnx")
    assert rule_ids(res) == {"warden-modelscan/onnx-custom-domain"}
    assert res.findings[0].severity == "medium"
    local = scan(b.onnx_model([("F", "my.funcs")], function_domains=["my.funcs"]), "m.onnx")
    assert not local.findings


# ------------------------------------------------------------------------------- gguf

LLAMA3 = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    " + message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}"
    "{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{% endif %}"
)


def test_gguf_benign() -> None:
    data = b.gguf(
        {
            "general.architecture": "llama",
            "tokenizer.chat_template": LLAMA3,
            "tokenizer.ggml.tokens": ["a", "b"],
        },
        [("blk.0.w", 16), ("blk.1.w", 8)],
    )
    res = scan(data, "model.gguf")
    assert res.format == "gguf"
    assert not res.findings, [f.title for f in res.findings]


@pytest.mark.parametrize(
    ("template", "severity"),
    [
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "critical"),
        ("{% for x in ().__class__.__base__.__subclasses__() %}{{ x }}{% endfor %}", "critical"),
        ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "critical"),
        ("{{ lipsum|attr('\\x5f\\x5fglobals\\x5f\\x5f') }}", "critical"),
        ("{{ request|attr('application') }}", "high"),
        ("{% import 'os' as os %}", "critical"),
    ],
)
def test_gguf_template_injection(template: str, severity: str) -> None:
    data = b.gguf({"tokenizer.chat_template.tool_use": template}, [("w", 4)])
    res = scan(data, "model.gguf")
    found = [f for f in res.findings if f.rule_id == "warden-modelscan/gguf-template-injection"]
    assert found
    assert found[0].severity == severity


def test_gguf_truncated() -> None:
    data = b.gguf({"tokenizer.chat_template": LLAMA3}, [("w", 8)])
    res = scan(data[:60], "model.gguf")
    assert rule_ids(res) == {"warden-modelscan/malformed-file"}


# ------------------------------------------------------------------------ safetensors


def test_safetensors_benign() -> None:
    data = b.safetensors({"a": ("F32", [2, 2], b"\x00" * 16), "b": ("BF16", [3], b"\x00" * 6)})
    res = scan(data, "model.safetensors")
    assert res.format == "safetensors"
    assert not res.findings


def _st(header: object, data_len: int) -> bytes:
    import json

    head = json.dumps(header).encode()
    return struct.pack("<Q", len(head)) + head + b"\x00" * data_len


@pytest.mark.parametrize(
    ("blob", "problem"),
    [
        (struct.pack("<Q", 10**9) + b"{}", "header"),
        (struct.pack("<Q", 5) + b"{nope", "header"),
        (_st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 64]}}, 16), "offsets"),
        (
            _st(
                {
                    "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                    "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]},
                },
                24,
            ),
            "overlap",
        ),
        (_st({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}, 16), "size"),
        (_st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}, 24), "gap"),
        (_st({"a": {"dtype": "Q9", "shape": [4], "data_offsets": [0, 16]}}, 16), "dtype"),
        (_st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, 40), "trailing"),
    ],
)
def test_safetensors_structure(blob: bytes, problem: str) -> None:
    res = scan(blob, "model.safetensors")
    assert res.format == "safetensors"
    problems = {f.evidence.get("problem") for f in res.findings}
    assert problem in problems, [f.description for f in res.findings]
    assert not at_least(res, "high")


def test_pickle_named_safetensors_and_gguf() -> None:
    for name in ("model.safetensors", "model.gguf", "model.onnx", "arr.npy"):
        res = scan(EVIL, name)
        assert res.format == "pickle"
        assert_critical(res, "os.system")
        assert "warden-modelscan/format-mismatch" in rule_ids(res)


def test_unknown_and_empty_files() -> None:
    assert scan(b"", "x.bin").format == "empty"
    res = scan(b"just some notes\n", "README.md")
    assert res.format == "unknown"
    assert not res.findings
    assert not scan(P(2).none().stop().data, "none.pkl").findings


@pytest.mark.parametrize("head", [b"\x80\x00\x00\x00", b"\x80\x02\x00\x3f", b"\x80\x04\xff\xff"])
def test_raw_tensor_bytes_that_start_like_proto_are_not_pickles(head: bytes) -> None:
    """Float data often starts with 0x80 0x00..0x05; without a parse it is not a pickle."""
    data = head + bytes(range(256)) * 16
    res = scan(data, "variables.data-00000-of-00001")
    assert res.format == "unknown"
    assert not res.findings
    ckpt = b.torch_zip(extra={"archive/data/99": data})
    assert not scan(ckpt, "model.pt").findings
