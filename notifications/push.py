"""Best-effort delivery: websocket pushes through the channel layer, and SMS.

Nothing here may raise into a committed transition: every failure is logged (without personal data)
and left to the sweep, which re-pushes what no browser has confirmed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import weakref
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)


def user_group(user_id: Any) -> str:
    return f"alerts.user.{user_id}"


def session_group(session_key: str) -> str:
    """The sockets opened with one login session (a digest: session keys never reach Redis)."""
    return f"alerts.session.{hashlib.sha256(session_key.encode()).hexdigest()[:40]}"


# Channel layers that let a push batch time out, and until when (time.monotonic()) pushes skip them.
_paused: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()


def _is_paused(layer: Any) -> bool:
    until = _paused.get(layer)
    return until is not None and time.monotonic() < until


async def _send_batch(layer: Any, messages: list[tuple[str, dict[str, Any]]], *, probe: bool) -> list[bool]:
    """Send every message at once and wait at most ``REDIS_SOCKET_TIMEOUT`` for the whole batch.

    The layer has no read timeout (see project/settings.py), so the push is bounded here: a Redis that
    accepts connections but does not answer must not hold up a committed transition — not even once per
    recipient (twenty duty doctors and a board would otherwise wait twenty timeouts). Once a batch has
    timed out, the layer is paused for ``REDIS_PUSH_PAUSE_SECONDS``: the pushes of the same commit (an
    accept closes alerts, raises one and tells the boards: three batches) and of the transitions that
    follow give up at once instead of each waiting a timeout again, so a transition waits at most one
    bound. ``probe`` (the sweep, which is off the request path) sends even while paused; any batch that
    completes in time lifts the pause."""
    if not probe and _is_paused(layer):
        logger.warning("push of %d messages skipped: the channel layer did not answer the last push", len(messages))
        return [False] * len(messages)

    async def one(group: str, message: dict[str, Any]) -> bool:
        try:
            await layer.group_send(group, message)
        except Exception as exc:  # Redis down or slow: the table keeps the alert; the sweep retries
            logger.warning("push to %s failed: %s", group, type(exc).__name__)
            return False
        return True

    tasks = [asyncio.ensure_future(one(group, message)) for group, message in messages]
    if not tasks:
        return []
    done, pending = await asyncio.wait(tasks, timeout=settings.REDIS_SOCKET_TIMEOUT)
    for task in pending:
        task.cancel()
    if pending:
        _paused[layer] = time.monotonic() + settings.REDIS_PUSH_PAUSE_SECONDS
        logger.warning("push of %d messages timed out after %ss", len(pending), settings.REDIS_SOCKET_TIMEOUT)
    else:
        _paused.pop(layer, None)
    return [task in done and task.result() for task in tasks]


def _send_many(messages: list[tuple[str, dict[str, Any]]], *, probe: bool = False) -> list[bool]:
    layer = get_channel_layer()
    if layer is None or not messages:
        return [False] * len(messages)
    try:
        return async_to_sync(_send_batch)(layer, messages, probe=probe)
    except Exception as exc:
        logger.warning("push batch failed: %s", type(exc).__name__)
        return [False] * len(messages)


def _send(group: str, message: dict[str, Any]) -> bool:
    return _send_many([(group, message)])[0]


def push_alerts(alert_ids: Iterable[Any], *, probe: bool = False) -> int:
    """Tell each recipient's open sockets that an alert arrived; the consumer loads it from the table.
    ``probe``: send even while the layer is paused after a timeout (the sweep's re-push)."""
    from notifications.models import Alert

    ids = list(alert_ids)
    try:
        rows = list(Alert.objects.filter(pk__in=ids).values_list("pk", "recipient_id"))
    except Exception as exc:
        logger.warning("alert push lookup failed: %s", type(exc).__name__)
        return 0
    results = _send_many([(user_group(recipient_id), {"type": "alert.new", "id": str(pk)}) for pk, recipient_id in rows],
                         probe=probe)
    ok_ids = [pk for (pk, _recipient), ok in zip(rows, results, strict=True) if ok]
    try:
        Alert.objects.filter(pk__in=[pk for pk, _r in rows]).update(push_attempts=F("push_attempts") + 1)
        if ok_ids:
            Alert.objects.filter(pk__in=ok_ids).update(pushed_at=timezone.now())
    except Exception as exc:
        logger.warning("alert push bookkeeping failed: %s", type(exc).__name__)
    return len(ok_ids)


def push_closed(alert_ids: Iterable[Any]) -> None:
    """Tell every recipient of a chain that it was acknowledged (by whom comes from the table)."""
    from notifications.models import Alert

    try:
        rows = list(Alert.objects.filter(pk__in=list(alert_ids)).values_list("pk", "recipient_id"))
    except Exception as exc:
        logger.warning("alert close lookup failed: %s", type(exc).__name__)
        return
    _send_many([(user_group(recipient_id), {"type": "alert.closed", "id": str(pk)}) for pk, recipient_id in rows])


def push_event(user_ids: Iterable[Any], event: dict[str, Any]) -> int:
    """Send one event to these users' open sockets. ``event["type"]`` names a consumer handler
    (``record.changed``: see :func:`push_record_changed`)."""
    return sum(_send_many([(user_group(user_id), event) for user_id in set(user_ids)]))


def record_changed_event(*, kind: str, pk: Any, state: str) -> dict[str, Any]:
    """The event any board subscribes to: a record of ``kind`` (``referral``, and the later processes' records)
    moved to ``state``. Ids only, never personal data: the page reloads what it shows through its own scoped
    view. The socket sends it as ``{"type": "changed", "kind", "id", "state"}``."""
    return {"type": "record.changed", "kind": kind, "id": str(pk), "state": state}


def push_record_changed(user_ids: Iterable[Any], *, kind: str, pk: Any, state: str) -> int:
    """Tell these users' open boards that a record they watch changed."""
    return push_event(user_ids, record_changed_event(kind=kind, pk=pk, state=state))


def push_sessions_ended(*, session_key: str | None = None, user_id: Any = None) -> None:
    """Close the open sockets of a session that logged out, or of a user who was deactivated. Best
    effort like every push: the sockets' periodic re-check closes whatever this misses."""
    groups = ([session_group(session_key)] if session_key else []) + ([user_group(user_id)] if user_id else [])
    _send_many([(group, {"type": "session.ended"}) for group in groups])


def sms_for_alerts(alert_ids: Iterable[Any]) -> None:
    """After commit, text the recipients of these alerts (through Celery when a broker is configured)."""
    from django.db import transaction

    ids = [str(pk) for pk in alert_ids]

    def dispatch() -> None:
        from notifications.tasks import send_alert_sms

        try:
            send_alert_sms.delay(ids)
        except Exception as exc:  # broker down: send from here rather than not at all
            logger.warning("SMS task could not be queued (%s); sending inline", type(exc).__name__)
            send_alert_sms(ids)

    transaction.on_commit(dispatch, robust=True)
