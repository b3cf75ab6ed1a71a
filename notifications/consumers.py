"""The alert websocket at /ws/alerts/ (protocol in the README, "Alert messages").

Session-authenticated. Anonymous and inactive users are refused. On connect the client receives its
unacknowledged alerts; new ones arrive live; the client sends receipts ("delivered"), reads and
acknowledgements, each only for its own alerts. The socket closes (4401) when its session logs out,
when its user is deactivated, and when the periodic re-check finds the session gone; it is refused
(1013, try again later) while the channel layer (Redis) cannot be reached.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import uuid
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar

from asgiref.sync import SyncToAsync
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import translation
from django.utils.translation import gettext_noop
from redis.exceptions import RedisError

from notifications.push import session_group, user_group

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455: the server cannot serve the socket now (the layer is down)
BACKLOG_LIMIT = 200
# What a channel layer on an unreachable Redis raises (stopped: refused; frozen: our own wait_for).
LAYER_ERRORS = (RedisError, OSError, TimeoutError)

T = TypeVar("T")
# How long a batch waits for company. A raise to twenty doctors reaches a server process as twenty
# messages within a few milliseconds (over ~80 ms on channels-redis' queue layer, which pops them one at a
# time): a 1 ms wait gathers most loads into one query; receipts are bookkeeping, and a longer wait keeps
# them out of the loads' way (one UPDATE for a whole raise). Measured with benchmarks/referral.py.
BATCH_WINDOW_SECONDS = {"loads": 0.001, "marks": 0.1}


@cache
def _database_threads() -> ThreadPoolExecutor | None:
    """Threads for the consumers' database calls on PostgreSQL: channels would run every consumer's
    call on one thread, so a referral to twenty duty doctors loaded their alerts one after the other.
    Half the connection pool, so that HTTP requests still find connections; SQLite keeps one thread."""
    if connection.vendor != "postgresql":
        return None
    pool = getattr(settings, "DB_POOL_MAX_SIZE", 0)
    return ThreadPoolExecutor(max_workers=max(2, pool // 2) if pool else 4, thread_name_prefix="alert-db")


def _in_database_thread(function: Callable[..., T]) -> Callable[..., Any]:
    """``database_sync_to_async``, on the consumers' own threads when there are several."""

    def call(*args: Any, **kwargs: Any) -> T:
        close_old_connections()
        try:
            return function(*args, **kwargs)
        finally:
            close_old_connections()

    async def run(*args: Any, **kwargs: Any) -> T:
        executor = _database_threads()
        if executor is None:
            return await SyncToAsync(call, thread_sensitive=True)(*args, **kwargs)
        return await SyncToAsync(call, thread_sensitive=False, executor=executor)(*args, **kwargs)

    return run


class _Batcher:
    """Coalesces the database work of one process's sockets. A referral alerts twenty duty doctors at
    once: their twenty sockets each need the alert and their unread count, and each sends a receipt back.
    One at a time that was forty trips to the database threads, and the twentieth doctor waited for the
    nineteen before her. Here every load (and every receipt) that arrives while a batch is running waits
    for the next one, which reads all the alerts and all the counts in two queries (one UPDATE per field
    for receipts). One batch of each sort is in flight per event loop; each waits ``BATCH_WINDOW_SECONDS``
    for the loads (receipts) that arrive just after the first."""

    def __init__(self) -> None:
        self.loads: list[tuple[Any, Any, str, asyncio.Future[tuple[dict[str, Any] | None, int]]]] = []
        self.marks: list[tuple[Any, list[Any], str, asyncio.Future[None]]] = []
        self.running: set[str] = set()

    async def alert(self, user: Any, alert_id: Any, language: str) -> tuple[dict[str, Any] | None, int]:
        future: asyncio.Future[tuple[dict[str, Any] | None, int]] = asyncio.get_running_loop().create_future()
        self.loads.append((user, alert_id, language, future))
        self._start("loads")
        return await future

    async def mark(self, user: Any, ids: list[Any], field: str) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.marks.append((user, ids, field, future))
        self._start("marks")
        await future

    def _start(self, sort: str) -> None:
        if sort not in self.running:
            self.running.add(sort)
            asyncio.ensure_future(self._run(sort))

    async def _run(self, sort: str) -> None:
        try:
            while True:
                await asyncio.sleep(BATCH_WINDOW_SECONDS[sort])
                batch = getattr(self, sort)
                if not batch:
                    return
                setattr(self, sort, [])
                work = _load_alerts if sort == "loads" else _mark_alerts
                try:
                    results = await work([item[:3] for item in batch])
                except Exception as exc:
                    for *_rest, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (*_rest, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self.running.discard(sort)


_batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher] = weakref.WeakKeyDictionary()


def _batcher() -> _Batcher:
    loop = asyncio.get_running_loop()
    if loop not in _batchers:
        _batchers[loop] = _Batcher()
    return _batchers[loop]


