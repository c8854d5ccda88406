"""The production settings added for issue 14 come from the environment, strictly."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.ops.conftest import ROOT

PG = "postgres://warden:pw@db.internal:5432/warden"


def _settings(env: dict[str, str], expression: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({expression}, default=str))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "governance.settings", "WARDEN_TESTING": "0",
             "DEBUG": "0", "SECRET_KEY": "k" * 60, **env},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _value(env: dict[str, str], expression: str) -> object:
    result = _settings(env, expression)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_postgresql_is_pooled_by_default_with_conn_max_age_zero() -> None:
    db = _value({"DATABASE_URL": PG}, 's.DATABASES["default"]')
    assert isinstance(db, dict)
    assert db["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 5}
    assert db["OPTIONS"]["connect_timeout"] == 5
    assert db["CONN_MAX_AGE"] == 0
    assert db["CONN_HEALTH_CHECKS"] is True


def test_the_pool_bounds_come_from_the_environment() -> None:
    env = {"DATABASE_URL": PG, "DB_POOL_MIN_SIZE": "2", "DB_POOL_MAX_SIZE": "9"}
    pool = _value({**env, "DB_POOL_TIMEOUT": "3"}, 's.DATABASES["default"]["OPTIONS"]["pool"]')
    assert pool == {"min_size": 2, "max_size": 9, "timeout": 3}
    unpooled = _value(
        {"DATABASE_URL": PG, "DB_POOL_MAX_SIZE": "0", "DB_CONN_MAX_AGE": "30"},
        '[s.DATABASES["default"]["OPTIONS"].get("pool"), s.DATABASES["default"]["CONN_MAX_AGE"]]',
    )
    assert unpooled == [None, 30]


def test_a_pool_minimum_above_its_maximum_is_refused() -> None:
    result = _settings({"DATABASE_URL": PG, "DB_POOL_MIN_SIZE": "5", "DB_POOL_MAX_SIZE": "2"}, "1")
    assert result.returncode != 0
    assert "DB_POOL_MIN_SIZE=5 must be between 0 and DB_POOL_MAX_SIZE=2" in result.stderr


def test_the_cache_is_redis_when_redis_is_configured_else_memory() -> None:
    backend = 's.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]'
    location = 's.CACHES["default"].get("LOCATION")'
    assert _value({}, backend) == "LocMemCache"
    broker = {"CELERY_BROKER_URL": "redis://redis.internal:6379/0"}
    assert _value(broker, f"[{backend}, {location}]") == [
        "RedisCache",
        "redis://redis.internal:6379/0",
    ]
    own = {**broker, "REDIS_URL": "redis://cache.internal:6379/3"}
    assert _value(own, location) == "redis://cache.internal:6379/3"
    amqp = {"CELERY_BROKER_URL": "amqp://rabbit.internal//"}
    assert _value(amqp, backend) == "LocMemCache"


def test_the_token_guessing_limit_comes_from_the_environment() -> None:
    env = {"WARDEN_API_TOKEN_FAILURE_LIMIT": "7", "WARDEN_API_TOKEN_FAILURE_WINDOW": "120"}
    expression = "[s.WARDEN_API_TOKEN_FAILURE_LIMIT, s.WARDEN_API_TOKEN_FAILURE_WINDOW]"
    assert _value(env, expression) == [7, 120]
