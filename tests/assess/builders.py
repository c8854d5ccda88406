"""Test data and models for the assessment runner, generated here (nothing downloaded).

ONNX models are written with ``onnx.helper`` from the operator specs; skops files with
``skops.io.dump`` of small estimators fitted on generated data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto, helper, numpy_helper

OPSET = [helper.make_opsetid("", 17)]


def disparity_table(n: int = 20_000, seed: int = 7) -> pd.DataFrame:
    """Binary labels and predictions with a known disparity: group ``b`` of ``sex`` is
    selected about half as often as ``a`` (0.6 vs 0.3), and TPR/FPR differ with it."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["a", "b"], size=n, p=[0.6, 0.4])
    age = rng.choice(["young", "mid", "old"], size=n, p=[0.3, 0.5, 0.2])
    y = (rng.random(n) < 0.45).astype(np.int64)
    rate = np.where(sex == "a", 0.6, 0.3) + np.where(y == 1, 0.25, -0.2)
    pred = (rng.random(n) < np.clip(rate, 0.01, 0.99)).astype(np.int64)
    score = np.clip(0.5 * pred + 0.3 * y + rng.normal(0, 0.15, n) + 0.1, 0.0, 1.0)
    return pd.DataFrame({"sex": sex, "age_band": age, "y": y, "yhat": pred, "p": score})


def features_table(n: int = 4000, seed: int = 3) -> pd.DataFrame:
    """Two numeric features, a categorical one and a label from a known linear rule."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0.0, 1.0, n)
    x2 = rng.normal(2.0, 3.0, n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    sex = rng.choice(["f", "m"], size=n)
    y = ((x1 + 0.2 * x2 - 0.4 + rng.normal(0, 0.5, n)) > 0).astype(np.int64)
    return pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "sex": sex, "y": y})


def logistic_onnx(
    path: Path,
    weights: list[float],
    bias: float,
    *,
    zipmap: bool = False,
    columns: list[str] | None = None,
) -> Path:
    """A logistic-regression classifier on one float tensor X[N, F] (or, with ``columns``,
    one [N, 1] input per column, concatenated): outputs ``label`` (int64, 1 when p > 0.5)
    and ``probabilities`` [N, 2] (or a ZipMap of them)."""
    inits = [
        numpy_helper.from_array(np.array(weights, np.float32).reshape(-1, 1), "W"),
        numpy_helper.from_array(np.array([bias], np.float32), "B"),
        numpy_helper.from_array(np.array([0.5], np.float32), "half"),
        numpy_helper.from_array(np.array([1.0], np.float32), "one"),
        numpy_helper.from_array(np.array([-1], np.int64), "flat"),
    ]
    nodes = [
        helper.make_node("MatMul", ["X", "W"], ["z0"]),
        helper.make_node("Add", ["z0", "B"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p1"]),
        helper.make_node("Sub", ["one", "p1"], ["p0"]),
        helper.make_node("Concat", ["p0", "p1"], ["probs"], axis=1),
        helper.make_node("Greater", ["p1", "half"], ["gt"]),
        helper.make_node("Cast", ["gt"], ["gt64"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["gt64", "flat"], ["label"]),
    ]
    outputs = [helper.make_tensor_value_info("label", TensorProto.INT64, [None])]
    opsets = list(OPSET)
    if zipmap:
        nodes.append(
            helper.make_node(
                "ZipMap",
                ["probs"],
                ["probabilities"],
                domain="ai.onnx.ml",
                classlabels_int64s=[0, 1],
            )
        )
        outputs.append(
            helper.make_tensor_sequence_value_info("probabilities", TensorProto.UNDEFINED, None)
        )
        outputs[-1] = helper.make_value_info(
            "probabilities",
            helper.make_sequence_type_proto(
                helper.make_map_type_proto(
                    TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, [])
                )
            ),
        )
        opsets.append(helper.make_opsetid("ai.onnx.ml", 3))
    else:
        nodes.append(helper.make_node("Identity", ["probs"], ["probabilities"]))
        outputs.append(helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2]))
    inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, len(weights)])]
    if columns:
        nodes.insert(0, helper.make_node("Concat", columns, ["X"], axis=1))
        inputs = [helper.make_tensor_value_info(c, TensorProto.FLOAT, [None, 1]) for c in columns]
    graph = helper.make_graph(nodes, "logistic", inputs, outputs, initializer=inits)
    return _save(graph, path, opsets)


def linear_regressor_onnx(path: Path, weights: list[float], bias: float) -> Path:
    """y = X @ W + B on X[N, F] float, output ``variable`` [N, 1]."""
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["X", "W"], ["z"]),
            helper.make_node("Add", ["z", "B"], ["variable"]),
        ],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, len(weights)])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
        initializer=[
            numpy_helper.from_array(np.array(weights, np.float32).reshape(-1, 1), "W"),
            numpy_helper.from_array(np.array([bias], np.float32), "B"),
        ],
    )
    return _save(graph, path, OPSET)


def custom_op_onnx(path: Path, *, declared_only: bool = False) -> Path:
    """A model whose node runs ``Frobnicate`` from the custom domain ``com.example.evil``
    (or, with ``declared_only``, only imports that domain's operator set)."""
    node = helper.make_node(
        "Identity" if declared_only else "Frobnicate",
        ["X"],
        ["label"],
        domain="" if declared_only else "com.example.evil",
    )
    graph = helper.make_graph(
        [node],
        "custom",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("label", TensorProto.FLOAT, [None, 2])],
    )
    model = helper.make_model(
        graph, opset_imports=[*OPSET, helper.make_opsetid("com.example.evil", 1)]
    )
    path.write_bytes(model.SerializeToString())
    return path


