"""Prenatal QC entry (workflows/prenatal/services.py): who enters, submits and returns (allowed and denied), the
validation errors, the open → submitted → returned → submitted transitions with their history and alerts, and
the province's period setting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from cases.models import PrenatalReport, PrenatalValue, ProvinceSettings
from notifications.models import Alert
from organisations.http import ActionDenied, TransitionConflict
from tests.workflows.prenatal.helpers import FULL, QUARTER, license_institutions, submitted
from workflows.prenatal import permissions as p
from workflows.prenatal import services as svc

pytestmark = pytest.mark.django_db
S = PrenatalReport.State


@pytest.fixture
def licensed(personas):  # type: ignore[no-untyped-def]
    license_institutions(personas)
    return personas


def test_the_institutions_obstetrician_enters_and_each_value_keeps_who_entered_it(licensed):
    doctor, hospital = licensed.users.obstetrician_a, licensed.inst.hospital_a
    report = svc.prenatal_values_save(institution=hospital, period=QUARTER, by=doctor,
                                      values={"screened": 400, "screen_positive": "20", "women_delivered": None})
    assert report.state == S.OPEN and report.created_by == doctor
    assert dict(PrenatalValue.objects.filter(report=report).values_list("element__code", "value")) == {
        "screened": 400, "screen_positive": 20}
    row = PrenatalValue.objects.get(report=report, element__code="screened")
    assert row.entered_by == doctor
    assert row.history.get().history_user == doctor
    svc.prenatal_values_save(institution=hospital, period=QUARTER, by=doctor, values={"screened": 410})
    assert PrenatalValue.objects.get(pk=row.pk).value == 410
    assert not PrenatalValue.objects.filter(report=report, element__code="screen_positive").exists()  # cleared
    assert PrenatalValue.history.filter(element__code="screen_positive", history_type="-").exists()


@pytest.mark.parametrize("who", ["obstetrician_b", "primary_a", "mch_a", "bureau_a", "duty_a", "outsider"])
def test_nobody_else_enters_the_institutions_figures(licensed, who):
    with pytest.raises(ActionDenied):
        svc.prenatal_values_save(institution=licensed.inst.hospital_a, period=QUARTER, values=FULL,
                                 by=getattr(licensed.users, who))
    assert not PrenatalReport.objects.exists()


def test_an_institution_without_a_licence_enters_nothing(licensed):
    mch, officer = licensed.inst.mch_a, licensed.users.mch_a
    assert not p.may_enter(officer, mch)
    with pytest.raises(ActionDenied):
        svc.prenatal_values_save(institution=mch, period=QUARTER, values={}, by=officer)
    mch.prenatal_screening = True
    mch.save()
    assert p.may_enter(officer, mch)  # the MCH institute's own officer enters for a licensed institute


def test_a_bad_entry_is_refused_with_field_errors_and_nothing_is_saved(licensed):
    doctor, hospital = licensed.users.obstetrician_a, licensed.inst.hospital_a
    with pytest.raises(ValidationError) as caught:
        svc.prenatal_values_save(institution=hospital, period=QUARTER, by=doctor,
                                 values={"screened": 10, "screen_positive": 11, "diagnosed": -2, "women_delivered": "x"})
    assert set(caught.value.message_dict) == {"screen_positive", "diagnosed", "women_delivered"}
    with pytest.raises(ValidationError) as caught:
        svc.prenatal_values_save(institution=licensed.inst.hospital_b, period=QUARTER, by=licensed.users.obstetrician_b,
                                 values={"diagnosed": 3})
    assert "diagnosed" in caught.value.message_dict  # a screening-only institution has no diagnosis figures
    assert not PrenatalReport.objects.exists() and not PrenatalValue.objects.exists()


def test_submit_needs_every_figure_then_the_county_mch_officer_is_told(licensed):
    doctor, hospital, officer = licensed.users.obstetrician_a, licensed.inst.hospital_a, licensed.users.mch_a
    report = svc.prenatal_values_save(institution=hospital, period=QUARTER, by=doctor, values={"screened": 400})
    with pytest.raises(ValidationError) as caught:
        svc.prenatal_report_submit(report=report, by=doctor)
    assert set(caught.value.message_dict) == {"screen_positive", "women_delivered", "diagnosed", "confirmed"}
    svc.prenatal_values_save(institution=hospital, period=QUARTER, by=doctor, values=FULL)
    report = svc.prenatal_report_submit(report=report, by=doctor)
    report = PrenatalReport.objects.get(pk=report.pk)
    assert report.state == S.SUBMITTED and report.submitted_by == doctor and report.submitted_at
    assert report.history.first().history_change_reason == "QC figures submitted"
    alert = Alert.objects.get(kind="prenatal.report_submitted")
    assert alert.recipient == officer and alert.subject_id == str(report.pk)
    with pytest.raises(TransitionConflict):  # submitted figures are not changed until returned
        svc.prenatal_values_save(institution=hospital, period=QUARTER, by=doctor, values=FULL)
    with pytest.raises(TransitionConflict):
        svc.prenatal_report_submit(report=report, by=doctor)


def test_the_county_mch_officer_returns_with_a_reason_and_the_resubmission_closes_the_alert(licensed):
    doctor, hospital, officer = licensed.users.obstetrician_a, licensed.inst.hospital_a, licensed.users.mch_a
    report = submitted(hospital, FULL, by=doctor)
    with pytest.raises(ValidationError) as caught:
        svc.prenatal_report_return(report=report, by=officer, reason="  ")
    assert "reason" in caught.value.message_dict
    for other in (licensed.users.mch_b, licensed.users.bureau_a, doctor):
        with pytest.raises(ActionDenied):
            svc.prenatal_report_return(report=report, by=other, reason="筛查人数有误")
    report = svc.prenatal_report_return(report=report, by=officer, reason="筛查人数有误")
    report = PrenatalReport.objects.get(pk=report.pk)
    assert (report.state, report.returned_by, report.return_reason) == (S.RETURNED, officer, "筛查人数有误")
    assert report.history.first().history_user == officer
    returned = Alert.objects.get(kind="prenatal.returned", recipient=doctor)
    assert returned.is_open and returned.params["reason"] == "筛查人数有误"
    with pytest.raises(TransitionConflict):
        svc.prenatal_report_return(report=report, by=officer, reason="again")
    svc.prenatal_values_save(institution=hospital, period=QUARTER, by=doctor, values={**FULL, "screened": 420})
    report = svc.prenatal_report_submit(report=report, by=doctor)
    assert PrenatalReport.objects.get(pk=report.pk).state == S.SUBMITTED
    assert not Alert.objects.get(pk=returned.pk).is_open
    assert PrenatalReport.history.filter(id=report.pk, history_change_reason="QC figures resubmitted").exists()


def test_a_city_mch_officer_returns_what_lies_in_her_city(licensed):
    from tests.personas import MembershipFactory, UserFactory

    city_officer = UserFactory(username="mch_city")
    MembershipFactory(user=city_officer, institution=licensed.inst.mch_city, role="mch_officer")
    report = submitted(licensed.inst.hospital_a, FULL, by=licensed.users.obstetrician_a)
    assert p.can_return(city_officer, report)
    assert not p.can_return(city_officer, submitted(licensed.inst.hospital_b, {"screened": 1, "screen_positive": 0,
                                                                               "women_delivered": 1},
                                                    by=licensed.users.obstetrician_b))


def test_the_period_is_the_provinces_setting(licensed):
    hospital = licensed.inst.hospital_a
    today = dt.date(2026, 5, 20)
    assert svc.resolve_period(hospital, "2025-Q1", today=today) == QUARTER
    with pytest.raises(ValidationError) as caught:
        svc.resolve_period(hospital, "2025-02", today=today)
    assert "period" in caught.value.message_dict
    with pytest.raises(ValidationError):
        svc.resolve_period(hospital, "2026-Q3", today=today)  # not begun
    with pytest.raises(ValidationError):
        svc.resolve_period(hospital, "nonsense", today=today)
    ProvinceSettings.objects.create(province=licensed.regions.fujian, effective_from=dt.date(2020, 1, 1),
                                    prenatal_qc_period="month")
    assert svc.resolve_period(hospital, "2025-02", today=today) == ("month", dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    with pytest.raises(ValidationError):
        svc.resolve_period(hospital, "2025-Q2", today=today)
