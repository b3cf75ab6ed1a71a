"""Process 2: the high-risk case lifecycle, plans, follow-up by colour, tracing, transfer, closure."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import Assessment, CasePlan, CaseTransfer, FollowUpVisit, HighRiskCase, Pregnancy, Tracing
from cases.selectors import visible_highrisk_cases, visible_pregnancies
from notifications.models import Alert
from organisations.http import ActionDenied
from organisations.models import Membership, Role
from tests.notifications.helpers import move_deadlines_into_past
from tests.personas import UserFactory, book_woman
from workflows import outcomes
from workflows.deadlines import deadlines_sweep
from workflows.highrisk import services as hr
from workflows.models import Deadline
from workflows.screening.services import assessment_record


def open_case(personas, inputs=None, at="hospital_a", user="obstetrician_a"):  # type: ignore[no-untyped-def]
    institution = getattr(personas.inst, at)
    woman = book_woman(at=institution)
    pregnancy = Pregnancy.objects.get(woman=woman)
    assessment_record(pregnancy=pregnancy, institution=institution, by=getattr(personas.users, user),
                      stage=Assessment.Stage.FIRST, inputs=inputs or {"age_years": 41})
    return HighRiskCase.objects.get(pregnancy=pregnancy)


def test_opening_schedules_the_first_visit_by_colour(personas):
    orange = open_case(personas)
    visit = FollowUpVisit.objects.get(case=orange)
    assert (visit.due_on - timezone.localdate()).days == 14
    assert orange.next_visit_at == visit.due_on
    red = open_case(personas, inputs={"pa_pressure_mmhg": 60})
    assert (FollowUpVisit.objects.get(case=red).due_on - timezone.localdate()).days == 7
    assert Deadline.objects.filter(kind="highrisk.visit_missed", state="pending").count() == 2


def test_plans_put_a_reported_case_under_management(personas):
    case = open_case(personas)
    hr.highrisk_case_report(case=case, by=personas.users.obstetrician_a)
    hr.case_plan_add(case=case, by=personas.users.obstetrician_a, kind="management", text="每两周产检，监测血压")
    assert HighRiskCase.objects.get(pk=case.pk).state == "reported"  # orange also needs the emergency plan
    with pytest.raises(ValidationError) as exc:
        hr.case_plan_add(case=case, by=personas.users.obstetrician_a, kind="emergency", text="出血时立即转诊")
    assert "rescue_centre" in exc.value.message_dict
    hr.case_plan_add(case=case, by=personas.users.obstetrician_a, kind="emergency", text="出血时立即转诊",
                     rescue_centre=personas.centres.city)
    case.refresh_from_db()
    assert case.state == "managing"
    assert case.history.latest().history_change_reason == "plans in place: under management"
    with pytest.raises(ActionDenied):
        hr.case_plan_add(case=case, by=personas.users.obstetrician_b, kind="treatment", text="x")
    assert CasePlan.objects.filter(case=case).count() == 2


def test_reassignment_needs_a_reason_and_alerts_both_doctors(personas, django_capture_on_commit_callbacks):
    case = open_case(personas)
    with pytest.raises(ValidationError):
        hr.highrisk_case_reassign(case=case, to=personas.users.duty_a, by=personas.users.obstetrician_a, reason="")
    with pytest.raises(ValidationError):
        hr.highrisk_case_reassign(case=case, to=personas.users.obstetrician_b, by=personas.users.obstetrician_a,
                                  reason="轮转")
    with pytest.raises(ActionDenied):
        hr.highrisk_case_reassign(case=case, to=personas.users.duty_a, by=personas.users.mch_b, reason="轮转")
    hr.highrisk_case_reassign(case=case, to=personas.users.duty_a, by=personas.users.mch_a, reason="原责任医生休假")
    case.refresh_from_db()
    assert case.responsible_doctor == personas.users.duty_a
    recipients = set(Alert.objects.filter(kind="highrisk.reassigned").values_list("recipient__username", flat=True))
    assert recipients == {"duty_a", "obstetrician_a"}
    row = case.history.latest()
    assert (row.history_user, row.history_change_reason) == (personas.users.mch_a, "reassigned: 原责任医生休假")


def test_visit_reassessment_changes_colour_and_interval(personas):
    case = open_case(personas)
    visit = FollowUpVisit.objects.get(case=case)
    hr.followup_record(visit=visit, by=personas.users.obstetrician_a, institution=personas.inst.hospital_a,
                       findings="血压 150/95", inputs={"age_years": 41, "pa_pressure_mmhg": 55})
    case.refresh_from_db()
    assert case.colour == "red"
    visit.refresh_from_db()
    assert visit.status == "done" and visit.assessment.colour == "red"
    upcoming = FollowUpVisit.objects.get(case=case, status="scheduled")
    assert (upcoming.due_on - timezone.localdate()).days == 7
    assert Deadline.objects.get(subject_id=str(visit.pk), kind="highrisk.visit_missed").state == "cancelled"


def test_missed_visit_is_traced_then_found(personas, django_capture_on_commit_callbacks):
    case = open_case(personas)
    move_deadlines_into_past(Deadline.objects.filter(kind="highrisk.visit_missed"))
    deadlines_sweep()
    tracing = Tracing.objects.get(case=case)
    assert FollowUpVisit.objects.get(case=case).status == "missed"
    alert = Alert.objects.get(kind="highrisk.tracing")
    assert alert.recipient == personas.users.obstetrician_a and alert.priority == "urgent"
    hr.tracing_attempt_add(tracing=tracing, by=personas.users.obstetrician_a, method="phone", reached=False,
                           note="电话无人接听")
    hr.tracing_found(tracing=tracing, by=personas.users.obstetrician_a, outcome="已回老家，约定下周复诊")
    tracing.refresh_from_db()
    assert tracing.status == "found" and tracing.attempts.count() == 1
    assert FollowUpVisit.objects.filter(case=case, status="scheduled").count() == 1


def test_not_found_in_time_is_lost_and_escalated(personas):
    case = open_case(personas)
    hr.highrisk_case_report(case=case, by=personas.users.obstetrician_a)
    move_deadlines_into_past(Deadline.objects.filter(kind="highrisk.visit_missed"))
    deadlines_sweep()
    move_deadlines_into_past(Deadline.objects.filter(kind="highrisk.tracing_due"))
    deadlines_sweep()
    case.refresh_from_db()
    assert case.state == "lost" and case.lost_at is not None
    lost = Alert.objects.get(kind="highrisk.lost")
    assert lost.recipient == personas.users.mch_a and lost.priority == "critical"
    assert Deadline.objects.filter(kind="alert.escalate", state="pending").exists()
    # She turns up: a visit brings her back under management.
    missed = FollowUpVisit.objects.get(case=case, status="missed")
    hr.followup_record(visit=missed, by=personas.users.obstetrician_a, institution=personas.inst.hospital_a,
                       findings="自行来院")
    case.refresh_from_db()
    assert case.state == "managing"


def test_transfer_across_counties_moves_the_case_and_visibility(personas, django_capture_on_commit_callbacks):
    case = open_case(personas)
    assert not visible_highrisk_cases(personas.users.obstetrician_b).filter(pk=case.pk).exists()
    transfer = hr.case_transfer_request(case=case, by=personas.users.obstetrician_a,
                                        to_institution=personas.inst.hospital_b, reason="随丈夫迁居同安区")
    assert Alert.objects.get(kind="highrisk.transfer_requested").recipient == personas.users.obstetrician_b
    with pytest.raises(ActionDenied):
        hr.case_transfer_accept(transfer=transfer, by=personas.users.obstetrician_a, doctor=personas.users.obstetrician_a)
    hr.case_transfer_accept(transfer=transfer, by=personas.users.obstetrician_b, doctor=personas.users.obstetrician_b)
    case.refresh_from_db()
    assert (case.institution, case.region, case.responsible_doctor) == (
        personas.inst.hospital_b, personas.regions.county_b, personas.users.obstetrician_b)
    assert visible_highrisk_cases(personas.users.obstetrician_b).filter(pk=case.pk).exists()
    assert visible_highrisk_cases(personas.users.mch_b).filter(pk=case.pk).exists()
    # The sender keeps read access to what it did (it booked the pregnancy).
    assert visible_pregnancies(personas.users.obstetrician_a).filter(pk=case.pregnancy_id).exists()
    with pytest.raises(ActionDenied):
        hr.case_transfer_accept(transfer=transfer, by=personas.users.obstetrician_b,
                                doctor=personas.users.obstetrician_b)
    assert Alert.objects.filter(kind="highrisk.transfer_accepted").exists()


def test_rejected_transfer_needs_a_reason_and_stays(personas):
    case = open_case(personas)
    transfer = hr.case_transfer_request(case=case, by=personas.users.obstetrician_a,
                                        to_institution=personas.inst.hospital_b, reason="转诊")
    with pytest.raises(ValidationError):
        hr.case_transfer_reject(transfer=transfer, by=personas.users.obstetrician_b, reason=" ")
    hr.case_transfer_reject(transfer=transfer, by=personas.users.obstetrician_b, reason="本院产科床位已满")
    case.refresh_from_db()
    assert case.institution == personas.inst.hospital_a
    assert CaseTransfer.objects.get().status == "rejected"


@pytest.mark.parametrize(("inputs", "place", "refused"), [
    ({"pa_pressure_mmhg": 60}, "hospital_a", True),   # red needs tertiary; 闽侯县医院 is level 2
    ({"pa_pressure_mmhg": 60}, "hospital_b", False),  # 厦门市第三医院 is level 3
    ({"age_years": 41}, "hospital_a2", True),         # orange needs a rescue centre
    ({"age_years": 41}, "hospital_a", True),          # a tertiary centre exists in the province
    ({"age_years": 41}, "mch_city", False),
])
def test_delivery_place_check(personas, inputs, place, refused, django_capture_on_commit_callbacks):
    case = open_case(personas, inputs=inputs)
    institution = getattr(personas.inst, place)
    if refused:
        with pytest.raises(ValidationError) as exc:
            hr.case_plan_delivery(case=case, by=personas.users.obstetrician_a, institution=institution)
        assert "institution" in exc.value.message_dict
        hr.case_plan_delivery(case=case, by=personas.users.obstetrician_a, institution=institution,
                              reason="孕妇拒绝转往上级医院，已签字")
        assert Alert.objects.filter(kind="highrisk.delivery_place", recipient=personas.users.mch_a).exists()
    else:
        hr.case_plan_delivery(case=case, by=personas.users.obstetrician_a, institution=institution)
        assert not Alert.objects.filter(kind="highrisk.delivery_place").exists()
    assert HighRiskCase.objects.get(pk=case.pk).planned_delivery_institution == institution


def test_delivery_postpartum_and_closure_at_the_42_day_check(personas):
    case = open_case(personas)
    doctor = personas.users.obstetrician_a
    with pytest.raises(ActionDenied):
        hr.case_close(case=case, by=doctor, kind="recovered", reason="恢复")
    hr.case_record_delivery(case=case, by=doctor, delivered_at=timezone.now() - dt.timedelta(hours=2),
                            place="institution", institution=personas.inst.hospital_a, mode="caesarean",
                            caesarean_indication="瘢痕子宫", live_births=1, outcome="母婴平安")
    hr.case_start_postpartum(case=case, by=doctor)
    with pytest.raises(ActionDenied):
        hr.case_close(case=case, by=doctor, kind="recovered", reason="恢复")  # no 42-day assessment yet
    assessment_record(pregnancy=case.pregnancy, institution=personas.inst.hospital_a, by=doctor,
                      stage=Assessment.Stage.DAY42, inputs={"age_years": 41}, colour="green",
                      override_reason="产后42天恢复良好")
    hr.case_close(case=case, by=doctor, kind="recovered", reason="产后42天检查恢复")
    case.refresh_from_db()
    assert case.state == "closed" and case.close_kind == "recovered" and case.next_visit_at is None
    assert Pregnancy.objects.get(pk=case.pregnancy_id).status == "closed"
    assert not FollowUpVisit.objects.filter(case=case, status="scheduled").exists()
    assert not Deadline.objects.filter(state="pending", kind__startswith="highrisk.").exists()


def test_ended_otherwise_and_reopen(personas):
    case = open_case(personas)
    doctor = personas.users.obstetrician_a
    with pytest.raises(ValidationError):
        hr.case_close(case=case, by=doctor, kind="ended", reason="")
    hr.case_close(case=case, by=doctor, kind="ended", reason="孕12周自然流产")
    assert Pregnancy.objects.get(pk=case.pregnancy_id).status == "ended"
    with pytest.raises(ValidationError):
        hr.case_reopen(case=case, by=doctor, reason="")
    with pytest.raises(ActionDenied):
        hr.case_reopen(case=case, by=personas.users.obstetrician_b, reason="误关")
    hr.case_reopen(case=case, by=doctor, reason="误关闭，实为先兆流产已保胎成功")
    case.refresh_from_db()
    assert case.state == "managing" and case.reopen_reason


def test_death_is_recorded_and_the_hook_runs(personas, django_capture_on_commit_callbacks):
    calls = []
    outcomes.MATERNAL_DEATH_HOOKS.append(lambda *, pregnancy, case, by, source: calls.append((case.pk, by.pk, source.pk)))
    try:
        case = open_case(personas)
        with pytest.raises(ValidationError):
            hr.case_record_death(case=case, by=personas.users.obstetrician_a, at=timezone.now(), note="")
        hr.case_record_death(case=case, by=personas.users.obstetrician_a,
                             at=timezone.now() - dt.timedelta(hours=1), note="产后出血，抢救无效")
    finally:
        outcomes.MATERNAL_DEATH_HOOKS.pop()
    case.refresh_from_db()
    assert case.state == "died" and calls == [(case.pk, personas.users.obstetrician_a.pk, case.pk)]
    assert Pregnancy.objects.get(pk=case.pregnancy_id).status == "died"
    recipients = set(Alert.objects.filter(kind="highrisk.death").values_list("recipient__username", flat=True))
    assert recipients == {"mch_a", "bureau_a"}
    with pytest.raises(ActionDenied):
        hr.case_reopen(case=case, by=personas.users.obstetrician_a, reason="x")


def test_risk_rising_again_reopens_a_closed_case(personas):
    case = open_case(personas)
    doctor = personas.users.obstetrician_a
    assessment_record(pregnancy=case.pregnancy, institution=personas.inst.hospital_a, by=doctor,
                      stage=Assessment.Stage.DYNAMIC, inputs={"age_years": 30})
    hr.case_close(case=case, by=doctor, kind="risk_fell", reason="复评为绿色")
    assessment_record(pregnancy=case.pregnancy, institution=personas.inst.hospital_a, by=doctor,
                      stage=Assessment.Stage.DYNAMIC, inputs={"age_years": 30, "hb_g_l": 55})
    case.refresh_from_db()
    assert case.state == "managing" and case.colour == "orange" and case.reopen_reason


def test_denied_personas_cannot_act(personas):
    case = open_case(personas)
    for user in (personas.users.obstetrician_b, personas.users.primary_a, personas.users.bureau_a):
        with pytest.raises(ActionDenied):
            hr.case_record_delivery(case=case, by=user, delivered_at=timezone.now(), place="institution",
                                    institution=personas.inst.hospital_a, mode="spontaneous", live_births=1)
    other = UserFactory(username="deactivated_doc")
    Membership.objects.create(user=other, institution=personas.inst.hospital_a, role=Role.OBSTETRICIAN,
                              is_active=False)
    with pytest.raises(ActionDenied):
        hr.case_close(case=case, by=other, kind="ended", reason="x")
