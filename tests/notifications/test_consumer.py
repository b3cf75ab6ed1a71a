"""The alert websocket at the boundary: refusal, backlog, live push, receipts, acknowledgement.

Runs on the in-memory layer always, and on the Redis layer too when REDIS_URL is set (CI's
PostgreSQL + Redis leg)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.utils.translation import gettext_noop

from notifications.consumers import AlertConsumer
from notifications.models import Alert
from notifications.recipients import to_user
from notifications.services import alert_raise
from project.asgi import application

TITLE = gettext_noop("Nobody is on duty at %(institution)s")
LAYERS = ["memory"] + (["redis"] if settings.REDIS_URL else [])


@pytest.fixture(params=LAYERS)
def layer(request, settings):
    if request.param == "redis":
        settings.CHANNEL_LAYERS = {"default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",  # the project's default on Redis
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": "anmu-test"},
        }}
    else:
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield request.param
    channel_layers.backends.clear()


def raise_for(user, **kwargs):  # type: ignore[no-untyped-def]
    from django.db import transaction

    with transaction.atomic():
        alerts = alert_raise(kind="test.note", title=TITLE, params={"institution": "闽侯县医院"},
                             to=[to_user(user)], **kwargs)
    return alerts[0]


async def connect(user, language=None):  # type: ignore[no-untyped-def]
    communicator = WebsocketCommunicator(AlertConsumer.as_asgi(), "/ws/alerts/")
    communicator.scope["user"] = user
    if language:
        communicator.scope["cookies"] = {settings.LANGUAGE_COOKIE_NAME: language}
    connected, code = await communicator.connect()
    return communicator, connected, code


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_anonymous_is_refused(layer):
    from django.contrib.auth.models import AnonymousUser

    communicator, connected, code = await connect(AnonymousUser())
    assert not connected and code == 4401


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_inactive_user_is_refused(layer, personas):
    user = personas.users.obstetrician_a
    user.is_active = False
    await sync_to_async(user.save)()
    communicator, connected, _code = await connect(user)
    assert not connected


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_backlog_live_push_receipt_and_ack(layer, personas):
    me, other = personas.users.obstetrician_a, personas.users.obstetrician_b
    old = await sync_to_async(raise_for)(me)
    theirs = await sync_to_async(raise_for)(other)
    communicator, connected, _code = await connect(me)
    assert connected
    backlog = await communicator.receive_json_from(timeout=5)
    assert backlog["type"] == "backlog" and backlog["unread"] == 1
    assert [a["id"] for a in backlog["alerts"]] == [str(old.pk)]
    assert backlog["alerts"][0]["title"] == "闽侯县医院无人值班"

    new = await sync_to_async(raise_for)(me)  # committed, so pushed now
    live = await communicator.receive_json_from(timeout=5)
    assert live["type"] == "alert" and live["alert"]["id"] == str(new.pk) and live["unread"] == 2

    await communicator.send_json_to({"type": "receipt", "ids": [str(new.pk), str(theirs.pk)]})
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"
    assert (await Alert.objects.aget(pk=new.pk)).delivered_at is not None
    assert (await Alert.objects.aget(pk=theirs.pk)).delivered_at is None

    await communicator.send_json_to({"type": "ack", "id": str(theirs.pk)})
    refused = await communicator.receive_json_from(timeout=5)
    assert refused["type"] == "error" and refused["code"] == "not_yours"
    assert (await Alert.objects.aget(pk=theirs.pk)).acknowledged_at is None

    await communicator.send_json_to({"type": "ack", "id": str(old.pk)})
    acked = await communicator.receive_json_from(timeout=5)
    closed = await communicator.receive_json_from(timeout=5)
    assert {acked["type"], closed["type"]} == {"acked", "closed"}
    assert acked["alert"]["acknowledged_by"] == str(me)
    assert (await Alert.objects.aget(pk=old.pk)).acknowledged_by_id == me.pk
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_one_raise_to_several_sockets_gives_each_its_own_alert_count_and_language(layer, personas):
    """The loads of sockets that receive at once go to the database together (one batch): each socket
    still gets only its own alert, its own unread count, in its own language; receipts of the batch
    mark only each sender's own alerts."""
    from django.db import transaction

    a, b, c = personas.users.obstetrician_a, personas.users.obstetrician_b, personas.users.mch_a
    await sync_to_async(raise_for)(a)  # a already has one unread
    sockets = []
    for user, language in ((a, None), (b, "en"), (c, None)):
        communicator, connected, _code = await connect(user, language)
        assert connected
        await communicator.receive_json_from(timeout=5)  # backlog
        sockets.append(communicator)

    def raise_to_all() -> list[Alert]:
        with transaction.atomic():
            return alert_raise(kind="test.note", title=TITLE, params={"institution": "闽侯县医院"},
                               to=[to_user(a), to_user(b), to_user(c)])

    alerts = {alert.recipient_id: alert for alert in await sync_to_async(raise_to_all)()}
    got = [await s.receive_json_from(timeout=5) for s in sockets]
    assert [m["alert"]["id"] for m in got] == [str(alerts[u.pk].pk) for u in (a, b, c)]
    assert [m["unread"] for m in got] == [2, 1, 1]
    assert got[0]["alert"]["title"] == "闽侯县医院无人值班"
    assert got[1]["alert"]["title"] == "Nobody is on duty at 闽侯县医院"

    # a's receipt names b's alert too: only a's own is marked; b's own receipt marks b's.
    await sockets[0].send_json_to({"type": "receipt", "ids": [str(alerts[a.pk].pk), str(alerts[b.pk].pk), "junk"]})
    await sockets[1].send_json_to({"type": "receipt", "ids": [str(alerts[b.pk].pk)]})
    for s in sockets[:2]:
        await s.send_json_to({"type": "ping"})
        assert (await s.receive_json_from(timeout=5))["type"] == "pong"
    assert (await Alert.objects.aget(pk=alerts[a.pk].pk)).delivered_at is not None
    assert (await Alert.objects.aget(pk=alerts[b.pk].pk)).delivered_at is not None
    assert (await Alert.objects.aget(pk=alerts[c.pk].pk)).delivered_at is None
    for s in sockets:
        await s.disconnect()


