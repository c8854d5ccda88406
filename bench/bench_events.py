"""Runtime events over HTTP: sustained events/s into ``POST /api/v1/events/`` (batches of
1,000, one client, keep-alive), served by gunicorn on PostgreSQL with the policy's alert rules
evaluated, and the event-to-finding latency of a rule that fires.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/warden_bench \\
        .venv/bin/python bench/bench_events.py [--seconds 20] [--batch 1000] [--workers 2]

Seeds a team, a model, a deployment and a policy with an alert rule, starts gunicorn (DEBUG
off, no broker: alert rules run in the request that brings the events, at most every
WARDEN_ALERT_DEBOUNCE_SECONDS per deployment, as a single worker would), sends batches for the
given time, then sends one burst over the rule's limit and measures how long until its
finding is open. Targets: >= 20,000 events/s; latency < 60 s. Not a test: figures only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
os.environ.setdefault("DEBUG", "1")


def seed() -> tuple[str, int]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from governance.accounts.models import Team
    from governance.accounts.services import api_token_create, team_create
    from governance.inventory.models import MLModel, ModelVersion
    from governance.policies.services import OPERATOR, policy_create
    from governance.runtime.services import deployment_create

    Team.objects.filter(slug="bench-events").delete()
    team = team_create(slug="bench-events", name="Bench events")
    model = MLModel.objects.create(team=team, name="guarded-llm")
    version = ModelVersion.objects.create(model=model, version="1")
    policy_create(
        team=team,
        document={
            "schema": "warden.policy/v1",
            "name": "runtime",
            "alerts": [
                {"id": "probe-burst", "rule": "probe", "more_than": 500, "within_minutes": 10},
                {"id": "injections", "rule": "prompt_*", "more_than": 10**9, "within_minutes": 60},
            ],
        },
        actor=OPERATOR,
    )
    deployment, _, _ = deployment_create(
        model=model, version=version, environment="prod", actor=OPERATOR
    )
    _, raw = api_token_create(team=team, name="firewall", scope="write")
    return raw, deployment.pk


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _batch(deployment: int, size: int, rule: str = "prompt_injection") -> bytes:
    now = datetime.now(UTC).isoformat()
    events = [
        {"time": now, "kind": "firewall_block", "rule": rule, "count": 1,
         "detail": {"client": f"10.0.{i % 256}.{i % 7}"}}
        for i in range(size)
    ]  # fmt: skip
    return json.dumps({"deployment": deployment, "events": events}).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set DATABASE_URL=postgres://… (a database this benchmark may reset)")
    token, deployment = seed()
    port = _free_port()
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "bench-" + "x" * 50,
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0",
           "LOG_LEVEL": "WARNING", "CELERY_BROKER_URL": ""}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "governance.wsgi:application", "-b",
         f"127.0.0.1:{port}", "-w", str(args.workers), "--worker-class", "gthread",
         "--threads", "2", "--keep-alive", "30", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        body = _batch(deployment, args.batch)
        sent = 0
        start = time.monotonic()
        while time.monotonic() - start < args.seconds:
            conn.request("POST", "/api/v1/events/", body, headers)
            response = conn.getresponse()
            response.read()
            if response.status != 202:
                raise SystemExit(f"HTTP {response.status}")
            sent += args.batch
        elapsed = time.monotonic() - start
        # A burst over the probe rule's limit: how long until its finding is open?
        import django

        django.setup()
        from governance.findings.models import Finding

        t0 = time.monotonic()
        conn.request("POST", "/api/v1/events/", _batch(deployment, 600, rule="probe"), headers)
        conn.getresponse().read()
        latency = None
        while time.monotonic() - t0 < 90:
            # later batches trigger the (debounced) evaluation, as production traffic does
            conn.request("POST", "/api/v1/events/", _batch(deployment, 10), headers)
            conn.getresponse().read()
            if Finding.objects.filter(rule_id="probe-burst", status="open").exists():
                latency = time.monotonic() - t0
                break
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(20)
    print(
        f"events: {sent:,} in {elapsed:.1f} s = {sent / elapsed:,.0f} events/s "
        f"(batches of {args.batch}, one client, {args.workers} gunicorn workers, PostgreSQL)"
    )
    print(
        "event-to-finding latency: "
        + (f"{latency:.1f} s" if latency is not None else "no finding within 90 s")
    )


if __name__ == "__main__":
    main()
