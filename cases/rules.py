"""Reading the province's rules in force: process settings and the screening form."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.db.models import Q

from cases.models.rules import ProvinceSettings
from organisations.models import Institution

DATA = Path(__file__).resolve().parent / "data"


def province_settings(*, province_code: str | None, on: dt.date | None = None) -> ProvinceSettings:
    """The province's settings in force on ``on``, else the national defaults in force."""
    on = on or dt.date.today()  # noqa: DTZ011
    rows = ProvinceSettings.objects.filter(Q(province_id=province_code) | Q(province__isnull=True),
                                           effective_from__lte=on)
    best = sorted(rows, key=lambda row: (row.province_id is None, -row.effective_from.toordinal()))
    if best:
        return best[0]
    return ProvinceSettings(effective_from=on)  # the model's defaults are the national ones


def settings_for(institution: Institution, *, on: dt.date | None = None) -> ProvinceSettings:
    return province_settings(province_code=institution.region.province_id, on=on)


@dataclass(frozen=True)
class ScreeningItem:
    code: str
    text: str
    section: str
    section_title: str
    required: bool


@cache
def _screening_form() -> list[dict]:  # type: ignore[type-arg]
    return json.loads((DATA / "screening_items_2017.json").read_text(encoding="utf-8"))["sections"]


def screening_items(settings: ProvinceSettings) -> list[ScreeningItem]:
    optional = set(settings.screening_optional_items or [])
    return [
        ScreeningItem(code=item["code"], text=item["text"], section=section["code"], section_title=section["title"],
                      required=item["code"] not in optional)
        for section in _screening_form() for item in section["items"]
    ]


def screening_item_codes() -> set[str]:
    return {item["code"] for section in _screening_form() for item in section["items"]}
