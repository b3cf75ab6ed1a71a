"""One row of an import file and the parsers of its cells: each parser returns the typed value or records a
field error on the row's column (never raises), so every bad cell of every row is reported at once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from workflows.imports.reader import cell_text

CHINA = ZoneInfo("Asia/Shanghai")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})$")
CHUNK = 5000  # values in one IN (...) of a prefetch query


def chunks(values: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class Row:
    line: int
    values: dict[str, Any]
    errors: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    # What the import does with it: "create", "update" or "unchanged"; the record, and the fields it changes.
    action: str = ""
    obj: Any = None
    changed: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def error(self, column: str, message: Any) -> None:
        self.errors.append((column, str(message)))

    def field_errors(self, errors: dict[str, Sequence[Any]], columns: dict[str, str], default: str = "") -> None:
        """Field errors of a validation (``visit_errors``, ``full_clean``) on the columns they concern."""
        for name, messages in errors.items():
            for message in messages:
                self.error(columns.get(name, default), message)

    # --- Parsers --------------------------------------------------------------------------------------------

    def text(self, column: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = cell_text(self.values.get(column))
        if required and not value:
            self.error(column, _("This column is required."))
        elif max_length is not None and len(value) > max_length:
            self.error(column, _("At most %(n)s characters (this has %(has)s).") % {"n": max_length, "has": len(value)})
        return value

    def choice(self, column: str, values: Iterable[str], *, required: bool = True) -> str:
        value = cell_text(self.values.get(column))
        allowed = list(values)
        if not value and not required:
            return ""
        if value not in allowed:
            self.error(column, _("Write one of: %(values)s.") % {"values": " | ".join(allowed)})
        return value

    def date(self, column: str, *, required: bool = True) -> dt.date | None:
        value = self.values.get(column)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = cell_text(value)
        if not text:
            if required:
                self.error(column, _("This column is required."))
            return None
        try:
            if not DATE.match(text):
                raise ValueError(text)
            return dt.date.fromisoformat(text)
        except ValueError:
            self.error(column, _("Write the date as YYYY-MM-DD."))
            return None

    def moment(self, column: str, *, required: bool = True, date_alone: bool = False) -> dt.datetime | None:
        """A China-time date and time, ``YYYY-MM-DD HH:MM`` (with ``date_alone``, a date alone is its 00:00)."""
        value = self.values.get(column)
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=CHINA) if value.tzinfo is None else value
        if isinstance(value, dt.date) and date_alone:
            return dt.datetime.combine(value, dt.time(), tzinfo=CHINA)
        text = cell_text(value)
        if not text:
            if required:
                self.error(column, _("This column is required."))
            return None
        try:
            match = MOMENT.match(text)
            if match:
                day, hour, minute = dt.date.fromisoformat(match[1]), int(match[2]), int(match[3])
                return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHINA)
            if date_alone and DATE.match(text):
                return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=CHINA)
            raise ValueError(text)
        except ValueError:
            self.error(column, _("Write the date and time as YYYY-MM-DD HH:MM (China time)."))
            return None

    def integer(self, column: str, *, required: bool = True, low: int = 0, high: int = 99) -> int | None:
        value = self.values.get(column)
        text = cell_text(value)
        if not text:
            if required:
                self.error(column, _("This column is required."))
            return None
        if not re.fullmatch(r"\d+", text) or not low <= int(text) <= high:
            self.error(column, _("Write a whole number from %(low)s to %(high)s.") % {"low": low, "high": high})
            return None
        return int(text)
