"""Alert latency: commit of an alert-raising transition → the alert arriving on its recipient's websocket.

Runs production-shaped: PostgreSQL, the channels-redis layer, ``uvicorn project.asgi:application``
(DEBUG off, no in-process sweep). The script is its own orchestrator and, in child processes, its own
seeder, load client and transition driver:

* seed     creates the bench users in bulk (a dedicated database, ``anmu_bench`` by default, created
           and migrated if missing) and a signed-in session for each, as login would store it;
* clients  opens N websockets as N distinct users (asyncio + ``websockets``), stamps every ``alert``
           message on arrival with ``time.time_ns()`` and answers it with a receipt, as a browser does;
* driver   raises M alerts per second for D seconds through the service layer: each is one
           ``transaction.atomic()`` around ``alert_raise(...)``, stamped by an on-commit callback
           registered before ``alert_raise``'s own push (so: right after COMMIT, before the push);
* the orchestrator measures the raw Redis PUBLISH → SUBSCRIBE round trip in the same run (idle, and
           during every cell at 20/s beside the load) as the floor, and joins commits to receipts.

All processes are on one machine, so their wall clocks are one clock. Prints one JSON document.

    .venv/bin/python benchmarks/alert_latency.py            # N = 100, 500, 1000 × M = 10, 50
    .venv/bin/python benchmarks/alert_latency.py --quick    # N = 50, M = 10, 5 s: a smoke run

See benchmarks/README.md for the options and what the figures mean.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import AsgiServer, PrivateRedis, manage, process_env  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/anmu_bench"
TARGET = {"sockets": 1000, "rate_per_s": 50, "p99_ms_at_most": 50}
TITLE = "Nobody is on duty at %(institution)s"  # an existing message id, so the title is translated
PROBE_CHANNEL = "anmu-bench-probe"


# --- statistics ------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summary(values: list[float], points: tuple[int, ...] = (50, 95, 99)) -> dict[str, Any]:
    ordered = sorted(values)
    out: dict[str, Any] = {"n": len(ordered)}
    for p in points:
        value = percentile(ordered, p)
        out[f"p{p}"] = round(value, 2) if value is not None else None
    out["max"] = round(ordered[-1], 2) if ordered else None
    return out


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process and its reaped children (Linux /proc)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(x) for x in fields[11:15]) / ticks  # utime, stime, cutime, cstime


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies over every core, from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            values = [int(x) for x in f.readline().split()[1:]]
    except OSError:
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL process, including backends that already exited (a reaped backend's
    time moves to the postmaster's cutime/cstime). Read-only, from /proc."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        if raw[raw.find("(") + 1: raw.rfind(")")] == "postgres":
            total += cpu_seconds(int(entry))
    return total


# --- the raw Redis floor ---------------------------------------------------------------------------


class PubSubProbe:
    """PUBLISH a timestamp, time its arrival on a SUBSCRIBEd connection: Redis' own round trip."""

    def __init__(self, url: str, rate: float) -> None:
        import redis

        self.url = url
        self.interval = 1 / rate
        self.samples: list[float] = []
        self.stop = threading.Event()
        self.publisher = redis.Redis.from_url(url)
        self.subscriber = redis.Redis.from_url(url).pubsub(ignore_subscribe_messages=True)
        self.subscriber.subscribe(PROBE_CHANNEL)
        self.threads = [threading.Thread(target=self._listen, daemon=True),
                        threading.Thread(target=self._publish, daemon=True)]

    def _listen(self) -> None:
        while not self.stop.is_set():
            message = self.subscriber.get_message(timeout=0.2)
            if message is not None:
                self.samples.append((time.perf_counter_ns() - int(message["data"])) / 1e6)

    def _publish(self) -> None:
        next_at = time.perf_counter()
        while not self.stop.is_set():
            self.publisher.publish(PROBE_CHANNEL, str(time.perf_counter_ns()))
            next_at += self.interval
            time.sleep(max(0.0, next_at - time.perf_counter()))

    def __enter__(self) -> PubSubProbe:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(5)
        self.subscriber.close()
        self.publisher.close()

    def result(self) -> dict[str, Any]:
        return summary(self.samples, (50, 99))


