"""Prenatal screening and diagnosis QC rates (产前筛查和产前诊断质量控制) summed up the area: read-only.

Each rate is Σ numerator element ÷ Σ denominator element × the unit's multiplier, the sums taken over the
*submitted* reports of the institutions located in the region (or of one institution) whose period lies inside
the period asked for (an open or returned report is still being corrected and does not count). A quarterly
report counts in a month's figures only when that month is the whole quarter, i.e. never: a province that
collects per quarter reads quarters and years.

Rows: one per sub-area one level down (a province's cities, a city's counties) plus the region's own level when
institutions sit on it (a city's hospitals), or one per licensed institution of a county. Completeness beside
each: the institutions licensed now, and how many institutions submitted figures for a period of the span.

Who may ask for which area is checked by the caller (indicators.permissions) first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q, Sum
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from cases import selectors
from cases.models import Origin, PrenatalIndicator, indicators_for
from indicators.measures import region_in
from organisations.models import Institution, Region

TWO_PLACES = Decimal("0.01")
UNIT_SUFFIX = {"percent": "%", "per_1000": "‰"}


def rate(numerator: int | None, denominator: int | None, multiplier: int) -> float | None:
    """numerator × multiplier ÷ denominator, rounded to 2 decimals (half up); None without a denominator."""
    if numerator is None or not denominator:
        return None
    value = Decimal(numerator) * multiplier / Decimal(denominator)
    return float(value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP))


def indicator_name(indicator: PrenatalIndicator) -> str:
    language = translation.get_language() or "zh-hans"
    return indicator.name_zh if language.lower().startswith("zh") else indicator.name_en


def origin_text(indicator: PrenatalIndicator) -> str:
    if indicator.origin == Origin.NATIONAL_READ:
        return str(_("National (read)"))
    return str(_("Added by %(province)s") % {"province": indicator.province.name if indicator.province else "—"})


def describe(indicator: PrenatalIndicator) -> dict[str, Any]:
    """What a page shows about an indicator besides its figure: its definition and where it comes from."""
    return {"code": indicator.code, "name": indicator_name(indicator), "unit": indicator.unit,
            "unit_suffix": UNIT_SUFFIX.get(indicator.unit, ""), "definition": indicator.definition,
            "numerator_label": indicator.numerator_label, "denominator_label": indicator.denominator_label,
            "explanation": indicator.explanation, "licence": indicator.licence, "origin": indicator.origin,
            "origin_text": origin_text(indicator), "source_url": indicator.source_url,
            "source_note": indicator.source_note}


def figures_of(sums: dict[str, int], indicators: list[PrenatalIndicator]) -> dict[str, dict[str, Any]]:
    """Each indicator's numerator, denominator and value from element sums (None where nothing was entered)."""
    out = {}
    for indicator in indicators:
        top, bottom = sums.get(indicator.numerator.code), sums.get(indicator.denominator.code)
        out[indicator.code] = {"numerator": top, "denominator": bottom,
                               "value": rate(top, bottom, indicator.multiplier)}
    return out


def _licensed(region: Region, institution: Institution | None) -> list[Institution]:
    qs = Institution.objects.filter(Q(prenatal_screening=True) | Q(prenatal_diagnosis=True), is_active=True)
    qs = qs.filter(pk=institution.pk) if institution is not None else qs.filter(region_in(region, "region"))
    return list(qs.select_related("region").order_by("region_id", "name"))


def _group_key(region: Region, institution_region: Region, institution: Institution) -> str:
    """The row an institution's figures go to: its institution (county), its county (city), its city (province);
    the region's own code for institutions on the region's own level."""
    if region.level == Region.Level.COUNTY:
        return str(institution.pk)
    if region.level == Region.Level.CITY:
        return institution_region.code
    return institution_region.city_id or institution_region.code


def prenatal_figures(*, region: Region, date_from: dt.date, date_to: dt.date,
                     institution: Institution | None = None) -> dict[str, Any]:
    """The rates of the region (or of one institution in it) for the period, and the rows one level down."""
    province = region.province_id or region.code
    indicators = indicators_for(province_code=province)
    licensed = _licensed(region, institution)
    where = (Q(report__institution=institution) if institution is not None
             else region_in(region, "report__institution__region"))
    values = selectors.indicator_prenatal_values().filter(
        where, report__period_start__gte=date_from, report__period_end__lte=date_to)
    # Institutions licensed now, and those whose submitted figures count although their licence has lapsed since.
    lapsed = set(values.values_list("report__institution_id", flat=True)) - {i.pk for i in licensed}
    counted = [*licensed, *Institution.objects.filter(pk__in=lapsed).select_related("region")]
    by_id = {i.pk: i for i in counted}
    sums: dict[Any, dict[str, int]] = defaultdict(dict)
    for row in values.order_by().values("report__institution_id", "element__code").annotate(total=Sum("value")):
        sums[row["report__institution_id"]][row["element__code"]] = int(row["total"])
    submitted: dict[Any, int] = defaultdict(int)
    reports = selectors.indicator_prenatal_reports().filter(
        state="submitted", period_start__gte=date_from, period_end__lte=date_to, institution_id__in=list(by_id))
    for institution_id in reports.values_list("institution_id", flat=True):
        submitted[institution_id] += 1

    def total(ids: list[Any]) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for pk in ids:
            for code, value in sums.get(pk, {}).items():
                out[code] += value
        return dict(out)

    licensed_ids = {i.pk for i in licensed}
    groups: dict[str, list[Any]] = defaultdict(list)
    for inst in counted:
        groups[_group_key(region, inst.region, inst)].append(inst.pk)
    names = dict(Region.objects.filter(pk__in=list(groups)).values_list("code", "name"))
    rows = []
    if institution is None:
        for key, ids in groups.items():
            if region.level == Region.Level.COUNTY:
                inst = by_id[ids[0]]
                name, kind, code = inst.name, "institution", inst.code
            elif key == region.code:
                name, kind, code = str(_("%(name)s (own level)") % {"name": region.name}), "own", key
            else:
                name, kind, code = names.get(key, key), "region", key
            rows.append({"key": key, "name": name, "kind": kind, "code": code,
                         "licensed": sum(1 for pk in ids if pk in licensed_ids),
                         "reporting": sum(1 for pk in ids if submitted.get(pk)),
                         "figures": figures_of(total(ids), indicators)})
        rows.sort(key=lambda row: (row["kind"] == "own", row["code"] if row["kind"] == "region" else row["name"]))
    return {
        "indicators": [describe(i) for i in indicators],
        "figures": figures_of(total(list(by_id)), indicators),
        "licensed": len(licensed), "reporting": sum(1 for pk in by_id if submitted.get(pk)),
        "by": "institution" if region.level == Region.Level.COUNTY else "area",
        "rows": rows,
    }

