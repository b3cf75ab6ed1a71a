"""Settings in both modes, and clear start-up errors for bad environment variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'options': settings.DATABASES['default'].get('OPTIONS', {}), "
    "'layer': settings.CHANNEL_LAYERS['default']['BACKEND'], "
    "'cache': settings.CACHES['default']['BACKEND'], 'broker': settings.CELERY_BROKER_URL, "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'lang': settings.LANGUAGE_CODE, 'tz': settings.TIME_ZONE, "
    "'use_tz': settings.USE_TZ, 'embedded': settings.EMBEDDED}))"
)


def run_settings(**env: str | None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY"}}
    full["DJANGO_SETTINGS_MODULE"] = "project.settings"
    full["SQLITE_PATH"] = "/tmp/anmu-settings-probe.sqlite3"  # noqa: S108
    for key, value in env.items():
        if value is not None:
            full[key] = value
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=full, capture_output=True, text=True,
                          timeout=60, check=False)


def test_embedded_mode_without_urls():
    result = run_settings(SECRET_KEY="x" * 50)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["engine"] == "django.db.backends.sqlite3"
    assert data["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in data["options"]["init_command"]
    assert data["layer"] == "channels.layers.InMemoryChannelLayer"
    assert data["cache"].endswith("LocMemCache")
    assert data["eager"] is True
    assert (data["lang"], data["tz"], data["use_tz"], data["embedded"]) == ("zh-hans", "Asia/Shanghai", True, True)


def test_services_mode_with_urls():
    result = run_settings(SECRET_KEY="x" * 50, DATABASE_URL="postgres://anmu@db.example:5432/anmu",
                          REDIS_URL="redis://cache.example:6379/2")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["engine"] == "django.db.backends.postgresql"
    assert data["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert data["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert data["broker"] == "redis://cache.example:6379/2"
    assert data["eager"] is False and data["embedded"] is False


def test_channel_layer_choice():
    urls = {"SECRET_KEY": "x" * 50, "REDIS_URL": "redis://cache.example:6379/2"}
    queue = run_settings(CHANNEL_LAYER="queue", **urls)
    assert queue.returncode == 0, queue.stderr
    assert json.loads(queue.stdout.strip().splitlines()[-1])["layer"] == "channels_redis.core.RedisChannelLayer"
    bad = run_settings(CHANNEL_LAYER="kafka", **urls)
    assert bad.returncode != 0 and "CHANNEL_LAYER must be pubsub or queue" in bad.stderr


def test_secret_key_required_when_debug_is_off():
    result = run_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_runs_without_secret_key():
    assert run_settings(DEBUG="1").returncode == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/anmu"),
        ("DATABASE_URL", "postgres://user@host:notaport/db"),
        ("DATABASE_URL", "just words"),
        ("REDIS_URL", "http://localhost:6379"),
        ("REDIS_URL", "redis://:99999999"),
        ("DEBUG", "maybe"),
    ],
)
def test_bad_variable_fails_at_start_naming_it(name, value):
    env = {"SECRET_KEY": "x" * 50, name: value}
    result = run_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("pool", "max_age", "expected"),
    [("", "", 10), ("0", "", None), ("4", "", 4), ("", "60", None)],
)
def test_postgresql_pools_connections_unless_told_not_to(pool, max_age, expected):
    result = run_settings(SECRET_KEY="x" * 50, DATABASE_URL="postgres://anmu@db.example:5432/anmu",
                          DB_POOL_MAX_SIZE=pool, DB_CONN_MAX_AGE=max_age)
    assert result.returncode == 0, result.stderr
    options = json.loads(result.stdout.strip().splitlines()[-1])["options"]
    assert (options["pool"]["max_size"] if "pool" in options else None) == expected


def test_a_pool_and_persistent_connections_exclude_each_other():
    result = run_settings(SECRET_KEY="x" * 50, DATABASE_URL="postgres://anmu@db.example:5432/anmu",
                          DB_POOL_MAX_SIZE="10", DB_CONN_MAX_AGE="60")
    assert result.returncode != 0
    assert "DB_POOL_MAX_SIZE" in result.stderr.splitlines()[-1]
