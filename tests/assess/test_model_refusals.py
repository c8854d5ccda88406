"""Models the runner refuses, before anything of them is loaded or executed."""

from __future__ import annotations

import pickle
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from scanners.assess import ModelRefused, assess_model, inspect_model
from tests.assess import builders


@pytest.fixture
def data(write: Callable[..., Path]) -> Path:
    return write(builders.features_table(300))


@pytest.fixture(autouse=True)
def no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused model must never reach the worker."""

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("the worker was started for a refused model")

    monkeypatch.setattr("scanners.assess.runner.run_model", fail)


def _canary_pickle(canary: Path) -> bytes:
    """Protocol-0 pickle that, if it were ever loaded, would create ``canary`` (harmless)."""
    return f"c__builtin__\nopen\n(V{canary}\nVw\ntR.".encode()


def _refusal(model: Path, data: Path, **kwargs: object) -> str:
    with pytest.raises(ModelRefused) as excinfo:
        assess_model(model, data, label="y", features=["x1", "x2"], **kwargs)  # type: ignore[arg-type]
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_a_pickle_is_refused_by_content_whatever_its_name(tmp_path: Path, data: Path) -> None:
    canary = tmp_path / "canary"
    model = tmp_path / "model.onnx"
    model.write_bytes(_canary_pickle(canary))

    message = _refusal(model, data)

    assert message == (
        "model model.onnx refused: the file is a pickle, a pickle-based format that runs code "
        "when loaded; export the model to ONNX or save it with skops"
    )
    assert not canary.exists()


def test_a_compressed_pickle_as_joblib_writes_it_is_refused(tmp_path: Path, data: Path) -> None:
    model = tmp_path / "model.joblib"
    model.write_bytes(zlib.compress(pickle.dumps({"weights": [1, 2]})))

    assert "zlib-compressed (how joblib stores pickles)" in _refusal(model, data)


def test_a_pytorch_style_checkpoint_is_refused(tmp_path: Path, data: Path) -> None:
    model = tmp_path / "model.pt"
    with zipfile.ZipFile(model, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
        z.writestr("archive/version", "3\n")

    assert "a PyTorch-style zip checkpoint, which is pickle-based" in _refusal(model, data)


def test_a_format_the_runner_does_not_execute_is_refused(tmp_path: Path, data: Path) -> None:
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}" + b" " * 14)

    assert _refusal(model, data) == (
        "model model.safetensors refused: its content is safetensors; the runner executes ONNX "
        "and skops models only"
    )


@pytest.mark.parametrize("declared_only", [False, True])
def test_a_custom_operator_domain_is_refused(
    tmp_path: Path, data: Path, declared_only: bool
) -> None:
    model = builders.custom_op_onnx(tmp_path / "model.onnx", declared_only=declared_only)

    assert _refusal(model, data) == (
        "model model.onnx refused: it uses the custom operator domain 'com.example.evil', which "
        "needs a native custom-op library"
    )


def test_a_custom_domain_is_refused_even_when_the_caller_vouches_for_the_scan(
    tmp_path: Path, data: Path
) -> None:
    model = builders.custom_op_onnx(tmp_path / "model.onnx")

    assert "custom operator domain" in _refusal(model, data, scan_clean=True)


def test_a_model_whose_scan_is_not_clean_is_refused(tmp_path: Path, data: Path) -> None:
    model = builders.logistic_onnx(tmp_path / "model.onnx", [1.0, 1.0], 0.0)

    assert _refusal(model, data, scan_clean=False) == (
        "model model.onnx refused: its model-file scan is not clean"
    )


def test_the_runner_scans_the_model_itself_and_refuses_a_high_finding(
    tmp_path: Path, data: Path
) -> None:
    model = builders.external_data_onnx(tmp_path / "model.onnx", "../../../etc/passwd")

    message = _refusal(model, data)

    assert message.startswith("model model.onnx refused: its model-file scan found high: ")
    assert "external data" in message


def test_a_skops_file_with_untrusted_types_is_refused(tmp_path: Path, data: Path) -> None:
    model = builders.skops_untrusted(tmp_path / "model.skops", builders.features_table(200))

    assert _refusal(model, data) == (
        "model model.skops refused: the skops file holds types skops does not trust: "
        "tests.assess.builders.SneakyScaler"
    )


def test_a_clean_model_is_accepted_with_its_digest(tmp_path: Path) -> None:
    model = builders.logistic_onnx(tmp_path / "model.onnx", [1.0, 1.0], 0.0)

    accepted = inspect_model(model, scan_clean=None)

    assert accepted.kind == "onnx"
    assert len(accepted.sha256) == 64
    assert accepted.size == model.stat().st_size


def test_a_missing_model_file_is_named(tmp_path: Path, data: Path) -> None:
    assert _refusal(tmp_path / "nope.onnx", data) == "model nope.onnx: no such file"


def test_a_directory_is_not_a_model(tmp_path: Path, data: Path) -> None:
    assert _refusal(tmp_path, data).endswith(": a directory, not a model file")


def test_text_is_not_a_model(tmp_path: Path, data: Path) -> None:
    model = tmp_path / "model.onnx"
    pd.DataFrame({"a": [1]}).to_csv(model)

    assert "refused: its content is" in _refusal(model, data)
