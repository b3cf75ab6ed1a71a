"""The alert websocket at /ws/alerts/ (protocol in the README, "Alert messages").

Session-authenticated. Anonymous and inactive users are refused. On connect the client receives its
unacknowledged alerts; new ones arrive live; the client sends receipts ("delivered"), reads and
acknowledgements, each only for its own alerts.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop

from notifications.push import user_group

CLOSE_UNAUTHENTICATED = 4401
BACKLOG_LIMIT = 200


def _language(scope: dict[str, Any]) -> str:
    """The language of the page that opened the socket: Django's language cookie, else zh-hans."""
    cookies = scope.get("cookies") or {}
    code = cookies.get(settings.LANGUAGE_COOKIE_NAME, "")
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


class AlertConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.language = _language(self.scope)
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json(await self._backlog())

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

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
            await self._mark(ids[:BACKLOG_LIMIT], field)
            if kind == "read":
                await self.send_json({"type": "count", "unread": await self._unread()})
        elif kind == "ack":
            await self._ack(content.get("id"))
        else:
            await self._error("unknown_type", gettext_noop("Unknown message type."))

    # Messages from the channel layer -------------------------------------------------------------

    async def alert_new(self, event: dict[str, Any]) -> None:
        message, unread = await self._alert(event.get("id"))
        if message is not None:
            await self.send_json({"type": "alert", "alert": message, "unread": unread})

    async def alert_closed(self, event: dict[str, Any]) -> None:
        message, unread = await self._alert(event.get("id"))
        if message is not None:
            await self.send_json({"type": "closed", "alert": message, "unread": unread})

    async def referral_changed(self, event: dict[str, Any]) -> None:
        """A referral this user's institution sent or receives changed: boards reload their rows."""
        await self.send_json({"type": "referral", "id": event.get("id"), "state": event.get("state")})

    # Helpers -------------------------------------------------------------------------------------

    async def _error(self, code: str, message: str, **extra: Any) -> None:
        with translation.override(self.language):
            text = translation.gettext(message)
        await self.send_json({"type": "error", "code": code, "message": text, **extra})

    @database_sync_to_async
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

    @database_sync_to_async
    def _unread(self) -> int:
        return self._unread_sync()

    @database_sync_to_async
    def _alert(self, alert_id: Any) -> tuple[dict[str, Any] | None, int]:
        """The alert and the unread count in one trip to the database thread (one connection): all of a
        server's consumers share that thread, so a referral to twenty duty doctors waits on it twenty times."""
        from notifications.selectors import visible_alerts

        with translation.override(self.language):
            alert = visible_alerts(self.user).select_related("acknowledged_by").filter(pk=alert_id).first()
            if alert is None:
                return None, 0
            return alert.as_message(), self._unread_sync()

    @database_sync_to_async
    def _mark(self, ids: list[Any], field: str) -> int:
        from notifications.services import alerts_mark

        return alerts_mark(user=self.user, ids=ids, field=field)

    async def _ack(self, alert_id: Any) -> None:
        from organisations.http import ActionDenied

        try:
            message = await self._ack_sync(alert_id)
        except ActionDenied as exc:
            await self._error("not_yours", exc.reason, id=str(alert_id))
            return
        await self.send_json({"type": "acked", "alert": message, "unread": await self._unread()})

    @database_sync_to_async
    def _ack_sync(self, alert_id: Any) -> dict[str, Any]:
        from notifications.services import alert_acknowledge

        with translation.override(self.language):
            return alert_acknowledge(alert_id=alert_id, by=self.user).as_message()
