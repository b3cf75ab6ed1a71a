"""Reading the province's rules in force: process settings and the screening form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cases.models.rules import ProvinceSettings, province_settings, settings_for  # noqa: F401  (callers use either)

DATA = Path(__file__).resolve().parent / "data"


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
