"""The figures: each active indicator's numerator, denominator and value for an area and a period, live from
the records (indicators/measures.py), with the province's target.

Shape of one figure::

    {"numerator": 1, "denominator": 4210, "value": 23.75, "unit": "per_100000", "target": {...} | None}

* a ratio: numerator and denominator exact integers; ``value`` = numerator × multiplier / denominator rounded
  to 2 decimals (half up), ``None`` when the denominator is 0;
* a count (unit ``count``): ``denominator`` is ``None`` and ``value`` equals the numerator;
* a median (unit ``minutes``): it has neither: ``numerator`` and ``denominator`` are ``None``, ``count`` is
  the number of values (e.g. referrals answered) and ``value`` their median, ``None`` when there are none.

``target`` is ``{"comparison": "gte" | "lte", "value": 95.0, "met": true | false | None, "source": "..."}``
from the region's province (else the national target), or ``None``.

Who may ask for which area is not checked here: callers check ``indicators.permissions`` first.
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.db.models import Q
from django.utils import timezone

from indicators.measures import Area, Grouping, Median, Period, compute, empty_value, region_in
from indicators.models import Indicator, IndicatorTarget, Unit
from organisations.models import Institution, Region

TWO_PLACES = Decimal("0.01")


def active_indicators(*, region: Region) -> list[Indicator]:
    """The national indicators and the region's province's own, in display order."""
    province = region.province_id or region.code
    return list(Indicator.objects.filter(Q(province__isnull=True) | Q(province_id=province), active=True)
                .order_by("order", "code"))


def _targets(*, region: Region, indicators: list[Indicator]) -> dict[Any, IndicatorTarget]:
    province = region.province_id or region.code
    rows = IndicatorTarget.objects.filter(Q(province__isnull=True) | Q(province_id=province),
                                          indicator__in=indicators)
    best: dict[Any, IndicatorTarget] = {}
    for row in sorted(rows, key=lambda t: t.province_id is not None):  # the province's replaces the national
        best[row.indicator_id] = row
    return best


def _rounded(value: Decimal) -> float:
    return float(value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP))


def _figure(indicator: Indicator, result: dict[str, Any], target: IndicatorTarget | None) -> dict[str, Any]:
    numerator = result[indicator.numerator]
    figure: dict[str, Any]
    if isinstance(numerator, Median):
        value = None if numerator.value is None else _rounded(Decimal(str(numerator.value)))
        figure = {"numerator": None, "denominator": None, "count": numerator.count, "value": value}
    elif not indicator.denominator:
        figure = {"numerator": numerator, "denominator": None, "value": float(numerator)}
    else:
        denominator = result[indicator.denominator]
        value = None if not denominator else _rounded(Decimal(numerator) * indicator.multiplier / Decimal(denominator))
        figure = {"numerator": numerator, "denominator": denominator, "value": value}
    figure["unit"] = indicator.unit
    figure["target"] = None if target is None else {
        "comparison": target.comparison, "value": float(target.value), "met": target.met_by(figure["value"]),
        "source": target.source_note}
    return figure


def _measure_names(indicators: list[Indicator]) -> list[str]:
    names: list[str] = []
    for indicator in indicators:
        names.append(indicator.numerator)
        if indicator.denominator:
            names.append(indicator.denominator)
    return names


def _head(region: Region, date_from: dt.date, date_to: dt.date, institution: Institution | None) -> dict[str, Any]:
    head: dict[str, Any] = {"region": region.code, "from": date_from.isoformat(), "to": date_to.isoformat()}
    if institution is not None:
        head["institution"] = institution.code
    return head


def _check(region: Region, date_from: dt.date, date_to: dt.date, institution: Institution | None) -> None:
    if date_from > date_to:
        raise ValueError("date_from is after date_to")
    if institution is not None:
        inside = Institution.objects.filter(region_in(region, "region"), pk=institution.pk)
        if not inside.exists():
            raise ValueError("the institution is not in the region")


def figures(*, region: Region, date_from: dt.date, date_to: dt.date, institution: Institution | None = None,
            now: dt.datetime | None = None, computed: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every active indicator for the region (everything below it included), or for one institution of it,
    from ``date_from`` to ``date_to`` inclusive (China time). ``computed``: the measures, when the caller has
    them already (:func:`figures_with_areas`)."""
    _check(region, date_from, date_to, institution)
    indicators = active_indicators(region=region)
    result = computed if computed is not None else compute(
        names=_measure_names(indicators), area=Area(region=region, institution=institution),
        period=Period(date_from, date_to), now=now or timezone.now())[None]
    targets = _targets(region=region, indicators=indicators)
    return {**_head(region, date_from, date_to, institution), "indicators": {
        i.code: _figure(i, result, targets.get(i.pk)) for i in indicators}}


