"""Downloads shared by every process: an uploaded file; and, re-exported from organisations/spreadsheets.py,
formula-safe spreadsheet cells and the xlsx download."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse

# The spreadsheet helpers moved down to organisations/ (indicators/ exports too and may not import workflows/).
from organisations.spreadsheets import FORMULA_START, XLSX, spreadsheet_safe, xlsx_response

__all__ = ["FORMULA_START", "XLSX", "spreadsheet_safe", "stored_file_response", "xlsx_response"]


def stored_file_response(stored: Any) -> FileResponse:
    """An uploaded document (``cases.models.referral.StoredFile``) as a download: images shown inline, everything
    else saved; never sniffed, never run (the caller has checked scope and logged the download)."""
    response = FileResponse(stored.file.open("rb"), content_type=stored.content_type,
                            as_attachment=not stored.content_type.startswith("image/"), filename=stored.name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    return response
