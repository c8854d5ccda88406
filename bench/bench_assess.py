"""Benchmark the assessment runner (scanners/assess) on generated data.

    .venv/bin/python bench/bench_assess.py [--rows 1000000] [--model-rows 100000] [--runs 3]

1. From predictions: a CSV of ``--rows`` rows (label, prediction, score and two sensitive
   features: sex, 2 groups; age band, 5 groups) assessed with performance, fairness by each
   feature and their intersection, and data checks. Timed as the library call (file read
   included) and as the whole ``warden assess`` command (interpreter start and imports too).
2. From a model: an ONNX multilayer perceptron (12 numeric features, 64 hidden units, built
   here with onnx.helper) run in the limited worker on ``--model-rows`` rows with robustness
   (4 noise scales, missing values, the bounded evasion search) and drift against a
   reference table of the same size.

3. With ``--server``: the same predictions table through the server, ``POST
   /api/v1/models/{id}/versions/{v}/assess/`` with a token (the request's checks, storing the
   upload, the Celery task run eagerly at commit, the import of the document and the
   assessment record), in a throw-away database (SQLite in memory, or ``test_warden_bench``
   on PostgreSQL with DATABASE_URL).

Prints best and median of ``--runs`` runs. Targets: 1,000,000 prediction rows in <= 10 s;
the ONNX model on 100,000 rows with robustness in <= 60 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scanners.assess import assess_model, assess_predictions  # noqa: E402


def predictions_table(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    sex = rng.choice(["female", "male"], rows)
    age = rng.choice(["18-25", "26-35", "36-50", "51-65", "65+"], rows)
    y = (rng.random(rows) < 0.4).astype(np.int8)
    score = np.clip(0.35 * y + rng.normal(0.35, 0.2, rows) + 0.05 * (sex == "male"), 0, 1)
    pd.DataFrame(
        {"sex": sex, "age_band": age, "y": y, "p": score.round(5), "yhat": score >= 0.5}
    ).astype({"yhat": "int8"}).to_csv(path, index=False)


def mlp_onnx(path: Path, features: int, hidden: int) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    inits = [
        numpy_helper.from_array(rng.normal(0, 0.5, (features, hidden)).astype(np.float32), "W1"),
        numpy_helper.from_array(np.zeros(hidden, np.float32), "B1"),
        numpy_helper.from_array(rng.normal(0, 0.5, (hidden, 2)).astype(np.float32), "W2"),
        numpy_helper.from_array(np.zeros(2, np.float32), "B2"),
    ]
    nodes = [
        helper.make_node("Gemm", ["X", "W1", "B1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gemm", ["r", "W2", "B2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, features])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2]),
        ],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def features_table(path: Path, rows: int, features: int, seed: int, shift: float) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (rows, features))
    x[:, 0] += shift
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(features)])
    frame["sex"] = rng.choice(["female", "male"], rows)
    frame["y"] = (x[:, :3].sum(axis=1) + rng.normal(0, 1, rows) > 0).astype(np.int8)
    frame.to_csv(path, index=False)


def timed(runs: int, call: object) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()  # type: ignore[operator]
        out.append(time.perf_counter() - t0)
    return out


def report(name: str, seconds: list[float], target: float) -> None:
    best, median = min(seconds), statistics.median(seconds)
    verdict = "within" if median <= target else "OVER"
    print(f"{name}: best {best:.2f} s, median {median:.2f} s ({verdict} the {target:g} s target)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--model-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server", action="store_true", help="only the server path (3.)")
    args = parser.parse_args()
    if args.server:
        server(args.rows, args.runs)
        return
    with tempfile.TemporaryDirectory(prefix="warden-bench-assess-") as tmp:
        work = Path(tmp)
        data = work / "predictions.csv"
        predictions_table(data, args.rows)
        size = data.stat().st_size / 1e6
        print(f"predictions: {args.rows:,} rows, {size:.0f} MB CSV, sensitive sex x age_band")
        thresholds = ["demographic_parity_difference<=0.1", "equalized_odds_difference<=0.1"]

        def library() -> None:
            assess_predictions(
                data,
                label="y",
                prediction="yhat",
                score="p",
                sensitive=["sex", "age_band"],
                thresholds=thresholds,
            )

        report("  library call (read + assess)", timed(args.runs, library), 10)
        command = [
            sys.executable, "-m", "scanners.client", "assess", "--data", str(data),
            "--label", "y", "--prediction", "yhat", "--score", "p",
            "--sensitive", "sex,age_band", "--output", str(work / "out.json"),
            *[f"--threshold={t}" for t in thresholds],
        ]  # fmt: skip

        def cli() -> None:
            subprocess.run(command, cwd=ROOT, check=False, capture_output=True)

        report("  warden assess (whole command)", timed(args.runs, cli), 10)

        features = 12
        model = work / "mlp.onnx"
        mlp_onnx(model, features, 64)
        evaluation, reference = work / "eval.csv", work / "train.csv"
        features_table(evaluation, args.model_rows, features, seed=2, shift=0.3)
        features_table(reference, args.model_rows, features, seed=3, shift=0.0)
        print(
            f"model: ONNX MLP {features}-64-2 on {args.model_rows:,} rows, robustness "
            "(4 noise scales, missing values, evasion search on 200 rows) and drift"
        )

        def model_run() -> None:
            doc = assess_model(
                model,
                evaluation,
                label="y",
                sensitive=["sex"],
                features=[f"f{i}" for i in range(features)],
                reference=reference,
                thresholds=["noise_accuracy>=0.7", "min_perturbation>=0.1"],
            )
            model_run.figures = len(doc["results"]) + len(doc["measurements"])  # type: ignore[attr-defined]

        report("  assess_model (scan + worker + figures)", timed(args.runs, model_run), 60)
        print(f"  {model_run.figures} figures per model assessment")  # type: ignore[attr-defined]


def server(rows: int, runs: int) -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    os.environ.setdefault("WARDEN_TESTING", "1")
    os.environ.pop("CELERY_BROKER_URL", None)  # eager: the task runs when the request commits
    import django

    django.setup()
    from _throwaway_db import throwaway_db
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test.utils import setup_test_environment
    from rest_framework.test import APIClient

    from governance.accounts.services import api_token_create, team_create
    from governance.evidence.models import Assessment
    from governance.inventory.models import MLModel, ModelVersion

    setup_test_environment()  # the test client's host, a fast password hasher
    with tempfile.TemporaryDirectory(prefix="warden-bench-assess-") as tmp, throwaway_db():
        data = Path(tmp) / "predictions.csv"
        predictions_table(data, rows)
        blob = data.read_bytes()
        print(f"server: {rows:,} prediction rows, {len(blob) / 1e6:.0f} MB CSV uploaded")
        team = team_create(slug="bench", name="Bench")
        model = MLModel.objects.create(team=team, name="bench")
        ModelVersion.objects.create(model=model, version="1.0", artifact_sha256="ab" * 32)
        _, token = api_token_create(team=team, name="bench", scope="write")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        url = f"/api/v1/models/{model.pk}/versions/1.0/assess/"

        def post() -> None:
            response = client.post(
                url,
                {
                    "data": SimpleUploadedFile("predictions.csv", blob),
                    "label": "y", "prediction": "yhat", "score": "p",
                    "sensitive": "sex,age_band",
                    "threshold": ["demographic_parity_difference<=0.1"],
                },
                format="multipart",
            )  # fmt: skip
            assert response.status_code == 202, response.content[:300]

        report("  POST .../assess/ to recorded (eager task)", timed(runs, post), 10)
        assert Assessment.objects.count() == runs


if __name__ == "__main__":
    main()
