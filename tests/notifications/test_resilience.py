"""Redis going away must never break a transition, and alerts cross server processes (issue 3, item 7).

* Redis stopped, or frozen (SIGSTOP: connections open, nothing answers) during a transition: the
  transition commits, the alert row is stored, the push gives up within REDIS_SOCKET_TIMEOUT; when
  Redis returns a reconnecting client gets the alert in its backlog and a connected client gets it from
  the re-push of undelivered alerts. A quiet socket survives longer than that timeout. A Celery
  ``.delay()`` with the broker down falls back to sending inline. These use a private ``redis-server``
  on a free port, which the test stops and restarts, configured exactly as project/settings.py does.
* Two ``uvicorn`` processes sharing one Redis layer and one database each deliver to their own clients
  alerts raised by a third process, and shut down promptly afterwards. These use a private
  ``redis-server`` when installed, else the ``REDIS_URL`` of the run (another db number), and a
  database of their own, migrated here.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import runpy
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from django.conf import settings as django_settings
from django.db import connections, transaction
from django.utils.translation import gettext_noop

from notifications import push
from notifications.consumers import AlertConsumer
from notifications.models import Alert
from notifications.recipients import to_user
from notifications.services import alert_raise, alerts_repush_undelivered
from tests.servers import REDIS_SERVER, AsgiServer, PrivateRedis, login, manage, migrated_sqlite, process_env

TITLE = gettext_noop("Nobody is on duty at %(institution)s")
# Generous: a push bounded by REDIS_SOCKET_TIMEOUT (2 s) fails within a few seconds; only an unbounded
# one (waiting forever on a frozen Redis) comes near this.
BOUND_SECONDS = 30


# --- Redis down during a transition ----------------------------------------------------------------


def redis_settings(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The channel layer and cache that project/settings.py builds for REDIS_URL=url: the settings
    module itself is run again with that variable, so these tests exercise the real configuration."""
    with mock.patch.dict(os.environ, {"REDIS_URL": url}):
        built = runpy.run_path(str(Path(django_settings.BASE_DIR) / "project" / "settings.py"))
    return built["CHANNEL_LAYERS"], built["CACHES"]


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed: these tests stop and restart a Redis of their own")
    server = PrivateRedis().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_layer(private_redis: PrivateRedis, settings: Any) -> Iterator[PrivateRedis]:
    """The channel layer and the cache on the private Redis."""
    settings.CHANNEL_LAYERS, settings.CACHES = redis_settings(private_redis.url)
    channel_layers.backends.clear()
    yield private_redis
    channel_layers.backends.clear()


@pytest.fixture
def celery_on_private_redis(redis_layer: PrivateRedis) -> Iterator[Any]:
    """Celery as in production: tasks go to the broker (the private Redis), not run eagerly."""
    from project.celery import app

    saved = {"task_always_eager": app.conf.task_always_eager, "broker_url": app.conf.broker_url}

    def reset_pools() -> None:
        # Connections are pooled per app; drop them so the next .delay() dials the broker now configured.
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
        app.amqp._producer_pool = None

    app.conf.update(task_always_eager=False, broker_url=redis_layer.url)
    reset_pools()
    try:
        yield app
    finally:
        app.conf.update(saved)
        reset_pools()


