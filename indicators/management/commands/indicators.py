"""manage.py indicators --region CODE --from DATE --to DATE [--institution CODE] [--by area|institution|month] [--json]

The same figures as ``GET /api/indicators/`` (indicators/services.py), for every area: the command runs as the
operator of the server. Bad arguments (unknown region or institution, a bad date, from after to) exit with
status 2 and say why; with ``--json`` the reasons are ``{"errors": {"field": ["message"]}}`` on stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation

from indicators.models import Indicator
from indicators.services import figures, figures_by_area, figures_by_institution, figures_by_month
from organisations.models import Institution, Region


class Command(BaseCommand):
    help = "Print the indicator figures of a region (or one of its institutions) for a period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True, help="The region's 6-digit code.")
        parser.add_argument("--from", dest="date_from", required=True, help="First day, YYYY-MM-DD (China time).")
        parser.add_argument("--to", dest="date_to", required=True, help="Last day, included, YYYY-MM-DD.")
        parser.add_argument("--institution", help="An institution's code: its figures instead of the region's.")
        parser.add_argument("--by", choices=["area", "institution", "month"],
                            help="Group by sub-area one level down, by institution or by month.")
        parser.add_argument("--json", action="store_true", help="Write the figures as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        translation.activate("zh-hans")
        errors: dict[str, list[str]] = {}
        region = Region.objects.filter(pk=options["region"]).first()
        if region is None:
            errors["region"] = [f"没有代码为 {options['region']} 的地区 (no such region)."]
        dates: dict[str, dt.date] = {}
        for key, name in (("date_from", "from"), ("date_to", "to")):
            try:
                dates[name] = dt.date.fromisoformat(options[key])
            except ValueError:
                errors[name] = [f"日期应为 YYYY-MM-DD (a date is YYYY-MM-DD): {options[key]!r}."]
                continue
            if not dt.date(1900, 1, 1) <= dates[name] <= dt.date(2100, 12, 31):
                errors[name] = ["日期应在 1900 至 2100 年之间 (give a date between 1900 and 2100)."]
        if "from" in dates and "to" in dates and "from" not in errors and "to" not in errors \
                and dates["from"] > dates["to"]:
            errors["to"] = ["结束日期早于开始日期 (the period ends before it starts)."]
        institution = None
        if options.get("institution"):
            institution = Institution.objects.filter(code=options["institution"]).select_related("region").first()
            inside = institution is not None and region is not None and region.code in (
                institution.region.code, institution.region.city_id, institution.region.province_id)
            if not inside:
                errors["institution"] = ["该地区没有此代码的机构 (no such institution in this region)."]
        if options.get("by") and institution is not None and options["by"] != "month":
            errors["by"] = ["一个机构只能按月分组 (an institution's figures group by month only)."]
        if options.get("by") == "area" and region is not None and region.level == Region.Level.COUNTY:
            errors["by"] = ["县级地区没有下级地区，请按机构分组 (a county has no sub-area: group by institution)."]
        if errors:
            self._fail(errors, as_json=options["json"])
        assert region is not None
        period: dict[str, Any] = {"region": region, "date_from": dates["from"], "date_to": dates["to"]}
        if options.get("by") == "area":
            data = figures_by_area(**period)
        elif options.get("by") == "institution":
            data = figures_by_institution(**period)
        elif options.get("by") == "month":
            data = figures_by_month(**period, institution=institution)
        else:
            data = figures(**period, institution=institution)
        if options["json"]:
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            self._table(data)

    def _fail(self, errors: dict[str, list[str]], *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps({"errors": errors}, ensure_ascii=False))
        for field, messages in errors.items():
            for message in messages:
                self.stderr.write(f"{field}: {message}")
        sys.exit(2)

    def _table(self, data: dict[str, Any]) -> None:
        names = dict(Indicator.objects.values_list("code", "name_zh"))
        blocks = data.get("groups") or [{"name": data["region"], "indicators": data["indicators"]}]
        self.stdout.write(f"{data['region']}  {data['from']} – {data['to']}")
        for block in blocks:
            if "groups" in data:
                self.stdout.write(f"\n== {block['name']} ({block['key']})")
            for code, figure in block["indicators"].items():
                value = "—" if figure["value"] is None else f"{figure['value']:.2f}"
                if figure["unit"] == "minutes":
                    counted = f"n={figure['count']}"
                elif figure["denominator"] is None:
                    counted = f"{figure['numerator']}"
                else:
                    counted = f"{figure['numerator']}/{figure['denominator']}"
                self.stdout.write(f"{names.get(code, code):<20} {value:>12} {figure['unit']:<11} {counted}")
