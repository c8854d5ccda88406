"""Benign checkpoints built from what real ones pickle, written with the real ``pickle`` module.

Frameworks that are not installed here (Lightning, fairseq, scikit-learn, tokenizers, torch)
are stand-in classes registered under their real module paths for the duration of a test, so
``pickle`` writes exactly the global names the real objects produce; numpy, pathlib,
argparse, datetime and the rest are the real classes. Nothing is ever unpickled.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import decimal
import fractions
import io
import pathlib
import pickle
import sys
import types
import typing
import uuid
import zlib
from typing import Any

import numpy as np
import pytest

from scanners.modelfile import scan_bytes
from tests.scanners.modelfile.builders import zip_bytes
from tests.scanners.modelfile.helpers import at_least, genops_imports

PROTOCOLS = (0, 2, 4, 5)


@pytest.fixture
def standins(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Stand-in classes and functions under their real module paths (modules created for the
    test and removed after it)."""
    made: dict[str, Any] = {}

    def module(path: str) -> types.ModuleType:
        parts = path.split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            if name not in sys.modules:
                monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
        return sys.modules[path]

    def define(path: str, name: str, obj: Any) -> Any:
        mod = module(path)
        obj.__module__ = path
        obj.__qualname__ = name
        obj.__name__ = name
        monkeypatch.setattr(mod, name, obj, raising=False)
        made[f"{path}.{name}"] = obj
        return obj

    # torch: storages are persistent ids, tensors rebuild through _rebuild_tensor_v2
    class FloatStorage:
        def __init__(self, key: str, numel: int) -> None:
            self.key, self.numel = key, numel

    def _rebuild_tensor_v2(*args: Any) -> None:  # never called
        raise AssertionError("stand-in")

    class Tensor:
        def __init__(self, storage: Any, shape: tuple[int, ...]) -> None:
            self.storage, self.shape = storage, shape

        def __reduce_ex__(self, proto: object) -> Any:
            stride = (self.shape[1], 1) if len(self.shape) == 2 else (1,)
            args = (self.storage, 0, self.shape, stride, False, collections.OrderedDict())
            return (made["torch._utils._rebuild_tensor_v2"], args)

    class TorchVersion(str):
        pass

    define("torch", "FloatStorage", FloatStorage)
    define("torch._utils", "_rebuild_tensor_v2", _rebuild_tensor_v2)
    define("torch._tensor", "Tensor", Tensor)
    define("torch.torch_version", "TorchVersion", TorchVersion)

    class AttributeDict(dict):  # type: ignore[type-arg]
        pass

    define("lightning.fabric.utilities.data", "AttributeDict", AttributeDict)

    class DictConfig:
        def __init__(self, content: dict[str, Any]) -> None:
            self._metadata = made["omegaconf.base.ContainerMetadata"](typing.Any)
            self._content = {k: made["omegaconf.nodes.AnyNode"](v) for k, v in content.items()}

    class ContainerMetadata:
        def __init__(self, ref_type: Any) -> None:
            self.ref_type, self.key_type, self.element_type = ref_type, str, typing.Any
            self.optional, self.flags = True, {}

    class AnyNode:
        def __init__(self, value: Any) -> None:
            self._val = value

    define("omegaconf.dictconfig", "DictConfig", DictConfig)
    define("omegaconf.base", "ContainerMetadata", ContainerMetadata)
    define("omegaconf.nodes", "AnyNode", AnyNode)

    class AverageMeter:
        def __init__(self, val: float) -> None:
            self.val, self.sum, self.count, self.round = val, val * 3, 3, 3

    class MetersDict(collections.OrderedDict):  # type: ignore[type-arg]
        pass

    define("fairseq.logging.meters", "AverageMeter", AverageMeter)
    define("fairseq.logging.meters", "MetersDict", MetersDict)

    class Estimator:
        def __init__(self, **state: Any) -> None:
            self.__dict__.update(state)

    for path, name in (
        ("sklearn.pipeline", "Pipeline"),
        ("sklearn.preprocessing._data", "StandardScaler"),
        ("sklearn.linear_model._logistic", "LogisticRegression"),
        ("sklearn.ensemble._forest", "RandomForestClassifier"),
        ("sklearn.tree._classes", "DecisionTreeClassifier"),
    ):
        define(path, name, type(name, (Estimator,), {}))

    class Tree:
        def __init__(self, n_features: int, n_classes: Any, n_outputs: int) -> None:
            self.args = (n_features, n_classes, n_outputs)
            self.state: dict[str, Any] = {}

        def __reduce__(self) -> Any:
            return (type(self), self.args, self.state)

        def __setstate__(self, state: dict[str, Any]) -> None:
            self.state = state

    define("sklearn.tree._tree", "Tree", Tree)

    class NumpyArrayWrapper:
        def __init__(self, array: np.ndarray[Any, Any]) -> None:
            self.subclass, self.shape = type(array), array.shape
            self.order = "C"
            self.dtype = array.dtype
            self.allow_mmap = True
            self.numpy_array_alignment_bytes = 16

    define("joblib.numpy_pickle", "NumpyArrayWrapper", NumpyArrayWrapper)

    class BPE:
        pass

    class Tokenizer:
        def __init__(self, model: Any, state: str) -> None:
            self.model, self.state = model, state

        def __getnewargs__(self) -> tuple[Any]:
            return (self.model,)

        def __getstate__(self) -> str:
            return self.state

        def __new__(cls, *args: Any) -> Tokenizer:
            return object.__new__(cls)

    define("tokenizers.models", "BPE", BPE)
    define("tokenizers", "Tokenizer", Tokenizer)
    return made


