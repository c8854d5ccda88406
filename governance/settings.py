"""Warden settings: one module, driven by the environment (see the README's configuration table)."""

from __future__ import annotations

import importlib.util
import ipaddress
import sys
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from governance.lib.env import env_bool, env_int, env_list, env_str
from governance.lib.sso import parse_group_teams, sso_from_env

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
# A pytest run is detected so `pytest` works without exporting anything; never true in a server.
TESTING = env_bool("WARDEN_TESTING", "pytest" in sys.modules)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY and TESTING:
    SECRET_KEY = "warden-test-key-only-for-pytest"  # noqa: S105
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random string "
            "(or DEBUG=1 for local development, which uses an insecure development key)."
        )
    SECRET_KEY = "django-insecure-warden-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "governance.lib.staticfiles.WardenStaticFilesConfig",  # django.contrib.staticfiles
    "allauth",
    "allauth.account",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "governance.accounts",
    "governance.inventory",
    "governance.evidence",
    "governance.ingest",
    "governance.runtime",
    "governance.findings",
    "governance.policies",
    "governance.metrics",
    "governance.notifications",
    "governance.reports",
    "governance.hooks",
    "governance.channels",
    "governance.exporter",
    "governance.exports",
    "governance.web",
]

MIDDLEWARE = [
    # Outermost, so every response carries the policy: error pages and probes too.
    "governance.lib.csp.ContentSecurityPolicyMiddleware",
    # /livez, /readyz, /healthz: before the Host check and the HTTPS redirect (see the module).
    "governance.lib.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the body: a declared or streamed body past the limit is a 413.
    "governance.lib.limits.RequestSizeLimitMiddleware",
    "governance.lib.inputs.RejectUnstorableInputMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Secure by default: every page needs a login unless a view opts out explicitly.
    "governance.lib.middleware.WardenLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"
ASGI_APPLICATION = "governance.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'warden.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # WAL lets the dev server read while an import writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    # An unreachable host fails in seconds (then a 503), not after the OS's two minutes.
    _pg_options.setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", 5))
    # psycopg's pool bounds the connections of each process whatever its threads do
    # (runserver opened one per thread and ran PostgreSQL out of slots). Off in the test
    # suite by default: tests that race threads would wait on a small pool.
    _pool_max = env_int("DB_POOL_MAX_SIZE", 0 if TESTING else 4)
    if _pool_max > 0:
        _pool_min = env_int("DB_POOL_MIN_SIZE", 1)
        if not 0 <= _pool_min <= _pool_max:
            raise ImproperlyConfigured(
                f"DB_POOL_MIN_SIZE={_pool_min} must be between 0 and DB_POOL_MAX_SIZE={_pool_max}"
            )
        _pg_options["pool"] = {
            "min_size": _pool_min,
            "max_size": _pool_max,
            # Seconds a request waits for a free connection (or for a database that is down)
            # before it fails with a 503.
            "timeout": env_int("DB_POOL_TIMEOUT", 5),
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django requires it with a pool
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Login rate limits (allauth) and the API-token limit key on the client's address: behind a
# proxy, say how many proxies append to X-Forwarded-For, or which header carries the client.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("ALLAUTH_TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env_str("ALLAUTH_TRUSTED_CLIENT_IP_HEADER") or None
if ALLAUTH_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("ALLAUTH_TRUSTED_PROXY_COUNT must be 0 or more")
# Invalid API tokens one address may send per window before its Bearer requests get 429.
WARDEN_API_TOKEN_FAILURE_LIMIT = env_int("WARDEN_API_TOKEN_FAILURE_LIMIT", 20)
WARDEN_API_TOKEN_FAILURE_WINDOW = env_int("WARDEN_API_TOKEN_FAILURE_WINDOW", 60)
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:home"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "none")
ACCOUNT_ADAPTER = "governance.accounts.adapter.AccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
# Teams are managed by operators (create_team / add_member); open sign-up is opt-in.
WARDEN_ALLOW_SIGNUP = env_bool("WARDEN_ALLOW_SIGNUP", False)
# SSO (docs/sso.md): OIDC from OIDC_ISSUER / OIDC_CLIENT_ID / OIDC_CLIENT_SECRET, SAML from
# SAML_METADATA_URL or SAML_METADATA_FILE. Either adds allauth's social accounts and provider.
# The test suite installs both providers (with no app configured) so SSO tests can
# configure one with override_settings(SOCIALACCOUNT_PROVIDERS=...).
_sso = sso_from_env(all_providers=TESTING)
WARDEN_SSO_ENABLED = _sso.enabled
INSTALLED_APPS += [app for app in _sso.apps if app not in INSTALLED_APPS]
if _sso.apps:
    SOCIALACCOUNT_PROVIDERS = _sso.providers
    SOCIALACCOUNT_ADAPTER = "governance.accounts.adapter.SocialAccountAdapter"
    # The IdP vouches for the address: no second sign-up form, no confirmation mail.
    SOCIALACCOUNT_AUTO_SIGNUP = True
    SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
    SOCIALACCOUNT_STORE_TOKENS = False
    # The button on the login page posts straight to the provider: one click, CSRF-checked.
    SOCIALACCOUNT_LOGIN_ON_GET = False
#: Users signing in through the IdP for the first time get an account (the IdP decides who
#: may sign in); off: only users an operator created (and connected) may use SSO.
WARDEN_SSO_AUTO_SIGNUP = env_bool("WARDEN_SSO_AUTO_SIGNUP", True)
#: "idp-group=team-slug:role,...": on every SSO login the user joins the mapped teams.
WARDEN_SSO_GROUP_TEAMS = parse_group_teams(env_str("WARDEN_SSO_GROUP_TEAMS"))
#: The claim (OIDC) or attribute (SAML) that lists the user's IdP groups.
WARDEN_SSO_GROUPS_CLAIM = env_str("WARDEN_SSO_GROUPS_CLAIM", "groups").strip() or "groups"
INSTALLED_APPS += [app for app in env_list("WARDEN_EXTRA_APPS", []) if app not in INSTALLED_APPS]

# --- Email ----------------------------------------------------------------------------------
EMAIL_URL = env_str("EMAIL_URL", "console://")
if EMAIL_URL.startswith("console:"):
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
elif EMAIL_URL.startswith(("smtp:", "smtps:", "submission:")):
    from urllib.parse import unquote, urlsplit

    _mail = urlsplit(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _mail.hostname or "localhost"
    EMAIL_PORT = _mail.port or (465 if _mail.scheme == "smtps" else 587)
    EMAIL_HOST_USER = unquote(_mail.username or "")
    EMAIL_HOST_PASSWORD = unquote(_mail.password or "")
    EMAIL_USE_SSL = _mail.scheme == "smtps"
    EMAIL_USE_TLS = _mail.scheme in ("smtp", "submission") and "tls=0" not in _mail.query
else:
    raise ImproperlyConfigured(
        f"EMAIL_URL={EMAIL_URL!r}: use console:// or smtp://user:pass@host:port"
    )
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "warden@localhost")
# Where Warden is reached from a browser: the links in its e-mails start with it.
WARDEN_BASE_URL = env_str("WARDEN_BASE_URL", "http://127.0.0.1:8000")

# --- I18N / static --------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# plotly.min.js is served from the installed plotly package (no CDN: Warden runs offline).
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/plotly", Path(importlib.util.find_spec("plotly").origin).parent / "package_data"),  # type: ignore[arg-type, union-attr]
]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
# Pages name static files through {% static %} (hashed names): the unhashed copies are neither
# kept nor compressed, which halves collectstatic's compression work (brotli is slow).
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
# Source maps (Swagger UI, ReDoc) are for developers' tools: served, not pre-compressed.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# --- Security (production defaults; `manage.py check --deploy` is clean) ----------------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not (DEBUG or TESTING))
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Uploads above this go to a temporary file, never whole in memory; the first handler stops
# a file at WARDEN_MAX_REPORT_BYTES as it streams (governance.lib.limits).
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "governance.lib.limits.ReportSizeUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "governance.lib.inputs.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "governance.lib.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PAGINATION_CLASS": "governance.lib.api.IdCursorPagination",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Warden API",
    "DESCRIPTION": "Ingest scanner reports, triage findings, and read CI gate verdicts.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI assets come from drf-spectacular-sidecar: no CDN, Warden runs offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "GateVerdictEnum": ["pass", "warn", "fail"],
        "ReasonVerdictEnum": ["fail", "warn"],
        "ScanRunStatusEnum": "governance.evidence.models.ScanRun.Status",
        "FindingStatusEnum": "governance.vocabulary.Status",
    },
}

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# No broker: tasks run eagerly in-process (the zero-setup default). With one: real workers.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A message whose worker died hard (acks_late) goes back to the queue once it has been
# unacknowledged this many seconds, checked every 5 s: an import survives a killed worker
# within a minute. Imports are idempotent, so a task still running when its message comes
# back only costs a slot blocked on the run's row lock.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 45),
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 3,
    "socket_timeout": 5,
}
# With the broker down an upload is stored and answered "queued" within seconds (the re-queue
# sweep hands it over later), never held until a timeout or answered with an error.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
#: Days of runtime events kept (older partitions are dropped by the daily beat task).
WARDEN_EVENT_RETENTION_DAYS = env_int("WARDEN_EVENT_RETENTION_DAYS", 30)
#: A deployment's alert rules are evaluated at most this often after its events arrive.
WARDEN_ALERT_DEBOUNCE_SECONDS = env_int("WARDEN_ALERT_DEBOUNCE_SECONDS", 10)
#: Channels (webhooks, Slack): outbound requests to private, loopback or link-local addresses
#: are refused (SSRF) unless this is on; tests turn it on for their local HTTP server.
WARDEN_WEBHOOK_ALLOW_PRIVATE = env_bool("WARDEN_WEBHOOK_ALLOW_PRIVATE", TESTING)
WARDEN_WEBHOOK_TIMEOUT_SECONDS = env_int("WARDEN_WEBHOOK_TIMEOUT_SECONDS", 10)
#: Attempts of one delivery (the first included) before it is marked failed.
WARDEN_WEBHOOK_MAX_ATTEMPTS = env_int("WARDEN_WEBHOOK_MAX_ATTEMPTS", 5)
#: The first retry waits this long; each next one twice as long (capped at an hour).
WARDEN_WEBHOOK_RETRY_BASE_SECONDS = env_int(
    "WARDEN_WEBHOOK_RETRY_BASE_SECONDS", 0 if TESTING else 30
)
#: /metrics without a token from these networks (CIDRs, comma-separated): the Prometheus
#: server's own. Empty: a token with the ``metrics`` scope is required.
WARDEN_METRICS_ALLOW_CIDRS = env_list("WARDEN_METRICS_ALLOW_CIDRS", [])
for _cidr in WARDEN_METRICS_ALLOW_CIDRS:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"WARDEN_METRICS_ALLOW_CIDRS: {_exc}") from _exc
# A batch of 10,000 runtime events is a few MB of JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 16 * 1024 * 1024)
#: Seconds a run may wait queued (or run) before the sweep hands it to a worker again.
WARDEN_REQUEUE_AFTER_SECONDS = env_int("WARDEN_REQUEUE_AFTER_SECONDS", 300)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 900)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 840)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# --- Cache ----------------------------------------------------------------------------------
# The rate limits (logins, API tokens) count in the cache, so every web process must share
# it: Redis when one is configured (REDIS_URL, else a redis:// broker), else per-process memory
# (fine for one process). The test suite always uses memory: parallel test processes must not
# share counters.
REDIS_URL = env_str("REDIS_URL") or (
    CELERY_BROKER_URL if urlsplit(CELERY_BROKER_URL).scheme in ("redis", "rediss") else ""
)
if REDIS_URL and not TESTING:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "warden",
            # A Redis outage must cost a request a second, not hang it.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Warden ---------------------------------------------------------------------------------
