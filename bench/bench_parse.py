"""Benchmark: parse a generated 20,000-finding Trivy (or Grype) report with ``scanners.parse``.

    .venv/bin/python bench/bench_parse.py [--findings 20000] [--repeat 7] [--tool trivy|grype]
                                          [--odd-field]

Prints findings/s (best and median of the repeats, JSON decoding and format detection
included: the report is passed without a scan type), then the same figures counting the
garbage collector's first pass over the new findings (it runs on the next allocations after
the parse returns, so a caller pays it), and what decoding the whole document with orjson
alone would take. Then the peak memory of one parse (tracemalloc, in a separate run because
tracing slows Python down) and the peak per finding at several sizes to show it is linear.

``--odd-field`` gives one finding of the report a field of an unexpected shape (a CVSS entry
that is an array): the typed fast path refuses it and the tolerant path (orjson, then the
report fitted to the same structs field by field) reads it, with a notice. That is the cost
of a report from a release whose shape the structs do not expect.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "scanners"))

import generate_grype  # noqa: E402
import generate_trivy  # noqa: E402
import orjson  # noqa: E402

import scanners  # noqa: E402


def _peak(data: bytes) -> tuple[int, int]:
    gc.collect()
    tracemalloc.start()
    report = scanners.parse(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, len(report.findings)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--tool", choices=("trivy", "grype"), default="trivy")
    ap.add_argument("--odd-field", action="store_true", help="measure the tolerant path")
    args = ap.parse_args()
    module = generate_trivy if args.tool == "trivy" else generate_grype

    def generate_bytes(n: int) -> bytes:
        if not args.odd_field:
            return module.generate_bytes(n)
        doc = module.generate(n)
        if args.tool == "trivy":
            doc["Results"][0]["Vulnerabilities"][0]["CVSS"] = [7.5]
        else:
            doc["matches"][0]["vulnerability"]["cvss"] = {"version": "3.1"}
        return orjson.dumps(doc)

    data = generate_bytes(args.findings)
    shape = " (one odd field: the tolerant path)" if args.odd_field else ""
    print(f"{args.tool} report: {len(data) / 1e6:.1f} MB, {args.findings} vulnerabilities{shape}")
    warm = scanners.parse(data)  # warm up imports and caches
    assert bool(warm.warnings) == args.odd_field, warm.warnings
    times: list[float] = []
    with_gc: list[float] = []
    count = 0
    for _ in range(args.repeat):
        gc.collect()
        start = time.perf_counter()
        report = scanners.parse(data)
        parsed = time.perf_counter()
        gc.collect(0)  # the pass the collector makes over the new objects anyway
        collected = time.perf_counter()
        times.append(parsed - start)
        with_gc.append(collected - start)
        count = len(report.findings)
        del report  # freed outside the timed region, not inside the next parse
    assert count == args.findings, count
    for label, samples in (("parse", times), ("parse + first GC pass", with_gc)):
        best, median = min(samples), statistics.median(samples)
        print(
            f"{label}: best {best * 1000:.1f} ms, median {median * 1000:.1f} ms = "
            f"{count / best:,.0f} findings/s (best), {count / median:,.0f} findings/s (median)"
        )
    decode: list[float] = []
    for _ in range(args.repeat):
        gc.collect()
        gc.disable()  # as favourable to orjson as possible
        start = time.perf_counter()
        tree = orjson.loads(data)
        decode.append(time.perf_counter() - start)
        del tree
        gc.enable()
    print(
        f"for comparison, orjson.loads of the whole document alone: "
        f"best {min(decode) * 1000:.1f} ms, median {statistics.median(decode) * 1000:.1f} ms"
    )

    peak, n = _peak(data)
    print(
        f"peak memory of one parse (tracemalloc): {peak / 1e6:.1f} MB ({peak / n:,.0f} B/finding)"
    )
    gc.collect()
    tracemalloc.start()
    kept = scanners.parse(data)
    retained = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(
        f"memory kept by the Report afterwards: {retained / 1e6:.1f} MB "
        f"({retained / len(kept.findings):,.0f} B/finding); the rest of the peak: decoding"
    )
    del kept
    for size in (5_000, 10_000, 20_000, 40_000):
        peak, n = _peak(generate_bytes(size))
        print(f"  {n:>6} findings: peak {peak / 1e6:7.1f} MB, {peak / n:,.0f} B/finding")
    try:
        import resource

        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"max RSS of this process: {rss / 1024:.0f} MB")
    except ImportError:  # pragma: no cover - not on POSIX
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
