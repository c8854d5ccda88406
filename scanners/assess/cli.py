"""``warden assess``: Warden's own assessment of a model on the user's data.

    warden assess --data eval.csv --label y --prediction yhat [--score p]
                  [--sensitive sex,age_band] [--reference train.csv]
                  [--threshold 'demographic_parity_difference<=0.1' ...]
                  [--model-file model.onnx [--features a,b] [--categorical c]]
                  [--output FILE] [--upload --model M [--version V]]

Writes the warden.assessment/v1 JSON to stdout (or ``--output``), or with ``--upload`` sends
it to Warden. Exit 0 when every threshold holds, 1 when one fails or cannot be judged (or,
with ``--fail-on-gate``, the gate fails), 2 for bad input, a refused model or a limit hit.
Only this module's ``run`` imports the assessment libraries (the ``assess`` extra).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="evaluation table (CSV or Parquet)")
    p.add_argument("--label", required=True, help="column of the true labels")
    p.add_argument("--prediction", help="column of the predictions")
    p.add_argument("--score", help="column of P(positive) (binary tasks)")
    p.add_argument("--sensitive", default="", help="comma-separated sensitive feature columns")
    p.add_argument("--reference", help="reference (training) table for drift and leakage")
    p.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="METRIC<=VALUE",
        help="a figure that must hold, e.g. 'demographic_parity_difference<=0.1' (repeat)",
    )
    p.add_argument("--model-file", help="run this ONNX or skops model to get the predictions")
    p.add_argument("--features", default="", help="comma-separated feature columns")
    p.add_argument("--categorical", default="", help="numeric columns that are categories")
    p.add_argument("--task", choices=("auto", "classification", "regression"), default="auto")
    p.add_argument("--positive-label", help="the positive class of a binary label")
    p.add_argument("--decision-threshold", type=float, default=0.5, help="score -> prediction")
    p.add_argument("--min-group-size", type=int, default=30, help="smaller groups not judged")
    p.add_argument("--seed", type=int, default=0, help="seed of the robustness perturbations")
    p.add_argument("--no-robustness", action="store_true", help="with --model-file: skip it")
    p.add_argument("--cpu-limit", type=int, default=600, help="model worker CPU seconds")
    p.add_argument("--memory-limit", type=int, default=4096, help="model worker memory, MiB")
    p.add_argument("--wall-limit", type=int, default=900, help="model worker wall seconds")
    p.add_argument("--output", help="write the JSON here instead of stdout")
    p.add_argument("--upload", action="store_true", help="upload the assessment to Warden")


def _columns(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def run(args: argparse.Namespace, api: Any) -> int:
    """Run ``warden assess`` (``api``: the client's Api, with ``--upload``). An
    AssessmentError is one line on stderr, exit 2; upload errors are the client's ClientError."""
    from scanners.findings import ReportError  # AssessmentError is one

    try:
        doc = _assess(args)
    except ReportError as exc:
        sys.stderr.write(f"warden: {' '.join(str(exc).split())}\n")
        return 2
    return _deliver(doc, args, api)


def _assess(args: argparse.Namespace) -> dict[str, Any]:
    from dataclasses import replace

    from scanners.assess import AssessmentError, Options, RobustnessPlan
    from scanners.assess._deps import require_core

    require_core()
    from scanners.assess.runner import assess_model, assess_predictions
    from scanners.assess.sandbox import WorkerLimits

    if args.min_group_size < 1:
        raise AssessmentError("--min-group-size must be at least 1")
    options = Options(
        task=args.task,
        positive_label=args.positive_label,
        decision_threshold=args.decision_threshold,
        min_group_size=args.min_group_size,
        robustness=replace(RobustnessPlan(), seed=args.seed),
    )
    sensitive = _columns(args.sensitive)
    features = _columns(args.features) or None
    common = {
        "label": args.label,
        "sensitive": sensitive,
        "reference": args.reference,
        "thresholds": args.threshold,
        "options": options,
        "model": args.model or "",
        "model_version": args.version or "",
    }
    if args.model_file:
        if args.prediction or args.score:
            raise AssessmentError(
                "--model-file runs the model for the predictions: drop --prediction/--score"
            )
        return assess_model(
            args.model_file,
            args.data,
            features=features,
            categorical=_columns(args.categorical),
            with_robustness=not args.no_robustness,
            limits=WorkerLimits(
                cpu_seconds=args.cpu_limit,
                memory_mb=args.memory_limit,
                wall_seconds=args.wall_limit,
            ),
            **common,
        )
    digest = args.sha256 or ""
    if args.artifact:  # the model whose predictions these are: the report is tied to it
        from scanners.client import _sha256_file

        digest = _sha256_file(args.artifact)
    return assess_predictions(
        args.data,
        prediction=args.prediction,
        score=args.score,
        features=features,
        artifact_sha256=digest,
        **common,
    )


def _deliver(doc: dict[str, Any], args: argparse.Namespace, api: Any) -> int:
    from scanners.assess.document import to_json, verdict
    from scanners.client import ClientError, _report_result, upload_report

    outcome = verdict(doc)
    _summary(doc, outcome)
    code = 1 if outcome["failed"] or outcome["unjudged"] else 0
    content = to_json(doc)
    if args.output:
        try:
            with open(args.output, "wb") as fh:
                fh.write(content)
        except OSError as exc:
            raise ClientError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    elif not args.upload:
        sys.stdout.write(content.decode())
    if not args.upload:
        return code
    digest = doc.get("artifact_sha256", "")
    if digest:
        given = args.sha256 or ""
        if args.artifact:
            from scanners.client import _sha256_file

            given = _sha256_file(args.artifact)
        if given and given != digest:
            raise ClientError(
                f"--artifact/--sha256 ({given[:12]}...) is not the model file that was run "
                f"({digest[:12]}...)"
            )
        args.sha256, args.artifact = digest, None
    args.scan_type = "warden-assessment"
    result = upload_report(api, content=content, filename="warden-assessment.json", args=args)
    return max(code, _report_result(result, args.fail_on_gate))


def _summary(doc: dict[str, Any], outcome: dict[str, Any]) -> None:
    results = {r["test"]: r for r in doc["results"]}
    figures = len(doc["results"]) + len(doc["measurements"])
    line = (
        f"warden assess: {figures} figures on {doc['dataset_fingerprint']['rows']} rows; "
        f"{len(results)} judged: {len(outcome['passed'])} hold, {len(outcome['failed'])} fail"
    )
    if outcome["unjudged"]:
        line += f", {len(outcome['unjudged'])} threshold(s) could not be judged"
    sys.stderr.write(line + "\n")
    for test in outcome["failed"]:
        r = results[test]
        sys.stderr.write(
            f"  FAIL {test} = {r['value']:.4g}, must be {r['comparator']} {r['threshold']:g}\n"
        )
    for warning in doc.get("warnings", []):
        sys.stderr.write(f"  note: {warning}\n")
