"""ASGI lifespan for the embedded mode: run the periodic sweep inside the web server process.

Channels' ProtocolTypeRouter does not answer the "lifespan" scope, so this wrapper does: at startup it
starts one asyncio task that calls ``sweep_once`` every SWEEP_INTERVAL_SECONDS in a worker thread, so
the alerts it raises reach this process's in-memory channel layer. Run one server worker in this mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)


def _sweep() -> dict[str, int]:
    from workflows.sweep import sweep_once

    close_old_connections()
    try:
        return sweep_once()
    finally:
        close_old_connections()


async def sweeper(interval: float) -> None:
    while True:
        try:
            await sync_to_async(_sweep, thread_sensitive=True)()
        except Exception:  # keep sweeping: one failed pass must not stop every later deadline
            logger.exception("in-process sweep failed")
        await asyncio.sleep(interval)


class LifespanApp:
    def __init__(self, app: Any, *, sweep: bool) -> None:
        self.app = app
        self.sweep = sweep
        self.task: asyncio.Task[None] | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self.sweep:
                    self.task = asyncio.create_task(sweeper(settings.SWEEP_INTERVAL_SECONDS))
                    logger.info("in-process sweep every %ss", settings.SWEEP_INTERVAL_SECONDS)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.task is not None:
                    self.task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self.task
                await send({"type": "lifespan.shutdown.complete"})
                return