class _TorchPickler(pickle.Pickler):
    """torch.save's data.pkl: storages become persistent ids."""

    def persistent_id(self, obj: Any) -> Any:
        if type(obj).__name__ == "FloatStorage":
            return ("storage", type(obj), obj.key, "cpu", obj.numel)
        return None


def torch_pickle(obj: Any, proto: int = 2) -> bytes:
    buf = io.BytesIO()
    _TorchPickler(buf, protocol=proto).dump(obj)
    return buf.getvalue()


class _JoblibPickler(pickle._Pickler):  # type: ignore[name-defined,misc]
    """joblib.dump's layout, from its documented format: each non-object ndarray becomes a
    NumpyArrayWrapper followed (outside any frame) by a padding byte and the raw bytes."""

    def __init__(self, fh: io.BytesIO, protocol: int, wrapper: Any) -> None:
        super().__init__(fh, protocol=protocol)
        self.fh = fh
        self.wrapper = wrapper

    def save(self, obj: Any, save_persistent_id: bool = True) -> None:
        if isinstance(obj, np.ndarray) and not obj.dtype.hasobject:
            super().save(self.wrapper(obj))
            if self.proto >= 4:
                self.framer.commit_frame(force=True)
            pad = 16 - (self.fh.tell() + 1) % 16
            self.fh.write(bytes([pad]) + b"\xff" * pad + obj.tobytes("C"))
            return
        super().save(obj, save_persistent_id)


def joblib_pickle(obj: Any, wrapper: Any, proto: int = 4) -> bytes:
    buf = io.BytesIO()
    _JoblibPickler(buf, proto, wrapper).dump(obj)
    return buf.getvalue()


def _globals(data: bytes) -> set[str]:
    """Names the pickle imports (pickletools, static) - the test checks its own input."""
    return genops_imports(data)


def _mentions(data: bytes, *names: str) -> bool:
    """joblib files hold raw array bytes pickletools cannot walk: look for the names."""
    return all(part.encode() in data for n in names for part in n.rsplit(".", 1))


def _assert_no_findings(data: bytes, name: str) -> None:
    res = scan_bytes(data, name)
    assert not res.findings, [(f.severity, f.title) for f in res.findings]


# ------------------------------------------------------------------------- corpus


