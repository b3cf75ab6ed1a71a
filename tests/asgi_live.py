"""A real ASGI server (uvicorn, websockets included) for browser tests that need the live alert socket.

pytest-django's ``live_server`` is a WSGI thread server without websockets, so these tests run
``uvicorn project.asgi:application`` in a subprocess, on a free 127.0.0.1 port, against a SQLite
file made for the test (migrated and seeded with the demo data). The subprocess is production-like:
DEBUG off, a secret key of its own, no in-process sweep.

The server always runs embedded — DATABASE_URL and REDIS_URL are removed from its environment even
in CI's PostgreSQL leg. The test's own database (pytest-django's, inside a transaction) is invisible
to another process anyway; and in embedded mode the one uvicorn process both raises the alerts and
holds the sockets, so the in-memory channel layer carries the push exactly as in `make run`. The
Redis channel layer is covered by tests/notifications/test_consumer.py in that leg.

The server is started in its own process group and stopped by that group's id only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "anmu-browser-test-secret-key-0123456789-abcdefghijklmnop"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveAsgiServer:
    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="anmu-live-")
        self.db_path = os.path.join(self.dir, "anmu.sqlite3")
        self.log_path = os.path.join(self.dir, "uvicorn.log")
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        drop = {"DATABASE_URL", "REDIS_URL", "SQLITE_TEST_PATH", "PYTEST_CURRENT_TEST", "DJANGO_ALLOW_ASYNC_UNSAFE"}
        self.env = {key: value for key, value in os.environ.items() if key not in drop}
        self.env.update({
            "DJANGO_SETTINGS_MODULE": "project.settings", "DEBUG": "0", "SECRET_KEY": SECRET_KEY,
            "SQLITE_PATH": self.db_path, "SWEEP_IN_PROCESS": "0", "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        })

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, text=True,
                              capture_output=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def migrate(self) -> LiveAsgiServer:
        """A migrated database of the run's one template (see tests/servers.py ``migrated_sqlite``)."""
        from tests.servers import migrated_sqlite

        migrated_sqlite(self.db_path, self.env)
        return self

    def prepare(self) -> LiveAsgiServer:
        self.migrate()
        self.manage("seed_demo")
        return self

    def start(self, *, timeout: float = 90) -> LiveAsgiServer:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "project.asgi:application", "--host", "127.0.0.1",
                 "--port", str(self.port), "--log-level", "warning", "--no-access-log"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited:\n{self.read_log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"uvicorn not ready within {timeout} s:\n{self.read_log()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the server's database directly (the test's assertions on the table, the truth)."""
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=20)) as connection:
            return connection.execute(sql, params).fetchall()

    def sign_in(self, context, username: str) -> str:  # type: ignore[no-untyped-def]
        """Sign ``username`` in for a Playwright browser context with a session cookie: the session row
        is written to the server's database, signed with the server's key, as ``login()`` stores it.
        No login form, so nothing to wait for. Returns the session key."""
        from tests.browser import add_session_cookie, new_session_key

        rows = self.query("SELECT id, password FROM organisations_user WHERE username = ?", (username,))
        if not rows:
            raise LookupError(f"no user {username!r} on the live server")
        (user_id, password_hash), = rows
        key, data = new_session_key(username, password_hash=password_hash, user_id=user_id, secret_key=SECRET_KEY)
        # Django keeps aware datetimes in SQLite as naive UTC text.
        expires = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=12)).replace(tzinfo=None)
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=20)) as connection, connection:
            connection.execute("INSERT INTO django_session (session_key, session_data, expire_date) VALUES (?, ?, ?)",
                               (key, data, str(expires)))
        add_session_cookie(context, self.url, key)
        return key

    def read_log(self) -> str:
        with contextlib.suppress(OSError), open(self.log_path, errors="replace") as log:
            return log.read()[-4000:]
        return ""

    def close(self) -> None:
        self.stop()
        with contextlib.suppress(OSError):
            for name in os.listdir(self.dir):
                os.unlink(os.path.join(self.dir, name))
            os.rmdir(self.dir)
