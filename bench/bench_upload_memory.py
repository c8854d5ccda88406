"""Memory of the web process while it accepts a big report: peak RSS of a gunicorn worker
during the upload of a ~150-180 MB, 100,000-finding Trivy report, and of the Celery worker
that imports it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/warden_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/bench_upload_memory.py [--findings 100000] [--no-worker]

Migrates the database, creates a bench team and token, writes the report (the parser
benchmark's realistic shape, ~1.5-1.8 KB per finding) to a temporary file, starts gunicorn
(one sync worker, DEBUG off) and a Celery worker (solo pool), and posts the report as
``multipart/form-data`` streamed from the file. Prints the gunicorn worker's resident memory
before the upload and its peak (VmHWM from /proc) after; then waits for the import and
prints the Celery worker's peak and the import's duration. Target (issue 14): web peak
<= 400 MB. Without a broker (eager mode, the SQLite default of ``make run``) the import runs
in the web process itself and its memory is the import's; that mode is for one developer.
Not a test: figures only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "scanners"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
os.environ.setdefault("DEBUG", "1")  # the seeding process only; gunicorn runs DEBUG off


def _seed() -> str:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from governance.accounts.services import api_token_create, team_create

    # A fresh team per run: deleting an earlier run's 100,000 findings would cost more
    # than the benchmark itself.
    suffix = uuid.uuid4().hex[:8]
    team = team_create(slug=f"bench-memory-{suffix}", name=f"Bench memory {suffix}")
    _, raw = api_token_create(team=team, name="ci", scope="write")
    return raw


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _request(port: int, method: str, path: str, token: str, body: object = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request(method, path, body=body, headers={"Authorization": f"Bearer {token}",
                                                   **(headers or {})})  # fmt: skip
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def _multipart(report: Path, out: Path, boundary: str) -> None:
    fields = {"model": "memory-bench", "version": "1.0", "create_model": "true"}
    with out.open("wb") as f:
        for name, value in fields.items():
            f.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                    f"{value}\r\n".encode())  # fmt: skip
        part = 'Content-Disposition: form-data; name="file"; filename="trivy.json"'
        f.write(f"--{boundary}\r\n{part}\r\nContent-Type: application/json\r\n\r\n".encode())
        with report.open("rb") as src:
            while chunk := src.read(1 << 20):
                f.write(chunk)
        f.write(f"\r\n--{boundary}--\r\n".encode())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=100_000)
    ap.add_argument("--no-worker", action="store_true", help="measure the upload only")
    ap.add_argument(
        "--eager",
        action="store_true",
        help="no broker: the web process imports the report itself (make run)",
    )
    args = ap.parse_args()
    if args.eager:
        os.environ.pop("CELERY_BROKER_URL", None)
        args.no_worker = True
    elif not os.environ.get("CELERY_BROKER_URL"):
        print("set CELERY_BROKER_URL (a Redis): without a broker the import runs in the web "
              "process (eager mode)", file=sys.stderr)  # fmt: skip
        return 2

    import generate_trivy

    token = _seed()
    tmp = Path(tempfile.mkdtemp(prefix="warden-mem-"))
    report = tmp / "trivy.json"
    report.write_bytes(generate_trivy.generate_bytes(args.findings, seed=11))
    size = report.stat().st_size
    boundary = uuid.uuid4().hex
    body = tmp / "body"
    _multipart(report, body, boundary)
    print(f"report: {args.findings:,} findings, {size / 1e6:.0f} MB")

    port = _free_port()
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "bench-" + "x" * 50,
           "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0", "PORT": str(port),
           "HOST": "127.0.0.1", "WEB_CONCURRENCY": "1", "WEB_THREADS": "1",
           "WARDEN_MAX_REPORT_BYTES": str(max(size * 2, 200 << 20)),
           "LOG_LEVEL": "WARNING", "STATIC_ROOT": str(tmp / "static")}  # fmt: skip
    web = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "python:governance.lib.gunicorn_conf", "governance.wsgi",
         "--timeout", "600"], cwd=ROOT, env=env,
    )  # fmt: skip
    worker = None
    if not args.no_worker:
        worker = subprocess.Popen(
            [str(BIN / "celery"), "-A", "governance", "worker", "--pool", "solo",
             "--loglevel", "WARNING", "-Q", "celery"], cwd=ROOT, env=env,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _request(port, "GET", "/livez", token)[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        (web_pid,) = _children(web.pid)
        _request(port, "GET", "/api/v1/models/", token)  # warm: apps, URLConf, a query
        before = _status_kb(web_pid, "VmRSS")
        started = time.monotonic()
        with body.open("rb") as stream:
            status, answer = _request(
                port, "POST", "/api/v1/scans/", token, body=stream,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                         "Content-Length": str(body.stat().st_size)},
            )  # fmt: skip
        accepted = time.monotonic() - started
        peak = _status_kb(web_pid, "VmHWM")
        print(f"upload: HTTP {status} in {accepted:.1f} s")
        if status >= 300:
            print(answer[:500].decode(errors="replace"))
            return 1
        print(f"web process: {before / 1024:.0f} MB before, peak {peak / 1024:.0f} MB "
              f"(+{(peak - before) / 1024:.0f} MB; target peak <= 400 MB)")  # fmt: skip
        if worker is not None:
            run = json.loads(answer)
            while run["status"] in ("queued", "running"):
                time.sleep(0.5)
                run = json.loads(_request(port, "GET", f"/api/v1/scans/{run['id']}/", token)[1])
            took = time.monotonic() - started
            print(f"import: {run['status']} {run.get('counts', {}).get('total', 0):,} findings, "
                  f"{took:.1f} s from the upload's start")  # fmt: skip
            worker_peak = max(_status_kb(p, "VmHWM") for p in [worker.pid, *_children(worker.pid)])
            print(f"celery worker: peak {worker_peak / 1024:.0f} MB")
    finally:
        for proc in (web, worker):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
