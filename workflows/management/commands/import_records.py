"""manage.py import_records KIND FILE --user USERNAME [--dry-run]: import records from an existing MCH system."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflows.imports.services import KINDS, ImportFailed, columns_of, records_import


def _kinds_help() -> str:
    return "; ".join(f"{kind}: {', '.join(columns_of(kind))}" for kind in KINDS)


class Command(BaseCommand):
    help = (
        "Import one CSV (UTF-8, header row) or xlsx (first sheet, same header) file of KIND, all or nothing. "
        "The import acts as --user (required): only an MCH officer or a system administrator (institutions: a "
        "system administrator) may import, only records of her area, and every history row names her and the "
        "file. Prints a JSON summary (created/updated/unchanged) and exits 0; on errors prints "
        '{"errors": [{"row", "column", "message"}]} (row = the line in the file, the header being 1), writes '
        "nothing and exits 2. Columns, exactly: " + _kinds_help() + "."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS, help="What the file holds.")
        parser.add_argument("file", help="The .csv or .xlsx file.")
        parser.add_argument("--user", required=True,
                            help="The username the import acts as: her area limits the rows she may import, "
                                 "and the history rows name her.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Validate every row and report what would change; write nothing.")

    def handle(self, *args: Any, kind: str, file: str, user: str, dry_run: bool = False, **options: Any) -> None:
        from organisations.http import ActionDenied
        from organisations.models import User

        by = User.objects.filter(username=user, is_active=True).first()
        if by is None:
            raise CommandError(f"No active user named {user!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        try:
            summary = records_import(kind=kind, data=path.read_bytes(), filename=path.name, by=by, dry_run=dry_run)
        except ActionDenied as exc:
            raise CommandError(exc.reason) from None
        except ImportFailed as exc:
            self.stdout.write(json.dumps(exc.as_json(), ensure_ascii=False, indent=1))
            sys.exit(2)
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
