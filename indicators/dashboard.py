"""What the dashboard shows, as plain data (no HTTP): the tiles, the chosen indicator by month and by sub-area
one level down (a province's cities, a city's counties, a county's institutions), and the rows of each table
its exports write. Views add the links; the page, its JSON, its exports and its print view all read this.

Who may see which area is checked by the caller (indicators.permissions) before it asks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from indicators.models import Indicator, IndicatorTarget, Unit
from indicators.periods import ReportPeriod
from indicators.prenatal import prenatal_figures
from indicators.services import (
    active_indicators,
    figures,
    figures_by_area,
    figures_by_institution,
    figures_by_month,
    figures_with_areas,
)
from organisations.models import Institution, Region

UNIT_SUFFIX = {Unit.PERCENT: "%", Unit.PER_1000: "‰", Unit.PER_100000: _("per 100,000"),
               Unit.MINUTES: _("min"), Unit.COUNT: ""}
COMPARISON_SIGN = {IndicatorTarget.Comparison.AT_LEAST: "≥", IndicatorTarget.Comparison.AT_MOST: "≤"}


@dataclass(frozen=True)
class Scope:
    """The area the figures are of: a region (everything below it), or one institution located in it."""

    region: Region
    institution: Institution | None = None


def indicator_name(indicator: Indicator) -> str:
    language = translation.get_language() or "zh-hans"
    return indicator.name_zh if language.lower().startswith("zh") else indicator.name_en


def unit_suffix(unit: str) -> str:
    return str(UNIT_SUFFIX.get(Unit(unit), "")) if unit in Unit.values else ""


def format_value(value: float | None, unit: str) -> str:
    """A figure as the page shows it: a count as a whole number, anything else with two decimals."""
    if value is None:
        return "—"
    if unit == Unit.COUNT:
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _rounded(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def change(current: float | None, previous: float | None, *, unit: str,
           target: dict[str, Any] | None) -> dict[str, Any] | None:
    """The change from the previous period: the difference, its arrow, and whether it moves toward the
    target (None without a target)."""
    if current is None or previous is None:
        return None
    diff = _rounded(current - previous)
    direction = "up" if diff > 0 else "down" if diff < 0 else "same"
    better = None
    if target is not None and direction != "same":
        better = (direction == "up") == (target["comparison"] == IndicatorTarget.Comparison.AT_LEAST)
    arrow = {"up": "▲", "down": "▼", "same": "＝"}[direction]
    return {"diff": diff, "direction": direction, "better": better,
            "display": f"{arrow} {format_value(abs(diff), unit)}" if direction != "same" else f"{arrow} 0"}


def _target(target: dict[str, Any] | None, unit: str) -> dict[str, Any] | None:
    if target is None:
        return None
    suffix = unit_suffix(unit)
    return {**target, "display": f"{COMPARISON_SIGN[target['comparison']]} {format_value(target['value'], unit)}"
            + (f" {suffix}" if suffix else "")}


def _cell(figure: dict[str, Any]) -> dict[str, Any]:
    """One indicator's figure in a row of a table: what the row shows and exports."""
    unit = figure["unit"]
    return {"numerator": figure.get("numerator"), "denominator": figure.get("denominator"),
            "count": figure.get("count"), "value": figure["value"], "display": format_value(figure["value"], unit),
            "met": None if figure.get("target") is None else figure["target"]["met"]}


def _ratio(figure: dict[str, Any]) -> str:
    """What a tile shows under its value: numerator / denominator, or how many values a median is of."""
    if figure.get("count") is not None and figure.get("numerator") is None:
        return f"n = {figure['count']:,}"
    if figure.get("denominator") is None:
        return ""
    return f"{figure['numerator']:,} / {figure['denominator']:,}"


