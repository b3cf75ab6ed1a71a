"""Downloads shared by every process: formula-safe spreadsheet cells, the xlsx download, an uploaded file."""

from __future__ import annotations

import io
from typing import Any

from django.http import FileResponse, HttpResponse
from django.utils import timezone

FORMULA_START = ("=", "+", "-", "@")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is escaped with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def xlsx_response(workbook: Any, *, stem: str) -> HttpResponse:
    """The workbook as a download named ``<stem>-<local time>.xlsx``."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{stem}-{stamp}.xlsx"'
    return response


def stored_file_response(stored: Any) -> FileResponse:
    """An uploaded document (``cases.models.referral.StoredFile``) as a download: images shown inline, everything
    else saved; never sniffed, never run (the caller has checked scope and logged the download)."""
    response = FileResponse(stored.file.open("rb"), content_type=stored.content_type,
                            as_attachment=not stored.content_type.startswith("image/"), filename=stored.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
