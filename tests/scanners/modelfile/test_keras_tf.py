"""Keras configs that reach outside the file, and TensorFlow graphs hidden inside graphs."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from tests.scanners.modelfile import builders as b
from tests.scanners.modelfile.helpers import assert_clean, by_import, rule_ids, scan

FILE_REF = "warden-modelscan/keras-file-reference"
EXTERNAL = "warden-modelscan/keras-external-model"


def _policy(name: str) -> dict[str, Any]:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name}}


def _lookup(cls: str, name: str, vocabulary: object) -> dict[str, Any]:
    return {
        "module": "keras.layers",
        "class_name": cls,
        "config": {
            "name": name,
            "trainable": True,
            "dtype": _policy("int64"),
            "max_tokens": None,
            "num_oov_indices": 1,
            "oov_token": "[UNK]",
            "vocabulary": vocabulary,
            "output_mode": "int",
            "encoding": "utf-8",
        },
        "registered_name": None,
        "name": name,
        "inbound_nodes": [],
    }


def _functional(name: str, layers: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "module": "keras",
        "class_name": "Functional",
        "config": {"name": name, "trainable": True, "layers": layers},
        "registered_name": "Functional",
    }


def _findings(data: bytes, rule: str, name: str = "model.keras") -> list[Any]:
    return [f for f in scan(data, name).findings if f.rule_id == rule]


@pytest.mark.parametrize(
    ("cls", "vocabulary"),
    [
        ("StringLookup", "/etc/passwd"),
        ("IntegerLookup", "gs://attacker-bucket/ids.txt"),
        ("TextVectorization", "vocab.txt"),
        ("StringLookup", "../../home/user/.ssh/id_rsa"),
    ],
)
def test_lookup_layer_vocabulary_path_is_high_with_the_layer_path(
    cls: str, vocabulary: str
) -> None:
    cfg = _functional("classifier", [b.dense_layer("dense"), _lookup(cls, "lookup", vocabulary)])
    found = _findings(b.keras_zip(cfg), FILE_REF)
    assert len(found) == 1
    f = found[0]
    assert f.severity == "high"
    assert f.evidence["layer_path"] == "classifier/lookup"
    assert f.evidence["reference"] == vocabulary
    assert "classifier/lookup" in f.title


def test_inline_vocabularies_and_ordinary_configs_are_clean() -> None:
    inline = _lookup("StringLookup", "lookup", ["a", "b", "http://example.org/token"])
    none = _lookup("IntegerLookup", "ids", None)
    cfg = _functional("m", [inline, none, b.dense_layer("d")])
    res = scan(b.keras_zip(cfg), "model.keras")
    assert not res.findings, [f.title for f in res.findings]


def test_savedmodel_wrapping_layer_is_critical() -> None:
    tfsm = {
        "module": "keras.layers",
        "class_name": "TFSMLayer",
        "config": {"name": "wrapped", "filepath": "/srv/models/other", "call_endpoint": "serve"},
        "registered_name": None,
    }
    hub = {
        "module": "tensorflow_hub.keras_layer",
        "class_name": "KerasLayer",
        "config": {"name": "encoder", "handle": "https://tfhub.example/encoder/1"},
    }
    res = scan(b.keras_zip(_functional("outer", [tfsm, hub])), "model.keras")
    ext = {f.evidence["layer_path"]: f for f in res.findings if f.rule_id == EXTERNAL}
    assert set(ext) == {"outer/wrapped", "outer/encoder"}
    assert all(f.severity == "critical" for f in ext.values())
    assert "/srv/models/other" in ext["outer/wrapped"].description
    # the hub layer's module is outside Keras too: judged like a pickle import
    assert by_import(res)["tensorflow_hub.keras_layer.KerasLayer"] == "high"


def test_layer_path_follows_nested_models() -> None:
    inner = _functional("encoder", [_lookup("StringLookup", "tokens", "/data/vocab.txt")])
    outer = b.keras_config([b.dense_layer("head"), inner])
    (f,) = _findings(b.keras_zip(outer), FILE_REF)
    assert f.evidence["layer_path"] == "sequential/encoder/tokens"


def test_lookup_vocabulary_path_in_legacy_h5() -> None:
    cfg = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "StringLookup", "config": {"name": "lk", "vocabulary": "/etc/shadow"}}
    ]}}  # fmt: skip
    (f,) = _findings(b.hdf5_like(cfg), FILE_REF, "model.h5")
    assert f.evidence["layer_path"] == "seq/lk"


def test_lookup_vocabulary_path_in_a_real_h5_file() -> None:
    h5py = pytest.importorskip("h5py", reason="h5py is optional; the byte stand-in is above")
    buf = io.BytesIO()
    with h5py.File(buf, "w") as fh:
        fh.attrs["model_config"] = json.dumps(
            {
                "class_name": "Functional",
                "config": {
                    "name": "m",
                    "layers": [
                        {"class_name": "TFSMLayer", "config": {"name": "x", "filepath": "/m"}}
                    ],
                },
            }
        ).encode()
        fh.create_group("model_weights").create_dataset("d/kernel", data=[[0.5, 1.5]])
    res = scan(buf.getvalue(), "model.h5")
    assert EXTERNAL in rule_ids(res)


def test_custom_objects_and_outside_modules_are_high() -> None:
    custom = {"class_name": "Gate", "config": {"name": "gate"}, "registered_name": "Acme>Gate"}
    outside = {"module": "acme.layers", "class_name": "Block", "config": {"name": "blk"}}
    res = scan(b.keras_zip(b.keras_config([custom, outside])), "model.keras")
    got = by_import(res)
    assert got == {"Acme>Gate": "high", "acme.layers.Block": "high"}


# ------------------------------------------------------------------------- TensorFlow


@pytest.mark.parametrize(
    ("in_function", "in_attr"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_ops_inside_a_graph_serialised_in_a_string_are_found(
    in_function: bool, in_attr: bool
) -> None:
    data = b.saved_model_with_graph_in_string(
        ["Const", "WriteFile", "PyFunc"], in_function=in_function, in_attr=in_attr
    )
    res = scan(data, "saved_model.pb")
    assert res.format == "tf-savedmodel"
    got = by_import(res)
    assert got["tensorflow.WriteFile"] == "high"
    assert got["tensorflow.PyFunc"] == "critical"
    f = next(f for f in res.findings if f.evidence.get("op") == "WriteFile")
    assert "serialised GraphDef" in f.evidence["where"]


def test_graph_in_a_graph_in_a_graph() -> None:
    deepest = b.graph_def(["MatchingFiles"])
    middle = b.const_string_node("g", deepest)
    graph = b.field(1, middle) + b.field(1, b.field(1, "ds") + b.field(2, "DatasetFromGraph"))
    outer = b.const_string_node("outer", graph)
    meta = b.field(1, b.field(1, "serve")) + b.field(2, b.field(1, outer))
    res = scan(b.field(1, 1) + b.field(2, meta), "saved_model.pb")
    assert by_import(res)["tensorflow.MatchingFiles"] == "high"


def test_string_constants_that_are_not_graphs_are_data() -> None:
    vocab = b"".join(b.field(8, w) for w in (b"hello", b"\nworld", b"\x0a\x03abc"))
    tensor = b.field(1, 7) + vocab
    node = b.field(1, "vocab") + b.field(2, "Const")
    node += b.field(5, b.field(1, "value") + b.field(2, b.field(8, tensor)))
    meta = b.field(1, b.field(1, "serve")) + b.field(2, b.field(1, node))
    res = scan(b.field(1, 1) + b.field(2, meta), "saved_model.pb")
    assert_clean(res)
    assert not res.findings, [f.title for f in res.findings]


def test_network_and_vocabulary_file_ops() -> None:
    res = scan(b.saved_model(["DataServiceDatasetV4", "InitializeTableFromTextFileV2"]))
    got = by_import(res)
    assert got["tensorflow.DataServiceDatasetV4"] == "high"
    assert got["tensorflow.InitializeTableFromTextFileV2"] == "medium"