def memory_hog_onnx(path: Path, elements: int = 20_000 * 50_000) -> Path:
    """A model that allocates a float tensor of ``elements`` (4 bytes each) per call and
    answers with a label derived from it."""
    rows = 20_000
    graph = helper.make_graph(
        [
            helper.make_node(
                "ConstantOfShape",
                ["shape"],
                ["big"],
                value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0]),
            ),
            helper.make_node("ReduceSum", ["big"], ["total"], keepdims=0),
            *_label_from("total"),
        ],
        "hog",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, [None])],
        initializer=[
            numpy_helper.from_array(np.array([rows, elements // rows], np.int64), "shape"),
            *_LABEL_INITS,
        ],
    )
    return _save(graph, path, OPSET)


def busy_loop_onnx(path: Path, iterations: int = 10**12) -> Path:
    """A model whose Loop adds 1 to a counter ``iterations`` times: it never finishes."""
    body = helper.make_graph(
        [
            helper.make_node("Add", ["acc_in", "one_f"], ["acc_out"]),
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [1]),
        ],
        initializer=[numpy_helper.from_array(np.array([1.0], np.float32), "one_f")],
    )
    graph = helper.make_graph(
        [
            helper.make_node("Loop", ["trips", "cond", "acc0"], ["acc"], body=body),
            helper.make_node("ReduceSum", ["acc"], ["total"], keepdims=0),
            *_label_from("total"),
        ],
        "busy",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, [None])],
        initializer=[
            numpy_helper.from_array(np.array(iterations, np.int64), "trips"),
            numpy_helper.from_array(np.array(True), "cond"),
            numpy_helper.from_array(np.array([0.0], np.float32), "acc0"),
            *_LABEL_INITS,
        ],
    )
    return _save(graph, path, OPSET)


def external_data_onnx(path: Path, location: str) -> Path:
    """A model with an initializer whose external data lives at ``location``."""
    weight = numpy_helper.from_array(np.zeros((2, 1), np.float32), "W")
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "8")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["label"])],
        "external",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info("label", TensorProto.FLOAT, [None, 1])],
        initializer=[weight],
    )
    model = helper.make_model(graph, opset_imports=OPSET)
    path.write_bytes(model.SerializeToString())
    return path


_LABEL_INITS = [
    numpy_helper.from_array(np.array([0], np.int64), "zero_i"),
    numpy_helper.from_array(np.array([1], np.int64), "one_i"),
    numpy_helper.from_array(np.array(0.0, np.float32), "zero_f"),
]


def _label_from(total: str) -> list[Any]:
    """Nodes making ``label`` = 1 per row of X that still depends on ``total`` (so the
    runtime has to compute it)."""
    return [
        helper.make_node("Shape", ["X"], ["xs"]),
        helper.make_node("Slice", ["xs", "zero_i", "one_i"], ["n"]),
        helper.make_node(
            "ConstantOfShape",
            ["n"],
            ["ones"],
            value=helper.make_tensor("l", TensorProto.INT64, [1], [1]),
        ),
        helper.make_node("Mul", [total, "zero_f"], ["nothing"]),
        helper.make_node("Cast", ["nothing"], ["nothing_i"], to=TensorProto.INT64),
        helper.make_node("Add", ["ones", "nothing_i"], ["label"]),
    ]


def _save(graph: Any, path: Path, opsets: list[Any]) -> Path:
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


class SneakyScaler:
    """A transformer skops does not know: a skops file holding one must be refused."""

    def fit(self, x: Any, y: Any = None) -> SneakyScaler:
        return self

    def transform(self, x: Any) -> Any:
        return x


def skops_pipeline(path: Path, frame: pd.DataFrame) -> Any:
    """One-hot ``colour``, pass ``x1``/``x2`` through, logistic regression; fitted on the
    DataFrame (so it knows its column names) and saved with skops. Returns the estimator."""
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    pipe = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])],
                    remainder="passthrough",
                ),
            ),
            ("lr", LogisticRegression()),
        ]
    )
    pipe.fit(frame[["x1", "x2", "colour"]], frame["y"])
    sio.dump(pipe, str(path))
    return pipe


def skops_untrusted(path: Path, frame: pd.DataFrame) -> Path:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    pipe = Pipeline([("sneaky", SneakyScaler()), ("lr", LogisticRegression())])
    pipe.fit(frame[["x1", "x2"]].to_numpy(), frame["y"])
    sio.dump(pipe, str(path))
    return path