# --- child roles -----------------------------------------------------------------------------------


def role_seed(args: argparse.Namespace) -> None:
    """Bench users in bulk, and a session for each exactly as ``login()`` stores it."""
    import datetime as dt

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from notifications.models import Alert
    from organisations.models import User

    names = [f"bench_{i:05d}" for i in range(args.users)]
    existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    password = make_password(None)  # nobody signs in with a password; the sessions are made here
    User.objects.bulk_create([User(username=name, name=f"压测用户{name[6:]}", password=password)
                              for name in names if name not in existing], batch_size=500)
    users = list(User.objects.filter(username__in=names).order_by("username"))
    Alert.objects.filter(recipient__in=users).delete()  # start every run with empty backlogs
    Session.objects.all().delete()  # the bench database holds nothing else
    from django.contrib.auth.backends import ModelBackend
    from django.utils.module_loading import import_string

    # The backend login() records: the first that loads users by id (axes' lockout backend comes first
    # and only authenticates; a session naming it fails every websocket connect with AttributeError).
    backend = next(path for path in settings.AUTHENTICATION_BACKENDS if issubclass(import_string(path), ModelBackend))
    expires = timezone.now() + dt.timedelta(days=1)
    rows, cookies = [], []
    for user in users:
        store = SessionStore()
        key = store._get_new_session_key()
        data = {"_auth_user_id": str(user.pk), "_auth_user_backend": backend,
                "_auth_user_hash": user.get_session_auth_hash()}
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        cookies.append({"user": user.pk, "cookie": f"{settings.SESSION_COOKIE_NAME}={key}"})
    Session.objects.bulk_create(rows, batch_size=500)
    Path(args.out).write_text(json.dumps(cookies))


def role_driver(args: argparse.Namespace) -> None:
    """M alert-raising transactions per second through the service layer, open loop."""
    import django

    django.setup()
    from django.db import transaction
    from django.utils.translation import gettext_noop

    from notifications.recipients import to_user
    from notifications.services import alert_raise
    from organisations.models import User

    users = list(User.objects.filter(username__startswith="bench_").order_by("username")[: args.n])
    assert len(users) == args.n, f"only {len(users)} bench users"
    title = gettext_noop(TITLE)
    total = round(args.rate * args.duration)
    interval = 1 / args.rate
    records: list[dict[str, Any]] = []
    late = 0
    start = time.monotonic() + 0.2
    for i in range(total):
        delay = start + i * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -interval:
            late += 1
        stamp: dict[str, int] = {}
        with transaction.atomic():
            # Registered before alert_raise's push, so it runs first: right after COMMIT.
            transaction.on_commit(lambda stamp=stamp: stamp.__setitem__("commit", time.time_ns()))
            alerts = alert_raise(kind="roster.shift", title=title, params={"institution": f"压测{i}"},
                                 to=[to_user(users[i % len(users)])])
            transaction.on_commit(lambda stamp=stamp: stamp.__setitem__("pushed", time.time_ns()))
        records.append({"id": str(alerts[0].pk), "commit": stamp["commit"], "pushed": stamp["pushed"]})
    elapsed = time.monotonic() - start
    Path(args.out).write_text(json.dumps({"records": records, "elapsed_s": elapsed, "late": late}))


def role_clients(args: argparse.Namespace) -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(_clients(args))


