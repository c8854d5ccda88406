"""Benchmark: pages at organization scale, on a database seeded by ``seed_large``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/warden_large DEBUG=1 \\
        .venv/bin/python manage.py seed_large          # once: 1M findings, 2,000 models
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/warden_large \\
        .venv/bin/python bench/bench_scale.py [--prefix large] [--runs 7]

Times whole requests through Django's test client (middleware, queries, Plotly figures,
template) as ``<prefix>-lead`` (lead of every team) and ``<prefix>-one`` (one team): the
dashboard, the findings list's first page with and without filters and a search, and a model
page; then the posture rollup run and the gate of the largest version. Prints the median and
best server time, the query count and the time spent in SQL. Targets (issue 19): dashboard
<= 300 ms, findings list <= 200 ms, model page <= 200 ms, <= 20 queries a page, rollup <= 1 s.
Not a test: figures only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402


def _time(fn: Any, runs: int) -> tuple[float, float, int, float]:
    """(median s, best s, queries, SQL s of the median run) of ``fn()``; one warm-up call."""
    fn()
    samples: list[tuple[float, int, float]] = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            fn()
            elapsed = time.perf_counter() - t0
        sql = sum(float(q["time"]) for q in ctx.captured_queries)
        samples.append((elapsed, len(ctx.captured_queries), sql))
    samples.sort()
    median = samples[len(samples) // 2]
    return median[0], samples[0][0], median[1], median[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prefix", default="large")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from governance.findings.models import Finding
    from governance.inventory.models import MLModel
    from governance.metrics.services import posture_snapshot_take
    from governance.policies.gate import gate_evaluate

    users = get_user_model().objects
    lead, one = users.get(username=f"{args.prefix}-lead"), users.get(username=f"{args.prefix}-one")
    total = Finding.objects.filter(team__slug__startswith=f"{args.prefix}-").count()
    model = MLModel.objects.filter(name__startswith=f"{args.prefix}-model-").order_by("id").first()
    assert model is not None, "run manage.py seed_large first"
    cves = Finding.objects.filter(model=model).exclude(vuln_id="")
    cve = cves.values_list("vuln_id", flat=True)[0]
    team0 = f"{args.prefix}-00"
    print(f"{total:,} findings, {MLModel.objects.count():,} models; {args.runs} runs each")
    print(f"{'measure':<46} {'median':>9} {'best':>9} {'queries':>8} {'in SQL':>9}")

    def page(user: Any, url: str) -> Any:
        client = Client()
        client.force_login(user)

        def get() -> None:
            r = client.get(url)
            assert r.status_code == 200, (url, r.status_code)

        return get

    cases = [
        ("dashboard, lead of all teams", page(lead, "/dashboard/")),
        ("dashboard, one team (?team=)", page(lead, f"/dashboard/?team={team0}")),
        ("dashboard, lead of one team", page(one, "/dashboard/")),
        ("findings list, first page", page(lead, "/findings/")),
        ("findings list, status=active severity=critical", page(
            lead, "/findings/?status=active&severity=critical")),
        ("findings list, team + category", page(
            lead, f"/findings/?team={team0}&category=model_file")),
        (f"findings list, q={cve}", page(lead, f"/findings/?q={cve}")),
        ("findings list, model=model-0001 (partial)", page(
            lead, f"/findings/?model={args.prefix}-model-0001")),
        ("model page", page(lead, f"/models/{model.pk}/")),
        ("API findings list, first page", page(lead, "/api/v1/findings/")),
    ]  # fmt: skip
    for name, fn in cases:
        median, best, queries, sql = _time(fn, args.runs)
        print(f"{name:<46} {median * 1000:>7.0f}ms {best * 1000:>7.0f}ms {queries:>8} "
              f"{sql * 1000:>7.0f}ms")  # fmt: skip
    version = model.versions.first()
    median, best, queries, sql = _time(lambda: gate_evaluate(model, version), args.runs)
    name = f"gate of one version ({model.findings.count()} findings)"
    print(f"{name:<46} {median * 1000:>7.1f}ms {best * 1000:>7.1f}ms {queries:>8} "
          f"{sql * 1000:>7.1f}ms")  # fmt: skip
    from governance.inventory.services import gate_stamps_bump
    from governance.metrics.models import ModelPosture

    today = timezone.localdate()

    def rollup_after_one_import() -> None:
        gate_stamps_bump(model_ids=[model.pk])  # what an import of that model does
        posture_snapshot_take(day=today)

    def rollup_new_day() -> None:
        ModelPosture.objects.update(day=today - timedelta(days=1))  # every model is recounted
        posture_snapshot_take(day=today)

    for name, fn, runs in (
        ("posture rollup run, nothing changed", lambda: posture_snapshot_take(day=today),
         args.runs),
        ("posture rollup run, after one model's import", rollup_after_one_import, args.runs),
        ("posture rollup run, first of a day (all)", rollup_new_day, 3),
    ):  # fmt: skip
        median, best, queries, sql = _time(fn, runs)
        print(f"{name:<46} {median * 1000:>7.0f}ms {best * 1000:>7.0f}ms "
              f"{queries:>8} {sql * 1000:>7.0f}ms")  # fmt: skip


if __name__ == "__main__":
    main()
