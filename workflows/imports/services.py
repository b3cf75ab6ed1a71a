"""Importing records from an existing MCH system (issue 15 item 3): one file of one kind, all or nothing.

:func:`records_import` is the one path of the command (``manage.py import_records``) and the upload page: it
checks who may import (permissions.py), reads the file (reader.py), checks the header (exactly the kind's
columns), parses and validates every row through the importer of its kind (importers.py), and either raises
:class:`ImportFailed` with every bad row's errors — ``[{"row": 3, "column": "lmp", "message": "…"}]``, ``row``
the line in the file (the header is row 1) — or, unless it is a dry run, writes every row in one transaction
and returns the summary (created, updated and unchanged rows). Importing the same file twice changes nothing:
an unchanged row writes no record and no history row. Every history row carries the importing user and the
reason ``import <file name>``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from organisations.http import ActionDenied
from workflows.imports import permissions
from workflows.imports.importers import IMPORTERS, KINDS
from workflows.imports.reader import FileUnreadable, read_table
from workflows.imports.rows import Row

__all__ = ["KINDS", "ImportFailed", "columns_of", "records_import", "template_csv"]


class ImportFailed(Exception):  # noqa: N818  (a refusal carrying the row errors)
    """Nothing was written: ``errors`` lists every problem as ``{"row", "column", "message"}``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors

    def as_json(self) -> dict[str, Any]:
        return {"errors": self.errors}


def columns_of(kind: str) -> tuple[str, ...]:
    return IMPORTERS[kind].columns


def template_csv(kind: str) -> str:
    """The header row of ``kind``'s file (the page links it as a template)."""
    return ",".join(columns_of(kind)) + "\r\n"


def file_label(filename: str) -> str:
    """The file's own name (no folder), as the history reason names it."""
    return PurePath((filename or "").replace("\\", "/")).name[:80] or "file"


def _header_errors(header: list[str], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    missing = [c for c in columns if c not in header]
    unexpected = [c for c in header if c not in columns]
    repeated = sorted({c for c in header if header.count(c) > 1})
    if not (missing or unexpected or repeated):
        return []
    parts = []
    if missing:
        parts.append(_("missing: %(columns)s") % {"columns": ", ".join(missing)})
    if unexpected:
        parts.append(_("unexpected: %(columns)s") % {"columns": ", ".join(c or '""' for c in unexpected)})
    if repeated:
        parts.append(_("repeated: %(columns)s") % {"columns": ", ".join(repeated)})
    return [{"row": 1, "column": "", "message": _("The header row must be exactly: %(columns)s (%(problems)s).")
             % {"columns": ", ".join(columns), "problems": "; ".join(parts)}}]


def _errors(rows: list[Row], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    order = {name: i for i, name in enumerate(columns)}
    found = []
    for row in rows:
        for column, message in sorted(row.errors, key=lambda e: order.get(e[0], len(order))):
            found.append({"row": row.line, "column": column, "message": message})
    return found


def records_import(*, kind: str, data: bytes, filename: str, by: Any, dry_run: bool = False,
                   now: dt.datetime | None = None) -> dict[str, Any]:
    """Import one file of ``kind`` (one of :data:`KINDS`) as ``by``: the summary, or :class:`ImportFailed`.

    ``ActionDenied`` (403) when ``by`` may not import this kind at all."""
    if kind not in IMPORTERS:
        raise ValidationError({"kind": _("Choose what the file holds: %(kinds)s.") % {"kinds": ", ".join(KINDS)}})
    if not permissions.may_import(by, kind):
        raise ActionDenied(permissions.refusal(kind))
    label = file_label(filename)
    try:
        table = read_table(data, filename)
    except FileUnreadable as exc:
        raise ImportFailed([{"row": 1, "column": "", "message": exc.message}]) from None
    importer_class = IMPORTERS[kind]
    header_errors = _header_errors(table.header, importer_class.columns)
    if header_errors:
        raise ImportFailed(header_errors)
    rows = [Row(line=line, values=values) for line, values in table.rows]
    with transaction.atomic():
        importer = importer_class(by=by, reason=f"import {label}", lock=not dry_run, now=now)
        for row in rows:
            if "" in row.values:
                row.error("", _("This row has more cells than the header."))
            importer.parse(row)
        parsed = [row for row in rows if not row.errors]
        importer.prefetch(parsed)
        for row in parsed:
            importer.check(row)
        errors = _errors(rows, importer_class.columns)
        if errors:
            raise ImportFailed(errors)
        counts = {action: sum(1 for row in rows if row.action == action) for action in ("create", "update",
                                                                                        "unchanged")}
        if not dry_run:
            _write(importer, rows)
    return {"kind": kind, "file": label, "dry_run": dry_run, "rows": len(rows),
            kind: {"created": counts["create"], "updated": counts["update"], "unchanged": counts["unchanged"]}}


def _write(importer: Any, rows: list[Row]) -> None:
    """Write every row; a refusal no check foresaw (a record changed meanwhile) undoes the whole file."""
    try:
        importer.write(rows)
    except (ValidationError, PermissionDenied) as exc:
        messages = exc.messages if isinstance(exc, ValidationError) else [str(getattr(exc, "reason", exc))]
        raise ImportFailed([{"row": importer.current_line, "column": "", "message": message} for message in messages]) from exc
