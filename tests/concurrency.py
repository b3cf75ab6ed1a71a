"""Requests sent at the same moment: each in its own thread and connection, released together by a barrier,
for the PostgreSQL concurrency tests (one step wins, the other gets its refusal)."""

from __future__ import annotations

import threading
from typing import Any

from django.db import connections


def post_at_once(calls: list[tuple[Any, str, dict[str, Any]]]) -> list[int]:
    """POST each ``(user, path, body)`` to the API at once, as that user; the status codes, in order."""
    from rest_framework.test import APIClient

    barrier = threading.Barrier(len(calls))
    codes: list[int] = [0] * len(calls)

    def run(index: int, user: Any, path: str, data: dict[str, Any]) -> None:
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        try:
            codes[index] = client.post(path, data, format="json").status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return codes
