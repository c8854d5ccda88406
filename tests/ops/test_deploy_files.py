"""docker-compose.yml, the Procfile and the Makefile describe one deployment: the same
services, the same commands, and only environment variables Warden actually reads."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from tests.ops.conftest import ROOT

WARDEN_SERVICES = ("web", "worker", "beat", "migrate")
#: Where Warden reads its environment: the settings, and gunicorn's config (bind, workers).
READERS = (ROOT / "governance/settings.py", ROOT / "governance/lib/gunicorn_conf.py")
ENV_READERS = {"env_str", "env_bool", "env_int", "env_list"}


def env_names_read() -> set[str]:
    names: set[str] = set()
    for path in READERS:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = node.args[0]
            if called in ENV_READERS | {"get"} and isinstance(first, ast.Constant):
                if called == "get" and "environ" not in ast.unparse(func):
                    continue
                names.add(str(first.value))
    return names


def _normalize(command: str) -> list[str]:
    """One shell line -> its commands, without the venv path, exec, or DEBUG=0."""
    out = []
    for part in command.split("&&"):
        words = [w for w in shlex.split(part) if w not in ("exec", "DEBUG=0")]
        out.append(" ".join(w.removeprefix("$(BIN)/") for w in words))
    return out


def makefile_commands() -> dict[str, list[str]]:
    text = (ROOT / "Makefile").read_text()
    targets: dict[str, list[str]] = {}
    for name in ("serve", "worker", "beat"):
        body = re.search(rf"^{name}:.*\n((?:\t.*\n)+)", text, flags=re.MULTILINE)
        assert body, f"Makefile has no {name} target"
        targets[name] = [c for line in body.group(1).splitlines() for c in _normalize(line)]
    return targets


def procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {k: _normalize(v) for k, _, v in (line.partition(": ") for line in lines if line)}


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def compose_commands(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    if isinstance(command, list) and command[:2] == ["sh", "-c"]:
        return _normalize(command[2])
    return _normalize(shlex.join(command) if isinstance(command, list) else command)


def test_compose_has_the_services_of_a_deployment() -> None:
    services = compose()["services"]
    assert {"web", "worker", "beat", "db", "redis"} <= set(services)
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    # the web's health check is the readiness probe
    assert "/readyz" in " ".join(services["web"]["healthcheck"]["test"])


def test_procfile_compose_and_makefile_run_the_same_commands() -> None:
    make, proc, services = makefile_commands(), procfile(), compose()["services"]
    assert set(proc) == {"release", "web", "worker", "beat"}
    assert proc["web"] == make["serve"] == compose_commands(services["web"])
    assert proc["web"][-1].startswith("gunicorn -c python:governance.lib.gunicorn_conf")
    assert proc["web"][0] == "python manage.py collectstatic --noinput -v0"
    for name in ("worker", "beat"):
        assert proc[name] == make[name] == compose_commands(services[name])
    assert proc["release"] == compose_commands(services["migrate"])


def test_every_variable_the_warden_services_set_is_one_warden_reads() -> None:
    read = env_names_read()
    assert {"DATABASE_URL", "SECRET_KEY", "WEB_CONCURRENCY", "PORT"} <= read  # the parse works
    for name in WARDEN_SERVICES:
        service = compose()["services"][name]
        unknown = set(service["environment"]) - read
        assert not unknown, f"{name} sets variables Warden never reads: {sorted(unknown)}"
    # the compose file's own placeholders name the operator's inputs, documented in deploy.md
    deploy = (ROOT / "docs/deploy.md").read_text()
    for placeholder in set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text())):
        assert f"`{placeholder}`" in deploy, f"docs/deploy.md does not explain {placeholder}"


def test_the_deploy_guide_names_the_settings_a_proxy_deployment_needs() -> None:
    deploy = (ROOT / "docs/deploy.md").read_text()
    read = env_names_read()
    for name in (
        "BEHIND_TLS_PROXY",
        "CSRF_TRUSTED_ORIGINS",
        "ALLOWED_HOSTS",
        "ALLAUTH_TRUSTED_PROXY_COUNT",
        "WEB_CONCURRENCY",
        "DB_POOL_MAX_SIZE",
        "CELERY_BROKER_URL",
    ):
        assert name in read
        assert f"`{name}`" in deploy, name
    for command in ("make serve", "make worker", "make beat", "docker compose up"):
        assert command in deploy
    assert Path(ROOT / "Procfile").exists()
