"""Reading a sync list as a syncing system does (workflows/api.py): every page, following ``next``."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient


def walk(client: APIClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of the sync list at ``path``, following ``next``; each page is a cursor page, not a numbered
    one."""
    rows: list[dict[str, Any]] = []
    response = client.get(path, params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert "count" not in body and body["previous"] is None
        rows += body["results"]
        if body["next"] is None:
            return rows
        response = client.get(body["next"])
