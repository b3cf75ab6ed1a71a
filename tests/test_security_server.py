"""Hardening checked on real processes: uvicorn's own access and error logs are masked (as served by
``make run`` and by the README's production command), and ``check --deploy`` is clean with the
production settings the README documents."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.servers import ROOT, SECRET_KEY, free_port, process_env, stop_group

ID_NUMBER = "350121199001010018"
PHONE = "13812345678"

# The README's production command and `make run`'s, word for word but for the port.
PRODUCTION = ["--host", "127.0.0.1", "--workers", "2"]
MAKE_RUN = ["--host", "127.0.0.1", "--workers", "1"]


def _get(url: str, **kwargs) -> int:  # type: ignore[no-untyped-def]
    request = urllib.request.Request(url, **kwargs)  # noqa: S310 (http://127.0.0.1)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return 0  # not listening yet


@pytest.mark.parametrize(("args", "debug"), [(MAKE_RUN, "1"), (PRODUCTION, "0")], ids=["make-run", "production"])
def test_uvicorn_logs_never_show_a_full_id_number_or_phone(args, debug):
    from websockets.sync.client import connect

    workdir = tempfile.mkdtemp(prefix="anmu-logs-")
    port = free_port()
    env = process_env(DEBUG=debug, SQLITE_PATH=os.path.join(workdir, "anmu.sqlite3"), LOG_LEVEL="INFO")
    log_path = os.path.join(workdir, "uvicorn.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "project.asgi:application", *args,
                                 "--port", str(port)],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while _get(f"{base}/accounts/login/") != 200:
            assert proc.poll() is None and time.monotonic() < deadline, Path(log_path).read_text()
            time.sleep(0.2)
        # A search URL (access log), a refused POST (Django's log and the access log) and a websocket
        # to a path no route serves (uvicorn's error log, with the path in the traceback or the line).
        assert _get(f"{base}/cases/?q={ID_NUMBER}&phone={PHONE}") == 200  # redirected to the login page
        assert _get(f"{base}/accounts/login/?id={ID_NUMBER}", data=b"x=1", method="POST") == 403
        with pytest.raises(Exception), \
                connect(f"ws://127.0.0.1:{port}/ws/{ID_NUMBER}/{PHONE}/", open_timeout=10) as ws:  # noqa: B017
            ws.recv(timeout=10)  # refused or closed: either way logged
        time.sleep(0.5)
    finally:
        stop_group(proc)
    text = Path(log_path).read_text(encoding="utf-8", errors="replace")
    assert "q=350121********0018&phone=138****5678" in text, text
    assert ID_NUMBER not in text and PHONE not in text, text
    assert "ws/350121********0018/138****5678/" in text, text
    assert "--- Logging error ---" not in text, text
    # The refused POST: one line from Django (no traceback) and one access-log line.
    # (" 403 " is the status: a bare "403" also matches a client port such as 127.0.0.1:34034.)
    forbidden = [line for line in text.splitlines() if "/accounts/login/" in line and '" 403 ' in line or
                 "Forbidden (CSRF" in line]
    assert len(forbidden) == 2, forbidden


def test_check_deploy_is_clean_with_the_documented_production_settings():
    # (DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' own, never a deployment's.)
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({
        # The README's Production paragraph, with example values.
        "DEBUG": "0", "SECRET_KEY": SECRET_KEY, "ALLOWED_HOSTS": "anmu.example.org",
        "CSRF_TRUSTED_ORIGINS": "https://anmu.example.org",
        "DATABASE_URL": "postgres://anmu@db.example:5432/anmu", "REDIS_URL": "redis://cache.example:6379/0",
        "SESSION_COOKIE_SECURE": "1", "SECURE_SSL_REDIRECT": "1", "SECURE_PROXY_SSL_HEADER": "1",
        "SECURE_HSTS_SECONDS": "31536000", "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1", "SECURE_HSTS_PRELOAD": "1",
        "DJANGO_SETTINGS_MODULE": "project.settings",
    })
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)." in done.stdout
