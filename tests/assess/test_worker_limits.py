"""The model worker's limits: memory, CPU time, wall clock, and no network or processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from scanners.assess import WorkerLimitError, WorkerLimits, assess_model
from tests.assess import builders

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data(write: Callable[..., Path]) -> Path:
    return write(builders.features_table(200))


def _limit_error(model: Path, data: Path, limits: WorkerLimits) -> str:
    with pytest.raises(WorkerLimitError) as excinfo:
        assess_model(
            model, data, label="y", features=["x1", "x2"], limits=limits, with_robustness=False
        )
    message = str(excinfo.value)
    assert "\n" not in message
    return message


def test_a_model_that_exceeds_the_memory_limit_gets_the_clear_error(
    tmp_path: Path, data: Path
) -> None:
    model = builders.memory_hog_onnx(tmp_path / "hog.onnx")  # 4 GB per call

    message = _limit_error(model, data, WorkerLimits(memory_mb=1024))

    assert message == (
        "the model worker ran out of memory: its limit is 1024 MiB (the model asked for "
        "4,000,000,000 bytes at once)"
    )


def test_the_same_model_runs_under_a_limit_it_fits(tmp_path: Path, data: Path) -> None:
    model = builders.memory_hog_onnx(tmp_path / "small.onnx", elements=20_000 * 10)

    doc = assess_model(model, data, label="y", features=["x1", "x2"], with_robustness=False)

    assert doc["metadata"]["rows_used"] == 200


def test_a_model_that_exceeds_the_cpu_limit_is_stopped(tmp_path: Path, data: Path) -> None:
    model = builders.busy_loop_onnx(tmp_path / "busy.onnx")

    message = _limit_error(model, data, WorkerLimits(cpu_seconds=2, wall_seconds=60))

    assert message == "the model worker hit its CPU-time limit of 2 s"


def test_a_worker_past_its_wall_clock_limit_is_killed(tmp_path: Path, data: Path) -> None:
    model = builders.busy_loop_onnx(tmp_path / "busy.onnx")

    message = _limit_error(model, data, WorkerLimits(cpu_seconds=60, wall_seconds=3))

    assert message == "the model worker did not finish within its wall-clock limit of 3 s"


@pytest.mark.parametrize(
    ("attempt", "event"),
    [
        ("import socket; socket.socket()", "socket.__new__"),
        ("import socket; socket.create_connection(('127.0.0.1', 9))", "socket"),
        ("import subprocess; subprocess.run(['true'])", "subprocess.Popen"),
        ("import os; os.system('true')", "os.system"),
        ("import urllib.request; urllib.request.urlopen('http://127.0.0.1:9/')", "urllib.Request"),
    ],
)
def test_the_worker_guard_refuses_network_and_processes(attempt: str, event: str) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from scanners.assess.worker import block_network_and_processes\n"
        "block_network_and_processes()\n"
        f"{attempt}\n"
    )

    result = subprocess.run(
        [sys.executable, "-I", "-c", code, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert "PermissionError: the model worker allows no " + event in result.stderr
