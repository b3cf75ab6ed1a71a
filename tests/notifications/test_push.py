"""A push is one batch: every recipient's message is sent at once, and a channel layer that never
answers costs one timeout for the whole batch, not one per recipient."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

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
    results = push._send_many([(push.user_group(i), {"type": "record.changed", "id": "x"}) for i in range(4)])
    assert results == [True, True, False, True]
    assert push.push_event([1, 2, 3, 3], {"type": "record.changed", "id": "x", "state": "accepted"}) == 2


def raise_three_and_tell_the_board(users: list[Any]) -> list[Any]:
    """One transition that pushes three times after commit (as an accept closes alerts, alerts the
    sender and tells the boards): three alert raises and a board event, in one transaction."""
    from django.db import transaction
    from django.utils.translation import gettext_noop

    from notifications.recipients import to_user
    from notifications.services import alert_raise

    with transaction.atomic():
        alerts = [alert_raise(kind="test.hung", title=gettext_noop("Nobody is on duty at %(institution)s"),
                              params={"institution": "闽侯县医院"}, to=[to_user(user)])[0] for user in users]
        transaction.on_commit(lambda: push.push_event([u.pk for u in users], {"type": "record.changed"}))
    return alerts


@pytest.mark.django_db
def test_a_hung_layer_costs_one_commit_one_timeout_and_the_sweep_still_probes(
        settings, monkeypatch, personas, caplog, django_capture_on_commit_callbacks):
    from notifications.models import Alert
    from notifications.services import alerts_repush_undelivered

    settings.REDIS_SOCKET_TIMEOUT = 0.2
    layer = HungLayer()
    monkeypatch.setattr(push, "get_channel_layer", lambda: layer)
    users = [personas.users.obstetrician_a, personas.users.obstetrician_b, personas.users.primary_a]
    with caplog.at_level(logging.WARNING, logger="notifications.push"), \
            django_capture_on_commit_callbacks(execute=True) as callbacks:
        alerts = raise_three_and_tell_the_board(users)
    assert len(callbacks) == 4
    # Only the first batch waited (and timed out); the other three gave up at once.
    assert caplog.text.count("timed out") == 1
    assert caplog.text.count("skipped") == 3
    assert layer.started == [push.user_group(users[0].pk)]
    rows = Alert.objects.filter(pk__in=[a.pk for a in alerts])
    assert rows.count() == 3  # committed all the same
    assert {(r.push_attempts, r.pushed_at) for r in rows} == {(1, None)}

    # The next transition does not wait either; the sweep (off the request path) does try.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="notifications.push"), \
            django_capture_on_commit_callbacks(execute=True):
        raise_three_and_tell_the_board(users[:1])
    assert "timed out" not in caplog.text and len(layer.started) == 1
    assert alerts_repush_undelivered() == 4
    assert len(layer.started) == 1 + 4
    assert caplog.text.count("timed out") == 1


class CountingLayer:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.sent.append(message["id"])


@pytest.mark.django_db
def test_two_sweeps_at_once_re_push_each_alert_once(monkeypatch, personas):
    """A second sweep starting while the first is still pushing finds the alerts claimed."""
    from notifications.services import alerts_repush_undelivered

    layer = CountingLayer()
    monkeypatch.setattr(push, "get_channel_layer", lambda: layer)
    alerts = raise_three_and_tell_the_board([personas.users.obstetrician_a, personas.users.obstetrician_b])
    # (No on-commit push ran: the test transaction never commits, so both alerts wait for the sweep.)
    send_many = push._send_many
    second: list[int] = []

    def first_sweep_sends(messages: list[tuple[str, dict[str, Any]]], **kwargs: Any) -> list[bool]:
        if not second:
            second.append(alerts_repush_undelivered())  # the other sweeper, mid-push of the first
        return send_many(messages, **kwargs)

    monkeypatch.setattr(push, "_send_many", first_sweep_sends)
    assert alerts_repush_undelivered() == 2
    assert second == [0]
    assert sorted(layer.sent) == sorted(str(a.pk) for a in alerts)
