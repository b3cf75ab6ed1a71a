"""Import an evaluation scheme (评估方案 or a province's 细则) from an xlsx or CSV file: all rows or none.

    manage.py import_evaluation_scheme FILE --scheme CODE [--reason TEXT]
    manage.py import_evaluation_scheme FILE --scheme CODE --create --province 350000 --name NAME --edition 2024
                                       [--based-on national-2023]

The columns are those of the scheme's export (评估 → a scheme → 导出). A row is national only where it is
exactly the row of the scheme it is based on; every other row is the province's.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cases.models import EvaluationScheme
from organisations.models import Region
from workflows.evaluation.schemes import read_table, scheme_import


class Command(BaseCommand):
    help = "Import an evaluation scheme from an xlsx or CSV file (all rows or none)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file")
        parser.add_argument("--scheme", required=True, help="the scheme's code")
        parser.add_argument("--create", action="store_true", help="create the scheme if it does not exist")
        parser.add_argument("--province", help="the province's region code (with --create)")
        parser.add_argument("--name", help="the scheme's name (with --create)")
        parser.add_argument("--edition", type=int, help="the edition year (with --create)")
        parser.add_argument("--based-on", default="national-2023", help="the scheme it is based on (with --create)")
        parser.add_argument("--reason", default="imported from a file")

    def handle(self, *args: Any, **options: Any) -> None:
        scheme = EvaluationScheme.objects.filter(code=options["scheme"]).first()
        if scheme is None:
            if not options["create"]:
                raise CommandError(f"no scheme {options['scheme']!r} (add --create to make it)")
            province = Region.objects.filter(pk=options["province"] or "", level=Region.Level.PROVINCE).first()
            if province is None or not options["name"] or not options["edition"]:
                raise CommandError("--create needs --province (a province's code), --name and --edition")
            based_on = EvaluationScheme.objects.filter(code=options["based_on"]).first()
            scheme = EvaluationScheme(code=options["scheme"], name=options["name"], edition=options["edition"],
                                      province=province, based_on=based_on)
        try:
            rows = read_table(options["file"])
            with transaction.atomic():  # a new scheme is created only with its rows
                if scheme._state.adding:
                    scheme.save()
                counts = scheme_import(scheme, rows, reason=options["reason"])
        except ValidationError as error:
            raise CommandError("\n".join(error.messages)) from error
        except (OSError, ValueError, KeyError) as error:
            raise CommandError(f"the file could not be read: {error}") from error
        self.stdout.write(f"{scheme.code}: {counts['created']} added, {counts['updated']} updated, "
                          f"{counts['removed']} removed")
