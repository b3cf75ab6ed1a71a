"""Anmu settings: one file, driven by the environment.

Without DATABASE_URL and REDIS_URL Anmu runs embedded: a SQLite file, the in-memory channel layer,
a local-memory cache and the deadline sweep inside the web server process. With them it uses
PostgreSQL, channels-redis, a Redis cache and Celery on the Redis broker. Every variable is listed
in the README.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
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
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "viewflow",
    "viewflow.workflow",
    "simple_history",
    "django_fsm",
    "organisations",
    "cases",
    "workflows",
    "notifications",
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
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "organisations.shell.AppAccessMiddleware",
    "viewflow.middleware.SiteMiddleware",
    "viewflow.middleware.HotwireTurboMiddleware",
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
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # No read timeout: the layer's receive is a blocking 5 s BZPOPMIN, so a shorter
                        # timeout kills idle sockets, and any timeout lets a closed socket's consumer
                        # hang on (redis-py 8 defaults to 5 s, so say None). Pushes are bounded in
                        # notifications/push.py instead.
                        "socket_timeout": None,
                        "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
                        # redis-py's async pool refuses (MaxConnectionsError) past its cap, 100 by
                        # default: every browser reconnecting after a restart joins its group at once.
                        "max_connections": REDIS_MAX_CONNECTIONS,
                    }
                ],
                "capacity": 1000,
                "expiry": 60,
            },
        }
    }
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
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

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

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "organisations.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "安母 Anmu API",
    "DESCRIPTION": "Maternal-safety five systems: organisations, cases, referrals, alerts.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The Swagger UI assets come from drf-spectacular-sidecar, served locally: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Anmu -----------------------------------------------------------------------------------------
ANMU_SITE_TITLE = "安母 Anmu"

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
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_personal_data": {"()": "organisations.logging.MaskPersonalDataFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

AUTHENTICATION_BACKENDS = ["organisations.backends.RoleBackend"]
