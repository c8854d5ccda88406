"""gunicorn's settings, from the environment: ``gunicorn -c python:governance.lib.gunicorn_conf
governance.wsgi`` (``make serve``, the Procfile and docker-compose.yml all run exactly that).

Workers are processes (``WEB_CONCURRENCY``, the name Heroku, Render and gunicorn itself use),
each with ``WEB_THREADS`` threads; every process has its own database pool
(``DB_POOL_MAX_SIZE``), so PostgreSQL sees at most workers x pool size connections from the web
tier. Keep ``DB_POOL_MAX_SIZE`` at or above ``WEB_THREADS`` or threads queue for a connection.
"""

from __future__ import annotations

import os

from governance.lib.env import env_int, env_str

bind = [f"{env_str('HOST', '0.0.0.0')}:{env_int('PORT', 8000)}"]  # noqa: S104 - a container's interface
workers = env_int("WEB_CONCURRENCY", 2)
threads = env_int("WEB_THREADS", 4)
worker_class = "gthread" if threads > 1 else "sync"
# An upload below the async threshold is imported in the request: allow it time.
timeout = env_int("WEB_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak in any library cannot grow without bound.
max_requests = env_int("WEB_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
accesslog = "-"
errorlog = "-"
loglevel = env_str("LOG_LEVEL", "info").lower()
# X-Forwarded-* are believed from these peers only (gunicorn's own FORWARDED_ALLOW_IPS).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