@pytest.mark.django_db(transaction=True)  # on PostgreSQL the load runs on a thread with its own connection
def test_a_batched_load_never_returns_someone_elses_alert(personas):
    from notifications.consumers import _load_alerts

    mine, theirs = raise_for(personas.users.obstetrician_a), raise_for(personas.users.obstetrician_b)
    me = personas.users.obstetrician_a
    results = async_to_sync(_load_alerts)([(me, mine.pk, "zh-hans"), (me, theirs.pk, "zh-hans"), (me, "junk", "en")])
    assert results[0][0]["id"] == str(mine.pk) and results[0][1] == 1
    assert results[1] == (None, 0) and results[2] == (None, 0)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_socket_never_receives_someone_elses_alert(layer, personas):
    communicator, connected, _code = await connect(personas.users.obstetrician_a)
    await communicator.receive_json_from(timeout=5)  # backlog
    await sync_to_async(raise_for)(personas.users.obstetrician_b)
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.send_json_to({"type": "nonsense"})
    assert (await communicator.receive_json_from(timeout=5))["code"] == "unknown_type"
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_full_stack_uses_the_session_and_checks_origin(layer, personas, client):
    await sync_to_async(client.force_login)(personas.users.obstetrician_a)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    good = WebsocketCommunicator(application, "/ws/alerts/",
                                 headers=[(b"cookie", cookie.encode()), (b"origin", b"http://localhost")])
    connected, _ = await good.connect()
    assert connected
    assert (await good.receive_json_from(timeout=5))["type"] == "backlog"
    await good.disconnect()
    anonymous = WebsocketCommunicator(application, "/ws/alerts/", headers=[(b"origin", b"http://localhost")])
    connected, code = await anonymous.connect()
    assert not connected and code == 4401
    foreign = WebsocketCommunicator(application, "/ws/alerts/",
                                    headers=[(b"cookie", cookie.encode()), (b"origin", b"http://evil.example")])
    connected, _ = await foreign.connect()
    assert not connected


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_malformed_frame_is_answered_and_the_socket_stays_open(layer, personas):
    communicator, connected, _code = await connect(personas.users.obstetrician_a)
    assert connected
    await communicator.receive_json_from(timeout=5)  # backlog
    for frame in ({"text_data": "{not json"}, {"text_data": "[1, 2"}, {"bytes_data": b"\x00\x01"}):
        await communicator.send_to(**frame)
        refused = await communicator.receive_json_from(timeout=5)
        assert refused["type"] == "error" and refused["code"] == "bad_message", frame
        assert refused["message"] == "消息必须是 JSON 对象。"
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"
    await communicator.disconnect()


