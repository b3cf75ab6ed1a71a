"""Celery task of the periodic sweep (beat, ``CELERY_BEAT_SCHEDULE`` in project/settings.py)."""

from __future__ import annotations

from celery import shared_task

from workflows.sweep import sweep_once


@shared_task(name="anmu.sweep")
def sweep() -> dict[str, int]:
    return sweep_once()
