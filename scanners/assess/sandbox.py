"""Run a model in the worker process (:mod:`scanners.assess.worker`) under limits.

The worker is a fresh interpreter (``python -I``: no user site, no current directory on the
path) with a minimal environment, in a private temporary directory, limited to
``cpu_seconds`` of CPU time and ``memory_mb`` of address space, killed after
``wall_seconds``. When the system allows unprivileged network namespaces (``unshare -rn``)
the worker gets one of its own with no interfaces; in any case its audit hook refuses
sockets and subprocesses.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scanners.assess.errors import AssessmentError, ModelRefused, WorkerError, WorkerLimitError
from scanners.assess.model import ModelFile
from scanners.assess.options import RobustnessPlan

Array = np.ndarray[Any, Any]
_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from scanners.assess.worker import main; raise SystemExit(main(sys.argv[2:]))"
)


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    """Limits of the model worker: CPU seconds, address space in MiB, wall-clock seconds."""

    cpu_seconds: int = 600
    memory_mb: int = 4096
    wall_seconds: int = 900
    threads: int = 2
    batch_rows: int = 65536


@dataclass(slots=True)
class ModelAnswers:
    """The model's answers: predicted labels (or values), class probabilities when the model
    gives them (columns in ``classes`` order), and its answers on the perturbations."""

    classifier: bool
    classes: list[Any] | None
    predictions: Array
    proba: Array | None
    robustness: dict[str, Any] = field(default_factory=dict)
    isolation: dict[str, Any] = field(default_factory=dict)


def run_model(
    model: ModelFile,
    frame: Any,
    *,
    features: list[str],
    numeric: list[str],
    categorical: list[str],
    plan: RobustnessPlan | None,
    limits: WorkerLimits,
    task: str = "auto",
) -> ModelAnswers:
    """The model's answers on ``frame[features]`` (a pandas DataFrame), from the worker."""
    from pyarrow import Table, feather  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory(prefix="warden-assess-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o700)
        feather.write_feather(
            Table.from_pandas(frame[features], preserve_index=False),
            str(work / "features.arrow"),
            compression="uncompressed",
        )
        request = {
            "model": os.path.abspath(model.path),
            "kind": model.kind,
            "features": features,
            "numeric": numeric,
            "categorical": categorical,
            "robustness": plan.to_dict() if plan is not None else None,
            "threads": limits.threads,
            "batch_rows": limits.batch_rows,
            "task": task,
            "limits": asdict(limits),
        }
        (work / "request.json").write_text(json.dumps(request))
        prefix = _netns_prefix()
        cmd = [*prefix, sys.executable, "-I", "-c", _BOOT, _ROOT, str(work)]
        try:
            proc = subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
                cmd,
                cwd=work,
                env=_environment(work, limits),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=limits.wall_seconds,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise WorkerLimitError(
                f"the model worker did not finish within its wall-clock limit of "
                f"{limits.wall_seconds} s"
            ) from None
        status = _status(work)
        _raise_for(proc.returncode, status, proc.stderr, limits)
        assert status is not None  # _raise_for raised otherwise
        return _answers(work, status, isolation=_isolation(prefix, limits))


def _environment(work: Path, limits: WorkerLimits) -> dict[str, str]:
    threads = str(limits.threads)
    return {
        "PATH": os.defpath,
        "HOME": str(work),
        "TMPDIR": str(work),
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
        "MALLOC_ARENA_MAX": "2",  # glibc's per-thread arenas would eat the address space
    }


@functools.cache
def _netns_prefix() -> tuple[str, ...]:
    """``unshare -rn`` when this system lets us create a network namespace, else nothing."""
    unshare = shutil.which("unshare")
    if unshare is None or sys.platform != "linux":
        return ()
    try:
        probe = subprocess.run(  # noqa: S603 - fixed arguments
            [unshare, "-rn", "true"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return (unshare, "-rn") if probe.returncode == 0 else ()


def _isolation(prefix: tuple[str, ...], limits: WorkerLimits) -> dict[str, Any]:
    return {
        "process": "separate interpreter (python -I)",
        "network": "own network namespace and audit hook" if prefix else "audit hook",
        "cpu_seconds": limits.cpu_seconds,
        "memory_mb": limits.memory_mb,
        "wall_seconds": limits.wall_seconds,
    }


def _status(work: Path) -> dict[str, Any] | None:
    try:
        value = json.loads((work / "status.json").read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _raise_for(
    code: int, status: dict[str, Any] | None, stderr: bytes, limits: WorkerLimits
) -> None:
    if status is not None and status.get("ok") and code == 0:
        return
    message = str((status or {}).get("message", ""))
    error = (status or {}).get("error")
    if error == "memory":
        asked = re.search(r"buffer of size (\d+)", message)
        detail = f"the model asked for {int(asked[1]):,} bytes at once" if asked else message
        raise WorkerLimitError(
            f"the model worker ran out of memory: its limit is {limits.memory_mb} MiB "
            f"({detail[:200]})"
        )
    if error == "refused":
        raise ModelRefused(f"model refused: {message}")
    if error == "model":
        raise WorkerError(f"the model failed: {message}")
    if code in (-signal.SIGXCPU, -signal.SIGKILL):
        raise WorkerLimitError(
            f"the model worker hit its CPU-time limit of {limits.cpu_seconds} s"
            if code == -signal.SIGXCPU
            else f"the model worker was killed (SIGKILL): its CPU-time limit of "
            f"{limits.cpu_seconds} s or the system's out-of-memory killer"
        )
    tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if code < 0:
        name = signal.Signals(-code).name
        raise WorkerError(
            f"the model worker crashed ({name}); with a memory limit of {limits.memory_mb} "
            f"MiB, running out of memory is a likely cause. {tail[0][:200]}".strip()
        )
    raise AssessmentError(f"the model worker failed (exit {code}): {tail[0][:300]}")


def _answers(work: Path, status: dict[str, Any], *, isolation: dict[str, Any]) -> ModelAnswers:
    outputs = status["outputs"]

    def load(name: str) -> Array:
        path = work / Path(name).name  # only files of the work directory
        return np.asarray(np.load(path, allow_pickle=False))

    robustness: dict[str, Any] = {}
    for name, ref in (outputs.get("robustness") or {}).items():
        if isinstance(ref, str):
            robustness[name] = load(ref)
        elif "error" in ref:
            robustness[name] = str(ref["error"])
        else:
            robustness[name] = {k: load(v) for k, v in ref.items()}
    return ModelAnswers(
        classifier=bool(status["classifier"]),
        classes=status.get("classes"),
        predictions=load(outputs["predictions"]),
        proba=load(outputs["proba"]) if "proba" in outputs else None,
        robustness=robustness,
        isolation=isolation,
    )
