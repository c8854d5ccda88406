"""Benchmark: the dashboard page and its hourly rollup on a team with many findings.

    .venv/bin/python bench/bench_dashboard.py [--findings 200000] [--models 200] [--runs 15]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/warden .venv/bin/python bench/bench_dashboard.py

Runs in a throw-away test database (SQLite in memory, or ``test_warden_bench`` on
PostgreSQL). Findings are spread over the models and the five layers through the real import
service; a third are then resolved, a tenth made overdue, and 90 days of rollups are taken so
the trend reads a full window. Prints the time of one dashboard request (test client, the
whole page: middleware, queries, Plotly figures, template) and of one rollup run.
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
os.environ.setdefault("ALLOWED_HOSTS", "testserver")  # the test client's host

import django  # noqa: E402

django.setup()

from _throwaway_db import analyze, throwaway_db  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

CATEGORIES = ("dependency", "model_file", "assessment", "runtime", "code")
SEVERITIES = ("critical", "high", "medium", "low", "info")


def seed(findings: int, models: int) -> object:
    from django.contrib.auth import get_user_model

    from governance.accounts.models import Membership
    from governance.accounts.services import team_create
    from governance.evidence.models import ScanRun
    from governance.findings.models import Finding
    from governance.ingest.services import scan_run_import
    from governance.inventory.models import MLModel
    from scanners import NormalizedFinding, Report

    team = team_create(slug="bench", name="Bench")
    user = get_user_model().objects.create_user("bench-lead", password="x")  # noqa: S106
    Membership.objects.create(team=team, user=user, role="lead")
    per_model = findings // models
    for m in range(models):
        model = MLModel.objects.create(team=team, name=f"model-{m}", risk_tier="high")
        for c, category in enumerate(CATEGORIES):
            report = Report(tool=f"tool-{c}", tool_version="1", scan_type="bench",
                            category=category)  # fmt: skip
            for i in range(per_model // len(CATEGORIES)):
                report.findings.append(NormalizedFinding(
                    fingerprint=hashlib.sha256(f"{m}:{category}:{i}".encode()).hexdigest(),
                    category=category, tool=report.tool, rule_id=f"R{i}", title=f"finding {i}",
                    severity=SEVERITIES[(i + m) % 5], package=f"pkg{i % 300}",
                ))  # fmt: skip
            run = ScanRun.objects.create(team=team, model=model, report_sha256=f"{m:032x}{c:032x}")
            scan_run_import(scan_run=run, report=report)
    ids = list(Finding.objects.values_list("id", flat=True))
    now = timezone.now()
    Finding.objects.filter(id__in=ids[::3]).update(
        status="resolved", resolved_at=now - timedelta(days=2)
    )
    Finding.objects.filter(id__in=ids[1::10]).update(sla_due=now.date() - timedelta(days=3))
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=200_000)
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    with throwaway_db():
        from governance.findings.models import Finding
        from governance.metrics.models import PostureSnapshot
        from governance.metrics.services import posture_snapshot_take

        started = time.perf_counter()
        user = seed(args.findings, args.models)
        today = timezone.localdate()
        rollup = []
        for back in range(89, 0, -1):
            t0 = time.perf_counter()
            posture_snapshot_take(day=today - timedelta(days=back))
            rollup.append(time.perf_counter() - t0)
        analyze()
        print(
            f"{connection.vendor}: {Finding.objects.count():,} findings over {args.models} "
            f"models, {PostureSnapshot.objects.count():,} rollup rows, seeded in "
            f"{time.perf_counter() - started:.1f} s"
        )
        print(f"one rollup run: median {statistics.median(rollup) * 1000:.0f} ms")

        client = Client()
        client.force_login(user)
        assert client.get("/dashboard/").status_code == 200  # warm: imports, plotly
        timings = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            response = client.get("/dashboard/")
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        with CaptureQueriesContext(connection) as queries:
            client.get("/dashboard/")
        slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:3]
        if os.environ.get("BENCH_SQL"):
            for q in slowest:
                print(q["time"], q["sql"][:600])
        timings.sort()
        print(
            f"dashboard page: median {statistics.median(timings):.0f} ms, "
            f"max {timings[-1]:.0f} ms over {args.runs} runs; {len(queries)} queries, "
            f"slowest {', '.join(q['time'] + ' s' for q in slowest)}"
        )


if __name__ == "__main__":
    main()