@_in_database_thread
def _load_alerts(requests: list[tuple[Any, Any, str]]) -> list[tuple[dict[str, Any] | None, int]]:
    """Each (user, alert id, language): the alert as that user's message, if it is hers, and her unread
    count. Two queries for the whole batch."""
    from django.db.models import Count

    from notifications.models import Alert

    wanted: dict[str, Any] = {}
    for user, alert_id, _language in requests:
        if getattr(user, "is_authenticated", False) and user.is_active:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                wanted[str(uuid.UUID(str(alert_id)))] = user.pk
    found = {str(a.pk): a for a in Alert.objects.select_related("acknowledged_by").filter(pk__in=list(wanted))
             if a.recipient_id == wanted.get(str(a.pk))}
    recipients = {a.recipient_id for a in found.values()}
    unread = dict(Alert.objects.filter(recipient_id__in=recipients, acknowledged_at__isnull=True, read_at__isnull=True)
                  .values("recipient_id").annotate(n=Count("pk")).values_list("recipient_id", "n")) if recipients else {}
    results: list[tuple[dict[str, Any] | None, int]] = []
    for user, alert_id, language in requests:
        alert = found.get(str(alert_id))
        if alert is None or alert.recipient_id != user.pk:
            results.append((None, 0))
            continue
        with translation.override(language):
            results.append((alert.as_message(), unread.get(user.pk, 0)))
    return results


@_in_database_thread
def _mark_alerts(requests: list[tuple[Any, list[Any], str]]) -> list[None]:
    """Receipts and reads of the whole batch: one UPDATE per field, each id only for its own recipient."""
    from django.db.models import Q
    from django.utils import timezone

    from notifications.models import Alert

    by_field: dict[str, Q] = {}
    for user, ids, field in requests:
        if field not in ("delivered_at", "read_at"):
            raise ValueError(field)
        clean = []
        for value in ids:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                clean.append(uuid.UUID(str(value)))
        if clean:
            condition = Q(recipient_id=user.pk, pk__in=clean)
            by_field[field] = by_field[field] | condition if field in by_field else condition
    for field, condition in by_field.items():
        Alert.objects.filter(condition, **{f"{field}__isnull": True}).update(**{field: timezone.now()})
    return [None] * len(requests)


