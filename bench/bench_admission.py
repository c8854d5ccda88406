"""Admission at the speed a model server needs: requests/s and latency of
``GET /api/v1/artifacts/{sha256}/admission`` under concurrent loopback clients, served by
gunicorn as in production.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/warden_bench \\
        .venv/bin/python bench/bench_admission.py [--clients 50] [--seconds 10] [--workers 4]

Migrates the database, seeds a team with a model whose scanned artifact has 2,000 findings,
starts gunicorn (DEBUG off, the given sync workers) on a free loopback port, warms the answer
up, then loads it with ``wrk`` (Debian's package) when installed — a C load generator, so the
client costs little of the machine — else with a bounded Python keep-alive client. Prints
requests/s, p50/p99 latency and the share of non-200 answers. Targets: >= 1,000 requests/s,
p99 <= 50 ms with 50 clients on the 2-core machine. Not a test: figures only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
os.environ.setdefault("DEBUG", "1")  # for the seeding process only; gunicorn runs DEBUG off

WEIGHTS = b"benchmark model weights"
DIGEST = hashlib.sha256(WEIGHTS).hexdigest()


def seed() -> str:
    import django

    django.setup()
    import orjson
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from governance.accounts.models import Team
    from governance.accounts.services import api_token_create, team_create
    from governance.ingest.services import report_submit

    Team.objects.filter(slug="bench-admission").delete()
    team = team_create(slug="bench-admission", name="Bench admission")
    findings = [
        {"fingerprint": hashlib.sha256(f"f{i}".encode()).hexdigest(), "rule_id": f"r{i}",
         "title": f"finding {i}", "severity": "low"}
        for i in range(2000)
    ]  # fmt: skip
    doc = {"schema": "warden.modelscan/v1", "tool": "warden-modelscan", "version": "0.1.0",
           "files": [{"path": "model.pt", "format": "pytorch", "sha256": DIGEST,
                      "size": len(WEIGHTS), "findings": findings}]}  # fmt: skip
    report_submit(
        team=team, model_name="served", version="1", data=orjson.dumps(doc),
        create_model=True, run_async=False,
    )  # fmt: skip
    _, raw = api_token_create(team=team, name="model-server", scope="read")
    return raw


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def _wrk(url: str, token: str, clients: int, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds}s", "--latency",
         "-H", f"Authorization: Bearer {token}", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "errors": int(bad.group(1)) if bad
            else 0, "total": total}  # fmt: skip


def _python_load(port: int, path: str, token: str, clients: int, seconds: int) -> dict[str, float]:
    """Keep-alive HTTP/1.1 clients on raw sockets (when wrk is not installed)."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        sock = socket.create_connection(("127.0.0.1", port))
        mine: list[float] = []
        buf = b""
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            sock.sendall(request)
            while b"\r\n\r\n" not in buf:
                buf += sock.recv(65536)
            head, _, buf = buf.partition(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
            while len(buf) < length:
                buf += sock.recv(65536)
            buf = buf[length:]
            mine.append((time.perf_counter() - t0) * 1000)
            if not head.startswith(b"HTTP/1.1 200"):
                with lock:
                    errors[0] += 1
        sock.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50": statistics.median(latencies),
        "p99": latencies[int(len(latencies) * 0.99) - 1],
        "errors": errors[0],
        "total": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="gthread workers when > 1")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://… (a database this benchmark may reset)")
    token = seed()
    port = _free_port()
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "bench-" + "x" * 50,
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0",
           "LOG_LEVEL": "WARNING"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "governance.wsgi:application", "-b",
         f"127.0.0.1:{port}", "-w", str(args.workers),
         *(["--worker-class", "gthread", "--threads", str(args.threads)] if args.threads > 1
           else ["--worker-class", "sync"]),
         "--keep-alive", "30", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        _wait_port(port)
        path = f"/api/v1/artifacts/{DIGEST}/admission"
        url = f"http://127.0.0.1:{port}{path}"
        import urllib.request

        for _ in range(args.workers * 4):  # every worker computes and caches the answer
            req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(req) as resp:  # noqa: S310
                assert resp.status == 200, resp.status
        if shutil.which("wrk"):
            tool, figures = "wrk", _wrk(url, token, args.clients, args.seconds)
        else:
            tool = "python client"
            figures = _python_load(port, path, token, args.clients, args.seconds)
    finally:
        server.terminate()
        server.wait(20)
    print(
        f"admission ({tool}, {args.clients} clients, {args.workers} gunicorn workers, "
        f"{args.seconds} s): {figures['rps']:,.0f} requests/s, p50 {figures['p50']:.1f} ms, "
        f"p99 {figures['p99']:.1f} ms, {int(figures['errors'])} non-2xx of "
        f"{int(figures['total']):,}"
    )


if __name__ == "__main__":
    main()
