"""Benchmark: ``gate_evaluate`` for a model with 10,000 findings. Target: under 50 ms.

    .venv/bin/python bench/bench_gate.py [--findings 10000] [--runs 30]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/warden .venv/bin/python bench/bench_gate.py

Runs in a throw-away test database (SQLite in memory, or ``test_warden_bench`` on
PostgreSQL). The model is governed by the shipped high-tier example policy (thresholds,
evidence, assessments, SLA), so every step of the evaluator runs; half the findings are open,
across every category and severity, some overdue, some with fixes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
os.environ.setdefault("WARDEN_TESTING", "1")

import django  # noqa: E402

django.setup()

from _throwaway_db import analyze, throwaway_db  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

CATEGORIES = ("dependency", "model_file", "assessment", "runtime", "code")
SEVERITIES = ("critical", "high", "medium", "low", "info")


def seed(n: int) -> tuple[object, object]:
    from governance.accounts.services import team_create
    from governance.evidence.models import ScanRun
    from governance.findings.models import Finding
    from governance.ingest.services import scan_run_import
    from governance.inventory.models import MLModel, ModelVersion
    from governance.policies.schema import policy_document_parse
    from governance.policies.services import OPERATOR, policy_create
    from scanners import NormalizedFinding, Report

    team = team_create(slug="bench", name="Bench")
    document = policy_document_parse((ROOT / "docs/policies/high.yaml").read_text())
    policy_create(team=team, document=document, actor=OPERATOR)
    model = MLModel.objects.create(team=team, name="big", risk_tier="high", stage="production")
    version = ModelVersion.objects.create(model=model, version="1.0", artifact_sha256="ab" * 32)
    per_category = n // len(CATEGORIES)
    for c, category in enumerate(CATEGORIES):
        report = Report(
            tool=f"tool-{category}", tool_version="1", scan_type="bench", category=category
        )
        for i in range(per_category):
            metric = category == "assessment" and i % 50 == 0
            report.findings.append(NormalizedFinding(
                fingerprint=hashlib.sha256(f"{category}:{i}".encode()).hexdigest(),
                category=category, tool=report.tool, rule_id=f"R{i}", title=f"finding {i}",
                severity=SEVERITIES[i % 5], package=f"pkg{i % 300}",
                fixed_version="2.0" if i % 3 == 0 else "",
                metric_name="adversarial_accuracy" if metric else "",
                metric_value=0.5 + (i % 40) / 100 if metric else None,
            ))  # fmt: skip
        run = ScanRun.objects.create(
            team=team, model=model, version=version, report_sha256=f"{c:064x}"
        )
        scan_run_import(scan_run=run, report=report)
    # Half are no longer open; a tenth are overdue.
    ids = list(Finding.objects.filter(model=model).values_list("id", flat=True))
    Finding.objects.filter(id__in=ids[::2]).update(status="resolved", resolved_at=timezone.now())
    past = timezone.now().date() - timedelta(days=3)
    Finding.objects.filter(id__in=ids[1::10]).update(sla_due=past)
    return model, version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    with throwaway_db():
        from governance.findings.models import Finding
        from governance.policies.gate import gate_evaluate

        started = time.perf_counter()
        model, version = seed(args.findings)
        analyze()
        total = Finding.objects.filter(model=model).count()
        print(
            f"{connection.vendor}: seeded {total:,} findings in "
            f"{time.perf_counter() - started:.1f} s"
        )
        result = gate_evaluate(model, version)  # warm caches
        timings = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            result = gate_evaluate(model, version)
            timings.append((time.perf_counter() - t0) * 1000)
        with CaptureQueriesContext(connection) as queries:
            gate_evaluate(model, version)
        timings.sort()
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(
            f"gate_evaluate: median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, "
            f"max {timings[-1]:.1f} ms over {args.runs} runs; {len(queries)} queries; "
            f"verdict {result.verdict} with {len(result.reasons)} reasons "
            f"({', '.join(r.rule for r in result.reasons)})"
        )
        print("target < 50 ms:", "OK" if statistics.median(timings) < 50 else "MISSED")


if __name__ == "__main__":
    main()
