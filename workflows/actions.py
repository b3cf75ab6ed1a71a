"""A step a record's page offers: its form, the service that runs it, and who may take it now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Action:
    name: str
    title: Any
    form: Callable[..., Any]
    run: Callable[..., Any]
    allowed: Callable[[Any, Any], bool]
    danger: bool = False
