"""Referral alert latency: a referral request committed → its critical alert on every duty doctor's websocket.

The real transition (``workflows.referral.services.referral_request``, urgency "emergency") raises a
critical ``referral.requested`` alert to whoever is on duty at the rescue centre; here 20 duty doctors
are on the roster, their 20 websockets are open and so are 500 sockets of bystanders who must receive
nothing. The machinery is ``benchmarks/alert_latency.py``'s (same production stack, same websocket
clients, same raw Redis floor); what is new is the seed (a region tree, a sending hospital, a city
rescue centre with its duty roster, one fresh pregnancy per referral) and the driver, which sends
referrals through the service layer:

* seed     alert_latency's seed makes the socket users and their sessions; this script's seed makes the
           first ``--doctors`` of them duty doctors on the centre's roster and the rest bystanders, and
           books the pregnancies (a dedicated database, ``anmu_bench_referral`` by default);
* clients  alert_latency's clients, twice: one process for the doctors' sockets, one for the bystanders';
* driver   ``--rate`` referrals per second for ``--duration`` seconds, each one
           ``transaction.atomic(): referral_request(...)``, stamped by an on-commit callback registered
           before the service's own push (so: right after COMMIT); the push calls are timed too.

Prints one JSON document.

    .venv/bin/python benchmarks/referral.py            # 1 referral/s for 30 s, 20 doctors, 500 bystanders
    .venv/bin/python benchmarks/referral.py --quick    # 1 referral/s for 5 s, 20 doctors, 50 bystanders

See benchmarks/README.md for the options and what the figures mean.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import alert_latency  # noqa: E402
from benchmarks.alert_latency import (  # noqa: E402
    PubSubProbe,
    cpu_seconds,
    drain,
    ensure_database,
    machine_cpu,
    postgres_cpu_seconds,
    summary,
    versions,
)
from tests.servers import AsgiServer, PrivateRedis, manage, process_env  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/anmu_bench_referral"
# A region tree of its own (province code 99 is not used by GB/T 2260), so nothing else covers it.
PROVINCE, CITY, COUNTY = ("990000", "压测省"), ("990100", "压测市"), ("990101", "压测县")
HOSPITAL = "压测县人民医院"
CENTRE_HOST = "压测市妇幼保健院"
SENDER = "referral_sender"
REFERRAL = {"urgency": "emergency", "reason": "产后出血，宫缩乏力，药物处理无效", "diagnosis": "产后出血 1500 mL",
            "vitals": {"systolic_bp": 84, "diastolic_bp": 50, "pulse": 126, "spo2": 95}}
POSITIONS = (1, 5, 10, 15, 20)  # push positions reported in by_push_position


# --- child roles -----------------------------------------------------------------------------------


def role_seed(args: argparse.Namespace) -> None:
    """The referral world around alert_latency's bench users: ``bench_00000 …`` up to ``--doctors`` are
    the centre's duty doctors, on duty now; the rest hold no role anywhere. Idempotent."""
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from cases.identity import id_check_char
    from cases.models import Colour, Pregnancy, Woman
    from organisations.models import DutyShift, Institution, Membership, Region, RescueCentre, Role, User

    names = [f"bench_{i:05d}" for i in range(args.doctors + args.bystanders)]
    users = list(User.objects.filter(username__in=names).order_by("username"))
    assert len(users) == len(names), f"only {len(users)} bench users: run alert_latency's seed first"
    doctors, bystanders = users[: args.doctors], users[args.doctors:]
    now = timezone.now()
    with transaction.atomic():
        province, _ = Region.objects.get_or_create(code=PROVINCE[0], defaults={
            "name": PROVINCE[1], "level": Region.Level.PROVINCE})
        city, _ = Region.objects.get_or_create(code=CITY[0], defaults={
            "name": CITY[1], "level": Region.Level.CITY, "parent": province})
        county, _ = Region.objects.get_or_create(code=COUNTY[0], defaults={
            "name": COUNTY[1], "level": Region.Level.COUNTY, "parent": city})
        hospital, _ = Institution.objects.get_or_create(region=county, name=HOSPITAL, defaults={
            "kind": Institution.Kind.MIDWIFERY_HOSPITAL, "level": Institution.Level.SECONDARY})
        host, _ = Institution.objects.get_or_create(region=city, name=CENTRE_HOST, defaults={
            "kind": Institution.Kind.MCH_INSTITUTE, "level": Institution.Level.TERTIARY})
        centre, _ = RescueCentre.objects.get_or_create(institution=host, defaults={
            "level": RescueCentre.Level.CITY, "duty_phone": "0999-87000120"})
        centre.regions.set([county])
        sender, _ = User.objects.get_or_create(username=SENDER, defaults={"name": "压测产科医生"})
        Membership.objects.get_or_create(user=sender, institution=hospital, role=Role.OBSTETRICIAN)

        # The roster: exactly these doctors on duty from an hour ago until well after the run; the
        # bystanders hold no role (a previous run with more doctors may have given them one).
        DutyShift.objects.filter(institution=host).delete()
        Membership.objects.filter(user__in=bystanders).delete()
        Membership.objects.filter(institution=host).exclude(user__in=doctors).delete()
        for doctor in doctors:
            Membership.objects.get_or_create(user=doctor, institution=host, role=Role.DUTY_DOCTOR)
        DutyShift.objects.bulk_create([
            DutyShift(institution=host, user=doctor, kind=DutyShift.Kind.DUTY, starts_at=now - dt.timedelta(hours=1),
                      ends_at=now + dt.timedelta(hours=12)) for doctor in doctors])

        # One pregnancy per referral, never referred before (an open referral blocks a second one).
        fresh = Pregnancy.objects.filter(booking_institution=hospital, status=Pregnancy.Status.ONGOING,
                                         referrals__isnull=True)
        missing = args.referrals - fresh.count()
        if missing > 0:
            start = Woman.objects.filter(registered_by=hospital).count()
            women = []
            for seq in range(start, start + missing):
                born = dt.date(1985, 1, 1) + dt.timedelta(days=seq // 500)
                first17 = f"{COUNTY[0]}{born:%Y%m%d}{seq % 500 * 2:03d}"  # even: a woman (GB 11643)
                women.append(Woman(name=f"压测孕妇{seq:05d}", id_type=Woman.IdType.RESIDENT_ID,
                                   id_number=first17 + id_check_char(first17), date_of_birth=born,
                                   residence_region=county, registered_by=hospital))
            Woman.objects.bulk_create(women)
            today = timezone.localdate()
            Pregnancy.objects.bulk_create([
                Pregnancy(woman=woman, lmp=today - dt.timedelta(days=250), booking_date=today - dt.timedelta(days=180),
                          booking_institution=hospital, gravidity=2, parity=1, colour=Colour.RED)
                for woman in women])
        pregnancies = [str(pk) for pk in fresh.order_by("woman__name").values_list("pk", flat=True)[: args.referrals]]
    Path(args.out).write_text(json.dumps({
        "sender": sender.pk, "hospital": str(hospital.pk), "centre": str(centre.pk),
        "doctors": [u.pk for u in doctors], "bystanders": [u.pk for u in bystanders], "pregnancies": pregnancies}))


def role_driver(args: argparse.Namespace) -> None:
    """``--rate`` referral requests per second through the service layer, open loop, each timed from
    its COMMIT to the return of every websocket push it triggers."""
    import django

    django.setup()
    from django.db import transaction

    from cases.models import Pregnancy
    from notifications import push
    from notifications.models import Alert
    from organisations.models import Institution, RescueCentre, User
    from workflows.referral.services import referral_request

    seed = json.loads(Path(args.seed).read_text())
    sender = User.objects.get(pk=seed["sender"])
    hospital = Institution.objects.select_related("region").get(pk=seed["hospital"])
    centre = RescueCentre.objects.select_related("institution__region").get(pk=seed["centre"])
    by_pk = {str(p.pk): p for p in Pregnancy.objects.filter(pk__in=seed["pregnancies"]).select_related("woman")}
    pregnancies = [by_pk[pk] for pk in seed["pregnancies"]]
    total = round(args.rate * args.duration)
    warmup = args.warmup
    assert len(pregnancies) >= warmup + total, f"only {len(pregnancies)} fresh pregnancies for {warmup + total}"

    # Timing only, behaviour unchanged: when each alert's push returned (a batch is sent at once and
    # returns together; position is the order within the batch), and when push_alerts (the 20 alert
    # pushes) returned, before the board push that follows it.
    sends: dict[str, tuple[int, int, bool]] = {}
    current: dict[str, int] = {}
    send_many, push_alerts = push._send_many, push.push_alerts

    def timed_send_many(messages: list[tuple[str, dict[str, Any]]], **kwargs: Any) -> list[bool]:
        results = send_many(messages, **kwargs)
        returned = time.time_ns()
        for (_group, message), ok in zip(messages, results, strict=True):
            if message.get("type") == "alert.new":
                current["position"] = current.get("position", 0) + 1
                sends[message["id"]] = (returned, current["position"], ok)
        return results

    def timed_push_alerts(ids: Any, **kwargs: Any) -> int:
        sent = push_alerts(ids, **kwargs)
        current["alerts_pushed"] = time.time_ns()
        return sent

    push._send_many = timed_send_many  # type: ignore[assignment]
    push.push_alerts = timed_push_alerts  # type: ignore[assignment]

    def request(i: int) -> dict[str, Any]:
        current.clear()
        stamp: dict[str, int] = {"start": time.time_ns()}
        with transaction.atomic():
            # Registered before referral_request's pushes, so it runs first: right after COMMIT.
            transaction.on_commit(lambda: stamp.__setitem__("commit", time.time_ns()))
            referral = referral_request(pregnancy=pregnancies[warmup + i], by=sender, from_institution=hospital,
                                        to_centre=centre, **REFERRAL)
            transaction.on_commit(lambda: stamp.__setitem__("pushed", time.time_ns()))
        return {"referral": str(referral.pk), **stamp, "alerts_pushed": current.get("alerts_pushed")}

    interval = 1 / args.rate
    records: list[dict[str, Any]] = []
    late = 0
    start = 0.0

    def pace(i: int) -> float:
        nonlocal late
        delay = start + i * interval - time.monotonic()
        if delay < -interval:
            late += 1
        return delay

    if args.driver == "view":
        # As the ASGI server runs a sync view: in sync_to_async's thread under a running event loop, so
        # the pushes' async_to_sync runs on that loop and reuses its Redis connections.
        import asyncio

        from asgiref.sync import sync_to_async

        async def run() -> None:
            nonlocal start
            for i in range(-warmup, 0):
                records.append(await sync_to_async(request, thread_sensitive=True)(i))
            start = time.monotonic() + 1.0
            for i in range(total):
                await asyncio.sleep(max(0.0, pace(i)))
                records.append(await sync_to_async(request, thread_sensitive=True)(i))

        asyncio.run(run())
    else:
        # A plain sync process (a Celery task, a management command): every async_to_sync push makes
        # a new event loop, hence a new Redis connection.
        for i in range(-warmup, 0):
            records.append(request(i))
        start = time.monotonic() + 1.0
        for i in range(total):
            time.sleep(max(0.0, pace(i)))
            records.append(request(i))
    elapsed = time.monotonic() - start
    # Who each alert was for, from the table (the truth), after the load.
    alerts: dict[str, dict[str, Any]] = {}
    for pk, recipient_id, subject_id in Alert.objects.filter(
            kind="referral.requested", subject_id__in=[r["referral"] for r in records]).values_list(
            "pk", "recipient_id", "subject_id"):
        sent_at, position, ok = sends.get(str(pk), (None, None, False))
        alerts.setdefault(subject_id, {})[str(pk)] = {"recipient": recipient_id, "sent": sent_at,
                                                      "position": position, "push_ok": ok}
    for record in records:
        record["alerts"] = alerts.get(record["referral"], {})
    Path(args.out).write_text(json.dumps({"warmup": records[:warmup], "records": records[warmup:],
                                          "elapsed_s": elapsed, "late": late}))


# --- orchestrator ----------------------------------------------------------------------------------


def child(role: str, *extra: str, env: dict[str, str], **kwargs: Any) -> subprocess.Popen[str]:
    """This script in a child process (alert_latency.child runs alert_latency.py's roles)."""
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--role", role, *extra],  # noqa: S603
                            cwd=ROOT, env=env, text=True, **kwargs)


