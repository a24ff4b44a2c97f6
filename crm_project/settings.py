"""
Settings for the CRM, read from the environment (and from a `.env` file beside manage.py, if present).

Every value is documented in `.env.example`. Bad values fail loudly at start; with DEBUG off the
defaults are production-safe and each security setting can be relaxed explicitly (for example behind
a TLS-terminating proxy that talks plain HTTP to gunicorn).
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# ENV_FILE points elsewhere (or at /dev/null to read nothing); variables already set always win.
environ.Env.read_env(env.str("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    """A boolean that must be spelled as one: `DEBUG=maybe` stops the start instead of meaning False."""
    value = env.str(name, default="").strip().lower()
    if not value:
        return default
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use true or false")


def env_int(name: str, default: int) -> int:
    try:
        return env.int(name, default=default)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={env.str(name)!r} is not a whole number") from exc


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random string "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(50))'`), or set DEBUG=true "
            "for local development."
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
for origin in CSRF_TRUSTED_ORIGINS:
    if "://" not in origin:
        raise ImproperlyConfigured(f"CSRF_TRUSTED_ORIGINS entries need a scheme, e.g. https://{origin}")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for crm_project.forms.BootstrapFormRenderer (TemplatesSetting)
    "django_htmx",
    "simple_history",
    "axes",
    "csp",
    "rest_framework",
    "django_filters",  # the attribute filters' FilterSets (attributes/filters.py)
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "crm_project",  # its management commands (seed_demo)
    "customers",
    "attributes",
    "tokens",
    "bench",
    "jobs",
    "events",
    "webhooks",
]

MIDDLEWARE = [
    "crm_project.requestid.RequestIdMiddleware",  # first: every response, redirects and errors included, has its id
    "crm_project.metrics.MetricsMiddleware",
    "crm_project.replicas.ReadYourWritesMiddleware",  # only does something with DATABASE_REPLICA_URLS
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "crm_project.input_guard.RejectUnstorableInputMiddleware",  # NUL / lone surrogates: 400 before any view
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm_project.middleware.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "attributes.history.WriteChannelMiddleware",
    "crm_project.middleware.StaticPolicyCSPMiddleware",  # django-csp, its static header built once
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Django's cookie-then-session message storage, made only when a request reads or adds a message.
MESSAGE_STORAGE = "crm_project.messages_storage.LazyFallbackStorage"

ROOT_URLCONF = "crm_project.urls"
WSGI_APPLICATION = "crm_project.wsgi.application"

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
                "attributes.permissions.context_processor",  # `can.*` in templates
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
_SUPPORTED_ENGINES = {"django.db.backends.sqlite3", "django.db.backends.postgresql"}
try:
    _db = env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
except (KeyError, ValueError):
    _db = {"ENGINE": None}
if _db.get("ENGINE") not in _SUPPORTED_ENGINES:
    # Only the scheme goes into the message: the rest of the URL may hold a password.
    _scheme = env.str("DATABASE_URL").partition("://")[0] if "://" in env.str("DATABASE_URL") else ""
    raise ImproperlyConfigured(
        f"DATABASE_URL (scheme {_scheme!r}) is not a database URL this project supports; use "
        "sqlite:////absolute/path/db.sqlite3 or postgres://user:password@host:5432/name"
    )
DATABASES = {"default": _db}
# Persistent connections on both databases. No `SELECT 1` health check per request (a round trip each): a
# connection the server closed is noticed from its socket at request start, without a round trip, and the
# token lookup retries once on a new connection (crm_project/dbhealth.py).
_db["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", default=60)
_db["CONN_HEALTH_CHECKS"] = False
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {}).update(
        {
            # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers wait for it (up to
            # `timeout` seconds) instead of failing with "database is locked" on lock upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": env_int("SQLITE_TIMEOUT", default=20),
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
    )
    # A file (not :memory:) so tests can run concurrent writers and a live server against it; named
    # after the configured file (db.sqlite3 -> test_db.sqlite3) so two checkouts' runs do not collide.
    if _db["NAME"] and _db["NAME"] != ":memory:":
        _db_file = Path(_db["NAME"])
        # One file per test process, so parallel runs in one checkout never share (and delete) it.
        _db.setdefault("TEST", {})["NAME"] = str(_db_file.with_name(f"test_{_db_file.stem}_{os.getpid()}.sqlite3"))
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].setdefault("connect_timeout", env_int("DB_CONNECT_TIMEOUT", default=5))
    # Every statement is bounded: a slow query cannot hold a worker forever (it ends as a 503).
    _db["OPTIONS"].setdefault("options", f"-c statement_timeout={env_int('DB_STATEMENT_TIMEOUT_MS', default=15000)}")
    # psycopg prepares a server-side-bound statement after this many runs on a connection (crm_project/rawrows.py:
    # the hot paths' lookups). 0 turns prepared statements off, e.g. behind a PgBouncer older than 1.21 in
    # transaction pooling mode, which cannot route a prepared statement to the server connection that holds it.
    _prepare_threshold = env_int("DB_PREPARE_THRESHOLD", default=5)
    if _prepare_threshold < 0:
        raise ImproperlyConfigured(f"DB_PREPARE_THRESHOLD={_prepare_threshold} must be 0 (off) or more")
    _db["OPTIONS"].setdefault("prepare_threshold", _prepare_threshold or None)

# Read replicas (crm_project/replicas.py): lag-tolerant reads (usage audit, exports, change feed and history, attribute
# search) go to one of these; everything else, and every write, to DATABASE_URL. Each takes the primary's options.
# A client that just wrote reads the primary for READ_YOUR_WRITES_SECONDS (remembered in the default cache: use a
# shared one, Redis, when several instances serve). Unset: everything uses the primary.
DATABASE_REPLICAS = []
for _number, _url in enumerate(env.list("DATABASE_REPLICA_URLS", default=[]), start=1):
    try:
        _replica = environ.Env.db_url_config(_url)
    except (KeyError, ValueError):
        _replica = {"ENGINE": None}
    if _replica.get("ENGINE") != _db["ENGINE"]:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URLS entry {_number} is not a database URL of the primary's kind ({_db['ENGINE']})"
        )
    _alias = f"replica_{_number}"
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
        _replica[_key] = _db[_key]
    _replica["OPTIONS"] = {**_db.get("OPTIONS", {}), **_replica.get("OPTIONS", {})}
    # Tests (and `manage.py test`) read the primary's test database through each replica alias.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[_alias] = _replica
    DATABASE_REPLICAS.append(_alias)
if DATABASE_REPLICAS:
    DATABASE_ROUTERS = ["crm_project.replicas.ReplicaRouter"]
READ_YOUR_WRITES_SECONDS = env_int("READ_YOUR_WRITES_SECONDS", default=10)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------------
try:
    CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
except ImproperlyConfigured as exc:
    raise ImproperlyConfigured(f"CACHE_URL: {exc} (e.g. locmemcache:// or redis://127.0.0.1:6379/1)") from exc
# API throttle counters (crm_project/throttling.py): `shared` counts in the default cache (with Redis, every instance
# together; two cache round trips per API request), `local` in each process's memory (no round trip; the limit then
# holds per process).
API_THROTTLE_CACHE = env.str("API_THROTTLE_CACHE", default="shared")
if API_THROTTLE_CACHE not in {"shared", "local"}:
    raise ImproperlyConfigured(f"API_THROTTLE_CACHE={API_THROTTLE_CACHE!r} must be shared or local")
# django-environ keeps `?key_prefix=`/`?timeout=` lower-case for RedisCache, where Django reads only upper case
# (so the prefix of two deployments sharing one Redis would be silently ignored).
for _option in ("key_prefix", "timeout", "version", "key_function"):
    if _option in CACHES["default"]:
        CACHES["default"][_option.upper()] = CACHES["default"].pop(_option)
CACHES["throttle"] = (
    CACHES["default"]
    if API_THROTTLE_CACHE == "shared"
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "throttle"}
)

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses sign-in attempts for a username and address after repeated failures.
    "axes.backends.AxesStandaloneBackend",
    "crm_project.auth_backends.ModelBackendOneQuery",
]
AXES_ENABLED = env_bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Trust X-Forwarded-For only behind this many proxies (0: the client is REMOTE_ADDR). One knob for django-axes
# and the API throttles (NUM_PROXIES below): a spoofed header must not reset either counter.
PROXY_COUNT = env_int("AXES_PROXY_COUNT", default=0)
if PROXY_COUNT < 0:
    raise ImproperlyConfigured(f"AXES_PROXY_COUNT={PROXY_COUNT} must be 0 or more")
AXES_IPWARE_PROXY_COUNT = PROXY_COUNT
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "customers:list"
LOGOUT_REDIRECT_URL = "login"

# --- Attributes -----------------------------------------------------------------------------------
# When true, only names defined in the attribute registry may be written.
ATTRIBUTES_REQUIRE_DEFINITION = env_bool("ATTRIBUTES_REQUIRE_DEFINITION", default=False)
# Sensitive attributes (attributes/sensitive.py): AES-GCM keys, each the URL-safe base64 of 32 random bytes; the first
# encrypts, all decrypt (rotation: put the new key first, run `manage.py rotate_attribute_keys`, then drop the old
# one). The equality index (HMAC-SHA256) has its own key. A malformed key stops the start here; missing keys stop
# it (DEBUG off) only once a name is marked sensitive (the `attributes` system check and crm_project/wsgi.py).
ATTRIBUTE_ENCRYPTION_KEYS = env.list("ATTRIBUTE_ENCRYPTION_KEYS", default=[])
ATTRIBUTE_INDEX_KEY = env.str("ATTRIBUTE_INDEX_KEY", default="")


def _check_key(setting: str, key: str) -> None:
    import base64
    import binascii

    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii")) if key.strip() == key and key else b""
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured(
            f"{setting} must be the URL-safe base64 of 32 random bytes, e.g. the output of "
            '`python -c "import base64,secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"`.'
        )


for _key in ATTRIBUTE_ENCRYPTION_KEYS:
    _check_key("ATTRIBUTE_ENCRYPTION_KEYS (comma-separated)", _key)
if ATTRIBUTE_INDEX_KEY:
    _check_key("ATTRIBUTE_INDEX_KEY", ATTRIBUTE_INDEX_KEY)
# Days of attribute history to keep; older rows go with `manage.py prune_history`. Unset or empty: keep everything.
HISTORY_RETENTION_DAYS = env_int("HISTORY_RETENTION_DAYS", default=0) or None
if HISTORY_RETENTION_DAYS is not None and HISTORY_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(f"HISTORY_RETENTION_DAYS={HISTORY_RETENTION_DAYS} must be at least 1 (or unset)")
# Customers per committed chunk of a rename job (each chunk locks those customers' rows of the two names).
ATTRIBUTES_RENAME_CHUNK = env_int("ATTRIBUTES_RENAME_CHUNK", default=1000)
# Rows per transaction of the jobs that encrypt, decrypt or re-encrypt sensitive values.
ATTRIBUTES_SENSITIVE_CHUNK = env_int("ATTRIBUTES_SENSITIVE_CHUNK", default=2000)
# Seconds a revealed sensitive value stays visible in the Attributes tab before it is hidden again.
ATTRIBUTES_REVEAL_SECONDS = env_int("ATTRIBUTES_REVEAL_SECONDS", default=20)

# `make bench` mounts bare-SQL baseline views under /bench/ for comparison; off everywhere else.
CRM_BENCH = env_bool("CRM_BENCH", default=False)
# Rows per committed chunk of a CSV import job (each chunk is one transaction, its history rows included).
ATTRIBUTES_IMPORT_CHUNK = env_int("ATTRIBUTES_IMPORT_CHUNK", default=1000)
if ATTRIBUTES_IMPORT_CHUNK < 1:
    raise ImproperlyConfigured(f"ATTRIBUTES_IMPORT_CHUNK={ATTRIBUTES_IMPORT_CHUNK} must be 1 or more")

# --- Change events and webhooks ------------------------------------------------------------------
# Days change events are kept (the feed and webhook replays reach this far back); pruned in batches by a
# periodic job that runs every EVENT_MAINTAIN_SECONDS and also numbers events nobody has read yet.
EVENT_RETENTION_DAYS = env_int("EVENT_RETENTION_DAYS", default=30)
if EVENT_RETENTION_DAYS < 1:
    raise ImproperlyConfigured(f"EVENT_RETENTION_DAYS={EVENT_RETENTION_DAYS} must be at least 1")
EVENT_MAINTAIN_SECONDS = env_int("EVENT_MAINTAIN_SECONDS", default=60)
# Webhooks deliver to public HTTPS addresses only. true: also http:// and private, loopback and link-local
# addresses (an intranet receiver; the test suite's local receiver).
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=False)
# Seconds to wait before each retry of a failed delivery (a random 0-10 % is added); after the last, it fails.
WEBHOOKS_RETRY_SCHEDULE = [int(s) for s in env.list("WEBHOOKS_RETRY_SCHEDULE", default=[
    "5", "300", "1800", "7200", "18000", "36000", "36000"])]  # fmt: skip
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", default=15)
WEBHOOKS_DISABLE_AFTER_DAYS = env_int("WEBHOOKS_DISABLE_AFTER_DAYS", default=5)  # of failures without a success
# The delivery job: started by the workers' sweeper every WEBHOOKS_DISPATCH_SECONDS while an endpoint is
# enabled; it delivers until nothing is due for WEBHOOKS_IDLE_SECONDS (at most WEBHOOKS_RUN_SECONDS), then ends.
WEBHOOKS_DISPATCH_SECONDS = env_int("WEBHOOKS_DISPATCH_SECONDS", default=1)
WEBHOOKS_IDLE_SECONDS = env_int("WEBHOOKS_IDLE_SECONDS", default=10)
WEBHOOKS_RUN_SECONDS = env_int("WEBHOOKS_RUN_SECONDS", default=30)

# --- REST API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Bearer first, so a request without credentials gets 401 with `WWW-Authenticate: Bearer`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tokens.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "crm_project.api.StrictBrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["crm_project.api.SafeJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "crm_project.api.FastContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm_project.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "crm_project.throttling.UserWindowThrottle",  # counters, not DRF's timestamp lists: see throttling.py
        "crm_project.throttling.AnonWindowThrottle",
    ],
    # Per user (token or session) and per address for anonymous requests, counted in the configured cache.
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER_RATE", default="6000/min"),
        "anon": env.str("API_THROTTLE_ANON_RATE", default="120/min"),
        # Failed bearer authentications per client address (tokens/authentication.py).
        "auth_failure": env.str("API_THROTTLE_AUTH_FAILURE_RATE", default="30/min"),
    },
    # Client addresses for throttling: REMOTE_ADDR unless proxies are configured (DRF's default of None would
    # trust any X-Forwarded-For a client sends).
    "NUM_PROXIES": PROXY_COUNT,
    # OPTIONS describes a route without looking up an object (crm_project/metadata.py).
    "DEFAULT_METADATA_CLASS": "crm_project.metadata.RouteMetadata",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Customers and Customer Attributes. Authenticate with `Authorization: Bearer <token>` "
    "(create one on the API tokens page or with `manage.py create_api_token`).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"JobStatusEnum": "jobs.models.Job.Status", "JobQueuedEnum": ["queued"]},
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm_project.schema.spec_paths",
    ],
}

# --- Internationalisation -------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone (e.g. UTC, Europe/Berlin)") from exc
USE_I18N = True
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Tests render pages without running collectstatic first.
WHITENOISE_MANIFEST_STRICT = False
# Files browsers ask for at the site root (/favicon.ico), served by WhiteNoise.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"

# --- Security ---------------------------------------------------------------------------------------
# Production-safe when DEBUG is off; each can be overridden, e.g. SECURE_SSL_REDIRECT=false behind a
# proxy that already redirects, or SESSION_COOKIE_SECURE=false for a plain-HTTP intranet deployment.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", default=False):
    # Trust X-Forwarded-Proto from the proxy in front of gunicorn (only when such a proxy sets it).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
# Strict Content-Security-Policy (django-csp): no inline script or style anywhere, nothing from other origins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- Background jobs -------------------------------------------------------------------------------
# django-tasks (the API of Django 6's Tasks) with its database backend: the queue is a table in the same
# database, so a job is enqueued in the transaction that asks for it, on SQLite and on PostgreSQL alike.
# Workers: `python manage.py run_worker` (as many as you like, on any machine that reaches the database).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
JOBS_LEASE_SECONDS = env_int("JOBS_LEASE_SECONDS", default=30)  # a worker silent this long has lost its job
JOBS_SWEEP_SECONDS = env_int("JOBS_SWEEP_SECONDS", default=5)  # how often each worker looks for such jobs
JOBS_STALE_SECONDS = env_int("JOBS_STALE_SECONDS", default=30)  # a queued job's lost engine message is resent
JOBS_VIEW_ALL_PERMISSION = "attributes.view_all_jobs"  # sees (and cancels) every user's jobs
# The usage audit's figures are refreshed by a periodic job this often; names written in the last
# USAGE_REFRESH_OVERLAP_SECONDS are looked at again, for transactions that committed after a refresh read history.
USAGE_REFRESH_SECONDS = env_int("USAGE_REFRESH_SECONDS", default=45)
USAGE_REFRESH_OVERLAP_SECONDS = env_int("USAGE_REFRESH_OVERLAP_SECONDS", default=300)
JOBS_EXTRA_MODULES = env.list("JOBS_EXTRA_MODULES", default=[])  # modules with more job kinds, e.g. a plugin's

# --- Logging ----------------------------------------------------------------------------------------
# Every line carries the request id (crm_project/requestid.py). LOG_FORMAT=json: one JSON object a line, for a log
# collector; text: a plain line.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be text or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "crm_project.requestid.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "crm_project.requestid.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# --- Operations: request ids, metrics, read replicas -------------------------------------------------------------
# Client addresses (or networks, e.g. 10.0.0.0/8) of the proxies whose X-Request-ID is taken as the request's id;
# from anyone else the header is ignored and a new id is made.
REQUEST_ID_TRUSTED_PROXIES = env.list("REQUEST_ID_TRUSTED_PROXIES", default=[])
for _proxy in REQUEST_ID_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"REQUEST_ID_TRUSTED_PROXIES: {_proxy!r} is not an address or network") from exc
# /metrics (Prometheus): readable with `Authorization: Bearer <METRICS_TOKEN>` or from METRICS_ALLOWED_IPS (addresses
# or networks); with neither set it answers 404. Under gunicorn set PROMETHEUS_MULTIPROC_DIR (an empty directory
# only this instance uses), so a scrape adds up every worker process.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=[])
for _address in METRICS_ALLOWED_IPS:
    try:
        ipaddress.ip_network(_address, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {_address!r} is not an address or network") from exc
