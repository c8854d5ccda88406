"""The model worker: a separate Python process that loads one model and answers for the
evaluation rows (``python -I -c ... workdir``; started by :mod:`scanners.assess.sandbox`).

Before anything of the model is read it limits itself (CPU time, address space, file size,
no core dumps) and, once its libraries are imported, installs an audit hook that refuses
sockets, subprocesses and exec for the rest of its life. The parent may also have put it in
a network namespace of its own. It reads ``request.json`` and ``features.arrow`` from the
work directory and writes ``status.json`` and ``.npy`` arrays (never pickles) back.

Exit status: 0 done, 3 memory limit, 4 refused or bad input, 5 the model failed.
"""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_MEMORY, EXIT_REFUSED, EXIT_MODEL = 3, 4, 5
_BLOCKED_EVENTS = (
    "socket.",
    "subprocess.",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "pty.spawn",
    "urllib.Request",
    "http.client.",
    "ftplib.",
    "smtplib.",
    "webbrowser.",
)
_ALLOC_FAILURES = ("failed to allocate memory", "bad_alloc", "out of memory", "cannot allocate")


class Refused(Exception):
    """The model or its inputs cannot be run as asked (a clear message, exit 4)."""


def apply_limits(limits: dict[str, int]) -> None:
    """CPU seconds (SIGXCPU at the soft limit), bytes of address space, output file size."""
    cpu = int(limits["cpu_seconds"])
    memory = int(limits["memory_mb"]) << 20
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 30, 2 << 30))


def _guard(event: str, args: tuple[Any, ...]) -> None:
    if event.startswith(_BLOCKED_EVENTS):
        raise PermissionError(f"the model worker allows no {event}")


def block_network_and_processes() -> None:
    """Refuse sockets, subprocesses and exec from now on (an audit hook cannot be removed)."""
    sys.addaudithook(_guard)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    workdir = Path(args[0])
    request = json.loads((workdir / "request.json").read_text())
    apply_limits(request["limits"])
    try:
        status, code = _run(workdir, request), 0
    except MemoryError as exc:
        status, code = {"ok": False, "error": "memory", "message": str(exc)[:300]}, EXIT_MEMORY
    except Refused as exc:
        status, code = {"ok": False, "error": "refused", "message": str(exc)}, EXIT_REFUSED
    except Exception as exc:
        message = f"{type(exc).__name__}: {' '.join(str(exc).split())}"[:600]
        if any(word in message.lower() for word in _ALLOC_FAILURES):
            status, code = {"ok": False, "error": "memory", "message": message}, EXIT_MEMORY
        else:
            status, code = {"ok": False, "error": "model", "message": message}, EXIT_MODEL
    (workdir / "status.json").write_text(json.dumps(status))
    return code


def _run(workdir: Path, request: dict[str, Any]) -> dict[str, Any]:
    from pyarrow import feather  # type: ignore[import-untyped]

    from scanners.assess.options import RobustnessPlan
    from scanners.assess.robustness import perturb_and_predict

    kind = request["kind"]
    if kind == "onnx":
        # imported before the guard goes up (importing may need what the guard refuses)
        import onnxruntime  # type: ignore[import-untyped]  # noqa: F401
    else:
        import sklearn  # type: ignore[import-untyped]  # noqa: F401
        import skops.io  # type: ignore[import-untyped]  # noqa: F401
    frame = feather.read_table(str(workdir / "features.arrow")).to_pandas()
    block_network_and_processes()
    model = _OnnxModel(request) if kind == "onnx" else _SkopsModel(request)
    labels, proba = model.predict(frame, with_proba=True)
    outputs: dict[str, Any] = {"predictions": _save(workdir, "predictions", labels)}
    if proba is not None:
        outputs["proba"] = _save(workdir, "proba", proba)
    if request.get("robustness") is not None:
        plan = RobustnessPlan.from_dict(request["robustness"])
        answers = perturb_and_predict(
            lambda f: model.predict(f, with_proba=False)[0],
            frame,
            request["numeric"],
            request["categorical"],
            plan,
            classifier=model.classifier,
        )
        saved: dict[str, Any] = {}
        for i, (name, answer) in enumerate(answers.items()):
            if isinstance(answer, str):
                saved[name] = {"error": answer}
            elif isinstance(answer, dict):
                saved[name] = {k: _save(workdir, f"{name}-{k}", v) for k, v in answer.items()}
            else:
                saved[name] = _save(workdir, f"robustness-{i}", answer)
        outputs["robustness"] = saved
    return {
        "ok": True,
        "classifier": model.classifier,
        "classes": model.classes,
        "outputs": outputs,
    }


