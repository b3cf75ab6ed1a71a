"""Anmu settings: one file, driven by the environment.

Without DATABASE_URL and REDIS_URL Anmu runs embedded: a SQLite file, the in-memory channel layer,
a local-memory cache and the deadline sweep inside the web server process. With them it uses
PostgreSQL, channels-redis, a Redis cache and Celery on the Redis broker. Every variable is listed
in the README.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from project.env import env_bool, env_int, env_list, env_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. Set DEBUG=1 for a local first look, "
            "or set SECRET_KEY to a long random string in production."
        )
    SECRET_KEY = "anmu-insecure-development-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] + (["*"] if DEBUG else []))
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne_optional",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "rest_framework",
    # Machine clients' tokens (organisations.ApiToken is the token model: KNOX_TOKEN_MODEL below).
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "viewflow",
    "viewflow.workflow",
    "simple_history",
    "django_fsm",
    "axes",
    "csp",
    "organisations",
    "cases",
    "workflows",
    "notifications",
    "indicators",
]
# daphne only adds a `runserver` that speaks ASGI; it is a dev extra, so leave it out when absent.
try:
    import daphne  # noqa: F401

    INSTALLED_APPS[0] = "daphne"
except ImportError:
    INSTALLED_APPS.remove("daphne_optional")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below whitenoise, so static files keep their long cache; every page and API answer is no-store.
    "project.middleware.NoStoreMiddleware",
    "project.middleware.RejectNulBytesMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # One log line per call of a machine client (name, method, path, status; never the token).
    "organisations.tokens.ApiClientLogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "organisations.shell.AppAccessMiddleware",
    "viewflow.middleware.SiteMiddleware",
    "viewflow.middleware.HotwireTurboMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "project.asgi.application"
WSGI_APPLICATION = None

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
                "django.template.context_processors.i18n",
                "organisations.context_processors.anmu",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "pgsql"))
if DATABASE_URL:
    DB_CONN_MAX_AGE = env_int("DB_CONN_MAX_AGE", 0)
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=DB_CONN_MAX_AGE),
    }
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
    # A connection pool (psycopg_pool), on by default: every consumer call otherwise opens a new
    # connection (alert p99 423 ms instead of 15 ms in benchmarks/alert_latency.py). 0 turns it off.
    # Django's pool refuses persistent connections, so DB_CONN_MAX_AGE > 0 turns the default off.
    DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 0 if DB_CONN_MAX_AGE else 10, minimum=0)
    if DB_POOL_MAX_SIZE and DB_CONN_MAX_AGE:
        raise ImproperlyConfigured("DB_POOL_MAX_SIZE and DB_CONN_MAX_AGE exclude each other: set one of them to 0.")
    if DB_POOL_MAX_SIZE:
        DATABASES["default"]["OPTIONS"]["pool"] = {"min_size": 1, "max_size": DB_POOL_MAX_SIZE, "timeout": 10}
    EMBEDDED = False
else:
    SQLITE_PATH = os.environ.get("SQLITE_PATH") or str(BASE_DIR / "anmu.sqlite3")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                # Two writers wait for each other instead of failing with "database is locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
            "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH") or None},
        }
    }
    EMBEDDED = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery broker ---------------------------------------------------
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss", "unix"))
REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", "2"))
# After a push batch timed out, pushes skip the layer for this long (the sweep re-pushes; see push.py).
REDIS_PUSH_PAUSE_SECONDS = float(os.environ.get("REDIS_PUSH_PAUSE_SECONDS", "10"))
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 2000, minimum=10)
# The channel layer on Redis: "pubsub" (default; the fastest delivery) or "queue" (channels-redis'
# list-based layer, which keeps a message for a minute while its socket reconnects).
CHANNEL_LAYER = os.environ.get("CHANNEL_LAYER", "pubsub")
if CHANNEL_LAYER not in ("pubsub", "queue"):
    raise ImproperlyConfigured("CHANNEL_LAYER must be pubsub or queue")
if REDIS_URL:
    redis_host = {
        "address": REDIS_URL,
        # No read timeout: the queue layer's receive is a blocking 5 s BZPOPMIN and the pub/sub layer's
        # reader waits for messages, so a read timeout kills idle sockets, and any timeout lets a closed
        # socket's consumer hang on (redis-py 8 defaults to 5 s, so say None). Pushes are bounded in
        # notifications/push.py instead.
        "socket_timeout": None,
        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
        # redis-py's async pool refuses (MaxConnectionsError) past its cap, 100 by default: every
        # browser reconnecting after a restart joins its group at once.
        "max_connections": REDIS_MAX_CONNECTIONS,
    }
    if CHANNEL_LAYER == "pubsub":
        # Redis PUBLISH/SUBSCRIBE: one subscriber connection per server process receives every message
        # for its sockets as Redis pushes it. The queue layer pops them one at a time, four round trips
        # each, which put a referral's twentieth duty doctor ~100 ms behind the first
        # (benchmarks/referral.py). Nothing is kept for a socket that is not connected: the alert is in
        # the table, a socket gets its backlog when it (re)connects and the sweep re-pushes the undelivered.
        CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                                      "CONFIG": {"hosts": [redis_host]}}}
    else:
        CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                      "CONFIG": {"hosts": [redis_host], "capacity": 1000, "expiry": 60}}}
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "anmu",
            "OPTIONS": {
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    "max_retries": 1,
}
CELERY_TIMEZONE = "Asia/Shanghai"

# --- Auth -----------------------------------------------------------------------------------------
AUTH_USER_MODEL = "organisations.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)

# Brute force (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one user name, or from one
# address, logins from it are refused for AXES_COOLOFF_MINUTES. Behind a proxy the address is the
# client's only when uvicorn runs with --proxy-headers and the proxy sets X-Forwarded-For.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=AXES_COOLOFF_MINUTES)
# Counted separately per user name and per address; a hospital whose staff share one NAT address may
# set AXES_LOCKOUT_PARAMETERS=username (one wrong typist must not lock the whole hospital out).
AXES_LOCKOUT_PARAMETERS = env_list("AXES_LOCKOUT_PARAMETERS", ["username", "ip_address"])
if not AXES_LOCKOUT_PARAMETERS or set(AXES_LOCKOUT_PARAMETERS) - {"username", "ip_address"}:
    raise ImproperlyConfigured("AXES_LOCKOUT_PARAMETERS must be username, ip_address or both (comma-separated).")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "project.auth.lockout_response"
AXES_VERBOSE = False

# --- HTTPS and browser security (README: Production) --------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Behind a TLS-terminating proxy that sets "X-Forwarded-Proto: https" (and strips it from clients).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("SECURE_PROXY_SSL_HEADER", False) else None
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp). Everything is served by Anmu itself; inline <script> and
# <style> elements carry the request's nonce. Style attributes stay allowed (viewflow's Material
# templates use them; they cannot run script).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-elem": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# E-mail: only with EMAIL_HOST is there a password reset (a reset link needs somewhere to go).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_CONFIGURED = bool(EMAIL_HOST)
if EMAIL_CONFIGURED:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "") or f"anmu@{EMAIL_HOST}"
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

# --- Language and time ----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files: every asset is served from this server (hospital intranets have no internet) ----
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at every start when it is missing
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "/media/"
# Referral attachments (notes, images) are served only through a scoped view; this caps each file.
REFERRAL_ATTACHMENT_MAX_BYTES = env_int("REFERRAL_ATTACHMENT_MAX_MB", 10, minimum=1) * 1024 * 1024
# Request bodies: the largest allowed upload (one referral attachment) plus 1 MB for the form
# around it. Bigger bodies are refused with 413 before they are read (project/asgi.py); a proxy in
# front should refuse them too (nginx: client_max_body_size).
REQUEST_MAX_BODY_BYTES = env_int(
    "REQUEST_MAX_BODY_MB", REFERRAL_ATTACHMENT_MAX_BYTES // (1024 * 1024) + 1, minimum=1) * 1024 * 1024

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # People sign in (session); machine clients send "Authorization: Token anmu_…" (organisations/tokens.py
    # refuses the token of anyone but a machine client). The token class comes first so that a refused
    # token answers 401; a call with neither still answers 403 as before.
    "DEFAULT_AUTHENTICATION_CLASSES": ["organisations.tokens.ClientTokenAuthentication",
                                       "rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "organisations.api.exception_handler",
    # Deeply nested JSON and NUL characters are a 400, not a 500 (organisations/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "organisations.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        # A UserRateThrottle: people keep the "user" rate, machine clients get the "machine" one.
        "organisations.tokens.ClientRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "30/minute"),
        "user": os.environ.get("API_THROTTLE_USER", "600/minute"),
        "machine": os.environ.get("API_THROTTLE_MACHINE", "1200/minute"),
    },
}
# Machine clients' tokens (django-rest-knox): hashed in the database, each with its own expiry, several live
# at once so a client rotates without a gap; issued and revoked by a system admin (organisations/client_views.py).
KNOX_TOKEN_MODEL = "organisations.ApiToken"  # noqa: S105 (a model name, not a secret)
# knox's own migrations create its default token table even when KNOX_TOKEN_MODEL swaps it out (they do not mark
# it swappable). That orphan table's foreign key to users made every PostgreSQL flush (TRUNCATE) of a transactional
# test fail. Without migrations the swapped model gets no table at all.
MIGRATION_MODULES = {"knox": None}
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90, minimum=1)
REST_KNOX = {
    "TOKEN_TTL": dt.timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTO_REFRESH": False,
    "TOKEN_PREFIX": "anmu_",
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "安母 Anmu API",
    "DESCRIPTION": "母婴安全五项制度 · Maternal-safety five systems: women and pregnancies, risk screening and grading, "
                   "high-risk cases, referrals, maternal death reports and reviews, interviews and circulars, the "
                   "annual evaluation, indicators. People sign in; other systems call it as machine clients with a "
                   "token (Authorization: Token anmu_…).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The Swagger UI assets come from drf-spectacular-sidecar, served locally: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The document is the contract (tests/test_api_contract.py): required text that is sent is
    # minLength 1 (every output field is read-only), and every operation documents the JSON errors of
    # organisations.api.exception_handler.
    "ENFORCE_NON_BLANK_FIELDS": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "organisations.api.openapi_postprocess"],
    # One name per choice set shared by several fields or records (else drf-spectacular invents hashed ones).
    "ENUM_NAME_OVERRIDES": {
        "ReferralStateEnum": "cases.models.referral.Referral.State",
        "ConsultationStateEnum": "cases.models.referral.Consultation.State",
        "DeathReportStateEnum": "cases.models.death.DeathReport.State",
        "DeathPlaceEnum": "cases.models.death.DeathReport.Place",
        "ReviewLevelEnum": "cases.models.death.ReviewLevel",
        "AvoidabilityEnum": "cases.models.death.Avoidability",
        "CauseClassEnum": "cases.models.death.CauseClass",
        "RescueCentreLevelEnum": "organisations.models.RescueCentre.Level",
        "RegionLevelEnum": "organisations.models.Region.Level",
        "ReviewMeetingStateEnum": "cases.models.death.ReviewMeeting.State",
        "CircularKindEnum": "cases.models.interview.Circular.Kind",
        "CircularStateEnum": "cases.models.interview.Circular.State",
        "CircularDistributionEnum": "cases.models.interview.Circular.Distribution",
        "DeathReportOriginEnum": "cases.models.death.DeathReport.Origin",
        "InterviewOriginEnum": "cases.models.interview.Interview.Origin",
        "RoutineVisitKindEnum": "cases.models.routine.Visit.Kind",
        "InterviewStateEnum": "cases.models.interview.Interview.State",
        "InterviewPartyStateEnum": "cases.models.interview.InterviewParty.State",
        "InterviewPartyMethodEnum": "cases.models.interview.InterviewParty.Method",
        "SummonedEnum": "cases.models.interview.Summoned",
        "EvaluationRoundStateEnum": "cases.models.evaluation.EvaluationRound.State",
        "EvaluationSubmissionStateEnum": "cases.models.evaluation.EvaluationSubmission.State",
        "EvaluationSubjectEnum": "cases.models.evaluation.EvaluationIndicator.Subject",
        "ColourEnum": "cases.models.colour.Colour",
        "PregnancyStatusEnum": "cases.models.people.Pregnancy.Status",
        "AssessmentStatusEnum": "cases.models.screening.Assessment.Status",
        "HighRiskCaseStateEnum": "cases.models.highrisk.HighRiskCase.State",
        "CaseCloseKindEnum": "cases.models.highrisk.HighRiskCase.CloseKind",
        "CasePlanKindEnum": "cases.models.highrisk.CasePlan.Kind",
        "TracingMethodEnum": "cases.models.highrisk.TracingAttempt.Method",
        "BabyOutcomeEnum": "cases.models.routine.Baby.Outcome",
        "OutcomeEnum": "cases.models.referral.Referral.Outcome",
    },
}

# --- Anmu -----------------------------------------------------------------------------------------
ANMU_SITE_TITLE = "安母 Anmu"
# The API's lists show a change once it is this old and every transaction open when it was made has ended
# (workflows/api.py, "Sync"): a client syncing with updated_since then never misses a slow transaction's change.
API_SYNC_LAG_SECONDS = env_int("API_SYNC_LAG_SECONDS", 5, minimum=0)

# The periodic sweep (deadlines, alert re-push, roster gaps). Embedded mode runs it inside the web
# server process, so its alerts reach the in-memory channel layer; with Redis, run
# `celery -A project beat` + `celery -A project worker` or `manage.py run_deadlines --loop` instead.
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 15, minimum=1)
SWEEP_IN_PROCESS = env_bool("SWEEP_IN_PROCESS", EMBEDDED)
# An open alert websocket re-checks its session (logged out, expired, user deactivated) this often.
ALERT_SOCKET_RECHECK_SECONDS = env_int("ALERT_SOCKET_RECHECK_SECONDS", 60, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "anmu-sweep": {"task": "anmu.sweep", "schedule": float(SWEEP_INTERVAL_SECONDS)},
}

# SMS for critical alerts still unacknowledged after escalation: "log" (default) or "http".
SMS_BACKEND = os.environ.get("SMS_BACKEND", "log")
SMS_GATEWAY_URL = env_url("SMS_GATEWAY_URL", schemes=("http", "https")) or ""
SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN", "")
SMS_GATEWAY_TIMEOUT = float(os.environ.get("SMS_GATEWAY_TIMEOUT", "5"))
if SMS_BACKEND not in ("log", "http") and "." not in SMS_BACKEND:
    raise ImproperlyConfigured("SMS_BACKEND must be 'log', 'http' or a dotted path to a backend class.")
if SMS_BACKEND == "http" and not SMS_GATEWAY_URL:
    raise ImproperlyConfigured("SMS_BACKEND=http needs SMS_GATEWAY_URL.")

# --- Logging: personal data never reaches a log line (see organisations.logging) -------------------
# project.logconfig applies this and then masks every handler already installed, uvicorn's access
# and error logs included (uvicorn configures its own loggers before it loads the application).
LOGGING_CONFIG = "project.logconfig.configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_personal_data": {"()": "organisations.logging.MaskPersonalDataFilter"},
        "one_line_denials": {"()": "organisations.logging.OneLineDenialFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["one_line_denials", "mask_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own defaults give "django" a second console (with DEBUG) and mail_admins (no mail
        # is configured): each error was printed twice. Its records go to the root handler only.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# django-axes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "organisations.backends.RoleBackend"]