def run_bounded(fn: Callable[[], Any], *, timeout: float = BOUND_SECONDS) -> Any:
    """Run ``fn`` in a thread (its own DB connection, real commits) and fail, not hang, if it blocks."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"still blocked after {timeout} s with Redis unavailable"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def raise_alert(user: Any) -> Alert:
    """A transition in miniature: one transaction that raises an alert; the push runs on commit."""
    with transaction.atomic():
        alerts = alert_raise(kind="test.outage", title=TITLE, params={"institution": "闽侯县医院"},
                             to=[to_user(user)])
    return alerts[0]


async def connect(user: Any) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(AlertConsumer.as_asgi(), "/ws/alerts/")
    communicator.scope["user"] = user
    connected, _code = await communicator.connect(timeout=10)
    assert connected
    return communicator


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outage", ["stopped", "frozen"])
async def test_redis_outage_during_a_transition_loses_no_alert(outage, redis_layer, personas):
    me = personas.users.obstetrician_a
    if outage == "stopped":
        redis_layer.stop()
    else:
        redis_layer.freeze()

    alert = run_bounded(lambda: raise_alert(me))  # no exception, and not stuck on the dead socket

    row = await Alert.objects.aget(pk=alert.pk)
    assert row.recipient_id == me.pk
    assert row.push_attempts == 1 and row.pushed_at is None  # tried, failed, left to the sweep

    if outage == "stopped":
        redis_layer.start()  # same port: the configuration does not change
    else:
        redis_layer.thaw()

    # A client that (re)connects gets the alert in its backlog.
    communicator = await connect(me)
    backlog = await communicator.receive_json_from(timeout=10)
    assert backlog["type"] == "backlog"
    assert [a["id"] for a in backlog["alerts"]] == [str(alert.pk)]

    # The sweep's re-push reaches the connected client live, now that Redis is back.
    assert await sync_to_async(alerts_repush_undelivered)() == 1
    live = await communicator.receive_json_from(timeout=10)
    assert live["type"] == "alert" and live["alert"]["id"] == str(alert.pk)
    row = await Alert.objects.aget(pk=alert.pk)
    assert row.pushed_at is not None and row.push_attempts == 2

    # Once the browser confirms, the sweep leaves it alone for good.
    await communicator.send_json_to({"type": "receipt", "ids": [str(alert.pk)]})
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=10))["type"] == "pong"
    assert (await Alert.objects.aget(pk=alert.pk)).delivered_at is not None
    later = row.pushed_at + dt.timedelta(hours=1)  # well past any backoff
    assert await sync_to_async(alerts_repush_undelivered)(now=later) == 0
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
def test_a_frozen_redis_costs_one_transition_one_timeout(redis_layer, personas, caplog):
    """Three raises and a board push in one transaction are four push batches after commit: only the
    first waits out REDIS_SOCKET_TIMEOUT, the others give up at once; every row is committed."""
    users = [personas.users.obstetrician_a, personas.users.obstetrician_b, personas.users.primary_a]

    def transition() -> list[Alert]:
        with transaction.atomic():
            alerts = [raise_alert(user) for user in users]
            transaction.on_commit(lambda: push.push_event([u.pk for u in users], {"type": "record.changed"}))
        return alerts

    redis_layer.freeze()
    with caplog.at_level(logging.WARNING, logger="notifications.push"):
        alerts = run_bounded(transition)
    assert caplog.text.count("timed out after") == 1  # one bound waited, not four
    assert caplog.text.count("skipped") == 3
    rows = Alert.objects.filter(pk__in=[a.pk for a in alerts])
    assert {(row.recipient_id, row.push_attempts, row.pushed_at) for row in rows} == {
        (user.pk, 1, None) for user in users}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("outage", ["stopped", "frozen"])
async def test_a_socket_opened_while_redis_is_down_is_refused_cleanly(outage, redis_layer, personas):
    """Refused (1013, try again later) instead of a crashed consumer, which the server answers with
    HTTP 500; a frozen Redis does not hold the handshake open either."""
    if outage == "stopped":
        redis_layer.stop()
    else:
        redis_layer.freeze()
    communicator = WebsocketCommunicator(AlertConsumer.as_asgi(), "/ws/alerts/")
    communicator.scope["user"] = personas.users.obstetrician_a
    connected, code = await communicator.connect(timeout=BOUND_SECONDS)
    assert not connected and code == 1013
    await communicator.wait(timeout=BOUND_SECONDS)  # the consumer ended without an exception


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_idle_socket_outlives_the_redis_socket_timeout(redis_layer, personas):
    """channels-redis waits for messages with a blocking BZPOPMIN; the short socket timeout that keeps
    transitions fast must not cut that wait short, or every quiet websocket dies after a few seconds."""
    me = personas.users.obstetrician_a
    communicator = await connect(me)
    assert (await communicator.receive_json_from(timeout=10))["type"] == "backlog"
    # Quiet for longer than the socket timeout and than one whole blocking wait.
    await asyncio.sleep(max(django_settings.REDIS_SOCKET_TIMEOUT, RedisChannelLayer.brpop_timeout) + 1)
    alert = await sync_to_async(raise_alert)(me)
    live = await communicator.receive_json_from(timeout=10)
    assert live["type"] == "alert" and live["alert"]["id"] == str(alert.pk)
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
def test_sms_task_with_the_broker_down_is_sent_inline(celery_on_private_redis, redis_layer, personas, caplog):
    import redis

    me = personas.users.obstetrician_a
    me.phone = "13912345678"
    me.save(update_fields=["phone"])

    def transition() -> Alert:
        with transaction.atomic():
            alert = raise_alert(me)
            push.sms_for_alerts([alert.pk])
        return alert

    # Broker up: the task is queued for a worker (none runs here), so nothing is sent yet. This shows the
    # test really goes through the broker rather than running the task eagerly.
    queued = run_bounded(transition)
    assert Alert.objects.get(pk=queued.pk).sms_sent_at is None
    with redis.Redis.from_url(redis_layer.url) as broker:
        assert broker.llen("celery") == 1

    redis_layer.stop()
    with caplog.at_level(logging.WARNING, logger="notifications.push"):
        alert = run_bounded(transition)  # no exception: .delay() failed after commit, inside on_commit
    row = Alert.objects.get(pk=alert.pk)
    assert row.sms_sent_at is not None  # sent from the committing process instead
    assert row.push_attempts == 1 and row.pushed_at is None
    assert "SMS task could not be queued" in caplog.text
    assert "13912345678" not in caplog.text


# --- Two server processes sharing one Redis layer --------------------------------------------------

PASSWORD = "ward-password-2026"
USERS = ("ward_x", "ward_y")

CREATE_USERS = f"""
from organisations.models import User
for name in {USERS!r}:
    user = User(username=name, name=name)
    user.set_password({PASSWORD!r})
    user.save()
