"""Logging set-up (``settings.LOGGING_CONFIG``): Django's dictConfig, then the personal-data mask on
every handler already installed.

uvicorn configures its own loggers (``uvicorn``, ``uvicorn.error``, ``uvicorn.access``, with their own
handlers that do not propagate) before it imports the application, so the project's ``LOGGING`` alone
never reaches them: the full ID number or phone in a search URL went into the access log as is.
Adding the filter to the handlers that exist when Django starts masks those lines too, and keeps
uvicorn's own choices (``--no-access-log``, ``--log-level``, ``--log-config``) as they were.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

from organisations.logging import MaskPersonalDataFilter, OneLineDenialFilter


def configure(config: dict[str, Any]) -> None:
    if config:
        logging.config.dictConfig(config)
    mask_every_handler()


def _handlers() -> list[logging.Handler]:
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    seen: dict[int, logging.Handler] = {}
    for logger in loggers:
        for handler in logger.handlers:
            seen.setdefault(id(handler), handler)
    return list(seen.values())


def mask_every_handler() -> None:
    """Put the one-line-denial and mask filters on every installed handler (once each)."""
    for handler in _handlers():
        if not any(isinstance(f, OneLineDenialFilter) for f in handler.filters):
            handler.filters.insert(0, OneLineDenialFilter())
        if not any(isinstance(f, MaskPersonalDataFilter) for f in handler.filters):
            handler.addFilter(MaskPersonalDataFilter())