def _save(workdir: Path, name: str, values: Any) -> str:
    import numpy as np

    array = np.asarray(values)
    if array.dtype == object:
        array = array.astype(str)
    file = f"{name}.npy"
    np.save(workdir / file, array, allow_pickle=False)
    return file


class _OnnxModel:
    """An ONNX model in onnxruntime, CPU only, no custom-op library registered."""

    def __init__(self, request: dict[str, Any]) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = int(request["threads"])
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            request["model"], sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.features: list[str] = request["features"]
        self.batch = int(request["batch_rows"])
        inputs = self.session.get_inputs()
        self.inputs = inputs
        by_column = all(i.name in self.features for i in inputs)
        self.matrix = not by_column and len(inputs) == 1 and len(inputs[0].shape) == 2
        if self.matrix:
            width = inputs[0].shape[1]
            if isinstance(width, int) and width != len(self.features):
                raise Refused(
                    f"the model takes {width} features in one tensor; {len(self.features)} "
                    f"were given ({', '.join(self.features[:10])}): choose them with --features"
                )
            if "string" in inputs[0].type:
                raise Refused("the model takes one string tensor; the runner feeds numbers")
        else:
            missing = [i.name for i in inputs if i.name not in self.features]
            if missing:
                raise Refused(
                    f"the model's inputs ({', '.join(i.name for i in inputs)}) are neither one "
                    f"feature matrix nor columns of the table (no column {missing[0]!r})"
                )
        outs = self.session.get_outputs()
        self.label_out = next((o.name for o in outs if _is_label(o.type)), None)
        self.proba_out = next(
            (o.name for o in outs if o.type.startswith("seq(map") or _is_proba(o)), None
        )
        self.value_out = next((o.name for o in outs if "float" in o.type), None)
        self.classifier = self.label_out is not None or self.proba_out is not None
        if request.get("task") == "regression" and self.value_out is not None:
            self.classifier, self.label_out, self.proba_out = False, None, None
        if not self.classifier and self.value_out is None:
            raise Refused("the model has no label, probability or numeric output")
        self.classes: list[Any] | None = None

    def predict(self, frame: Any, *, with_proba: bool) -> tuple[Any, Any]:
        import numpy as np

        names = [n for n in (self.label_out, self.proba_out if with_proba else None) if n]
        if not names and self.proba_out:
            names = [self.proba_out]
        if not self.classifier:
            names = [str(self.value_out)]
        labels: list[Any] = []
        probas: list[Any] = []
        for start in range(0, len(frame), self.batch):
            part = frame.iloc[start : start + self.batch]
            got = dict(zip(names, self.session.run(names, self._feed(part)), strict=True))
            if not self.classifier:
                labels.append(np.asarray(got[names[0]], dtype=np.float64).reshape(-1))
                continue
            proba = self._proba(got[self.proba_out]) if self.proba_out in got else None
            if proba is not None:
                probas.append(proba)
            if self.label_out:
                labels.append(np.asarray(got[self.label_out]).reshape(-1))
            else:
                assert proba is not None
                classes = self.classes or list(range(proba.shape[1]))
                labels.append(np.asarray(classes)[np.argmax(proba, axis=1)])
        pred = np.concatenate(labels) if labels else np.array([])
        return pred, (np.concatenate(probas) if probas else None)

    def _proba(self, value: Any) -> Any:
        import numpy as np

        if isinstance(value, list):  # ZipMap: one {class: probability} per row
            keys = sorted(value[0]) if value else []
            if self.classes is None:
                self.classes = keys
            return np.array([[row[k] for k in keys] for row in value], dtype=np.float64)
        return np.asarray(value, dtype=np.float64)

    def _feed(self, part: Any) -> dict[str, Any]:
        import numpy as np

        if self.matrix:
            spec = self.inputs[0]
            x = part[self.features].to_numpy(dtype=np.float64, na_value=np.nan)
            return {spec.name: x.astype(_numpy_type(spec.type))}
        feed = {}
        for spec in self.inputs:
            column = part[spec.name]
            if "string" in spec.type:
                x = column.astype("object").where(column.notna(), "").astype(str).to_numpy()
                x = x.astype(object)
            else:
                x = column.to_numpy(dtype=np.float64, na_value=np.nan)
                x = x.astype(_numpy_type(spec.type))
            feed[spec.name] = x.reshape(-1, 1) if len(spec.shape) == 2 else x
        return feed


