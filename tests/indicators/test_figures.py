"""Every formula on the hand-made data set (tests/indicators/conftest.py), with the numbers worked by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from indicators.models import Indicator, IndicatorTarget
from indicators.services import (
    figures,
    figures_by_area,
    figures_by_institution,
    figures_by_month,
    figures_with_areas,
)
from tests.indicators.conftest import NOW

YEAR = {"date_from": dt.date(2025, 1, 1), "date_to": dt.date(2025, 12, 31), "now": NOW}


def ratio(data, code):  # type: ignore[no-untyped-def]
    figure = data["indicators"][code]
    return figure["numerator"], figure["denominator"], figure["value"]


@pytest.fixture
def county_a(dataset):  # type: ignore[no-untyped-def]
    return figures(region=dataset.personas.regions.county_a, **YEAR)


def test_the_seeded_indicators_are_exactly_the_issues(db):  # type: ignore[no-untyped-def]
    assert list(Indicator.objects.values_list("code", flat=True)) == [
        "live_births", "deliveries", "maternal_deaths", "mmr", "early_booking_rate", "antenatal_check_rate",
        "antenatal_5_rate", "postpartum_visit_rate", "hospital_delivery_rate", "caesarean_rate",
        "system_management_rate", "high_risk_proportion", "case_management_rate", "near_miss_ratio",
        "referral_answer_in_time_rate", "referral_answer_median_minutes", "referral_feedback_in_time_rate",
        "ddi_in_target_rate", "death_report_24h_rate", "death_reviewed_all_levels_rate", "death_avoidable_share"]
    for indicator in Indicator.objects.all():
        indicator.full_clean()  # every row names measures that exist, with a consistent unit


def test_counts_twins_count_two_and_a_stillbirth_none(county_a):  # type: ignore[no-untyped-def]
    assert county_a["region"] == "350121" and county_a["from"] == "2025-01-01" and county_a["to"] == "2025-12-31"
    assert county_a["indicators"]["deliveries"] == {"numerator": 5, "denominator": None, "value": 5.0,
                                                    "unit": "count", "target": None}
    assert ratio(county_a, "live_births") == (5, None, 5.0)


def test_maternal_deaths_leave_out_the_excluded_and_the_draft(county_a):  # type: ignore[no-untyped-def]
    assert ratio(county_a, "maternal_deaths") == (2, None, 2.0)
    assert ratio(county_a, "mmr") == (2, 5, 40000.0)
    assert county_a["indicators"]["mmr"]["unit"] == "per_100000"


def test_early_booking_91_days_is_not_early_90_is_and_the_ultrasound_edd_wins(county_a):  # type: ignore[no-untyped-def]
    # D1 (day 90) and D4 (day 50) early, D2 (day 91) not, D3 early by its ultrasound EDD, D5 (day 120) not.
    assert ratio(county_a, "early_booking_rate") == (3, 5, 60.0)


def test_antenatal_visits_count_on_or_before_the_delivery_date(county_a):  # type: ignore[no-untyped-def]
    assert ratio(county_a, "antenatal_check_rate") == (4, 5, 80.0)
    # D3's fifth visit is the day after its delivery.
    assert ratio(county_a, "antenatal_5_rate") == (2, 5, 40.0)


def test_postpartum_visit_on_day_28_counts_day_29_does_not(county_a):  # type: ignore[no-untyped-def]
    assert ratio(county_a, "postpartum_visit_rate") == (3, 5, 60.0)


def test_hospital_delivery_and_caesarean_count_live_births(county_a):  # type: ignore[no-untyped-def]
    # The home delivery's baby is the one not born at an institution; the stillborn caesarean adds none.
    assert ratio(county_a, "hospital_delivery_rate") == (4, 5, 80.0)
    assert ratio(county_a, "caesarean_rate") == (1, 5, 20.0)


def test_system_management_needs_all_four(county_a):  # type: ignore[no-untyped-def]
    assert ratio(county_a, "system_management_rate") == (2, 5, 40.0)


def test_high_risk_uses_the_valid_colour_before_delivery(county_a):  # type: ignore[no-untyped-def]
    # D5's red assessment was voided, and her other red one came after the delivery.
    assert ratio(county_a, "high_risk_proportion") == (1, 5, 20.0)
    assert ratio(county_a, "case_management_rate") == (1, 1, 100.0)
    assert ratio(county_a, "near_miss_ratio") == (1, 5, 200.0)


def test_service_figures_of_the_county(county_a):  # type: ignore[no-untyped-def]
    # Owed: answered in 5, 15 and 7 minutes and the one never answered; the cancelled one owed nothing.
    assert ratio(county_a, "referral_answer_in_time_rate") == (2, 4, 50.0)
    assert county_a["indicators"]["referral_answer_median_minutes"] == {
        "numerator": None, "denominator": None, "count": 3, "value": 7.0, "unit": "minutes", "target": None}
    assert ratio(county_a, "referral_feedback_in_time_rate") == (1, 3, 33.33)
    assert ratio(county_a, "ddi_in_target_rate") == (1, 2, 50.0)
    # Reported in 10 h, reported in 30 h, and a draft past its deadline; the excluded death is not one.
    assert ratio(county_a, "death_report_24h_rate") == (1, 3, 33.33)
    assert ratio(county_a, "death_reviewed_all_levels_rate") == (1, 2, 50.0)
    assert ratio(county_a, "death_avoidable_share") == (1, 1, 100.0)


def test_an_imported_death_counts_as_a_death_but_not_in_the_reporting_time(dataset):  # type: ignore[no-untyped-def]
    from cases.models import DeathReport

    late = DeathReport.objects.filter(reported_at__gt=F("report_due_at")).get()  # the one reported in 30 h
    DeathReport.objects.filter(pk=late.pk).update(origin=DeathReport.Origin.IMPORT)
    data = figures(region=dataset.personas.regions.county_a, **YEAR)
    assert ratio(data, "death_report_24h_rate") == (1, 2, 50.0)  # reported in another system: not judged here
    assert ratio(data, "maternal_deaths") == (2, None, 2.0)


def test_a_region_above_counties_sums_them(dataset):  # type: ignore[no-untyped-def]
    r = dataset.personas.regions
    city = figures(region=r.fuzhou, **YEAR)
    assert ratio(city, "deliveries") == (6, None, 6.0)
    assert ratio(city, "early_booking_rate") == (4, 6, 66.67)
    assert ratio(city, "high_risk_proportion") == (2, 6, 33.33)
    assert ratio(city, "case_management_rate") == (1, 2, 50.0)  # county A2's case opened after delivery
    province = figures(region=r.fujian, **YEAR)
    assert ratio(province, "live_births") == (7, None, 7.0)
    assert ratio(province, "referral_answer_in_time_rate") == (3, 5, 60.0)
    assert province["indicators"]["referral_answer_median_minutes"]["value"] == 6.0  # of 2, 5, 7, 15
    county_b = figures(region=r.county_b, **YEAR)
    assert ratio(county_b, "deliveries") == (1, None, 1.0)  # 00:10 on the first day counts
    assert ratio(county_b, "mmr") == (0, 1, 0.0)
    assert ratio(county_b, "high_risk_proportion") == (0, 1, 0.0)
    assert ratio(county_b, "case_management_rate") == (0, 0, None)  # no denominator: no value
    assert ratio(county_b, "ddi_in_target_rate") == (1, 1, 100.0)


def test_other_periods_and_provinces(dataset):  # type: ignore[no-untyped-def]
    r = dataset.personas.regions
    last_day = figures(region=r.county_a2, date_from=dt.date(2025, 12, 31), date_to=dt.date(2025, 12, 31), now=NOW)
    assert ratio(last_day, "deliveries") == (1, None, 1.0)  # 23:30 China time on the last day
    empty = figures(region=r.guangdong, **YEAR)
    assert ratio(empty, "mmr") == (0, 0, None)
    assert empty["indicators"]["referral_answer_median_minutes"]["value"] is None


def test_an_institutions_figures(dataset):  # type: ignore[no-untyped-def]
    p = dataset.personas
    hospital_a = figures(region=p.regions.county_a, institution=p.inst.hospital_a, **YEAR)
    assert hospital_a["institution"] == p.inst.hospital_a.code
    assert ratio(hospital_a, "deliveries") == (3, None, 3.0)
    assert ratio(hospital_a, "hospital_delivery_rate") == (3, 3, 100.0)
    assert ratio(hospital_a, "ddi_in_target_rate") == (1, 2, 50.0)
    hospital_b = figures(region=p.regions.fujian, institution=p.inst.hospital_b, **YEAR)
    assert ratio(hospital_b, "deliveries") == (2, None, 2.0)  # county A's D4 and county B's D8
    assert ratio(hospital_b, "near_miss_ratio") == (0, 2, 0.0)  # no checklist on record: attributed nowhere
    with pytest.raises(ValueError):
        figures(region=p.regions.county_a, institution=p.inst.hospital_b, **YEAR)
    with pytest.raises(ValueError):
        figures(region=p.regions.county_a, date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 1, 1))


def test_targets_of_the_province_replace_the_national(dataset):  # type: ignore[no-untyped-def]
    r = dataset.personas.regions
    mmr = Indicator.objects.get(code="mmr")
    system = Indicator.objects.get(code="system_management_rate")
    IndicatorTarget.objects.create(indicator=mmr, comparison="lte", value=14.5, source_note="national 2025")
    IndicatorTarget.objects.create(indicator=system, province=r.fujian, comparison="gte", value=95,
                                   source_note="province plan")
    data = figures(region=r.county_a, **YEAR)
    assert data["indicators"]["mmr"]["target"] == {"comparison": "lte", "value": 14.5, "met": False,
                                                   "source": "national 2025"}
    assert data["indicators"]["system_management_rate"]["target"]["met"] is False
    IndicatorTarget.objects.create(indicator=mmr, province=r.fujian, comparison="lte", value=50000,
                                   source_note="lenient")
    assert figures(region=r.county_a, **YEAR)["indicators"]["mmr"]["target"]["met"] is True


def test_a_province_adds_a_ratio_without_code(dataset):  # type: ignore[no-untyped-def]
    r = dataset.personas.regions
    stillbirth = Indicator(code="fj_caesarean_by_deliveries", province=r.fujian, name_zh="剖宫产率（按产妇数）",
                           name_en="Caesareans per delivery", definition="caesarean deliveries / deliveries",
                           unit="percent", numerator="caesarean_deliveries", denominator="deliveries", multiplier=100,
                           attribution="population", order=999)
    stillbirth.full_clean()
    stillbirth.save()
    assert ratio(figures(region=r.county_a, **YEAR), "fj_caesarean_by_deliveries") == (2, 5, 40.0)
    assert "fj_caesarean_by_deliveries" not in figures(region=r.guangdong, **YEAR)["indicators"]


def test_an_indicator_naming_a_wrong_measure_is_refused(db):  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    bad = Indicator(code="bad", name_zh="x", name_en="x", definition="x", unit="percent", numerator="nonsense",
                    denominator="referrals_answer_owed", multiplier=10, attribution="population")
    with pytest.raises(ValidationError) as caught:
        bad.full_clean()
    assert set(caught.value.message_dict) == {"numerator", "denominator", "multiplier"}


def _numbers(data):  # type: ignore[no-untyped-def]
    return {code: (f["numerator"], f["denominator"], f.get("count")) for code, f in data["indicators"].items()}


def _summed(groups):  # type: ignore[no-untyped-def]
    total: dict = {}
    for group in groups:
        for code, f in group["indicators"].items():
            if f["unit"] == "minutes":
                continue
            n, d = total.get(code, (0, 0))
            total[code] = (n + f["numerator"], d + (f["denominator"] or 0))
    return total


def _without_medians(data):  # type: ignore[no-untyped-def]
    return {code: (f["numerator"], f["denominator"] or 0) for code, f in data["indicators"].items()
            if f["unit"] != "minutes"}


def test_by_area_equals_the_single_calls_and_sums_to_the_region(dataset):  # type: ignore[no-untyped-def]
    r = dataset.personas.regions
    with CaptureQueriesContext(connection) as queries:
        by_city = figures_by_area(region=r.fujian, **YEAR)
    # One statement per source (7) and one for the median, plus the indicator, target and region rows.
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 12
    assert [g["key"] for g in by_city["groups"]] == ["350100", "350200"]
    for group in by_city["groups"]:
        single = figures(region=getattr(r, {"350100": "fuzhou", "350200": "xiamen"}[group["key"]]), **YEAR)
        assert _numbers(group) == _numbers(single)
    assert _summed(by_city["groups"]) == _without_medians(figures(region=r.fujian, **YEAR))
    by_county = figures_by_area(region=r.fuzhou, **YEAR)
    assert {g["key"]: _numbers(g) for g in by_county["groups"]} == {
        "350121": _numbers(figures(region=r.county_a, **YEAR)),
        "350102": _numbers(figures(region=r.county_a2, **YEAR))}


def test_figures_with_areas_equal_the_two_calls_medians_included(dataset):  # type: ignore[no-untyped-def]
    r = dataset.personas.regions
    for region in (r.fujian, r.fuzhou):
        total, by_area = figures_with_areas(region=region, **YEAR)
        assert total == figures(region=region, **YEAR)
        assert by_area == figures_by_area(region=region, **YEAR)
        if region == r.fujian:  # the median of the province's 4 answers, not a sum of the cities' medians
            assert total["indicators"]["referral_answer_median_minutes"]["value"] == 6.0
    with pytest.raises(ValueError, match="sub-area"):
        figures_with_areas(region=r.county_a, **YEAR)


def test_by_institution_equals_the_single_calls(dataset):  # type: ignore[no-untyped-def]
    p = dataset.personas
    data = figures_by_institution(region=p.regions.fujian, **YEAR)
    by_code = {g["code"]: g for g in data["groups"]}
    assert set(by_code) >= {p.inst.hospital_a.code, p.inst.hospital_b.code, p.inst.hospital_a2.code}
    for institution in (p.inst.hospital_a, p.inst.hospital_b, p.inst.hospital_a2):
        single = figures(region=p.regions.fujian, institution=institution, **YEAR)
        assert _numbers(by_code[institution.code]) == _numbers(single)


def test_by_institution_of_an_area_without_institutions_is_empty(dataset):  # type: ignore[no-untyped-def]
    from tests.personas import RegionFactory

    r = dataset.personas.regions
    empty = RegionFactory(code="350128", name="平潭", parent=r.fuzhou, city=r.fuzhou, province=r.fujian)
    assert figures_by_institution(region=empty, **YEAR)["groups"] == []


def test_by_month_equals_the_single_calls_and_sums_to_the_year(dataset):  # type: ignore[no-untyped-def]
    r = dataset.personas.regions
    data = figures_by_month(region=r.fuzhou, **YEAR)
    assert [g["key"] for g in data["groups"]] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert _summed(data["groups"]) == _without_medians(figures(region=r.fuzhou, **YEAR))
    october = next(g for g in data["groups"] if g["key"] == "2025-10")
    single = figures(region=r.fuzhou, date_from=dt.date(2025, 10, 1), date_to=dt.date(2025, 10, 31), now=NOW)
    assert _numbers(october) == _numbers(single)
    assert (october["from"], october["to"]) == ("2025-10-01", "2025-10-31")
    part = figures_by_month(region=r.county_a, date_from=dt.date(2025, 10, 5), date_to=dt.date(2025, 11, 3), now=NOW)
    assert [(g["from"], g["to"]) for g in part["groups"]] == [("2025-10-05", "2025-10-31"),
                                                              ("2025-11-01", "2025-11-03")]
    assert _numbers(part["groups"][0])["deliveries"] == (2, None, None)  # D2 and D4; D1 is on 1 October