async def session_socket(client, user):  # type: ignore[no-untyped-def]
    """A socket opened through the full stack with a real login session of ``user`` (its own client)."""
    await sync_to_async(client.force_login)(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    communicator = WebsocketCommunicator(application, "/ws/alerts/",
                                         headers=[(b"cookie", cookie.encode()), (b"origin", b"http://localhost")])
    connected, _ = await communicator.connect()
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "backlog"
    return communicator


async def assert_closed(communicator, code=4401):  # type: ignore[no-untyped-def]
    output = await communicator.receive_output(timeout=10)
    assert output == {"type": "websocket.close", "code": code}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_logging_out_closes_that_sessions_sockets_only(layer, personas):
    from django.test import Client

    me = personas.users.obstetrician_a
    leaving, staying = Client(), Client()  # two logins of the same person (two browsers)
    left = await session_socket(leaving, me)
    stays = await session_socket(staying, me)

    response = await sync_to_async(leaving.post)("/accounts/logout/")
    assert response.status_code == 302
    await assert_closed(left)

    await sync_to_async(raise_for)(me)  # the other login still gets its alerts
    live = await stays.receive_json_from(timeout=5)
    assert live["type"] == "alert"
    await stays.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_deactivating_a_user_closes_their_sockets(layer, personas):
    me, colleague = personas.users.obstetrician_a, personas.users.obstetrician_b
    mine, _connected, _code = await connect(me)
    await mine.receive_json_from(timeout=5)
    theirs, _connected, _code = await connect(colleague)
    await theirs.receive_json_from(timeout=5)

    me.is_active = False
    await sync_to_async(me.save)()
    await assert_closed(mine)
    assert await theirs.receive_nothing(timeout=0.5)
    await theirs.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["session_deleted", "deactivated_silently"])
async def test_the_periodic_recheck_closes_what_no_push_announced(layer, personas, settings, change):
    """Sessions expire and bulk updates send no signal (and a push may be lost): the socket finds out."""
    from django.contrib.sessions.models import Session
    from django.test import Client

    from organisations.models import User

    settings.ALERT_SOCKET_RECHECK_SECONDS = 1
    me, colleague = personas.users.obstetrician_a, personas.users.obstetrician_b
    mine, theirs = Client(), Client()
    communicator = await session_socket(mine, me)
    control = await session_socket(theirs, colleague)
    if change == "session_deleted":
        await Session.objects.filter(session_key=mine.cookies[settings.SESSION_COOKIE_NAME].value).adelete()
    else:
        await User.objects.filter(pk=me.pk).aupdate(is_active=False)
    await assert_closed(communicator)
    # A session still signed in survives its re-checks.
    assert await control.receive_nothing(timeout=1.5)
    await control.send_json_to({"type": "ping"})
    assert (await control.receive_json_from(timeout=5))["type"] == "pong"
    await control.disconnect()