def _language(scope: dict[str, Any]) -> str:
    """The language of the page that opened the socket: Django's language cookie, else zh-hans."""
    cookies = scope.get("cookies") or {}
    code = cookies.get(settings.LANGUAGE_COOKIE_NAME, "")
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class AlertConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: tuple[str, ...] = ()
    closing = False
    recheck: asyncio.Task[None] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """A channel layer that fails (Redis stopped, or frozen past our bound) closes the socket
        cleanly — refused before the handshake, 1013 after it — instead of crashing the consumer, which
        the server would answer with HTTP 500. The page shows itself offline and retries."""
        try:
            await self._serve(scope, receive, send)
        except LAYER_ERRORS as exc:
            logger.warning("alert socket closed, channel layer unavailable: %s", type(exc).__name__)
            self._stop_recheck()
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})

    async def _serve(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """channels' ``AsyncConsumer.__call__`` with the layer's ``new_channel`` bounded: on the pub/sub
        layer it is a SUBSCRIBE, which a frozen Redis never answers (the layer has no read timeout)."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.base_send = send
        try:
            if self.channel_layer is None:
                await await_many_dispatch([receive], self.dispatch)
                return
            self.channel_name = await asyncio.wait_for(self.channel_layer.new_channel(),
                                                       settings.REDIS_SOCKET_TIMEOUT)
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            await await_many_dispatch([receive, self.channel_receive], self.dispatch)
        except StopConsumer:
            pass

    async def dispatch(self, message: dict[str, Any]) -> None:
        # channels closes stale database connections on its one sync thread before every message;
        # this consumer's database calls do that on their own threads (``_in_database_thread``), so
        # the extra trip, twice per alert and doctor, is skipped.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.language = _language(self.scope)
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None)
        groups = [user_group(user.pk)] + ([session_group(self.session_key)] if self.session_key else [])
        # Bounded: a frozen Redis never answers, and the layer itself has no read timeout.
        await asyncio.wait_for(asyncio.gather(*(self.channel_layer.group_add(group, self.channel_name)
                                                for group in groups)), settings.REDIS_SOCKET_TIMEOUT)
        self.groups_joined = tuple(groups)
        await self.accept()
        await self.send_json(await self._backlog())
        self.recheck = asyncio.ensure_future(self._recheck_loop())

    async def disconnect(self, code: int) -> None:
        self._stop_recheck()
        if self.groups_joined:
            with contextlib.suppress(*LAYER_ERRORS):  # the groups expire by themselves
                await asyncio.wait_for(asyncio.gather(*(self.channel_layer.group_discard(group, self.channel_name)
                                                        for group in self.groups_joined)),
                                       settings.REDIS_SOCKET_TIMEOUT)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """A frame that is not JSON text gets a ``bad_message`` error; the socket stays open."""
        if text_data is None:
            await self._error("bad_message", gettext_noop("The message must be a JSON object."))
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("bad_message", gettext_noop("The message must be a JSON object."))
            return
        await self.receive_json(content, **kwargs)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("bad_message", gettext_noop("The message must be a JSON object."))
            return
        kind = content.get("type")
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind in ("receipt", "read"):
            ids = content.get("ids")
            if not isinstance(ids, list):
                await self._error("bad_message", gettext_noop("ids must be a list."))
                return
            field = "delivered_at" if kind == "receipt" else "read_at"
            await _batcher().mark(self.user, ids[:BACKLOG_LIMIT], field)
            if kind == "read":
                await self.send_json({"type": "count", "unread": await self._unread()})
        elif kind == "ack":
            await self._ack(content.get("id"))
        else:
            await self._error("unknown_type", gettext_noop("Unknown message type."))

    # Messages from the channel layer -------------------------------------------------------------

    async def alert_new(self, event: dict[str, Any]) -> None:
        if self.closing:
            return
        message, unread = await _batcher().alert(self.user, event.get("id"), self.language)
        if message is not None and not self.closing:
            await self.send_json({"type": "alert", "alert": message, "unread": unread})

    async def alert_closed(self, event: dict[str, Any]) -> None:
        if self.closing:
            return
        message, unread = await _batcher().alert(self.user, event.get("id"), self.language)
        if message is not None and not self.closing:
            await self.send_json({"type": "closed", "alert": message, "unread": unread})

    async def record_changed(self, event: dict[str, Any]) -> None:
        """A record this user watches changed (``kind`` names it: a referral the user's institution sent or
        receives, ...): boards reload their rows through their own scoped views."""
        if not self.closing:
            await self.send_json({"type": "changed", "kind": event.get("kind"), "id": event.get("id"),
                                  "state": event.get("state")})

    async def session_ended(self, event: dict[str, Any]) -> None:
        """The session logged out, or the user was deactivated: nothing more reaches this socket."""
        await self._end()

    # Helpers -------------------------------------------------------------------------------------

    async def _end(self) -> None:
        if not self.closing:
            self.closing = True
            self._stop_recheck()
            await self.close(code=CLOSE_UNAUTHENTICATED)

    def _stop_recheck(self) -> None:
        if self.recheck is not None and self.recheck is not asyncio.current_task():
            self.recheck.cancel()
        self.recheck = None

    async def _recheck_loop(self) -> None:
        """The close on logout or deactivation is a push, which Redis may lose; this catches the rest
        (and expired sessions) within ALERT_SOCKET_RECHECK_SECONDS."""
        while not self.closing:
            await asyncio.sleep(settings.ALERT_SOCKET_RECHECK_SECONDS)
            try:
                signed_in = await self._signed_in()
            except Exception as exc:  # the database is away: try again next time rather than guess
                logger.warning("alert socket re-check failed: %s", type(exc).__name__)
                continue
            if not signed_in:
                await self._end()
                return

    @_in_database_thread
    def _signed_in(self) -> bool:
        """The socket's session still belongs to its user (not logged out, expired or invalidated by a
        password change) and the user is still active; without a session, only the latter."""
        from importlib import import_module
        from types import SimpleNamespace

        from django.contrib.auth import get_user, get_user_model

        if self.session_key is None:
            return get_user_model()._default_manager.filter(pk=self.user.pk, is_active=True).exists()
        session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=self.session_key)
        user = get_user(SimpleNamespace(session=session))  # type: ignore[arg-type]
        return bool(user.is_authenticated and user.pk == self.user.pk and user.is_active)

    async def _error(self, code: str, message: str, **extra: Any) -> None:
        with translation.override(self.language):
            text = translation.gettext(message)
        await self.send_json({"type": "error", "code": code, "message": text, **extra})

    @_in_database_thread
    def _backlog(self) -> dict[str, Any]:
        from notifications.selectors import visible_alerts

        with translation.override(self.language):
            alerts = list(visible_alerts(self.user).filter(acknowledged_at__isnull=True)
                          .select_related("acknowledged_by").order_by("-created_at")[:BACKLOG_LIMIT])
            return {"type": "backlog", "alerts": [a.as_message() for a in alerts],
                    "unread": self._unread_sync()}

    def _unread_sync(self) -> int:
        from notifications.selectors import visible_alerts

        return visible_alerts(self.user).filter(acknowledged_at__isnull=True, read_at__isnull=True).count()

    @_in_database_thread
    def _unread(self) -> int:
        return self._unread_sync()

    async def _ack(self, alert_id: Any) -> None:
        from organisations.http import ActionDenied

        try:
            message = await self._ack_sync(alert_id)
        except ActionDenied as exc:
            await self._error("not_yours", exc.reason, id=str(alert_id))
            return
        await self.send_json({"type": "acked", "alert": message, "unread": await self._unread()})

    @_in_database_thread
    def _ack_sync(self, alert_id: Any) -> dict[str, Any]:
        from notifications.services import alert_acknowledge

        with translation.override(self.language):
            return alert_acknowledge(alert_id=alert_id, by=self.user).as_message()