async def _clients(args: argparse.Namespace) -> None:
    from websockets.asyncio.client import connect

    cookies = json.loads(Path(args.cookies).read_text())[: args.n]
    origin = f"http://{urllib.parse.urlsplit(args.url).netloc}"
    receipts: list[tuple[str, int]] = []
    state = {"connect_errors": 0, "closed_by_server": 0, "backlog_alerts": 0}
    sockets: list[Any] = []
    gate = asyncio.Semaphore(args.connect_concurrency)
    stopping = asyncio.Event()

    async def open_one(cookie: str) -> Any:
        async with gate:
            try:
                ws = await connect(args.url, origin=origin, additional_headers={"Cookie": cookie},
                                   open_timeout=120, ping_interval=None, max_queue=None)
                first = json.loads(await asyncio.wait_for(ws.recv(), 120))
            except Exception as exc:
                state["connect_errors"] += 1
                print(f"connect failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                return None
        if first.get("type") != "backlog":
            state["connect_errors"] += 1
            return None
        state["backlog_alerts"] += len(first.get("alerts", []))
        return ws

    async def listen(ws: Any) -> None:
        try:
            async for raw in ws:
                now = time.time_ns()
                message = json.loads(raw)
                if message.get("type") == "alert":
                    alert_id = message["alert"]["id"]
                    receipts.append((alert_id, now))
                    await ws.send(json.dumps({"type": "receipt", "ids": [alert_id]}))
        except Exception:  # noqa: S110  (counted below: the server closed the socket)
            pass
        if not stopping.is_set():
            state["closed_by_server"] += 1

    started = time.monotonic()
    opened = await asyncio.gather(*(open_one(c["cookie"]) for c in cookies))
    sockets = [ws for ws in opened if ws is not None]
    listeners = [asyncio.ensure_future(listen(ws)) for ws in sockets]
    print(f"READY {len(sockets)} {time.monotonic() - started:.2f}", flush=True)

    loop = asyncio.get_running_loop()
    while True:  # the orchestrator asks "count" until everything has arrived, then says "stop"
        command = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if command != "count":
            break
        print(f"COUNT {len(receipts)}", flush=True)
    stopping.set()
    await asyncio.gather(*(asyncio.wait_for(ws.close(), 5) for ws in sockets), return_exceptions=True)
    for task in listeners:
        task.cancel()
    Path(args.out).write_text(json.dumps({"receipts": receipts, "sockets": len(sockets),
                                          **state}))


# --- orchestrator ----------------------------------------------------------------------------------


def child(role: str, *extra: str, env: dict[str, str], **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--role", role, *extra],  # noqa: S603
                            cwd=ROOT, env=env, text=True, **kwargs)


def run_child(role: str, *extra: str, env: dict[str, str], timeout: float) -> None:
    proc = child(role, *extra, env=env)
    if proc.wait(timeout) != 0:
        raise RuntimeError(f"{role} failed with exit code {proc.returncode}")


def drain(clients: subprocess.Popen[str], *, expected: int, quiet: float) -> float:
    """Wait until the clients hold ``expected`` receipts, or nothing new arrived for ``quiet`` seconds
    (what is still missing then counts as lost). Returns the seconds waited after the last cell."""
    assert clients.stdin is not None and clients.stdout is not None
    started = last_change = time.monotonic()
    count = -1
    while True:
        clients.stdin.write("count\n")
        clients.stdin.flush()
        now_count = int(clients.stdout.readline().split()[1])
        now = time.monotonic()
        if now_count != count:
            count, last_change = now_count, now
        if count >= expected or now - last_change >= quiet:
            return round(now - started, 2)
        time.sleep(0.25)


def ensure_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            admin.execute(f'CREATE DATABASE "{name}"')


def versions(database_url: str, redis_url: str) -> dict[str, Any]:
    import psycopg
    import redis

    with psycopg.connect(database_url) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    client = redis.Redis.from_url(redis_url)
    try:
        rv = client.info("server")["redis_version"]
    finally:
        client.close()
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "postgresql": pg, "redis": rv,
            "platform": platform.platform()}


