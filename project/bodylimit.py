"""Request bodies are bounded before Django reads them.

Django's ASGI handler reads the whole body into a spooled temporary file before any view or
middleware runs, so ``DATA_UPLOAD_MAX_MEMORY_SIZE`` and a view's 403 both come too late: an anonymous
200 MB POST was written to disk first. This ASGI wrapper answers 413 at once when ``Content-Length``
is above ``REQUEST_MAX_BODY_BYTES``, and stops reading a body sent without one (chunked) as soon as it
passes the limit.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext


def _message(limit: int) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(
            "The request is too large: at most %(mb)s MB can be sent at once. Send fewer or smaller files."
        ) % {"mb": limit // (1024 * 1024)}


async def _send_413(scope: dict[str, Any], send: Any, limit: int) -> None:
    message = _message(limit)
    if scope.get("path", "").startswith("/api/"):
        body, ctype = json.dumps({"detail": message}, ensure_ascii=False).encode(), b"application/json"
    else:
        body, ctype = message.encode(), b"text/plain; charset=utf-8"
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", ctype), (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"), (b"connection", b"close"),
    ]})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = settings.REQUEST_MAX_BODY_BYTES
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False  # the server itself refuses a malformed length
                if too_big:
                    await _send_413(scope, send, limit)
                    return
        received = 0
        refused = False

        async def bounded_receive() -> dict[str, Any]:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    await _send_413(scope, send, limit)
                    return {"type": "http.disconnect"}  # Django stops reading and answers nothing
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if not refused:
                await send(message)

        await self.app(scope, bounded_receive, guarded_send)
