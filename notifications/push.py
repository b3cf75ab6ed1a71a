"""Best-effort delivery: websocket pushes through the channel layer, and SMS.

Nothing here may raise into a committed transition: every failure is logged (without personal data)
and left to the sweep, which re-pushes what no browser has confirmed.
"""

from __future__ import annotations

import asyncio
import logging
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


async def _send_batch(layer: Any, messages: list[tuple[str, dict[str, Any]]]) -> list[bool]:
    """Send every message at once and wait at most ``REDIS_SOCKET_TIMEOUT`` for the whole batch.

    The layer has no read timeout (see project/settings.py), so the push is bounded here: a Redis that
    accepts connections but does not answer must not hold up a committed transition — not even once per
    recipient (twenty duty doctors and a board would otherwise wait twenty timeouts)."""

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
        logger.warning("push of %d messages timed out after %ss", len(pending), settings.REDIS_SOCKET_TIMEOUT)
    return [task in done and task.result() for task in tasks]


def _send_many(messages: list[tuple[str, dict[str, Any]]]) -> list[bool]:
    layer = get_channel_layer()
    if layer is None or not messages:
        return [False] * len(messages)
    try:
        return async_to_sync(_send_batch)(layer, messages)
    except Exception as exc:
        logger.warning("push batch failed: %s", type(exc).__name__)
        return [False] * len(messages)


def _send(group: str, message: dict[str, Any]) -> bool:
    return _send_many([(group, message)])[0]


def push_alerts(alert_ids: Iterable[Any]) -> int:
    """Tell each recipient's open sockets that an alert arrived; the consumer loads it from the table."""
    from notifications.models import Alert

    ids = list(alert_ids)
    try:
        rows = list(Alert.objects.filter(pk__in=ids).values_list("pk", "recipient_id"))
    except Exception as exc:
        logger.warning("alert push lookup failed: %s", type(exc).__name__)
        return 0
    results = _send_many([(user_group(recipient_id), {"type": "alert.new", "id": str(pk)}) for pk, recipient_id in rows])
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
    """Tell these users' open sockets that something they watch changed (e.g. a referral on a command
    board); the event carries ids only, never personal data: the page reloads what it shows through
    its own scoped view. ``event["type"]`` names a consumer handler (``referral.changed``)."""
    return sum(_send_many([(user_group(user_id), event) for user_id in set(user_ids)]))


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
