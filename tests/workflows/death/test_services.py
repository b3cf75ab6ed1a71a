"""The death report's steps, each for an allowed and a denied persona, with history, alerts and the flow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from cases.models import DeathReport, DeathReviewConclusion, Pregnancy, ProvinceSettings, Woman
from cases.selectors import visible_death_reports
from organisations.http import ActionDenied, TransitionConflict
from tests.personas import book_woman, make_id_number
from tests.workflows.death.helpers import (
    CARD,
    CONCLUSION,
    alerts,
    died_on_case,
    investigated,
    reported,
    reviewers,
)
from tests.workflows.referral.helpers import refer, rescue_staff
from tests.workflows.referral.test_services import to_treatment
from workflows.death import services as ds
from workflows.referral import services as rs
from workflows.screening.services import woman_register

pytestmark = pytest.mark.django_db
S = DeathReport.State


def open_nodes(report):  # type: ignore[no-untyped-def]
    return {t.flow_task.name for t in Task.objects.filter(process_id=report.process_id, status=STATUS.NEW)}


def test_a_death_on_a_case_starts_a_prefilled_report_with_its_clocks(personas):
    report = died_on_case(personas)
    assert report.state == S.DRAFTED and report.origin == DeathReport.Origin.CASE
    assert report.reporting_institution == personas.inst.hospital_a and report.region == personas.regions.county_a
    pregnancy = report.pregnancy
    assert (report.lmp, report.gravidity, report.parity) == (pregnancy.lmp, pregnancy.gravidity, pregnancy.parity)
    assert report.age_years == 33 - (1 if (timezone.localdate().month, timezone.localdate().day) < (5, 17) else 0)
    assert report.delivery_mode == DeathReport.DeliveryMode.UNDELIVERED
    assert report.report_due_at == report.died_at + dt.timedelta(hours=24)
    assert report.card_due_at == report.died_at + dt.timedelta(days=2)
    assert report.investigation_due_at == report.died_at + dt.timedelta(days=30)
    assert open_nodes(report) == {"report"}
    assert alerts("death.drafted") == {"obstetrician_a"}
    assert report.history.filter(history_user=personas.users.obstetrician_a).exists()


def test_a_death_on_a_referral_starts_a_report_prefilled_from_the_referral(personas):
    staff = rescue_staff(personas)
    referral = to_treatment(refer(personas), staff, personas)
    rs.referral_outcome(referral=referral, by=staff.city2, outcome="died", note="抢救无效死亡")
    referral.refresh_from_db()
    report = DeathReport.objects.get(referral=referral)
    assert report.origin == DeathReport.Origin.REFERRAL
    assert report.reporting_institution == personas.inst.mch_city
    assert report.death_institution == personas.inst.mch_city and report.death_transferred_in is True
    assert report.death_place == DeathReport.Place.PROVINCE_CITY_HOSPITAL
    assert report.cause_a == referral.diagnosis
    assert report.died_at == referral.outcome_at
    assert report.region == personas.regions.county_a  # where she lives: the county that investigates
    # The centre reports; the "maternal death after referral" alerts close, naming who reported.
    from notifications.models import Alert

    assert Alert.objects.filter(kind="referral.death", acknowledged_at__isnull=True).exists()
    ds.death_report_update_card(report=report, by=staff.city2, data=CARD)
    with pytest.raises(ActionDenied):
        ds.death_report_report(report=report, by=personas.users.obstetrician_a)  # the sender does not report it
    ds.death_report_report(report=report, by=staff.city2)
    assert not Alert.objects.filter(kind="referral.death", acknowledged_at__isnull=True).exists()
    assert set(Alert.objects.filter(kind="referral.death").values_list("acknowledged_by", flat=True)) == {
        staff.city2.pk}


def test_reporting_needs_the_card_and_a_clinician_of_the_institution(personas):
    report = died_on_case(personas)
    with pytest.raises(ValidationError) as missing:
        ds.death_report_report(report=report, by=personas.users.obstetrician_a)
    assert "icd10" in missing.value.message_dict and "cause_a" in missing.value.message_dict
    with pytest.raises(ValidationError) as bad:
        ds.death_report_update_card(report=report, by=personas.users.obstetrician_a, data={**CARD, "icd10": "S06"})
    assert "icd10" in bad.value.message_dict
    with pytest.raises(ActionDenied):
        ds.death_report_update_card(report=report, by=personas.users.obstetrician_b, data=CARD)
    with pytest.raises(ValidationError):
        ds.death_report_update_card(report=report, by=personas.users.obstetrician_a, data={"state": "closed"})
    ds.death_report_update_card(report=report, by=personas.users.obstetrician_a, data=CARD)
    with pytest.raises(ActionDenied):
        ds.death_report_report(report=report, by=personas.users.obstetrician_b)
    report = ds.death_report_report(report=report, by=personas.users.obstetrician_a)
    assert report.state == S.REPORTED and report.reported_by == personas.users.obstetrician_a
    assert report.icd10 == "O72.1" and report.icd10_name == "产后出血"
    # The death alerts that asked for the report close, naming who reported.
    from notifications.models import Alert

    death_alerts = Alert.objects.filter(kind__in=["highrisk.death", "death.drafted"])
    assert death_alerts.exists() and not death_alerts.filter(acknowledged_at__isnull=True).exists()
    assert set(death_alerts.values_list("acknowledged_by__username", flat=True)) == {"obstetrician_a"}
    assert alerts("death.reported") == {"mch_a"}
    assert open_nodes(report) == {"verify"}
    with pytest.raises(TransitionConflict):
        ds.death_report_report(report=report, by=personas.users.obstetrician_a)


def test_verification_return_correct_and_confirm(personas):
    report = reported(personas)
    with pytest.raises(ActionDenied):
        ds.death_report_verify(report=report, by=personas.users.mch_b)
    with pytest.raises(ValidationError):
        ds.death_report_return(report=report, by=personas.users.mch_a, reason=" ")
    report = ds.death_report_return(report=report, by=personas.users.mch_a, reason="根本死因编码请核对")
    assert report.state == S.RETURNED and alerts("death.returned") == {"obstetrician_a", "duty_a"}
    assert open_nodes(report) == {"report"}
    report = ds.death_report_report(report=report, by=personas.users.obstetrician_a)
    assert report.history.filter(history_change_reason="corrected and reported again").exists()
    report = ds.death_report_verify(report=report, by=personas.users.mch_a)
    assert report.state == S.VERIFIED and report.verified_by == personas.users.mch_a
    assert open_nodes(report) == {"investigate"}
    from workflows.deadlines import deadlines_for

    assert not deadlines_for(report, kind=ds.CARD_DUE).exists()
    assert deadlines_for(report, kind=ds.INVESTIGATION_DUE).exists()


def test_exclusion_keeps_the_report_and_stops_everything(personas):
    report = reported(personas)
    with pytest.raises(ActionDenied):
        ds.death_report_exclude(report=report, by=personas.users.obstetrician_a, reason="车祸")
    report = ds.death_report_exclude(report=report, by=personas.users.mch_a, reason="交通事故，意外死亡")
    assert report.state == S.EXCLUDED and report.exclusion_reason == "交通事故，意外死亡"
    from workflows.deadlines import deadlines_for

    assert not deadlines_for(report).exists()
    assert open_nodes(report) == set()
    assert DeathReport.objects.filter(state=S.EXCLUDED).count() == 1


def test_investigation_then_county_city_province_reviews_close_and_unlock(personas):
    r = reviewers(personas)
    report = reported(personas)
    ds.death_report_verify(report=report, by=personas.users.mch_a)
    with pytest.raises(ActionDenied):
        ds.death_report_investigate(report=report, by=personas.users.mch_b, findings="x")
    report = ds.death_report_investigate(report=report, by=personas.users.mch_a, findings="入户调查")
    assert report.state == S.REVIEW_COUNTY and open_nodes(report) == {"review"}
    assert alerts("death.review_requested") == {"mch_a", "expert_county_a", "expert_county_a2"}
    with pytest.raises(ActionDenied):
        ds.death_report_conclude(report=report, by=r.county_b, **CONCLUSION)
    with pytest.raises(ActionDenied):
        ds.death_report_conclude(report=report, by=r.city, **CONCLUSION)  # not her level yet: she is city
    report = ds.death_report_conclude(report=report, by=r.county, **CONCLUSION)
    assert report.state == S.REVIEW_CITY and report.final_level == "county"
    # The city sees the county's conclusion and disagrees; an avoidable death goes to the province too.
    report = ds.death_report_conclude(report=report, by=r.city, **{**CONCLUSION, "avoidability": "conditionally",
                                                                   "disagrees_with_lower": True})
    assert report.state == S.REVIEW_PROVINCE
    report = ds.death_report_conclude(report=report, by=personas.users.reviewer_province,
                                      **{**CONCLUSION, "avoidability": "unavoidable"})
    assert report.state == S.REVIEWED and report.final_level == "province"
    assert report.final_avoidability == "unavoidable"
    assert DeathReviewConclusion.objects.filter(report=report).count() == 3
    assert open_nodes(report) == {"close"}
    with pytest.raises(ActionDenied):
        ds.death_report_close(report=report, by=personas.users.mch_a)  # the final level closes
    report = ds.death_report_close(report=report, by=r.mch_province)
    assert report.state == S.CLOSED and report.is_locked
    with pytest.raises(TransitionConflict):
        ds.death_report_update_card(report=report, by=personas.users.mch_a, data={"cause_d": "x"})
    with pytest.raises(ActionDenied):
        ds.death_report_unlock(report=report, by=personas.users.bureau_city, reason="复核")
    with pytest.raises(ValidationError):
        ds.death_report_unlock(report=report, by=personas.users.bureau_province, reason="")
    report = ds.death_report_unlock(report=report, by=personas.users.bureau_province, reason="省级复核发现编码错误")
    assert report.state == S.REVIEW_PROVINCE and report.unlocked_by == personas.users.bureau_province
    assert report.history.filter(history_change_reason__startswith="unlocked:",
                                 history_user=personas.users.bureau_province).exists()


def test_city_review_only_for_avoidable_or_disputed_deaths_when_the_province_says_so(personas):
    ProvinceSettings.objects.create(province=personas.regions.fujian, effective_from=dt.date(2020, 1, 1),
                                    death_review_city="disputed", death_review_province="none")
    r = reviewers(personas)
    report = investigated(personas)
    report = ds.death_report_conclude(report=report, by=r.county, **{**CONCLUSION, "avoidability": "unavoidable"})
    assert report.state == S.REVIEWED and report.review_levels == ["county"]
    other = investigated(personas)
    other = ds.death_report_conclude(report=other, by=r.county, **CONCLUSION)
    assert other.state == S.REVIEW_CITY


def test_scoping_county_city_expert_and_clinician(personas):
    r = reviewers(personas)
    report = reported(personas)
    assert report in visible_death_reports(personas.users.mch_a)
    assert report not in visible_death_reports(personas.users.mch_b)  # another county's death
    assert report in visible_death_reports(personas.users.bureau_city)
    assert report not in visible_death_reports(personas.users.bureau_gd)
    assert report in visible_death_reports(personas.users.obstetrician_a)
    assert report not in visible_death_reports(personas.users.obstetrician_b)  # another institution's
    assert report not in visible_death_reports(personas.users.primary_a)  # same county, not her institution's
    assert report not in visible_death_reports(personas.users.outsider)
    # Experts see a death once it reaches their level's review.
    assert report not in visible_death_reports(r.county) and report not in visible_death_reports(r.city)
    ds.death_report_verify(report=report, by=personas.users.mch_a)
    ds.death_report_investigate(report=report, by=personas.users.mch_a, findings="调查")
    assert report in visible_death_reports(r.county) and report not in visible_death_reports(r.city)
    assert report not in visible_death_reports(r.county_b)
    ds.death_report_conclude(report=report, by=r.county, **CONCLUSION)
    assert report in visible_death_reports(r.city)
    assert report not in visible_death_reports(personas.users.reviewer_province)


def test_record_a_death_on_any_pregnancy(personas):
    woman = book_woman(at=personas.inst.hospital_a)
    pregnancy = Pregnancy.objects.get(woman=woman)
    at = timezone.now() - dt.timedelta(hours=3)
    with pytest.raises(ActionDenied):
        ds.pregnancy_record_death(pregnancy=pregnancy, by=personas.users.mch_b, institution=personas.inst.mch_a,
                                  died_at=at, note="家中死亡")
    with pytest.raises(ValidationError):
        ds.pregnancy_record_death(pregnancy=pregnancy, by=personas.users.obstetrician_a,
                                  institution=personas.inst.hospital_a, died_at=timezone.now() + dt.timedelta(hours=2),
                                  note="家中死亡")
    report = ds.pregnancy_record_death(pregnancy=pregnancy, by=personas.users.obstetrician_a,
                                       institution=personas.inst.hospital_a, died_at=at, note="家中死亡")
    assert report.origin == DeathReport.Origin.PREGNANCY and report.died_at == at
    assert Pregnancy.objects.get(pk=pregnancy.pk).status == Pregnancy.Status.DIED
    assert DeathReport.objects.filter(pregnancy=pregnancy).count() == 1  # the hook kept this one
    assert alerts("death.recorded") == {"mch_a", "bureau_a"}  # the county's officers learn of it at once
    with pytest.raises(TransitionConflict):
        ds.pregnancy_record_death(pregnancy=pregnancy, by=personas.users.obstetrician_a,
                                  institution=personas.inst.hospital_a, died_at=at, note="again")


def test_a_hand_made_report_finds_the_woman_by_document_number(personas):
    doctor = personas.users.obstetrician_a
    number = make_id_number("350121", dt.date(1990, 3, 8), 24)
    woman, created = woman_register(by=doctor, institution=personas.inst.hospital_a, name="林秀英",
                                    id_type=Woman.IdType.RESIDENT_ID, id_number=number,
                                    residence_region=personas.regions.county_a)
    assert created
    report = ds.death_report_create_manual(by=doctor, institution=personas.inst.hospital_a, woman=woman,
                                           died_at=timezone.now() - dt.timedelta(hours=30))
    assert report.origin == DeathReport.Origin.MANUAL and report.pregnancy is None
    # The same document number later finds her, never a second record.
    again, created = woman_register(by=doctor, institution=personas.inst.hospital_a, name="林秀英",
                                    id_type=Woman.IdType.RESIDENT_ID, id_number=number,
                                    residence_region=personas.regions.county_a)
    assert not created and again == woman and Woman.objects.filter(id_number=number).count() == 1
    with pytest.raises(ActionDenied):
        ds.death_report_create_manual(by=personas.users.obstetrician_b, institution=personas.inst.hospital_a,
                                      woman=woman, died_at=timezone.now())


def test_a_prefilled_value_the_card_refuses_never_blocks_recording_the_death(personas):
    from tests.workflows.highrisk.test_services import open_case
    from workflows.highrisk.services import case_record_death

    case = open_case(personas)
    Woman.objects.filter(pk=case.pregnancy.woman_id).update(date_of_birth=dt.date(1950, 1, 1))
    case_record_death(case=case, by=personas.users.obstetrician_a, at=timezone.now(), note="心衰")
    report = DeathReport.objects.get(case=case)
    assert report.age_years is None and report.gravidity == case.pregnancy.gravidity


def test_a_death_after_the_end_of_pregnancy_is_recorded_and_no_form_lists_the_state(personas):
    woman = book_woman(at=personas.inst.hospital_a)
    pregnancy = Pregnancy.objects.get(woman=woman)
    pregnancy.deliver()
    pregnancy.save()
    pregnancy.close()
    pregnancy.save()
    report = ds.pregnancy_record_death(pregnancy=pregnancy, by=personas.users.obstetrician_a,
                                       institution=personas.inst.hospital_a,
                                       died_at=timezone.now() - dt.timedelta(hours=1), note="产后第20天，家中猝死")
    assert report.state == S.DRAFTED and report.delivery_mode == ""  # delivered: the reporter says how
    assert Pregnancy.objects.get(pk=pregnancy.pk).status == Pregnancy.Status.CLOSED
    from workflows.death import api, forms

    for names in (forms.CardForm.Meta.fields, list(forms.ConclusionForm.base_fields), api.CardSerializer.Meta.fields,
                  list(api.ConclusionSerializer().fields), list(api.CreateSerializer().fields)):
        assert not {"state", "process", "reported_at", "verified_at", "final_avoidability"} & set(names)