def tiles(indicators: list[Indicator], current: dict[str, Any], previous: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for indicator in indicators:
        figure, before = current["indicators"][indicator.code], previous["indicators"][indicator.code]
        target = _target(figure.get("target"), indicator.unit)
        out.append({
            "code": indicator.code, "name": indicator_name(indicator), "unit": indicator.unit,
            "attribution": indicator.attribution,
            "unit_suffix": unit_suffix(indicator.unit), "definition": indicator.definition,
            **_cell(figure), "target": target,
            "ratio": _ratio(figure),
            "previous": {"value": before["value"], "display": format_value(before["value"], indicator.unit)},
            "change": change(figure["value"], before["value"], unit=indicator.unit, target=target),
        })
    return out


def chosen_indicator(indicators: list[Indicator], code: str | None, *, with_target: set[str]) -> Indicator | None:
    """The indicator of the charts and tables: the one asked for, else the first rate (percent) with a target,
    else the first with a target, else the first of all."""
    by_code = {i.code: i for i in indicators}
    if code and code in by_code:
        return by_code[code]
    targeted = [i for i in indicators if i.code in with_target]
    return next((i for i in targeted if i.unit == Unit.PERCENT), next(iter(targeted or indicators), None))


def _sub_area_name(key: Any, region: Region, names: dict[str, str]) -> str:
    if key == region.code:
        return str(_("%(name)s (own level)") % {"name": region.name})
    return names.get(str(key), str(key))


def dashboard_data(*, scope: Scope, period: ReportPeriod, indicator_code: str | None = None,
                   now: dt.datetime | None = None) -> dict[str, Any]:
    region, institution = scope.region, scope.institution
    indicators = active_indicators(region=region)
    previous_period = period.previous()
    by_area = None
    if institution is None and region.level != Region.Level.COUNTY:
        # The region's figures and its sub-areas' from one pass over the records.
        current, by_area = figures_with_areas(region=region, date_from=period.date_from, date_to=period.date_to,
                                              now=now)
    else:
        current = figures(region=region, date_from=period.date_from, date_to=period.date_to,
                          institution=institution, now=now)
    previous = figures(region=region, date_from=previous_period.date_from, date_to=previous_period.date_to,
                       institution=institution, now=now)
    tile_rows = tiles(indicators, current, previous)
    chosen = chosen_indicator(indicators, indicator_code, with_target={t["code"] for t in tile_rows if t["target"]})
    data: dict[str, Any] = {
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "institution": None if institution is None else {"code": institution.code, "name": institution.name},
        "period": {"kind": period.kind, "label": str(period.label()), "from": period.date_from.isoformat(),
                   "to": period.date_to.isoformat()},
        "previous": {"label": str(previous_period.label()), "from": previous_period.date_from.isoformat(),
                     "to": previous_period.date_to.isoformat()},
        "tiles": tile_rows, "indicator": None, "months": None, "areas": None,
        "prenatal": _prenatal(scope=scope, period=period),
    }
    if chosen is None:
        return data
    chosen_tile = next(t for t in tile_rows if t["code"] == chosen.code)
    data["indicator"] = {key: chosen_tile[key] for key in ("code", "name", "unit", "unit_suffix", "target")}
    chart_from, chart_to = period.chart_range()
    by_month = figures_by_month(region=region, date_from=chart_from, date_to=chart_to, institution=institution,
                                now=now)
    data["months"] = {"from": chart_from.isoformat(), "to": chart_to.isoformat(), "rows": [
        {"key": group["key"], "name": group["key"], "from": group["from"], "to": group["to"],
         **_cell(group["indicators"][chosen.code])} for group in by_month["groups"]]}
    if institution is None:
        data["areas"] = _areas(region=region, period=period, code=chosen.code, total=current, now=now,
                               grouped=by_area)
    return data


def _prenatal(*, scope: Scope, period: ReportPeriod) -> dict[str, Any] | None:
    """The prenatal screening and diagnosis QC rates (entered by licensed institutions, indicators/prenatal.py),
    a section of their own: None when the province has no such indicator."""
    found = prenatal_figures(region=scope.region, date_from=period.date_from, date_to=period.date_to,
                             institution=scope.institution)
    if not found["indicators"]:
        return None
    for described in found["indicators"]:
        figure = found["figures"][described["code"]]
        described.update(figure, display=format_value(figure["value"], described["unit"]))
    for row in found["rows"]:
        row["cells"] = [{**row["figures"][d["code"]], "display": format_value(row["figures"][d["code"]]["value"],
                                                                             d["unit"])}
                        for d in found["indicators"]]
    return found


def _areas(*, region: Region, period: ReportPeriod, code: str, total: dict[str, Any],
           now: dt.datetime | None, grouped: dict[str, Any] | None = None) -> dict[str, Any]:
    if region.level == Region.Level.COUNTY:
        grouped = figures_by_institution(region=region, date_from=period.date_from, date_to=period.date_to, now=now)
        rows = [{"key": group["code"], "name": group["name"], "code": group["code"], "kind": "institution",
                 **_cell(group["indicators"][code])} for group in grouped["groups"] if group.get("code")]
        # Attributed by institution (where she delivered), so the rows need not add up to the county's figure.
        return {"by": "institution", "rows": rows, "total": None}
    if grouped is None:
        grouped = figures_by_area(region=region, date_from=period.date_from, date_to=period.date_to, now=now)
    keys = [str(group["key"]) for group in grouped["groups"]]
    names = dict(Region.objects.filter(pk__in=keys).values_list("code", "name"))
    rows = [{"key": str(group["key"]), "name": _sub_area_name(group["key"], region, names), "code": str(group["key"]),
             "kind": "region" if group["key"] != region.code and str(group["key"]) in names else "own",
             **_cell(group["indicators"][code])} for group in grouped["groups"]]
    # Records attributed to the region itself (a residence recorded at the city) are a row of their own, shown
    # only when the chosen indicator counts some there.
    rows = [row for row in rows if row["kind"] == "region" or any(row[key] for key in ("numerator", "denominator",
                                                                                       "count"))]
    return {"by": "area", "rows": rows, "total": {"name": region.name, **_cell(total["indicators"][code])}}


# --- Tables: what each table of the page shows, cell by cell; its exports write the same rows and columns ---

MET_TEXT = {True: _("met"), False: _("not met"), None: ""}


def _c(value: Any, text: str | None = None, **extra: Any) -> dict[str, Any]:
    """A cell: ``value`` is what the exports write (an exact number, or text), ``text`` what the page shows."""
    shown = text if text is not None else ("" if value is None else str(value))
    return {"value": value, "text": shown, **extra}


def _number(value: Any, unit: str = Unit.COUNT) -> dict[str, Any]:
    """A figure: exported exact (a count as a whole number, a value as rounded by the engine)."""
    if value is None:
        return _c(None, "—")
    return _c(int(value) if unit == Unit.COUNT else value, format_value(value, unit))


def _met(met: bool | None) -> dict[str, Any]:
    return _c(str(MET_TEXT[met]) if met is not None else "", str(MET_TEXT[met]), met=met)


def _ratio_header(unit: str) -> list[Any]:
    """A median has the number of values it is the median of; a ratio its numerator and denominator."""
    return [_("Values")] if unit == Unit.MINUTES else [_("Numerator"), _("Denominator")]


def _ratio_cells(row: dict[str, Any], unit: str) -> list[dict[str, Any]]:
    if unit == Unit.MINUTES:
        return [_number(row["count"])]
    return [_number(row["numerator"]), _number(row["denominator"])]


def summary_table(data: dict[str, Any]) -> dict[str, Any]:
    header = [_("Indicator"), _("Value"), _("Unit"), _("Numerator"), _("Denominator"), _("Target"), _("Target met"),
              _("Previous period"), _("Change from the previous period")]
    rows = []
    for tile in data["tiles"]:
        unit = tile["unit"]
        target, moved = tile["target"], tile["change"]
        rows.append([
            _c(tile["name"], href_indicator=tile["code"]), _number(tile["value"], unit),
            _c(tile["unit_suffix"] or str(Unit(unit).label)), _number(tile["numerator"]), _number(tile["denominator"]),
            _c(target["display"] if target else ""), _met(tile["met"]), _number(tile["previous"]["value"], unit),
            _c(moved["diff"] if moved else None, moved["display"] if moved else "—",
               direction=moved["direction"] if moved else None, better=moved["better"] if moved else None),
        ])
    return {"name": "summary", "title": _("All indicators"), "header": [str(h) for h in header], "rows": rows}


def areas_table(data: dict[str, Any]) -> dict[str, Any] | None:
    areas, indicator = data["areas"], data["indicator"]
    if areas is None or indicator is None:
        return None
    unit = indicator["unit"]
    by_institution = areas["by"] == "institution"
    header = [_("Institution") if by_institution else _("Area")]
    if by_institution:
        header.append(_("Institution code"))
    header += [*_ratio_header(unit), _("Value"), _("Target met")]
    rows = []
    for row in areas["rows"]:
        cells = [_c(row["name"], drill=row["kind"] in ("region", "institution"), kind=row["kind"], key=row["key"])]
        if by_institution:
            cells.append(_c(row["code"]))
        cells += [*_ratio_cells(row, unit), _number(row["value"], unit), _met(row["met"])]
        rows.append(cells)
    total = areas["total"]
    if total is not None:
        rows.append([_c(str(_("Total: %(name)s") % {"name": total["name"]}), total=True), *_ratio_cells(total, unit),
                     _number(total["value"], unit), _met(total["met"])])
    title = _("By institution") if by_institution else _("By sub-area")
    return {"name": "areas", "title": title, "header": [str(h) for h in header], "rows": rows}


def months_table(data: dict[str, Any]) -> dict[str, Any] | None:
    months, indicator = data["months"], data["indicator"]
    if months is None or indicator is None:
        return None
    unit = indicator["unit"]
    header = [_("Month"), *_ratio_header(unit), _("Value"), _("Target met")]
    rows = [[_c(row["name"]), *_ratio_cells(row, unit), _number(row["value"], unit), _met(row["met"])]
            for row in months["rows"]]
    return {"name": "months", "title": _("By month"), "header": [str(h) for h in header], "rows": rows}


def prenatal_table(data: dict[str, Any]) -> dict[str, Any] | None:
    prenatal = data.get("prenatal")
    if prenatal is None:
        return None
    header = [_("Indicator"), _("Numerator"), _("Numerator count"), _("Denominator"), _("Denominator count"),
              _("Value"), _("Unit"), _("Origin"), _("Source")]
    rows = [[_c(i["name"]), _c(i["numerator_label"]), _number(i["numerator"]), _c(i["denominator_label"]),
             _number(i["denominator"]), _number(i["value"], i["unit"]), _c(i["unit_suffix"]), _c(i["origin_text"]),
             _c(i["source_url"] or i["source_note"])] for i in prenatal["indicators"]]
    return {"name": "prenatal", "title": _("Prenatal screening and diagnosis QC"),
            "header": [str(h) for h in header], "rows": rows}


def prenatal_areas_table(data: dict[str, Any]) -> dict[str, Any] | None:
    prenatal = data.get("prenatal")
    if prenatal is None or not prenatal["rows"]:
        return None
    by_institution = prenatal["by"] == "institution"
    header = [_("Institution") if by_institution else _("Area"), _("Licensed institutions"),
              _("Institutions reporting"), *(f"{i['name']} ({i['unit_suffix']})" for i in prenatal["indicators"])]
    rows = [[_c(row["name"], kind=row["kind"], key=row["key"]), _number(row["licensed"]), _number(row["reporting"]),
             *(_number(cell["value"], i["unit"]) for cell, i in zip(row["cells"], prenatal["indicators"], strict=True))]
            for row in prenatal["rows"]]
    rows.append([_c(str(_("Total: %(name)s") % {"name": data["region"]["name"]}), total=True),
                 _number(prenatal["licensed"]), _number(prenatal["reporting"]),
                 *(_number(i["value"], i["unit"]) for i in prenatal["indicators"])])
    title = _("Prenatal QC by institution") if by_institution else _("Prenatal QC by sub-area")
    return {"name": "prenatal_areas", "title": title, "header": [str(h) for h in header], "rows": rows}


def tables(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {"summary": summary_table(data), "areas": areas_table(data), "months": months_table(data),
             "prenatal": prenatal_table(data), "prenatal_areas": prenatal_areas_table(data)}
    return {name: table for name, table in found.items() if table is not None}
