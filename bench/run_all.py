"""Every figure of the scale targets in one table, each with its target and, where one is
measured, the floor beside it.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/warden_bench \\
    SCALE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/warden_large \\
        bench/run_all [--quick]

Runs, as subprocesses with the project's interpreter: ``bench_ingest.py`` (20,000 findings
over HTTP with its floor), ``bench_upload_memory.py --findings 20000 --eager`` (peak RSS of a
gunicorn worker that imports a 20,000-finding report itself, the default without a broker),
``bench_gate.py`` (10,000 findings) and ``bench_scale.py`` on the database seeded by
``manage.py seed_large`` (``SCALE_DATABASE_URL``; seeded first when its users are missing:
about five minutes). ``--quick`` runs one repetition of each. Prints what each script printed,
then the table. Not a test: figures only; the machine's load moves them (``uptime`` is
printed with them).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def _run(args: list[str], env: dict[str, str]) -> str:
    print(f"$ {' '.join(args)}", flush=True)
    done = subprocess.run(
        [PY, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    print(done.stdout + done.stderr[-2000:], flush=True)
    return done.stdout


def _seconds(pattern: str, text: str) -> float | None:
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else None


def main() -> int:
    quick = "--quick" in sys.argv
    bench_db = os.environ.get("DATABASE_URL", "")
    scale_db = os.environ.get("SCALE_DATABASE_URL", bench_db)
    if not bench_db.startswith("postgres"):
        print("set DATABASE_URL (and SCALE_DATABASE_URL) to PostgreSQL databases", file=sys.stderr)
        return 2
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "governance.settings"}
    rows: list[tuple[str, str, str, str]] = []  # measure, figure, floor, target

    out = _run(["bench/bench_ingest.py", f"--runs={1 if quick else 3}"], env)
    floor_line = re.search(r"floor: parse ([\d.]+) s \+ COPY/upsert ([\d.]+) s \+ HTTP upload "
                           r"([\d.]+) s", out)  # fmt: skip
    floor = sum(float(x) for x in floor_line.groups()) if floor_line else None
    http = float(floor_line.group(3)) if floor_line else None
    for label, key, target, bottom in (
        ("20k-finding import over HTTP", "first import", "<= 1.0 s and <= 1.3x floor", floor),
        ("same report again", "same report again", "<= 0.15 s", http),
        ("10 %-changed reimport", r"reimport, 10% changed", "<= 1.2 s", floor),
    ):
        value = _seconds(rf"^{key}\s+([\d.]+) s", out)
        rows.append((label, f"{value:.2f} s" if value is not None else "?",
                     f"{bottom:.2f} s" if bottom is not None else "", target))  # fmt: skip

    mem_env = {**env}
    mem_env.pop("CELERY_BROKER_URL", None)
    out = _run(["bench/bench_upload_memory.py", "--findings", "20000", "--eager"], mem_env)
    peak = _seconds(r"peak (\d+) MB", out)
    rows.append(("web process peak RSS, 20k import", f"{peak:.0f} MB" if peak else "?", "",
                 "<= 200 MB"))  # fmt: skip

    gate_env = {**env, "DATABASE_URL": bench_db}
    out = _run(["bench/bench_gate.py", "--findings", "10000"], gate_env)
    gate = _seconds(r"gate_evaluate: median ([\d.]+) ms", out)
    rows.append(("gate, version with 10,000 findings", f"{gate:.1f} ms" if gate else "?", "",
                 "<= 10 ms"))  # fmt: skip

    scale_env = {**env, "DATABASE_URL": scale_db, "DEBUG": "1"}
    check = subprocess.run(
        [PY, "manage.py", "shell", "-c",
         "from django.contrib.auth.models import User;"
         "print(User.objects.filter(username='large-lead').exists())"],
        cwd=ROOT, env=scale_env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if "True" not in check.stdout:
        _run(["manage.py", "migrate", "-v0"], scale_env)
        _run(["manage.py", "seed_large"], scale_env)
    out = _run(["bench/bench_scale.py", "--runs", "3" if quick else "7"], scale_env)
    targets = {"dashboard": "<= 300 ms, <= 20 queries", "findings list": "<= 200 ms",
               "API findings": "<= 200 ms", "model page": "<= 200 ms, <= 20 queries",
               "gate": "<= 10 ms", "posture rollup": "<= 1 s"}  # fmt: skip
    for line in out.splitlines():
        found = re.match(r"^(.{46}) +([\d.]+)ms +[\d.]+ms +(\d+) +[\d.]+ms$", line)
        if found:
            name = found.group(1).strip()
            target = next((t for k, t in targets.items() if name.startswith(k)), "")
            rows.append((f"1M: {name}", f"{float(found.group(2)):.0f} ms "
                         f"({found.group(3)} queries)", "", target))  # fmt: skip

    load = os.getloadavg()
    print(f"\nload average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores")
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'figure':>20}  {'floor':>8}  target")
    for measure, figure, bottom, target in rows:
        print(f"{measure:<{width}}  {figure:>20}  {bottom:>8}  {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