class _SkopsModel:
    """A scikit-learn estimator loaded by skops with its default trusted types only."""

    def __init__(self, request: dict[str, Any]) -> None:
        import skops.io as sio
        from sklearn.base import is_classifier  # type: ignore[import-untyped]

        try:
            self.estimator = sio.load(request["model"], trusted=None)
        except Exception as exc:
            if type(exc).__name__ == "UntrustedTypesFoundException":
                raise Refused(f"the skops file holds types skops does not trust: {exc}") from None
            raise
        est = self.estimator
        self.classifier = bool(is_classifier(est) or hasattr(est, "classes_"))
        if request.get("task") == "regression":
            self.classifier = False
        self.classes = [_plain(c) for c in est.classes_] if hasattr(est, "classes_") else None
        names = getattr(est, "feature_names_in_", None)
        self.columns: list[str] | None = [str(n) for n in names] if names is not None else None
        self.features: list[str] = request["features"]
        if self.columns is not None:
            missing = [c for c in self.columns if c not in self.features]
            if missing:
                raise Refused(f"the model was fitted on column {missing[0]!r}, not given")
        width = getattr(est, "n_features_in_", None)
        if self.columns is None and isinstance(width, int) and width != len(self.features):
            raise Refused(
                f"the model takes {width} features; {len(self.features)} were given "
                f"({', '.join(self.features[:10])}): choose them with --features"
            )
        self.batch = int(request["batch_rows"])

    def predict(self, frame: Any, *, with_proba: bool) -> tuple[Any, Any]:
        import numpy as np

        est = self.estimator
        x = frame[self.columns] if self.columns is not None else frame[self.features].to_numpy()
        labels, probas = [], []
        for start in range(0, len(frame), self.batch):
            stop = start + self.batch
            part = x.iloc[start:stop] if self.columns is not None else x[start:stop]
            labels.append(np.asarray(est.predict(part)).reshape(-1))
            if with_proba and self.classifier and hasattr(est, "predict_proba"):
                probas.append(np.asarray(est.predict_proba(part), dtype=np.float64))
        return np.concatenate(labels), (np.concatenate(probas) if probas else None)


def _is_label(kind: str) -> bool:
    return kind.startswith("tensor(") and any(t in kind for t in ("int", "string", "bool"))


def _is_proba(out: Any) -> bool:
    shape = out.shape or []
    return "float" in out.type and len(shape) == 2 and shape[1] != 1


def _numpy_type(kind: str) -> Any:
    import numpy as np

    table: dict[str, Callable[..., Any]] = {
        "tensor(float)": np.float32,
        "tensor(double)": np.float64,
        "tensor(int64)": np.int64,
        "tensor(int32)": np.int32,
        "tensor(bool)": np.bool_,
    }
    if kind not in table:
        raise Refused(f"the model takes {kind} input, which the runner cannot feed")
    return table[kind]


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


if __name__ == "__main__":
    sys.exit(main())
