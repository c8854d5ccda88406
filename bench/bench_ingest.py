"""End-to-end import benchmark: HTTP upload of a Trivy report to committed rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/warden_bench \
        .venv/bin/python bench/bench_ingest.py [N]

Starts Warden's WSGI app on a loopback port against the given database (migrated first, a
bench team and token created), then times with wall clocks:
  1. first import of an N-finding report (default 20,000),
  2. the same report again (idempotent: answered from the first run),
  3. a reimport with 10 % of the findings changed (10 % gone -> resolved, 10 % new).
Prints seconds and findings/s per case. Not a test: figures only.

Two report shapes: ``--light`` (~300 B per finding, tests/reportgen.py) and, by default, the
realistic one of the parser benchmark (~1.5 KB per finding with descriptions, CVSS blocks and
references, tests/scanners/generate_trivy.py).
"""

from __future__ import annotations

import os
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
os.environ.setdefault("WARDEN_MAX_REPORT_BYTES", str(500 * 1024 * 1024))
os.environ.setdefault("WARDEN_ASYNC_THRESHOLD_BYTES", str(500 * 1024 * 1024))


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

    model = "bench-model"
    tenth = n // 10
    if "--light" in sys.argv:
        first = trivy_report(range(n))
        changed = trivy_report(range(tenth, n + tenth))
    else:
        first, changed = _realistic_pair(n, tenth)
    print(f"report: {n:,} findings, {len(first) / 1e6:.1f} MB")
    post(trivy_report(range(10)), "warmup")
    for label, data in (
        ("first import", first),
        ("same report again", first),
        ("reimport, 10% changed", changed),
    ):
        seconds, status, _ = post(data, model)
        print(f"{label:24} {seconds:6.2f} s  {n / seconds:10,.0f} findings/s  HTTP {status}")
    count = Finding.objects.filter(model__team=team).count()
    print(f"rows for the bench team: {count:,} findings")
    server.shutdown()


if __name__ == "__main__":
    main()
