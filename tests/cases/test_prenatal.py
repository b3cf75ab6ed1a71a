"""Prenatal QC records (cases/models/prenatal.py): the shipped definitions and their origin, the entry's validation
(whole numbers ≥ 0, a numerator within its denominator where it counts part of it), the licence fields, periods."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from cases.models import (
    Origin,
    PrenatalDataElement,
    PrenatalIndicator,
    indicators_for,
    parse_period_key,
    period_bounds,
    recent_periods,
    validate_prenatal_values,
)
from organisations.models import Institution

pytestmark = pytest.mark.django_db


def national() -> list[PrenatalIndicator]:
    return indicators_for(province_code="350000")


def test_the_three_report_form_rates_ship_as_national_read_with_their_source():
    rates = {i.code: i for i in national()}
    assert set(rates) == {"screening_rate", "screen_positive_rate", "diagnosis_confirmed_rate"}
    positive = rates["screen_positive_rate"]
    assert (positive.name_zh, positive.numerator.code, positive.denominator.code) == (
        "产前筛查阳性率", "screen_positive", "screened")
    assert rates["screening_rate"].denominator.code == "women_delivered"
    assert rates["diagnosis_confirmed_rate"].licence == "diagnosis"
    for indicator in rates.values():
        assert indicator.origin == Origin.NATIONAL_READ and indicator.province_id is None
        assert indicator.source_url.startswith("https://") and "466" in indicator.source_note
        assert indicator.numerator_label and indicator.denominator_label and indicator.definition
    # Screened women are not among the women delivered in the period: no "≤" rule there.
    assert not rates["screening_rate"].numerator_within_denominator
    assert positive.numerator_within_denominator


def test_values_must_be_whole_numbers_not_below_zero():
    with pytest.raises(ValidationError) as caught:
        validate_prenatal_values({"screened": -1, "screen_positive": 0, "women_delivered": "12"}, national())
    assert set(caught.value.message_dict) == {"screened", "women_delivered"}
    with pytest.raises(ValidationError):
        validate_prenatal_values({"screened": True}, national())


def test_positives_cannot_exceed_the_women_screened_but_screened_may_exceed_deliveries():
    with pytest.raises(ValidationError) as caught:
        validate_prenatal_values({"screened": 10, "screen_positive": 11, "women_delivered": 5}, national())
    assert list(caught.value.message_dict) == ["screen_positive"]
    message = caught.value.message_dict["screen_positive"][0]
    assert "产前筛查阳性人数" in message and "产前筛查人数" in message and "11" in message
    validate_prenatal_values({"screened": 10, "screen_positive": 10, "women_delivered": 5, "diagnosed": None},
                             national())


def test_confirmed_cannot_exceed_the_women_diagnosed():
    with pytest.raises(ValidationError) as caught:
        validate_prenatal_values({"diagnosed": 3, "confirmed": 4}, national())
    assert list(caught.value.message_dict) == ["confirmed"]


def test_a_province_definition_is_never_national_and_a_national_one_names_its_source(personas):
    screened = PrenatalDataElement.objects.get(code="screened")
    element = PrenatalDataElement(code="nipt", name_zh="无创DNA检测人数", name_en="NIPT", definition="x",
                                  licence="screening", origin=Origin.NATIONAL_READ, province=personas.regions.fujian)
    with pytest.raises(ValidationError) as caught:
        element.full_clean()
    assert "origin" in caught.value.message_dict and "source_url" in caught.value.message_dict
    element.origin = Origin.PROVINCE
    element.full_clean()
    element.save()
    made_up = PrenatalIndicator(code="nipt_share", name_zh="无创占比", name_en="NIPT share", definition="x",
                                licence="screening", origin=Origin.NATIONAL_READ, source_url="https://example.org/",
                                numerator=element, denominator=screened, numerator_label="a", denominator_label="b")
    with pytest.raises(ValidationError) as caught:
        made_up.full_clean()
    assert "numerator" in caught.value.message_dict  # a national rate from a province's element
    made_up.origin, made_up.province = Origin.PROVINCE, personas.regions.fujian
    made_up.full_clean()
    made_up.save()
    assert "nipt_share" in {i.code for i in indicators_for(province_code="350000")}
    assert "nipt_share" not in {i.code for i in indicators_for(province_code="440000")}
    same = PrenatalIndicator(code="same", name_zh="同", name_en="same", definition="x", licence="screening",
                             origin=Origin.PROVINCE, province=personas.regions.fujian, numerator=screened,
                             denominator=screened, numerator_label="a", denominator_label="b")
    with pytest.raises(ValidationError) as caught:
        same.full_clean()
    assert "denominator" in caught.value.message_dict


def test_only_hospitals_and_mch_institutes_are_licensed(personas):
    bureau = personas.inst.bureau_a
    bureau.prenatal_screening = True
    with pytest.raises(ValidationError) as caught:
        bureau.full_clean()
    assert "kind" in caught.value.message_dict
    hospital = personas.inst.hospital_a
    hospital.prenatal_licence_number = "123"
    with pytest.raises(ValidationError) as caught:
        hospital.full_clean()
    assert "prenatal_licence_number" in caught.value.message_dict
    hospital.prenatal_diagnosis = True
    hospital.prenatal_licence_valid_until = dt.date(2027, 12, 31)
    hospital.full_clean()
    hospital._change_reason = "licensed"
    hospital.save()
    assert Institution.history.filter(id=hospital.pk, prenatal_diagnosis=True).exists()


def test_periods_are_months_or_quarters_named_by_their_key():
    assert parse_period_key("2026-03") == ("month", dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert parse_period_key("2024-Q1") == ("quarter", dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    for bad in ("2026-13", "2026-Q5", "2026Q1", "", "../x"):
        assert parse_period_key(bad) is None
    assert period_bounds("quarter", dt.date(2025, 11, 5)) == (dt.date(2025, 10, 1), dt.date(2025, 12, 31))
    assert recent_periods("quarter", dt.date(2026, 2, 1), 3) == [
        (dt.date(2026, 1, 1), dt.date(2026, 3, 31)), (dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
        (dt.date(2025, 7, 1), dt.date(2025, 9, 30))]