WARDEN_MAX_REPORT_BYTES = env_int("WARDEN_MAX_REPORT_BYTES", 200 * 1024 * 1024)
WARDEN_ASYNC_THRESHOLD_BYTES = env_int("WARDEN_ASYNC_THRESHOLD_BYTES", 20 * 1024 * 1024)
WARDEN_DEMO_PASSWORD = env_str("WARDEN_DEMO_PASSWORD", "warden-demo")
# Days of posture rollups kept (the dashboard's trend reads the last 90).
WARDEN_POSTURE_RETENTION_DAYS = env_int("WARDEN_POSTURE_RETENTION_DAYS", 400)
# Server-side artifact scans read only below these directories (never a URL, never elsewhere).
WARDEN_ARTIFACT_ROOTS = [
    Path(p).resolve() for p in env_list("WARDEN_ARTIFACT_ROOTS", [str(MEDIA_ROOT / "artifacts")])
]
# Audit reports of versions with at most this many open findings render to PDF in the
# request; larger ones in a worker (governance/reports).
WARDEN_REPORT_SYNC_MAX_FINDINGS = env_int("WARDEN_REPORT_SYNC_MAX_FINDINGS", 300)
# The control mapping the audit report reads (default: docs/controls/controls.yaml of the
# repository, resolved from BASE_DIR).
WARDEN_CONTROLS_FILE = env_str("WARDEN_CONTROLS_FILE", "")
# MLflow registry hooks: deliveries older (or newer) than this many seconds are refused,
# and the aliases that mean "this version is in production" record a deployment.
WARDEN_HOOK_TOLERANCE_SECONDS = env_int("WARDEN_HOOK_TOLERANCE_SECONDS", 300)
WARDEN_HOOK_PRODUCTION_ALIASES = env_list(
    "WARDEN_HOOK_PRODUCTION_ALIASES", ["production", "prod", "champion"]
)
WARDEN_HOOK_ENVIRONMENT = env_str("WARDEN_HOOK_ENVIRONMENT", "production")
# Server-side assessments (POST .../versions/{v}/assess/): the limits of the model worker
# subprocess; the wall clock stays under the Celery task's soft time limit.
WARDEN_ASSESS_CPU_SECONDS = env_int("WARDEN_ASSESS_CPU_SECONDS", 600)
WARDEN_ASSESS_MEMORY_MB = env_int("WARDEN_ASSESS_MEMORY_MB", 4096)
WARDEN_ASSESS_WALL_SECONDS = env_int("WARDEN_ASSESS_WALL_SECONDS", 780)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
