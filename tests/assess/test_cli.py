"""`warden assess` end to end: exit codes, one-line errors, JSON that validates against the
published schema and that the warden-assessment parser turns into findings and passed checks;
and an upload to a live server."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from scanners import parse
from scanners.client import main
from tests.assess import builders

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docs/schemas/warden-assessment-v1.schema.json").read_text())
HEAVY = ("numpy", "pandas", "pyarrow", "scipy", "sklearn", "fairlearn", "onnxruntime", "skops")


def warden(*args: str, url: str = "", token: str = "") -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "-m", "scanners.client", *args],
        cwd=ROOT,
        env={**base, "WARDEN_URL": url, "WARDEN_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def eval_csv(write: Callable[..., Path]) -> Path:
    return write(builders.disparity_table(5000))


def test_a_failed_threshold_exits_1_and_becomes_a_finding(eval_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "assessment.json"

    result = warden(
        "assess", "--data", str(eval_csv), "--label", "y", "--prediction", "yhat",
        "--score", "p", "--sensitive", "sex,age_band",
        "--threshold", "demographic_parity_difference[sex]<=0.1",
        "--threshold", "accuracy>=0.5",
        "--output", str(out),
    )  # fmt: skip

    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].endswith("2 judged: 1 hold, 1 fail")
    assert re.fullmatch(
        r"  FAIL demographic_parity_difference\[sex\] = 0\.2\d+, must be <= 0\.1", lines[1]
    )
    doc = json.loads(out.read_text())
    assert not list(Draft202012Validator(SCHEMA).iter_errors(doc))
    report = parse(out.read_bytes())
    assert report.scan_type == "warden-assessment"
    [finding] = report.findings
    assert finding.rule_id == "demographic_parity_difference[sex]"
    assert finding.metric_name == "demographic_parity_difference"
    assert finding.metric_threshold == 0.1
    assert finding.comparator == "<="
    assert finding.severity == "high"  # fairness, misses 0.1 by more than 50 %
    assert set(finding.evidence["by_group"]) == {"a", "b"}
    assert finding.evidence["category"] == "fairness"
    assert [p.rule_id for p in report.passed] == ["accuracy"]
    assert report.metadata["dataset_fingerprint"]["rows"] == 5000
    assert "scikit-learn" in report.metadata["library_versions"]


def test_every_threshold_holding_exits_0_and_prints_the_json(eval_csv: Path) -> None:
    result = warden(
        "assess", "--data", str(eval_csv), "--label", "y", "--prediction", "yhat",
        "--sensitive", "sex", "--threshold", "demographic_parity_ratio>=0.2",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert [r["test"] for r in doc["results"]] == ["demographic_parity_ratio[sex]"]
    assert not list(Draft202012Validator(SCHEMA).iter_errors(doc))


def test_a_threshold_that_cannot_be_judged_exits_1(eval_csv: Path) -> None:
    result = warden(
        "assess", "--data", str(eval_csv), "--label", "y", "--prediction", "yhat",
        "--threshold", "roc_auc>=0.8",
    )  # fmt: skip

    assert result.returncode == 1
    assert "1 threshold(s) could not be judged" in result.stderr
    assert "note: threshold roc_auc>=0.8 cannot be judged: roc_auc was not measured" in (
        result.stderr
    )
    report = parse(result.stdout.encode())
    assert report.findings == report.passed == []
    assert any("roc_auc was not measured" in w for w in report.warnings)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--label", "target", "--prediction", "yhat"], "warden: eval.csv: no column 'target'"),
        (["--label", "y", "--prediction", "yhat", "--threshold", "acc>=1"], "unknown metric"),
        (["--label", "y", "--prediction", "yhat", "--min-group-size", "0"], "at least 1"),
        (["--label", "y"], "warden: give a prediction column, a score column or both"),
        (
            ["--label", "y", "--prediction", "yhat", "--sha256", "ABC"],
            "warden: artifact sha256 'abc' is not 64 hex digits",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    eval_csv: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["assess", "--data", str(eval_csv), *args])

    err = capsys.readouterr().err
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert message in err


def test_a_refused_model_is_one_line_and_exit_2(
    eval_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model.pkl"
    model.write_bytes(b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00}\x94.")

    code = main(["assess", "--data", str(eval_csv), "--label", "y", "--model-file", str(model)])

    assert code == 2
    assert capsys.readouterr().err == (
        "warden: model model.pkl refused: the file is a pickle, a pickle-based format that runs "
        "code when loaded; export the model to ONNX or save it with skops\n"
    )


def test_upload_needs_a_model_name_before_any_work(
    eval_csv: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["assess", "--data", str(eval_csv), "--label", "y", "--prediction", "yhat",
                 "--upload"])  # fmt: skip

    assert code == 2
    assert capsys.readouterr().err == "warden: --model is required with --upload\n"


def test_an_onnx_model_is_assessed_from_the_command_line(
    write: Callable[..., Path], tmp_path: Path
) -> None:
    data = write(builders.features_table(2000))
    model = builders.logistic_onnx(tmp_path / "model.onnx", [1.0, 0.2], -0.4)

    result = warden(
        "assess", "--data", str(data), "--label", "y", "--model-file", str(model),
        "--features", "x1,x2", "--sensitive", "sex", "--threshold", "noise_accuracy[0.1]>=0.5",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    report = parse(result.stdout.encode())
    [passed] = report.passed
    assert passed.rule_id == "noise_accuracy[0.1]"
    assert passed.owasp_ml == ["ML01:2023"]
    assert report.artifact_sha256 == hashlib.sha256(model.read_bytes()).hexdigest()
    assert report.metadata["artifact_sha256"] == report.artifact_sha256


def test_without_the_extra_the_error_names_it(eval_csv: Path) -> None:
    blocker = (
        "import sys\n"
        f"BLOCKED = {set(HEAVY)!r}\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from scanners.client import main\n"
        "code = main(sys.argv[1:])\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in BLOCKED]\n"
        "sys.exit(code)\n"
    )
    args = ["assess", "--data", str(eval_csv), "--label", "y", "--prediction", "yhat"]

    result = subprocess.run(
        [sys.executable, "-c", blocker, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr == (
        "warden: the assessment runner needs numpy, which is not installed: "
        "pip install 'warden[assess]'\n"
    )


def test_the_upload_and_gate_client_import_none_of_the_assessment_libraries() -> None:
    code = (
        "import sys\n"
        "from scanners.client import build_parser\n"
        "build_parser().parse_args(['gate', '--model', 'm'])\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r}))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.django_db(transaction=True)
def test_upload_records_the_assessment_against_the_model_digest(
    live_server: Any, team_alpha: Any, make_token: Any, write: Callable[..., Path], tmp_path: Path
) -> None:
    from governance.findings.models import Finding
    from governance.inventory.models import ModelVersion

    data = write(builders.features_table(2000))
    model = builders.logistic_onnx(tmp_path / "model.onnx", [1.0, 0.2], -0.4)
    token = make_token(team_alpha, "write")

    result = warden(
        "assess", "--data", str(data), "--label", "y", "--model-file", str(model),
        "--features", "x1,x2", "--sensitive", "sex", "--no-robustness",
        "--threshold", "accuracy>=0.99", "--threshold", "roc_auc>=0.5",
        "--upload", "--model", "credit", "--create-model", "--version", "2.0",
        url=live_server.url, token=token,
    )  # fmt: skip

    assert result.returncode == 1, result.stderr  # accuracy misses 0.99
    assert "1 findings (1 new" in result.stdout
    version = ModelVersion.objects.get(model__name="credit", version="2.0")
    assert version.artifact_sha256 == hashlib.sha256(model.read_bytes()).hexdigest()
    finding = Finding.objects.get(version=version)
    assert finding.metric_name == "accuracy"
    assert finding.metric_threshold == 0.99