def run_cell(*, n: int, rate: float, duration: float, env: dict[str, str], workdir: str, redis_url: str,
             pids: dict[str, int | None]) -> dict[str, Any]:
    out = os.path.join(workdir, f"driver-{n}-{rate:g}.json")
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    busy_before, total_before = machine_cpu()
    pg_before = postgres_cpu_seconds()
    window_start = time.monotonic()
    driver = child("driver", "--n", str(n), "--rate", str(rate), "--duration", str(duration), "--out", out,
                   env=env)
    pids = {**pids, "driver": driver.pid}
    with PubSubProbe(redis_url, 20) as probe:
        # The driver's CPU is read just before it exits (a reaped process has no /proc entry).
        driver_cpu = 0.0
        while driver.poll() is None:
            driver_cpu = cpu_seconds(driver.pid) or driver_cpu
            time.sleep(0.2)
        time.sleep(1.0)  # stragglers
    if driver.returncode != 0:
        raise RuntimeError(f"driver failed with exit code {driver.returncode}")
    after = {name: cpu_seconds(pid) for name, pid in pids.items() if name != "driver"}
    busy_after, total_after = machine_cpu()
    pg_after = postgres_cpu_seconds()
    window = time.monotonic() - window_start  # CPU shares are over this whole window, driver start-up included
    result = json.loads(Path(out).read_text())
    wall = result["elapsed_s"]
    cpu = {name: round(100 * (after[name] - before[name]) / window, 1) for name in after}
    cpu["driver"] = round(100 * driver_cpu / window, 1)
    cpu["postgres"] = round(100 * (pg_after - pg_before) / window, 1)
    if total_after > total_before:
        cores = os.cpu_count() or 1
        busy = 100 * cores * (busy_after - busy_before) / (total_after - total_before)
        cpu["machine_busy"] = round(busy, 1)
        # Whatever else ran on the machine meanwhile (it competes for the same cores).
        cpu["other_processes"] = round(max(0.0, busy - sum(v for k, v in cpu.items() if k != "machine_busy")), 1)
    return {"records": result["records"], "elapsed_s": wall, "late": result["late"],
            "redis_pubsub_ms": probe.result(), "cpu_percent_of_one_core": cpu}