def _run_metadata() -> dict[str, Any]:
    return {
        "started": datetime.datetime(2025, 3, 1, 12, 0, tzinfo=datetime.UTC),
        "duration": datetime.timedelta(hours=3),
        "day": datetime.date(2025, 3, 1),
        "run_id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "loss": decimal.Decimal("0.125"),
        "ratio": fractions.Fraction(3, 7),
        "history": collections.deque([0.5, 0.25]),
        "counts": collections.Counter({"train": 10}),
        "tags": collections.defaultdict(list, {"a": ["b"]}),
        "order": collections.OrderedDict(first=1),
        "paths": [
            pathlib.PurePosixPath("/data/train"),
            pathlib.PosixPath("/ckpt/last.ckpt"),
            pathlib.PureWindowsPath("C:/runs"),
        ],
        "ns": types.SimpleNamespace(seed=1),
        "labels": np.array(["cat", 1, 2.5, None, ("t", 1)], dtype=object),
        "rng": np.random.default_rng(0),
        "legacy_rng": np.random.RandomState(0),
        "steps": np.arange(6, dtype=np.int64).reshape(2, 3),
        "scalar": np.float32(0.5),
    }


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_run_metadata_pickle_of_plain_types_is_clean(proto: int) -> None:
    data = pickle.dumps(_run_metadata(), protocol=proto)
    names = _globals(data)
    assert {"pathlib.PosixPath", "pathlib.PurePosixPath", "uuid.UUID"} <= names
    _assert_no_findings(data, "run_meta.pkl")


def _tensor(standins: dict[str, Any], key: str, shape: tuple[int, ...]) -> Any:
    storage = standins["torch.FloatStorage"](key, int(np.prod(shape)))
    return standins["torch._tensor.Tensor"](storage, shape)


def _torch_zip(data_pkl: bytes, keys: list[str]) -> bytes:
    members = {"archive/data.pkl": data_pkl, "archive/byteorder": b"little"}
    members.update({f"archive/data/{k}": b"\x00" * 64 for k in keys})
    members["archive/version"] = b"3\n"
    return zip_bytes(members)


@pytest.mark.parametrize("proto", [2, 4])
def test_lightning_checkpoint_with_paths_and_configs_is_clean(
    standins: dict[str, Any], proto: int
) -> None:
    hparams = standins["lightning.fabric.utilities.data.AttributeDict"](
        lr=3e-4,
        data_dir=pathlib.PosixPath("/data/imagenet"),
        log_dir=pathlib.PurePosixPath("lightning_logs/version_0"),
        model_cfg=standins["omegaconf.dictconfig.DictConfig"]({"depth": 4, "act": "gelu"}),
    )
    ckpt = {
        "epoch": 3,
        "global_step": 1200,
        "pytorch-lightning_version": "2.2.1",
        "torch_version": standins["torch.torch_version.TorchVersion"]("2.3.0"),
        "state_dict": collections.OrderedDict(
            [
                ("layer.weight", _tensor(standins, "0", (4, 4))),
                ("layer.bias", _tensor(standins, "1", (4,))),
            ]
        ),
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 4}}}},
        "callbacks": {
            "ModelCheckpoint{'monitor': 'val_loss'}": {"best_model_path": "/ckpt/e3.ckpt"}
        },
        "optimizer_states": [{"state": {}, "param_groups": [{"lr": 3e-4, "params": [0, 1]}]}],
        "lr_schedulers": [{"last_epoch": 3}],
        "hparams_name": "kwargs",
        "hyper_parameters": hparams,
    }
    data_pkl = torch_pickle(ckpt, proto)
    assert {"pathlib.PosixPath", "lightning.fabric.utilities.data.AttributeDict",
            "omegaconf.dictconfig.DictConfig", "typing.Any"} <= _globals(data_pkl)  # fmt: skip
    res = scan_bytes(_torch_zip(data_pkl, ["0", "1"]), "epoch=3-step=1200.ckpt")
    assert res.format == "pytorch-zip"
    assert not res.findings, [(f.severity, f.title) for f in res.findings]


