"""The figures and the problems of a county's year (tests/workflows/selfinspection/conftest.py), by hand."""

from __future__ import annotations

from typing import Any

from workflows.selfinspection.services import report_live

from .conftest import YEAR


def rows(content: dict[str, Any], system: str) -> dict[str, dict[str, Any]]:
    section = next(s for s in content["sections"] if s["system"] == system)
    return {row["key"]: row for row in section["rows"]}


def test_the_five_systems_in_their_order(seeded):  # type: ignore[no-untyped-def]
    content = report_live(region=seeded.personas.regions.county_a, year=YEAR, kind="self_inspection")
    assert [s["system"] for s in content["sections"]] == ["screening", "highrisk", "referral", "death", "interview"]
    assert content["span"] == "2025-01-01 – 2025-12-31"
    assert content["region"] == {"code": "350121", "name": "闽侯县"}


def test_screening_figures_of_the_county(seeded):  # type: ignore[no-untyped-def]
    screening = rows(report_live(region=seeded.personas.regions.county_a, year=YEAR, kind="self_inspection"),
                     "screening")
    # Three screenings in 2025 (the one at 23:30 on 31 December 2024 is the year before), two positive.
    assert screening["screenings"]["value"] == 3
    assert screening["screenings_positive"]["value"] == 2
    # The first assessments by colour: the voided red one does not count.
    assert [screening[k]["value"] for k in ("first_assessments", "first_green", "first_yellow", "first_orange",
                                            "first_red", "first_purple")] == [3, 1, 0, 1, 1, 0]
    assessed = screening["screen_positive_assessed_in_time"]
    assert (assessed["ratio"], assessed["value"]) == ("1 / 2", 50.0)
    # From the indicators engine, with the province's target: two deliveries, none systematically managed.
    managed = screening["system_management_rate"]
    assert (managed["ratio"], managed["value"], managed["display"]) == ("0 / 2", 0.0, "0.00 %")
    assert managed["target"] == {"display": "≥ 95.00 %", "met": False}
    assert screening["live_births"]["value"] == 2


def test_the_other_systems_figures(seeded):  # type: ignore[no-untyped-def]
    content = report_live(region=seeded.personas.regions.county_a, year=YEAR, kind="self_inspection")
    highrisk, referral = rows(content, "highrisk"), rows(content, "referral")
    death, interview = rows(content, "death"), rows(content, "interview")
    assert [highrisk[k]["value"] for k in ("cases_opened", "cases_opened_orange", "cases_opened_red")] == [2, 1, 1]
    assert highrisk["cases_reported_in_time"]["ratio"] == "1 / 2"
    answered = referral["referral_answer_in_time_rate"]
    assert (answered["ratio"], answered["value"], answered["target"]["met"]) == ("1 / 2", 50.0, False)
    assert referral["referral_answer_median_minutes"]["value"] == 10.0
    assert (referral["referrals_received"]["value"], referral["referrals_sent"]["value"]) == (2, 2)
    assert death["maternal_deaths"]["value"] == 1
    assert death["death_report_24h_rate"]["ratio"] == "0 / 1"
    assert death["measures_set"]["value"] == 1
    assert [interview[k]["value"] for k in ("interviews_notified", "interviews_held", "circulars_commend",
                                            "circulars_criticise")] == [1, 1, 1, 0]


def test_another_county_counts_only_its_own(seeded):  # type: ignore[no-untyped-def]
    content = report_live(region=seeded.personas.regions.county_b, year=YEAR, kind="self_inspection")
    assert rows(content, "screening")["screenings"]["value"] == 1
    assert rows(content, "highrisk")["cases_opened"]["value"] == 0
    assert rows(content, "interview")["interviews_held"]["value"] == 0


def test_a_city_sums_its_counties(seeded):  # type: ignore[no-untyped-def]
    content = report_live(region=seeded.personas.regions.fuzhou, year=YEAR, kind="self_inspection")
    assert rows(content, "screening")["screenings"]["value"] == 3
    assert rows(content, "referral")["referrals_received"]["value"] == 2


def test_problems_are_found_from_the_records(seeded):  # type: ignore[no-untyped-def]
    problems = report_live(region=seeded.personas.regions.county_a, year=YEAR, kind="self_inspection")["problems"]
    kinds = {(p["system"], p["kind"]) for p in problems}
    assert kinds == {("screening", "below_target"), ("referral", "below_target"),
                     ("screening", "assessments_overdue"), ("highrisk", "cases_reported_late"),
                     ("referral", "referral_answers_late"), ("referral", "failing_centre"),
                     ("death", "late_death_reports"), ("death", "measures_overdue")}
    by_kind = {p["kind"]: p for p in problems if p["kind"] != "below_target"}
    assert by_kind["referral_answers_late"]["count"] == 1
    assert "闽侯县医院 1" in by_kind["referral_answers_late"]["text"]
    assert "闽侯县医院" in by_kind["failing_centre"]["text"]
    assert "转诊及时应答率" in by_kind["failing_centre"]["text"]
    assert by_kind["late_death_reports"]["count"] == 1
    assert by_kind["measures_overdue"]["count"] == 1
    # In the order of the five systems.
    order = [p["system"] for p in problems]
    assert order == sorted(order, key=["screening", "highrisk", "referral", "death", "interview"].index)


def test_a_county_without_problems_has_none(seeded):  # type: ignore[no-untyped-def]
    content = report_live(region=seeded.personas.regions.county_b, year=YEAR, kind="self_inspection")
    assert content["problems"] == []


def test_a_provinces_own_indicator_joins_the_system_of_its_measure(seeded):  # type: ignore[no-untyped-def]
    from indicators.models import Indicator

    Indicator.objects.create(code="fj_referrals_on_time", province=seeded.personas.regions.fujian, name_zh="及时应答转诊数",
                             name_en="Referrals answered in time", definition="…", unit="count",
                             numerator="referrals_answered_in_time", multiplier=1, attribution="service", order=900)
    content = report_live(region=seeded.personas.regions.county_a, year=YEAR, kind="self_inspection")
    assert rows(content, "referral")["fj_referrals_on_time"]["value"] == 1
    other = report_live(region=seeded.personas.regions.guangzhou, year=YEAR, kind="self_inspection")
    assert "fj_referrals_on_time" not in rows(other, "referral")
