"""Spreadsheet downloads shared by every app: formula-safe cells, the xlsx download and the CSV download.

Lives below every app that exports (workflows' processes, indicators), so that each may import it;
``workflows/export.py`` re-exports the xlsx helpers under their old names.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

# A cell starting with one of these is run as a formula by spreadsheet programs (CSV injection);
# a tab or carriage return at the start hides such a cell from a casual look.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is escaped with a leading apostrophe; other values
    (numbers, dates, None) are returned as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


def xlsx_response(workbook: Any, *, stem: str) -> HttpResponse:
    """The workbook as a download named ``<stem>-<local time>.xlsx``."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{stem}-{_stamp()}.xlsx"'
    return response


def csv_response(rows: Iterable[Sequence[Any]], *, stem: str) -> HttpResponse:
    """Rows (the first one the header) as a UTF-8 CSV download named ``<stem>-<local time>.csv``, with a
    byte-order mark so that spreadsheet programs read the Chinese text as UTF-8. Text cells are made
    formula-safe; numbers are written as numbers (a negative change stays a number)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if cell is None else spreadsheet_safe(cell) for cell in row])
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type=CSV)
    response["Content-Disposition"] = f'attachment; filename="{stem}-{_stamp()}.csv"'
    return response