@pytest.mark.parametrize("proto", [2, 4])
def test_fairseq_checkpoint_with_namespace_and_meters_is_clean(
    standins: dict[str, Any], proto: int
) -> None:
    meters = standins["fairseq.logging.meters.MetersDict"](
        loss=standins["fairseq.logging.meters.AverageMeter"](3.2)
    )
    ckpt = {
        "args": argparse.Namespace(
            arch="transformer_wmt_en_de",
            data="/data/wmt16_en_de",
            save_dir=pathlib.PosixPath("checkpoints/transformer"),
            lr=[0.0005],
            max_tokens=4096,
        ),
        "cfg": None,
        "model": collections.OrderedDict([("embed.weight", _tensor(standins, "0", (8, 4)))]),
        "optimizer_history": [{"criterion_name": "LabelSmoothedCrossEntropyCriterion",
                               "optimizer_name": "FairseqAdam", "num_updates": 1000}],
        "extra_state": {"metrics": {"train": meters}, "train_iterator": {"epoch": 3},
                        "previous_best": 3.1},
    }  # fmt: skip
    data_pkl = torch_pickle(ckpt, proto)
    assert {"argparse.Namespace", "fairseq.logging.meters.AverageMeter"} <= _globals(data_pkl)
    res = scan_bytes(_torch_zip(data_pkl, ["0"]), "checkpoint_best.pt")
    assert not res.findings, [(f.severity, f.title) for f in res.findings]


def _forest(standins: dict[str, Any]) -> Any:
    tree_cls = standins["sklearn.tree._tree.Tree"]
    node_dtype = np.dtype([("left_child", "<i8"), ("right_child", "<i8"), ("feature", "<i8"),
                           ("threshold", "<f8"), ("impurity", "<f8")])  # fmt: skip
    trees = []
    for i in range(3):
        tree = tree_cls(4, np.array([2], dtype=np.intp), 1)
        tree.state = {
            "max_depth": 2,
            "node_count": 3,
            "nodes": np.zeros(3, dtype=node_dtype),
            "values": np.full((3, 1, 2), 0.5),
        }
        clf = standins["sklearn.tree._classes.DecisionTreeClassifier"](
            criterion="gini", max_depth=2, random_state=i, tree_=tree, n_features_in_=4
        )
        trees.append(clf)
    forest = standins["sklearn.ensemble._forest.RandomForestClassifier"](
        n_estimators=3, estimators_=trees, classes_=np.array([0, 1]), n_features_in_=4
    )
    scaler = standins["sklearn.preprocessing._data.StandardScaler"](
        mean_=np.zeros(4), scale_=np.ones(4), n_features_in_=4, feature_names_in_=np.array(
            ["a", "b", "c", "d"], dtype=object)
    )  # fmt: skip
    logreg = standins["sklearn.linear_model._logistic.LogisticRegression"](
        C=1.0, coef_=np.ones((1, 4)), intercept_=np.zeros(1), classes_=np.array([0, 1])
    )
    return standins["sklearn.pipeline.Pipeline"](
        steps=[("scale", scaler), ("forest", forest), ("clf", logreg)], memory=None
    )


@pytest.mark.parametrize("proto", [2, 4, 5])
def test_sklearn_pipeline_via_joblib_is_clean(standins: dict[str, Any], proto: int) -> None:
    data = joblib_pickle(
        _forest(standins), standins["joblib.numpy_pickle.NumpyArrayWrapper"], proto
    )
    assert _mentions(data, "joblib.numpy_pickle.NumpyArrayWrapper", "sklearn.tree._tree.Tree",
                     "sklearn.pipeline.Pipeline")  # fmt: skip
    _assert_no_findings(data, "model.joblib")
    _assert_no_findings(zlib.compress(data, 3), "model.joblib")  # joblib.dump(compress=3)


def test_tokenizer_pickle_is_clean(standins: dict[str, Any]) -> None:
    tok = standins["tokenizers.Tokenizer"](
        standins["tokenizers.models.BPE"](), '{"version": "1.0", "model": {"type": "BPE"}}'
    )
    for proto in (2, 4):
        data = pickle.dumps({"tokenizer": tok, "max_length": 512}, protocol=proto)
        assert "tokenizers.Tokenizer" in _globals(data)
        _assert_no_findings(data, "tokenizer.pkl")


def test_numpy_object_array_of_plain_types_in_npy_is_not_high() -> None:
    buf = io.BytesIO()
    np.save(buf, np.array(["a", 1, None, 2.5, ["x"]], dtype=object), allow_pickle=True)
    res = scan_bytes(buf.getvalue(), "labels.npy")
    assert not at_least(res, "high"), [f.title for f in res.findings]
    assert {f.rule_id for f in res.findings} == {"warden-modelscan/numpy-object-array"}
