"""Settings for the ad budget server, read from the environment (12-factor).

Every variable is documented in `.env.example`. The defaults are the embedded
ones used by `make run`: a SQLite file and, when no Redis answers, Celery's
filesystem broker. Tests and production set `DATABASE_URL` to PostgreSQL.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path

import django_stubs_ext
import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

# Lets generic classes such as ModelAdmin[Brand] be subscripted at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=False)
# With DEBUG off and no key, SECRET_KEY stays empty: tools that never sign
# anything (makemigrations, migrate) still run, while the processes that serve
# refuse to start (adserver.startup, called by wsgi.py and the Celery app), and
# Django itself refuses any use of an empty key.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "csp",
    "adserver",
    "budgets",
    "campaigns",
    "spend",
    "credentials",
]

MIDDLEWARE = [
    "adserver.middleware.OutageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "adserver.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "adserver.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, see there
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Last: turns a lockout met by a login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "adserver.urls"
WSGI_APPLICATION = "adserver.wsgi.application"

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
                "adserver.context_processors.reconcile_banner",
            ],
        },
    },
]

# SQLite is the embedded default so that `make run` needs no server. Tests,
# compose and production use PostgreSQL (real concurrency needs it).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'adserver.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Web, worker and beat share the file: wait for locks instead of failing,
    # and take the write lock at BEGIN so that no transaction has to upgrade.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # SQLite cannot hold the webhook table's "one URL per brand, the global ones
    # too" constraint (NULLS NOT DISTINCT); alert_webhook_create checks it with
    # the model's validation, which is enough for the one-person embedded setup.
    SILENCED_SYSTEM_CHECKS = ["models.W047"]
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault(
        "CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True)
    )
    # No JIT: our statements are short or set-based over indexed joins, and
    # compiling them (up to half a second for the reconcile tick's) costs
    # more than it saves.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # Spend recording runs a few statements on server-binding cursors; psycopg
    # prepares them after two runs on a connection (Django's own cursors bind
    # on the client and never prepare). Off behind a pooler that cannot keep
    # prepared statements (PgBouncer before 1.21 in transaction mode).
    # Off means never: psycopg's own default would still prepare after five runs.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "prepare_threshold", 2 if env.bool("DATABASE_PREPARED_STATEMENTS", default=True) else None
    )
    # Behind a pooler in transaction mode (PgBouncer), a cursor cannot outlive
    # its transaction on the server: QuerySet.iterator() then reads in chunks
    # on the client instead of through a server-side cursor.
    DATABASES["default"].setdefault(
        "DISABLE_SERVER_SIDE_CURSORS", env.bool("DATABASE_POOLER_TRANSACTIONS", default=False)
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Failed logins (django-axes): after LOGIN_FAILURE_LIMIT failures of one
# username from one address, that pair is locked out of the dashboard's and
# the admin's login and of API authentication (adserver/lockout.py) for
# LOGIN_LOCKOUT_MINUTES, or until staff delete its row under "Access
# attempts" in the admin. A success resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# The same address the throttles count (NUM_PROXIES below).
AXES_CLIENT_IP_CALLABLE = "adserver.api.throttling.client_address"
# Successful logins are not logged row by row; failures are.
AXES_DISABLE_ACCESS_LOG = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Serve static files straight from the apps and static/ in development, so
# `make run` needs no collectstatic step to show the admin correctly.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# How often dashboard pages poll for fresh figures (htmx), in seconds.
DASHBOARD_REFRESH_SECONDS = env.int("DASHBOARD_REFRESH_SECONDS", default=5)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="budgets@localhost")
ALERT_EMAILS = env.list("ALERT_EMAILS", default=["adops@localhost"])
# Alert mail and webhooks are sent by the worker (spend.tasks.alerts_deliver),
# never inside a request; a server that accepts and never answers costs a
# delivery attempt this long, then a retry with backoff.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
# Webhooks for every brand's alerts (more per brand in the admin): a JSON POST
# with a Slack-compatible "text", signed with HMAC-SHA256 of the body in
# X-Adserver-Signature when a secret is set.
ALERT_WEBHOOK_URLS = env.list("ALERT_WEBHOOK_URLS", default=[])
ALERT_WEBHOOK_SECRET = env.str("ALERT_WEBHOOK_SECRET", default="")
ALERT_WEBHOOK_TIMEOUT = env.float("ALERT_WEBHOOK_TIMEOUT", default=5.0)
# The sweep delivers alerts raised this recently that a channel still lacks.
ALERT_DELIVERY_WINDOW_HOURS = env.int("ALERT_DELIVERY_WINDOW_HOURS", default=48)

# Pacing (docs/architecture.md): a brand or shared budget is under pace when
# its month-to-date spend is below PACING_UNDER_PERCENT of the spend expected
# by now, over pace above PACING_OVER_PERCENT; judged from the 3rd local day.
PACING_UNDER_PERCENT = env.int("PACING_UNDER_PERCENT", default=90)
PACING_OVER_PERCENT = env.int("PACING_OVER_PERCENT", default=110)
if not 0 < PACING_UNDER_PERCENT <= 100 <= PACING_OVER_PERCENT:
    raise ImproperlyConfigured(
        "PACING_UNDER_PERCENT must be in 1..100 and PACING_OVER_PERCENT 100 or more."
    )

# Liveness: /healthz answers 503 "reconcile": "stale" and the dashboard shows
# a banner when the last reconcile tick finished longer ago than this.
HEALTH_RECONCILE_MAX_AGE_SECONDS = env.int("HEALTH_RECONCILE_MAX_AGE_SECONDS", default=180)
# /metrics: open to these client addresses, or to a bearer token when set.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_ADDRESSES = env.list("METRICS_ALLOWED_ADDRESSES", default=["127.0.0.1", "::1"])
# How long a client is told to wait before retrying when the database is down.
OUTAGE_RETRY_AFTER_SECONDS = env.int("OUTAGE_RETRY_AFTER_SECONDS", default=5)

# Security: on by default when DEBUG is off, so `check --deploy` is clean.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp) on every response: scripts, styles,
# fonts and fetches from this site only; no inline script or style, no eval
# (the dashboard's htmx is configured without; Swagger UI's set-up script is
# a file of its own). Images may also be data: URLs (icons of Swagger UI and
# of the admin's widgets).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Permissions-Policy (django-permissions-policy): no powerful feature is used.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "fullscreen",
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# Spend validation.
SPEND_MAX_AMOUNT = env.str("SPEND_MAX_AMOUNT", default="1000000")
SPEND_MAX_CLOCK_SKEW_SECONDS = env.int("SPEND_MAX_CLOCK_SKEW_SECONDS", default=300)
SPEND_BATCH_MAX_EVENTS = 10_000
# The largest body the spend endpoints read (a 413 beyond): one event, and a
# batch (10,000 events of ~200 bytes, with room for long event_ids).
SPEND_EVENT_MAX_BYTES = env.int("SPEND_EVENT_MAX_BYTES", default=16 * 1024)
SPEND_BATCH_MAX_BYTES = env.int("SPEND_BATCH_MAX_BYTES", default=5 * 1024 * 1024)

# Standard delivery: how far today's spend may run ahead of the even-delivery
# allowance, as a share of the daily budget, before the reconcile holds the
# brand's campaigns (spend/delivery.py).
BRAND_DELIVERY_TOLERANCE = env.str("BRAND_DELIVERY_TOLERANCE", default="0.05")
try:
    _tolerance = Decimal(BRAND_DELIVERY_TOLERANCE)
except InvalidOperation:
    _tolerance = Decimal("NaN")
if not (_tolerance.is_finite() and 0 <= _tolerance <= 1):
    raise ImproperlyConfigured("BRAND_DELIVERY_TOLERANCE must be a share between 0 and 1.")

# Celery. With CELERY_BROKER_URL unset, `make run` uses kombu's filesystem
# transport (no server needed); tests, compose and production use Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}

# The cache every web process shares: it counts the throttles, so that a
# limit is one limit however many processes serve. Redis at CACHE_URL, by
# default the broker's Redis when the broker is Redis (tests, compose,
# production, and `make run` when a local Redis answers); local memory only
# when there is no Redis at all (`make run` on the filesystem broker).
CACHE_URL = env.str(
    "CACHE_URL",
    default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "",
)
CACHES: dict[str, dict[str, object]] = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "adserver",
            # A throttle that cannot reach Redis lets the request through
            # (adserver.api.throttling) after at most this long.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # One folder in and out, so that a separate worker and beat exchange
    # tasks; the control folder carries the worker's broadcast messages.
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("messages", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "messages"),
        "data_folder_out": str(_broker_dir / "messages"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # Longer than any task's hard time limit, so a task that is still running
    # is never redelivered to a second worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A request that sends a task on commit (alert delivery) gives up this soon
# when the broker is unreachable; the sweep sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# django-celery-beat's DatabaseScheduler, checking SECRET_KEY first (adserver/beat.py).
CELERY_BEAT_SCHEDULER = "adserver.beat:Scheduler"
CELERY_BEAT_SYNC_EVERY = 1
# No result backend, so nothing to clean up: without this, beat would add a
# daily `celery.backend_cleanup` entry.
CELERY_RESULT_EXPIRES = None
# The periodic tasks, declared once here; beat upserts them into
# django-celery-beat by name when it starts (keeping last_run_at, and keeping
# an entry disabled when staff disabled it in the admin). Crontabs are in UTC:
# brand-local days and months are computed by the reconcile with zoneinfo,
# never by beat. Every entry runs the same level-triggered reconcile, so a
# missed run is repaired by the next one; expire_seconds drops runs that
# waited in the queue past their next one (a worker down for hours does not
# replay hundreds of ticks). See docs/operations.md.
_EVERY_QUARTER_HOUR = "0,15,30,45"  # every local midnight in tzdata falls on one
# The minute ticks, unless RECONCILE_TICK_SECONDS asks for a shorter interval
# (the fault suite, which watches beat stop and start, uses 2 s).
_TICK_SECONDS = env.int("RECONCILE_TICK_SECONDS", default=0)
_EVERY_TICK: object = dt.timedelta(seconds=_TICK_SECONDS) if _TICK_SECONDS else crontab()
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "budget check": {
        "task": "spend.tasks.budget_check",
        "schedule": _EVERY_TICK,
        "options": {"expire_seconds": 50},
    },
    "dayparting": {
        "task": "spend.tasks.dayparting",
        "schedule": _EVERY_TICK,
        "options": {"expire_seconds": 50},
    },
    "daily reset": {
        "task": "spend.tasks.daily_reset",
        "schedule": crontab(minute=_EVERY_QUARTER_HOUR),
        "options": {"expire_seconds": 600},
    },
    "alert delivery sweep": {
        "task": "spend.tasks.alerts_sweep",
        "schedule": crontab(),
        "options": {"expire_seconds": 50},
    },
    # Apart from the minute ticks (its status query reads every brand), and
    # off the quarter hours of the resets.
    "pacing alerts": {
        "task": "spend.tasks.pacing_alerts",
        "schedule": crontab(minute="5,20,35,50"),
        "options": {"expire_seconds": 600},
    },
    "monthly reset": {
        "task": "spend.tasks.monthly_reset",
        # A local 1st starts between 10:15 UTC on the last day of the month
        # before (UTC+13:45) and 12:00 UTC on the 1st (UTC-12).
        "schedule": crontab(minute=_EVERY_QUARTER_HOUR, day_of_month="1,28-31"),
        "options": {"expire_seconds": 600},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "adserver.api.authentication.UserTokenAuthentication",
        "adserver.api.authentication.SpendFeedAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # A login to read what one's brands hold; the manager role on a brand to
    # change it (budgets.access). No model permission is asked for.
    # A spend feed's key opens the spend POSTs only (SpendFeedScope, first).
    "DEFAULT_PERMISSION_CLASSES": [
        "adserver.api.permissions.SpendFeedScope",
        "adserver.api.permissions.BrandRole",
    ],
    "DEFAULT_PAGINATION_CLASS": "adserver.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "adserver.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "COERCE_DECIMAL_TO_STRING": True,
    "DEFAULT_PARSER_CLASSES": ["adserver.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["adserver.api.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "adserver.api.exceptions.exception_handler",
    # Every endpoint: the view's throttle_scope, else "api" (adserver.api.throttling).
    "DEFAULT_THROTTLE_CLASSES": ["adserver.api.throttling.ScopeRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "spend": env.str("SPEND_THROTTLE_RATE", default="100000/min"),
        "api": env.str("API_THROTTLE_RATE", default="1200/min"),
    },
    # Proxies in front of the web processes whose X-Forwarded-For is trusted
    # for the client's address (throttles, lockouts); 0: REMOTE_ADDR.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

# POSTs to the dashboard's and the admin's login forms, per client address.
LOGIN_THROTTLE_RATE = env.str("LOGIN_THROTTLE_RATE", default="30/min")

# How long a web process remembers a user token or feed key it has checked
# (0: never). A revoked key, deleted token or deactivated user is refused by
# every process at most this long after the change, so it may not pass 1 s.
API_TOKEN_CACHE_SECONDS = env.float("API_TOKEN_CACHE_SECONDS", default=1.0)
if not 0 <= API_TOKEN_CACHE_SECONDS <= 1:
    raise ImproperlyConfigured("API_TOKEN_CACHE_SECONDS must be between 0 and 1.")

# User tokens (django-rest-knox): `Authorization: Token <key>`, stored as a
# SHA-512 digest; no expiry unless `manage.py token_create --expires-days`.
REST_KNOX = {
    "TOKEN_TTL": None,
    "AUTH_HEADER_PREFIX": "Token",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Ad budget server API",
    "DESCRIPTION": "Brands, budgets, campaigns, dayparts and spend.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and the docs are for people and scripts with a login; a
    # spend feed's key does not open them either.
    "SERVE_PERMISSIONS": [
        "adserver.api.permissions.SpendFeedScope",
        "rest_framework.permissions.IsAuthenticated",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "adserver.api.schema.add_examples",
    ],
    # One name per choice set, whichever field uses it.
    "ENUM_NAME_OVERRIDES": {
        "CampaignStatusEnum": "campaigns.models.Status",
        "PauseReasonEnum": "campaigns.models.PauseReason",
        "DeliveryEnum": "budgets.models.Delivery",
    },
}
