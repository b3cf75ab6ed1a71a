"""One pass of the periodic work: fire due deadlines, re-push undelivered alerts, check rosters.

It lives beside the deadline engine, above the alerts it re-pushes. Runs inside the web server in embedded mode (project/asgi.py), from ``manage.py run_deadlines``, or
from Celery beat in production; tests call ``sweep_once()`` directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from notifications.services import alerts_repush_undelivered, roster_gaps_check
from workflows.deadlines import deadlines_sweep

logger = logging.getLogger(__name__)

# Processes that keep a standing deadline row (e.g. the daily evaluation of interview triggers) make sure it
# exists on every pass; subscribed in workflows/apps.py.
SWEEP_HOOKS: list[Callable[[], object]] = []


def sweep_once() -> dict[str, int]:
    try:
        for hook in SWEEP_HOOKS:
            hook()
    except Exception:
        logger.exception("sweep hooks failed")
    result = {"fired": deadlines_sweep(), "repushed": 0, "roster_gaps": 0}
    try:
        result["repushed"] = alerts_repush_undelivered()
        result["roster_gaps"] = roster_gaps_check()
    except Exception:
        logger.exception("sweep housekeeping failed")
    return result
