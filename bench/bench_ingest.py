"""End-to-end import benchmark: HTTP upload of a Trivy report to committed rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/warden_bench \
        .venv/bin/python bench/bench_ingest.py [N]

Starts Warden's WSGI app on a loopback port against the given database (migrated first, a
bench team and token created), then times with wall clocks:
  1. first import of an N-finding report (default 20,000),
  2. the same report again (idempotent: answered from the first run),
  3. a reimport with 10 % of the findings changed (10 % gone -> resolved, 10 % new).
Each case runs ``--runs`` times (default 3; a fresh model for each first import) and the
median is printed, with the *floor* measured in the same run beside it: parsing the report
alone, COPY of the same rows into a scratch table plus an upsert of them into a second one
with a unique key, and the same HTTP upload to an endpoint that only reads the body. Uses
the settings a user gets (no threshold raised). Not a test: figures only.

Two report shapes: ``--light`` (~300 B per finding, tests/reportgen.py) and, by default, the
realistic one of the parser benchmark (~1.5 KB per finding with descriptions, CVSS blocks and
references, tests/scanners/generate_trivy.py).
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
os.environ.setdefault("DEBUG", "1")


def _realistic_pair(n: int, tenth: int) -> tuple[bytes, bytes]:
    """Two realistic reports: the first n findings, then the same minus the first 10 % plus
    10 % new ones."""
    import orjson

    sys.path.insert(0, str(ROOT / "tests" / "scanners"))
    from generate_trivy import generate

    doc = generate(n + tenth)
    flat = [(r, v) for r in doc["Results"] for v in r.get("Vulnerabilities") or []]

    def subset(lo: int, hi: int) -> bytes:
        keep = {id(v) for _, v in flat[lo:hi]}
        results = [
            {**r, "Vulnerabilities": [v for v in r.get("Vulnerabilities") or [] if id(v) in keep]}
            for r in doc["Results"]
        ]
        return orjson.dumps({**doc, "Results": results})

    return subset(0, n), subset(tenth, n + tenth)


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from django.db import connection

    from governance.accounts.services import api_token_create, team_create
    from governance.findings.models import Finding
    from tests.reportgen import trivy_report

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 20000
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    team = team_create(slug=f"bench-{uuid.uuid4().hex[:6]}")
    _, token = api_token_create(team=team, name="bench", scope="write")

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/api/v1/scans/"

    def post(data: bytes, model: str) -> tuple[float, int, bytes]:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\n{model}\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="create_model"\r\n\r\n'
                "true\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="file"; filename="t.json"\r\n'
                f"Content-Type: application/json\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        req = urllib.request.Request(url, data=body, method="POST")
        req.add_header("Authorization", f"Bearer {token}")
        req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        start = time.perf_counter()
        with urllib.request.urlopen(req) as resp:  # noqa: S310
            payload = resp.read()
            status = resp.status
        return time.perf_counter() - start, status, payload

    runs = int(next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--runs=")), "3"))
    tenth = n // 10
    if "--light" in sys.argv:
        first = trivy_report(range(n))
        changed = trivy_report(range(tenth, n + tenth))
    else:
        first, changed = _realistic_pair(n, tenth)
    print(f"report: {n:,} findings, {len(first) / 1e6:.1f} MB; median of {runs} runs")
    post(trivy_report(range(10)), "warmup")
    cases: dict[str, list[float]] = {"first": [], "again": [], "changed": []}
    for r in range(runs):
        model = f"bench-model-{r}"
        for label, data in (("first", first), ("again", first), ("changed", changed)):
            seconds, status, payload = post(data, model)
            assert status in (200, 201), payload[:300]
            cases[label].append(seconds)
    parse_s, copy_s, http_s = _floor(first, runs)
    floor = parse_s + copy_s + http_s
    rows = [
        ("first import", cases["first"], floor),
        ("same report again", cases["again"], http_s),
        ("reimport, 10% changed", cases["changed"], floor),
    ]
    for label, samples, bottom in rows:
        seconds = statistics.median(samples)
        print(f"{label:24} {seconds:6.2f} s  {n / seconds:10,.0f} findings/s   "
              f"floor {bottom:5.2f} s  ({seconds / bottom:4.2f}x)")  # fmt: skip
    print(f"floor: parse {parse_s:.2f} s + COPY/upsert {copy_s:.2f} s + HTTP upload "
          f"{http_s:.2f} s")  # fmt: skip
    count = Finding.objects.filter(model__team=team).count()
    print(f"rows for the bench team: {count:,} findings")
    server.shutdown()


def _floor(report: bytes, runs: int) -> tuple[float, float, float]:
    """Medians of the three parts no import can avoid (see the module's docstring)."""
    import hashlib

    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.db import connection, transaction

    import scanners

    parse, copy, http = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        parsed = scanners.parse(report, filename="t.json")
        parse.append(time.perf_counter() - t0)
    findings = parsed.findings
    values = [
        (hashlib.sha256(f.fingerprint.encode()).hexdigest(), f.title, f.severity, f.vuln_id,
         f.package, f.package_version, f.fixed_version, f.description, f.cvss_score,
         "\n".join(f.references))
        for f in findings
    ]  # fmt: skip
    ddl = ("fingerprint text, title text, severity text, vuln_id text, package text, "
           "package_version text, fixed_version text, description text, cvss_score float8, "
           "refs text")  # fmt: skip
    for _ in range(runs):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE floor_stage ({ddl}) ON COMMIT DROP")
            cursor.execute(f"CREATE TEMP TABLE floor_rows ({ddl}, PRIMARY KEY (fingerprint)) "
                           "ON COMMIT DROP")  # fmt: skip
            t0 = time.perf_counter()
            with cursor.cursor.copy("COPY floor_stage FROM STDIN") as out:
                for row in values:
                    out.write_row(row)
            cursor.execute(
                "INSERT INTO floor_rows SELECT * FROM floor_stage ON CONFLICT (fingerprint) "
                "DO UPDATE SET title = EXCLUDED.title"
            )
            copy.append(time.perf_counter() - t0)

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        stream = environ["wsgi.input"]
        left = int(str(environ.get("CONTENT_LENGTH") or 0))
        while left > 0:
            chunk = stream.read(min(left, 1 << 20))  # type: ignore[attr-defined]
            if not chunk:
                break
            left -= len(chunk)
        start_response("201 Created", [("Content-Type", "application/json")])  # type: ignore[operator]
        return [b"{}"]

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
    server.set_app(app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for _ in range(runs):
        boundary = uuid.uuid4().hex
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="t.json"'
        body = f"{head}\r\n\r\n".encode() + report + f"\r\n--{boundary}--\r\n".encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{server.server_port}/", data=body, method="POST"
        )
        req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
        t0 = time.perf_counter()
        with urllib.request.urlopen(req) as resp:  # noqa: S310
            resp.read()
        http.append(time.perf_counter() - t0)
    server.shutdown()
    return statistics.median(parse), statistics.median(copy), statistics.median(http)


if __name__ == "__main__":
    main()
