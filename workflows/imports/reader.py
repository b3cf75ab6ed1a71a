"""Reading an import file: CSV (UTF-8, a byte-order mark tolerated) or xlsx (the first sheet), with a header row.

The CSV side is Python's own ``csv`` module; the xlsx side is openpyxl (already a dependency, for the
exports), read-only and streaming, so a sheet of 100,000 rows is read row by row. django-import-export
(and tablib under it) was not taken: its resources save models directly (``instance.save()`` per row, or
``bulk_create`` with no history), bypassing our services' validation, permission and history unless nearly
every hook is overridden; what it would add here is only the file reading, which these two already do.

A cell's value is handed on as read: text from CSV; from xlsx text, numbers, dates and date-times (the
importers' parsers accept each). Entirely empty rows are skipped. ``line`` is the row's line in the file
(the header is line 1), as the error list names it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from django.utils.translation import gettext as _

MAX_ROWS = 500_000


class FileUnreadable(Exception):  # noqa: N818  (a refusal with a message)
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    header: list[str]
    # (line in the file, {column: value}) for each non-empty row.
    rows: list[tuple[int, dict[str, Any]]]


def file_kind(filename: str) -> str:
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    raise FileUnreadable(_("Choose a CSV (.csv) or Excel (.xlsx) file."))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table(lines: Any) -> Table:
    """Rows of (line, cells) → the header and the rows keyed by it."""
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, Any]]] = []
    for line, cells in lines:
        if header is None:
            if all(_blank(cell) for cell in cells):
                raise FileUnreadable(_("The first line must be the header row."))
            header = [str(cell).strip() if cell is not None else "" for cell in cells]
            while header and not header[-1]:
                header.pop()
            continue
        if all(_blank(cell) for cell in cells):
            continue
        if len(rows) >= MAX_ROWS:
            raise FileUnreadable(_("A file holds at most %(n)s rows; split it.") % {"n": f"{MAX_ROWS:,}"})
        values = {name: (cells[i] if i < len(cells) else None) for i, name in enumerate(header)}
        extra = [cell for cell in cells[len(header):] if not _blank(cell)]
        if extra:
            values[""] = extra
        rows.append((line, values))
    if header is None:
        raise FileUnreadable(_("The file is empty."))
    return Table(header=header, rows=rows)


def _csv_lines(data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileUnreadable(_("The file is not UTF-8 text: save it as “CSV UTF-8”.")) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FileUnreadable(_("Line %(line)s is not valid CSV.") % {"line": reader.line_num}) from exc


def _xlsx_lines(data: bytes) -> Any:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise FileUnreadable(_("The file is not a readable Excel (.xlsx) workbook.")) from exc
    try:
        if not book.worksheets:
            raise FileUnreadable(_("The workbook has no sheet."))
        sheet = book.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        book.close()


def read_table(data: bytes, filename: str) -> Table:
    """The header and rows of an uploaded or given file (FileUnreadable with a message otherwise)."""
    kind = file_kind(filename)
    return _table(_csv_lines(data) if kind == "csv" else _xlsx_lines(data))


def cell_text(value: Any) -> str:
    """A cell as text (a number typed in Excel without its ``.0``; a date as YYYY-MM-DD)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute) != (0, 0) else value.strftime(
            "%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()
