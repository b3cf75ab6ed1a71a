"""Real processes for the resilience tests and the alert benchmark: a private Redis, uvicorn servers,
a logged-in HTTP session.

Every process is started in its own session (process group) and stopped by that group's id, so a
failed test never leaves a server behind and nothing outside the group is touched.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "anmu-process-test-secret-key-0123456789-abcdefghijklmnop"
REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_group(proc: subprocess.Popen[bytes] | None, *, timeout: float = 10) -> bool:
    """Stop a process started with ``start_new_session=True`` and everything it started. Returns
    whether it exited on SIGTERM within ``timeout`` (False: it had to be killed)."""
    if proc is None or proc.poll() is not None:
        return True
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            return sig == signal.SIGTERM
        except subprocess.TimeoutExpired:
            continue
    return False


class PrivateRedis:
    """A throwaway ``redis-server`` on 127.0.0.1 (no persistence), which a test may stop, restart on
    the same port, freeze (SIGSTOP: connections open but nothing answers) and thaw."""

    def __init__(self, port: int | None = None) -> None:
        if REDIS_SERVER is None:
            raise RuntimeError("redis-server is not installed")
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="anmu-redis-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 10) -> PrivateRedis:
        assert REDIS_SERVER is not None
        self.log = open(os.path.join(self.dir, "redis.log"), "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--daemonize", "no", "--loglevel", "warning"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited: {self.read_log()}")
            if self.ping():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {timeout} s")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        self.thaw()
        stop_group(self.proc)
        self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def freeze(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGCONT)

    def read_log(self) -> str:
        with contextlib.suppress(OSError), open(os.path.join(self.dir, "redis.log"), errors="replace") as f:
            return f.read()[-2000:]
        return ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


_MIGRATED_SQLITE: list[str] = []


def migrated_sqlite(path: str, env: dict[str, str], *, timeout: float = 300) -> None:
    """Put a migrated SQLite database at ``path``. The migrations run once per test run (45 s and more
    on a busy machine: every browser module and resilience test used to run them again), into a file
    that each caller then gets a copy of through SQLite's backup API (WAL-safe)."""
    import atexit
    import sqlite3

    if not _MIGRATED_SQLITE:
        folder = tempfile.mkdtemp(prefix="anmu-migrated-")
        atexit.register(shutil.rmtree, folder, True)
        template = os.path.join(folder, "template.sqlite3")
        manage("migrate", "--noinput", "-v", "0", env={**env, "SQLITE_PATH": template}, timeout=timeout)
        _MIGRATED_SQLITE.append(template)
    with contextlib.closing(sqlite3.connect(_MIGRATED_SQLITE[0])) as source, \
            contextlib.closing(sqlite3.connect(path)) as target:
        source.backup(target)


def process_env(**overrides: str) -> dict[str, str]:
    """The environment for a ``manage.py``/uvicorn child: production-like (DEBUG off, no in-process
    sweep), with the database and Redis given explicitly rather than inherited from the test run."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH", "SQLITE_TEST_PATH", "PYTEST_CURRENT_TEST")}
    env.update({"DJANGO_SETTINGS_MODULE": "project.settings", "DEBUG": "0", "SECRET_KEY": SECRET_KEY,
                "SWEEP_IN_PROCESS": "0", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 120, stdin: str | None = None) -> str:
    """Run ``manage.py`` with ``env``; returns stdout, raises with the output when it fails."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin, text=True,
                          capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


class AsgiServer:
    """``uvicorn project.asgi:application`` on a free port, as a production server would be run."""

    def __init__(self, *, env: dict[str, str], port: int | None = None, workers: int = 1,
                 log_dir: str | None = None) -> None:
        self.env = env
        self.port = port or free_port()
        self.workers = workers
        self.log_path = os.path.join(log_dir or tempfile.gettempdir(), f"anmu-uvicorn-{self.port}.log")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/alerts/"

    def start(self, *, timeout: float = 30) -> AsgiServer:
        return self.launch().wait_ready(timeout=timeout)

    def launch(self) -> AsgiServer:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "project.asgi:application", "--host", "127.0.0.1",
                 "--port", str(self.port), "--workers", str(self.workers), "--no-access-log",
                 "--log-level", "warning"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        return self

    def wait_ready(self, *, timeout: float = 30) -> AsgiServer:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn on port {self.port} exited:\n{self.read_log()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/accounts/login/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"uvicorn on port {self.port} not ready within {timeout} s:\n{self.read_log()}")

    def stop(self, *, timeout: float = 10) -> bool:
        """SIGTERM, as a process manager would; True if uvicorn finished its graceful shutdown."""
        graceful = stop_group(self.proc, timeout=timeout)
        self.proc = None
        return graceful

    def read_log(self) -> str:
        with contextlib.suppress(OSError), open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]
        return ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def login(base_url: str, username: str, password: str) -> str:
    """Sign in through the real login form (CSRF token and all); returns the ``Cookie`` header value."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    no_redirects = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
    login_url = f"{base_url}/accounts/login/"
    with opener.open(login_url, timeout=10) as response:
        page = response.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if match is None:
        raise RuntimeError("the login page has no CSRF token")
    form = urllib.parse.urlencode({"username": username, "password": password,
                                   "csrfmiddlewaretoken": match.group(1)}).encode()
    request = urllib.request.Request(login_url, data=form, headers={"Referer": login_url})  # noqa: S310 (http://127.0.0.1)
    try:
        with no_redirects.open(request, timeout=30) as response:
            status = response.status  # 200: the form again, with an error
    except urllib.error.HTTPError as exc:
        status = exc.code  # 302 to the home page: signed in
    cookies = {cookie.name: cookie.value for cookie in jar}
    if "sessionid" not in cookies:
        raise RuntimeError(f"login as {username} failed (HTTP {status}, no session cookie)")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())