def _grouped(*, region: Region, date_from: dt.date, date_to: dt.date, grouping: Grouping,
             keys: list[tuple[Any, str]], institution: Institution | None = None,
             now: dt.datetime | None, computed: dict[Any, Any] | None = None) -> dict[str, Any]:
    """One entry per listed key (zeros where no record), then any other key that has records."""
    _check(region, date_from, date_to, institution)
    indicators = active_indicators(region=region)
    names = _measure_names(indicators)
    results = computed if computed is not None else compute(
        names=names, area=Area(region=region, institution=institution), period=Period(date_from, date_to),
        grouping=grouping, now=now or timezone.now())
    targets = _targets(region=region, indicators=indicators)
    listed = {key for key, _name in keys}
    extra = [(key, str(key)) for key in results if key not in listed and key is not None]
    groups = []
    for key, name in [*keys, *extra]:
        result = results.get(key) or {name_: empty_value(name_) for name_ in names}
        groups.append({"key": key, "name": name, "indicators": {
            i.code: _figure(i, result, targets.get(i.pk)) for i in indicators}})
    return {**_head(region, date_from, date_to, institution), "by": grouping.value, "groups": groups}


def figures_by_area(*, region: Region, date_from: dt.date, date_to: dt.date,
                    now: dt.datetime | None = None, computed: dict[Any, Any] | None = None) -> dict[str, Any]:
    """The figures of each sub-area one level down (a province's cities, a city's counties), in one query per
    source. A county has no sub-area: use :func:`figures_by_institution`. A record attributed to the region
    itself (a residence recorded at the city) is its own group, so the groups add up to the region."""
    if region.level == Region.Level.COUNTY:
        raise ValueError("a county has no sub-area")
    children = [(child.code, child.name) for child in Region.objects.filter(parent=region).order_by("code")]
    return _grouped(region=region, date_from=date_from, date_to=date_to, grouping=Grouping.AREA, keys=children,
                    now=now, computed=computed)


def figures_with_areas(*, region: Region, date_from: dt.date, date_to: dt.date,
                       now: dt.datetime | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """:func:`figures` and :func:`figures_by_area` of one region and period, equal to the two calls, from one
    pass over the records: every record of the region is in exactly one sub-area's group (the region's own
    included), so the region's counts are the sums of its groups'; only the medians, which do not add up,
    are computed again for the region as a whole (the dashboard: one scan of a province-year fewer)."""
    if region.level == Region.Level.COUNTY:
        raise ValueError("a county has no sub-area")
    _check(region, date_from, date_to, None)
    now = now or timezone.now()
    names = _measure_names(active_indicators(region=region))
    area, period = Area(region=region), Period(date_from, date_to)
    grouped = compute(names=names, area=area, period=period, grouping=Grouping.AREA, now=now)
    medians = [name for name in names if isinstance(empty_value(name), Median)]
    total: dict[str, Any] = compute(names=medians, area=area, period=period, now=now)[None] if medians else {}
    for name in names:
        if name not in total:
            count = 0
            for result in grouped.values():
                count += cast(int, result.get(name, 0))
            total[name] = count
    return (figures(region=region, date_from=date_from, date_to=date_to, now=now, computed=total),
            figures_by_area(region=region, date_from=date_from, date_to=date_to, now=now, computed=grouped))


def figures_by_institution(*, region: Region, date_from: dt.date, date_to: dt.date,
                           now: dt.datetime | None = None) -> dict[str, Any]:
    """The figures of each institution located in the region, attributed by institution (deliveries where
    she delivered, deaths by the reporting institution, service figures by the serving institution): the
    drill-down below a county. Institutions without any record in the period are left out."""
    located = Institution.objects.filter(region_in(region, "region"))
    labels = {pk: (name, code) for pk, name, code in located.values_list("pk", "name", "code")}
    data = _grouped(region=region, date_from=date_from, date_to=date_to, grouping=Grouping.INSTITUTION, keys=[],
                    now=now)
    for group in data["groups"]:
        group["name"], group["code"] = labels.get(_uuid(group["key"]), (group["key"], ""))
    data["groups"].sort(key=lambda g: g["name"])
    return data


def _uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


def months_between(date_from: dt.date, date_to: dt.date) -> list[str]:
    months = []
    year, month = date_from.year, date_from.month
    while (year, month) <= (date_to.year, date_to.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def figures_by_month(*, region: Region, date_from: dt.date, date_to: dt.date, institution: Institution | None = None,
                     now: dt.datetime | None = None) -> dict[str, Any]:
    """The figures of each calendar month of the period (the first and last cut to the period), in one
    query per source."""
    keys = [(month, month) for month in months_between(date_from, date_to)]
    data = _grouped(region=region, date_from=date_from, date_to=date_to, grouping=Grouping.MONTH, keys=keys,
                    institution=institution, now=now)
    for group in data["groups"]:
        year, month = (int(part) for part in group["key"].split("-"))
        first = max(dt.date(year, month, 1), date_from)
        last = min(dt.date(year, month, calendar.monthrange(year, month)[1]), date_to)
        group["from"], group["to"] = first.isoformat(), last.isoformat()
    return data


__all__ = ["Unit", "active_indicators", "figures", "figures_by_area", "figures_by_institution", "figures_by_month",
           "figures_with_areas"]
