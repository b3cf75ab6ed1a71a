"""Embedded mode: the ASGI lifespan starts the sweep inside the server process and stops it on shutdown."""

from __future__ import annotations

import asyncio

import pytest

from project import lifespan


@pytest.mark.asyncio
async def test_lifespan_runs_the_sweep_and_stops_it(monkeypatch, settings):
    settings.SWEEP_INTERVAL_SECONDS = 0.01
    passes: list[int] = []
    monkeypatch.setattr(lifespan, "_sweep", lambda: passes.append(1) or {"fired": 0})
    inner_calls: list[str] = []

    async def inner(scope, receive, send):  # type: ignore[no-untyped-def]
        inner_calls.append(scope["type"])

    app = lifespan.LifespanApp(inner, sweep=True)
    inbox: asyncio.Queue = asyncio.Queue()
    sent: list[dict] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    await inbox.put({"type": "lifespan.startup"})
    server = asyncio.create_task(app({"type": "lifespan"}, inbox.get, send))
    for _ in range(200):
        if len(passes) >= 3:
            break
        await asyncio.sleep(0.01)
    assert len(passes) >= 3
    await inbox.put({"type": "lifespan.shutdown"})
    await asyncio.wait_for(server, 5)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert app.task is not None and app.task.cancelled()
    await app({"type": "http"}, inbox.get, send)
    assert inner_calls == ["http"]


@pytest.mark.asyncio
async def test_without_the_in_process_sweep_nothing_runs(monkeypatch):
    passes: list[int] = []
    monkeypatch.setattr(lifespan, "_sweep", lambda: passes.append(1))
    app = lifespan.LifespanApp(None, sweep=False)
    inbox: asyncio.Queue = asyncio.Queue()
    for message in ({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}):
        await inbox.put(message)
    sent: list[dict] = []

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    await app({"type": "lifespan"}, inbox.get, send)
    assert passes == [] and app.task is None and len(sent) == 2


@pytest.mark.django_db
def test_a_failing_pass_does_not_stop_the_sweeper(monkeypatch, settings):
    settings.SWEEP_INTERVAL_SECONDS = 0.01
    calls: list[int] = []

    def flaky() -> dict:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database restarting")
        return {}

    monkeypatch.setattr(lifespan, "_sweep", flaky)

    async def run() -> None:
        task = asyncio.create_task(lifespan.sweeper(0.01))
        for _ in range(200):
            if len(calls) >= 2:
                break
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(run())
    assert len(calls) >= 2


@pytest.mark.django_db
def test_run_deadlines_command_fires_due_deadlines(capsys):
    import datetime as dt
    import json

    from django.core.management import call_command
    from django.utils import timezone

    from workflows.deadlines import deadline_create, deadline_handler
    from workflows.models import Deadline

    seen: list[str] = []
    deadline_handler("test.command")(lambda deadline: seen.append(str(deadline.pk)))
    due = deadline_create(kind="test.command", due_at=timezone.now() - dt.timedelta(minutes=1))
    call_command("run_deadlines")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["fired"] == 1 and seen == [str(due.pk)]
    assert Deadline.objects.get(pk=due.pk).state == "fired"
