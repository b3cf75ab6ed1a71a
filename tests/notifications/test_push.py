"""A push is one batch: every recipient's message is sent at once, and a channel layer that never
answers costs one timeout for the whole batch, not one per recipient."""

from __future__ import annotations

import asyncio
from typing import Any

from notifications import push


class HungLayer:
    """A channel layer whose sends never complete (a frozen Redis)."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.cancelled = 0

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.started.append(group)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


class FlakyLayer:
    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if group.endswith(".2"):
            raise ConnectionError("gone")


def test_a_hung_layer_gets_every_send_at_once_and_all_are_cancelled(settings, monkeypatch):
    settings.REDIS_SOCKET_TIMEOUT = 0.2
    layer = HungLayer()
    monkeypatch.setattr(push, "get_channel_layer", lambda: layer)
    results = push._send_many([(push.user_group(i), {"type": "alert.new", "id": str(i)}) for i in range(20)])
    assert results == [False] * 20
    assert len(layer.started) == 20  # all started before the single timeout ran out
    assert layer.cancelled == 20


def test_one_failing_recipient_does_not_fail_the_others(monkeypatch):
    monkeypatch.setattr(push, "get_channel_layer", lambda: FlakyLayer())
    results = push._send_many([(push.user_group(i), {"type": "referral.changed", "id": "x"}) for i in range(4)])
    assert results == [True, True, False, True]
    assert push.push_event([1, 2, 3, 3], {"type": "referral.changed", "id": "x", "state": "accepted"}) == 2