"""

RAISE_ALERTS = f"""
import json
from django.db import transaction
from notifications.models import Alert
from notifications.recipients import to_user
from notifications.services import alert_raise
from organisations.models import User
raised = {{}}
for name in {USERS!r}:
    with transaction.atomic():
        alert = alert_raise(kind="roster.shift", title={TITLE!r}, params={{"institution": name}},
                            to=[to_user(User.objects.get(username=name))])[0]
    raised[name] = str(alert.pk)
pushed = Alert.objects.filter(pk__in=raised.values(), pushed_at__isnull=False).count()
print(json.dumps({{"raised": raised, "pushed": pushed}}))
"""


@pytest.fixture
def shared_redis_url() -> Iterator[str]:
    if REDIS_SERVER is not None:
        server = PrivateRedis().start()
        try:
            yield server.url
        finally:
            server.close()
    elif django_settings.REDIS_URL:
        # The run's own Redis, on a database number nothing else in the suite uses.
        parts = urllib.parse.urlsplit(django_settings.REDIS_URL)
        yield urllib.parse.urlunsplit(parts._replace(path="/13"))
    else:
        pytest.skip("needs Redis: redis-server is not installed and REDIS_URL is not set")


@pytest.fixture
def process_database(tmp_path) -> Iterator[dict[str, str]]:
    """Environment for a database that child processes share: a PostgreSQL database of its own on the
    PostgreSQL leg (dropped afterwards), else a SQLite file. pytest-django's test database is not
    used: the children cannot see an in-memory SQLite database."""
    if not django_settings.DATABASE_URL:
        yield {"SQLITE_PATH": str(tmp_path / "servers.sqlite3")}
        return
    import psycopg

    name = f"anmu_servers_{uuid.uuid4().hex[:12]}"
    parts = urllib.parse.urlsplit(django_settings.DATABASE_URL)
    with psycopg.connect(django_settings.DATABASE_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"DATABASE_URL": urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))}
    finally:
        with psycopg.connect(django_settings.DATABASE_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def receive_json(ws: Any, timeout: float = 10) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def open_socket(server: AsgiServer, cookie: str) -> Any:
    from websockets.asyncio.client import connect as ws_connect

    ws = await ws_connect(server.ws_url, origin=server.base_url, additional_headers={"Cookie": cookie},
                          open_timeout=10)
    hello = await receive_json(ws)
    assert hello["type"] == "backlog" and hello["alerts"] == []
    return ws


def test_two_server_processes_deliver_across_the_redis_layer(shared_redis_url, process_database, tmp_path):
    env = process_env(REDIS_URL=shared_redis_url, **process_database)
    if "SQLITE_PATH" in process_database:
        migrated_sqlite(process_database["SQLITE_PATH"], env)
    else:
        manage("migrate", "--noinput", "-v", "0", env=env, timeout=300)
    manage("shell", "-c", CREATE_USERS, env=env)
    one = AsgiServer(env=env, log_dir=str(tmp_path))
    two = AsgiServer(env=env, log_dir=str(tmp_path))
    try:
        for server in (one.launch(), two.launch()):
            server.wait_ready()
        x_cookie = login(one.base_url, "ward_x", PASSWORD)
        y_cookie = login(two.base_url, "ward_y", PASSWORD)

        async def scenario() -> None:
            async with contextlib.AsyncExitStack() as stack:
                x_one = await open_socket(one, x_cookie)
                stack.push_async_callback(x_one.close)
                y_two = await open_socket(two, y_cookie)
                stack.push_async_callback(y_two.close)
                x_two = await open_socket(two, x_cookie)  # the same person in a second tab, other server
                stack.push_async_callback(x_two.close)

                # A third process (as a Celery worker or another server would) raises one alert each.
                output = await asyncio.to_thread(manage, "shell", "-c", RAISE_ALERTS, env=env)
                result = json.loads(output.strip().splitlines()[-1])
                raised = result["raised"]
                assert result["pushed"] == 2  # both group_sends went through Redis

                for ws, owner in ((x_one, "ward_x"), (y_two, "ward_y"), (x_two, "ward_x")):
                    message = await receive_json(ws)
                    assert message["type"] == "alert"
                    assert message["alert"]["id"] == raised[owner]
                    assert owner in message["alert"]["title"]
                # ...and nobody gets anything else, in particular not the other person's alert.
                async def nothing_more(ws: Any) -> None:
                    with pytest.raises(TimeoutError):
                        await asyncio.wait_for(ws.recv(), 1.0)

                await asyncio.gather(*(nothing_more(ws) for ws in (x_one, y_two, x_two)))

        try:
            asyncio.run(scenario())
            # Every client has gone, so a SIGTERM ends each server's graceful shutdown promptly; a
            # consumer that outlives its closed socket would hold it up until it is killed.
            assert one.stop(timeout=8), "server one hung on shutdown (a consumer outlived its socket)"
            assert two.stop(timeout=8), "server two hung on shutdown (a consumer outlived its socket)"
        except BaseException:
            print("server one log:\n", one.read_log(), "\nserver two log:\n", two.read_log())  # noqa: T201
            raise
    finally:
        one.stop()
        two.stop()