def start_clients(name: str, cookies: list[dict[str, Any]], *, url: str, workdir: str, env: dict[str, str],
                  concurrency: int) -> tuple[subprocess.Popen[str], str]:
    path = os.path.join(workdir, f"cookies-{name}.json")
    Path(path).write_text(json.dumps(cookies))
    out = os.path.join(workdir, f"clients-{name}.json")
    proc = alert_latency.child("clients", "--n", str(len(cookies)), "--url", url, "--cookies", path, "--out", out,
                               "--connect-concurrency", str(concurrency), env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    return proc, out


def wait_ready(proc: subprocess.Popen[str], name: str) -> tuple[int, float]:
    assert proc.stdout is not None
    ready = proc.stdout.readline().split()
    if not ready or ready[0] != "READY":
        raise RuntimeError(f"{name} clients did not start: {ready}")
    return int(ready[1]), float(ready[2])


def stop_clients(proc: subprocess.Popen[str], out: str) -> dict[str, Any]:
    assert proc.stdin is not None
    proc.stdin.write("stop\n")
    proc.stdin.flush()
    proc.wait(120)
    return json.loads(Path(out).read_text())


def server_errors(path: str) -> dict[str, int]:
    """How many tracebacks of each exception type the server has logged so far."""
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return {}
    found = [lines[i + 1:] for i, line in enumerate(lines) if line.startswith("Traceback")]
    kinds = [next((x.split(":")[0] for x in rest if x and not x[0].isspace()), "?") for rest in found]
    return dict(Counter(kinds))


def analyse(records: list[dict[str, Any]], doctors: dict[str, Any], doctor_ids: list[int]) -> dict[str, Any]:
    arrivals: dict[str, list[int]] = {}
    for alert_id, at in doctors["receipts"]:
        arrivals.setdefault(alert_id, []).append(at)
    expected_ids = set(doctor_ids)
    pairs, push_side, after_push, last, first, transaction_ms = [], [], [], [], [], []
    alerts_pushed, all_pushed = [], []
    by_position: dict[int, list[float]] = {}
    lost = duplicates = incomplete = alerts_to_others = push_failed = 0
    for record in records:
        commit = record["commit"]
        transaction_ms.append((commit - record["start"]) / 1e6)
        all_pushed.append((record["pushed"] - commit) / 1e6)
        if record.get("alerts_pushed"):
            alerts_pushed.append((record["alerts_pushed"] - commit) / 1e6)
        recipients = {a["recipient"] for a in record["alerts"].values()}
        alerts_to_others += len(recipients - expected_ids)  # raised for someone not on the roster
        lost += len(expected_ids - recipients)  # an alert never raised is lost too
        latencies = []
        for alert_id, alert in record["alerts"].items():
            push_failed += not alert["push_ok"]
            if alert["sent"] is not None:
                push_side.append((alert["sent"] - commit) / 1e6)
            seen = arrivals.get(alert_id)
            if not seen:
                lost += 1
                continue
            duplicates += len(seen) - 1
            latency = (min(seen) - commit) / 1e6
            latencies.append(latency)
            if alert["sent"] is not None:
                after_push.append((min(seen) - alert["sent"]) / 1e6)
            if alert["position"] is not None:
                by_position.setdefault(alert["position"], []).append(latency)
        pairs += latencies
        if latencies and len(latencies) == len(expected_ids):
            last.append(max(latencies))
            first.append(min(latencies))
        else:
            incomplete += 1
    return {
        "commit_to_arrival_ms": summary(pairs, (50, 95, 99)),
        "lost": lost, "duplicates": duplicates,
        "last_of_doctors_ms": {**summary(last, (50, 95, 99)), "referrals_incomplete": incomplete},
        "first_of_doctors_ms": summary(first, (50, 99)),
        "alerts_to_others": alerts_to_others, "push_failed": push_failed,
        "where_the_time_goes": {
            "request_transaction_ms": summary(transaction_ms, (50, 99)),
            "commit_to_group_send_returned_ms": summary(push_side, (50, 99)),
            "group_send_returned_to_arrival_ms": summary(after_push, (50, 99)),
            "commit_to_alert_pushes_returned_ms": summary(alerts_pushed, (50, 99)),
            "commit_to_all_pushes_returned_ms": summary(all_pushed, (50, 99)),
            "commit_to_arrival_p50_ms_by_push_position": {
                str(p): summary(by_position[p], (50,))["p50"] for p in POSITIONS if p in by_position},
        },
    }


def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    bystanders = 50 if args.quick else args.bystanders
    duration = 5.0 if args.quick else args.duration
    referrals = round(args.rate * duration)
    workdir = tempfile.mkdtemp(prefix="anmu-bench-referral-")
    redis_server = server = None
    clients: list[subprocess.Popen[str]] = []
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
        cookies_path = os.path.join(workdir, "cookies.json")
        alert_latency.run_child("seed", "--users", str(args.doctors + bystanders), "--out", cookies_path, env=env,
                                timeout=600)
        seed_path = os.path.join(workdir, "seed.json")
        seeding = child("seed", "--doctors", str(args.doctors), "--bystanders", str(bystanders),
                        "--referrals", str(args.warmup + referrals), "--out", seed_path, env=env)
        if seeding.wait(600) != 0:
            raise RuntimeError(f"seed failed with exit code {seeding.returncode}")
        seed = json.loads(Path(seed_path).read_text())
        cookies = {c["user"]: c for c in json.loads(Path(cookies_path).read_text())}

        with PubSubProbe(redis_url, 100) as idle_probe:
            time.sleep(3)
        server = AsgiServer(env=env, workers=args.workers, log_dir=workdir).start(timeout=60)
        doctor_clients, doctor_out = start_clients("doctors", [cookies[pk] for pk in seed["doctors"]],
                                                   url=server.ws_url, workdir=workdir, env=env,
                                                   concurrency=args.connect_concurrency)
        clients.append(doctor_clients)
        bystander_clients, bystander_out = start_clients("bystanders", [cookies[pk] for pk in seed["bystanders"]],
                                                         url=server.ws_url, workdir=workdir, env=env,
                                                         concurrency=args.connect_concurrency)
        clients.append(bystander_clients)
        doctors_connected, doctors_connect_s = wait_ready(doctor_clients, "doctor")
        bystanders_connected, bystanders_connect_s = wait_ready(bystander_clients, "bystander")

        pids = {"server": server.proc.pid if server.proc else None,
                "redis": redis_server.proc.pid if redis_server and redis_server.proc else None,
                "doctor_clients": doctor_clients.pid, "bystander_clients": bystander_clients.pid}
        out = os.path.join(workdir, "driver.json")
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        busy_before, total_before = machine_cpu()
        pg_before = postgres_cpu_seconds()
        window_start = time.monotonic()
        driver = child("driver", "--seed", seed_path, "--rate", str(args.rate), "--duration", str(duration),
                       "--driver", args.driver, "--warmup", str(args.warmup), "--out", out, env=env)
        with PubSubProbe(redis_url, 20) as probe:
            driver_cpu = 0.0  # read just before it exits (a reaped process has no /proc entry)
            while driver.poll() is None:
                driver_cpu = cpu_seconds(driver.pid) or driver_cpu
                time.sleep(0.2)
            time.sleep(1.0)  # stragglers
        if driver.returncode != 0:
            raise RuntimeError(f"driver failed with exit code {driver.returncode}")
        after = {name: cpu_seconds(pid) for name, pid in pids.items()}
        busy_after, total_after = machine_cpu()
        pg_after = postgres_cpu_seconds()
        window = time.monotonic() - window_start
        cpu = {name: round(100 * (after[name] - before[name]) / window, 1) for name in after}
        cpu["driver"] = round(100 * driver_cpu / window, 1)
        cpu["postgres"] = round(100 * (pg_after - pg_before) / window, 1)
        if total_after > total_before:
            busy = 100 * (os.cpu_count() or 1) * (busy_after - busy_before) / (total_after - total_before)
            cpu["machine_busy"] = round(busy, 1)
            cpu["other_processes"] = round(max(0.0, busy - sum(v for k, v in cpu.items() if k != "machine_busy")), 1)

        driven = json.loads(Path(out).read_text())
        expected = (len(driven["warmup"]) + len(driven["records"])) * len(seed["doctors"])
        drained = drain(doctor_clients, expected=expected, quiet=args.grace)
        drain(bystander_clients, expected=1, quiet=1.0)  # anything still on its way to a bystander
        log_during_load = server_errors(server.log_path)
        doctors = stop_clients(doctor_clients, doctor_out)
        others = stop_clients(bystander_clients, bystander_out)
        time.sleep(2)  # the server handles 500 disconnects
        graceful = server.stop()
        log_total = server_errors(server.log_path)
        server = None
        figures = analyse(driven["records"], doctors, seed["doctors"])
        cold = analyse(driven["warmup"], doctors, seed["doctors"]) if driven["warmup"] else None
        return {
            "benchmark": "referral",
            "machine": versions(args.database_url, redis_url),
            "parameters": {
                "doctors": args.doctors, "bystanders": bystanders, "rate_per_s": args.rate, "duration_s": duration,
                "referrals": referrals, "urgency": REFERRAL["urgency"], "driver": args.driver, "warmup": args.warmup, "grace_s": args.grace, "quick": args.quick,
                "server": f"uvicorn project.asgi:application --workers {args.workers}",
                "database": "postgresql", "db_conn_max_age": args.conn_max_age,
                # The settings' default: a pool of 10 unless DB_CONN_MAX_AGE asks for persistent connections.
                "db_pool_max_size": int(os.environ.get("DB_POOL_MAX_SIZE") or (0 if args.conn_max_age else 10)),
                "channel_layer": "channels_redis (project settings, REDIS_URL)",
                "redis": "private redis-server" if redis_server else redis_url,
            },
            "referrals_sent": len(driven["records"]),
            "achieved_rate_per_s": round(len(driven["records"]) / driven["elapsed_s"], 3),
            "driver_fell_behind": driven["late"],
            **figures,
            # The untimed warm-up referrals, sent first by the fresh driver process (imports, first
            # connections, first channel-layer use): what a cold process pays.
            "warmup_excluded": None if cold is None else {
                "referrals": len(driven["warmup"]), "lost": cold["lost"],
                "commit_to_arrival_max_ms": cold["commit_to_arrival_ms"]["max"],
                "commit_to_alert_pushes_returned_ms": cold["where_the_time_goes"][
                    "commit_to_alert_pushes_returned_ms"]["max"],
                "request_transaction_ms": cold["where_the_time_goes"]["request_transaction_ms"]["max"]},
            "redis_pubsub_ms": probe.result(),
            "redis_pubsub_idle_ms": idle_probe.result(),
            "bystanders": {"sockets": bystanders_connected, "alerts_received": len(others["receipts"]),
                           "closed_by_server": others["closed_by_server"],
                           "connect_errors": others["connect_errors"], "connect_all_s": bystanders_connect_s},
            "doctor_sockets": {"sockets": doctors_connected, "closed_by_server": doctors["closed_by_server"],
                               "connect_errors": doctors["connect_errors"], "connect_all_s": doctors_connect_s,
                               "backlog_alerts_on_connect": doctors["backlog_alerts"]},
            "drain_after_load_s": drained,
            # Exceptions in the server log by type: up to the end of the load, and when the clients
            # closed every socket at once (after the measurement).
            "server_errors_during_load": log_during_load,
            "server_errors_at_close": {k: v - log_during_load.get(k, 0) for k, v in log_total.items()
                                       if v > log_during_load.get(k, 0)},
            "server_stopped_gracefully": graceful,
            "cpu_percent_of_one_core": cpu,
        }
    finally:
        for proc in clients:
            if proc.poll() is None:
                proc.kill()
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
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 s and 50 bystanders")
    parser.add_argument("--doctors", type=int, default=20, help="duty doctors on the roster, each with a socket")
    parser.add_argument("--bystanders", type=int, default=500, help="other users with a socket open")
    parser.add_argument("--rate", type=float, default=1.0, help="referral requests per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--grace", type=float, default=10.0,
                        help="after the load, stop waiting once no alert arrived for this many seconds")
    parser.add_argument("--database-url",
                        default=os.environ.get("BENCH_REFERRAL_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", ""),
                        help="use this Redis instead of starting a private redis-server")
    parser.add_argument("--driver", choices=["view", "plain"], default="view",
                        help="run referral_request as the ASGI server runs a sync view (view), or in a plain "
                             "sync process as a Celery task or command does (plain)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed referrals the driver sends first (its cold start is reported apart)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--conn-max-age", type=int, default=0, help="DB_CONN_MAX_AGE for every process")
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--keep-workdir", action="store_true",
                        help="keep the raw commit/arrival stamps and the server log")
    # Child roles (internal).
    parser.add_argument("--role", choices=["seed", "driver"], help=argparse.SUPPRESS)
    parser.add_argument("--referrals", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.role == "seed":
        role_seed(args)
    elif args.role == "driver":
        role_driver(args)
    else:
        print(json.dumps(orchestrate(args), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