def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    sockets = [50] if args.quick else args.sockets
    rates = [10.0] if args.quick else args.rates
    duration = 5.0 if args.quick else args.duration
    workdir = tempfile.mkdtemp(prefix="anmu-bench-")
    redis_server = None
    server = None
    clients: subprocess.Popen[str] | None = None
    try:
        if args.redis_url:
            redis_url = args.redis_url
        else:
            redis_server = PrivateRedis().start()
            redis_url = redis_server.url
        ensure_database(args.database_url)
        env = process_env(DATABASE_URL=args.database_url, REDIS_URL=redis_url,
                          DB_CONN_MAX_AGE=str(args.conn_max_age))
        manage("migrate", "--noinput", "-v", "0", env=env, timeout=600)
        cookies = os.path.join(workdir, "cookies.json")
        run_child("seed", "--users", str(max(sockets)), "--out", cookies, env=env, timeout=600)

        with PubSubProbe(redis_url, 100) as idle_probe:
            time.sleep(3)
        server = AsgiServer(env=env, workers=args.workers, log_dir=workdir).start(timeout=60)
        pids = {"server": server.proc.pid if server.proc else None,
                "redis": redis_server.proc.pid if redis_server and redis_server.proc else None}

        results = []
        for n in sockets:
            out = os.path.join(workdir, f"clients-{n}.json")
            clients = child("clients", "--n", str(n), "--url", server.ws_url, "--cookies", cookies, "--out", out,
                            "--connect-concurrency", str(args.connect_concurrency), env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            assert clients.stdout is not None and clients.stdin is not None
            ready = clients.stdout.readline().split()
            if not ready or ready[0] != "READY":
                raise RuntimeError(f"clients for N={n} did not start: {ready}")
            connected, connect_s = int(ready[1]), float(ready[2])
            cells = []
            for rate in rates:
                cell = run_cell(n=n, rate=rate, duration=duration, env=env, workdir=workdir, redis_url=redis_url,
                                pids={**pids, "clients": clients.pid})
                cells.append((rate, cell))
            drained = drain(clients, expected=sum(len(cell["records"]) for _rate, cell in cells),
                            quiet=args.grace)
            clients.stdin.write("stop\n")
            clients.stdin.flush()
            clients.wait(120)
            received = json.loads(Path(out).read_text())
            arrivals: dict[str, list[int]] = {}
            for alert_id, at in received["receipts"]:
                arrivals.setdefault(alert_id, []).append(at)
            for rate, cell in cells:
                latencies, push = [], []
                lost = duplicates = 0
                for record in cell["records"]:
                    push.append((record["pushed"] - record["commit"]) / 1e6)
                    seen = arrivals.get(record["id"])
                    if not seen:
                        lost += 1
                        continue
                    duplicates += len(seen) - 1
                    latencies.append((min(seen) - record["commit"]) / 1e6)
                results.append({
                    "sockets": n, "sockets_connected": connected, "rate_per_s": rate,
                    "alerts": len(cell["records"]), "achieved_rate_per_s": round(len(cell["records"]) / cell["elapsed_s"], 2),
                    "driver_fell_behind": cell["late"], "lost": lost, "duplicates": duplicates,
                    # Counted over all of this N's cells and the pauses between them.
                    "sockets_closed_by_server_during_this_n": received["closed_by_server"],
                    "commit_to_receipt_ms": summary(latencies),
                    "commit_to_push_returned_ms": summary(push),
                    "redis_pubsub_ms": cell["redis_pubsub_ms"],
                    "cpu_percent_of_one_core": cell["cpu_percent_of_one_core"],
                    "connect_all_s": connect_s,
                    "drain_after_last_cell_s": drained,
                })
        target_row = next((r for r in results if r["sockets"] == TARGET["sockets"]
                           and r["rate_per_s"] == TARGET["rate_per_s"]), None)
        met = None
        if target_row is not None:
            p99 = target_row["commit_to_receipt_ms"]["p99"]
            met = bool(target_row["lost"] == 0 and p99 is not None and p99 <= TARGET["p99_ms_at_most"])
        return {
            "benchmark": "alert_latency",
            "machine": versions(args.database_url, redis_url),
            "config": {"server": f"uvicorn project.asgi:application --workers {args.workers}",
                       "database": "postgresql", "db_conn_max_age": args.conn_max_age,
                       "channel_layer": "channels_redis (project settings, REDIS_URL)",
                       "redis": "private redis-server" if redis_server else redis_url,
                       "duration_s_per_cell": duration, "grace_s": args.grace, "quick": args.quick},
            "redis_pubsub_idle_ms": idle_probe.result(),
            "results": results,
            "target": {**TARGET, "met": met},
        }
    finally:
        if clients is not None and clients.poll() is None:
            clients.kill()
        if server is not None:
            server.stop()
        if redis_server is not None:
            redis_server.close()
        if args.keep_workdir:
            print(f"raw stamps and server log kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: N=50, M=10 for 5 s")
    parser.add_argument("--sockets", type=lambda s: [int(x) for x in s.split(",")], default=[100, 500, 1000])
    parser.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")], default=[10.0, 50.0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per cell")
    parser.add_argument("--grace", type=float, default=10.0,
                        help="after the load, stop waiting once no alert arrived for this many seconds")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""),
                        help="use this Redis instead of starting a private redis-server")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--conn-max-age", type=int, default=0, help="DB_CONN_MAX_AGE for every process")
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--keep-workdir", action="store_true",
                        help="keep the raw commit/arrival stamps and the server log")
    # Child roles (internal).
    parser.add_argument("--role", choices=["seed", "driver", "clients"], help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--cookies", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.role == "seed":
        role_seed(args)
    elif args.role == "driver":
        role_driver(args)
    elif args.role == "clients":
        role_clients(args)
    else:
        print(json.dumps(orchestrate(args), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
