"""Process 1: registration, screening, assessment and the consequences of each colour."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.models import (
    Assessment,
    AssessmentReferral,
    ContinuationEvaluation,
    HighRiskCase,
    Pregnancy,
    Woman,
)
from cases.rules import screening_items, settings_for
from cases.selectors import visible_women
from notifications.models import Alert
from organisations.http import ActionDenied
from organisations.models import AccessLog
from tests.notifications.helpers import move_deadlines_into_past
from tests.personas import make_id_number
from workflows.deadlines import deadlines_sweep
from workflows.highrisk.services import highrisk_case_report
from workflows.models import Deadline
from workflows.screening.services import (
    assessment_record,
    assessment_void,
    pregnancy_book,
    screening_record,
    woman_merge,
    woman_register,
)

TODAY = dt.date(2026, 11, 24)


def register(personas, *, user="obstetrician_a", at="hospital_a", number=None, **kwargs):  # type: ignore[no-untyped-def]
    institution = getattr(personas.inst, at)
    return woman_register(by=getattr(personas.users, user), institution=institution, name=kwargs.pop("name", "林秀英"),
                          id_type=kwargs.pop("id_type", Woman.IdType.RESIDENT_ID),
                          id_number=number if number is not None else make_id_number("350121", dt.date(1992, 3, 4), 8),
                          phone="13800001111", residence_region=personas.regions.county_a, **kwargs)


def book(personas, woman, *, user="obstetrician_a", at="hospital_a"):  # type: ignore[no-untyped-def]
    return pregnancy_book(woman=woman, institution=getattr(personas.inst, at), by=getattr(personas.users, user),
                          lmp=TODAY - dt.timedelta(days=70), booking_date=TODAY, gravidity=2, parity=1)


def all_no(personas, **yes):  # type: ignore[no-untyped-def]
    settings = settings_for(personas.inst.hospital_a)
    answers = {item.code: False for item in screening_items(settings) if item.required}
    answers.update({code.replace("_", "."): True for code in yes})
    return answers


def assess(personas, pregnancy, user="obstetrician_a", at="hospital_a", **kwargs):  # type: ignore[no-untyped-def]
    inputs = kwargs.pop("inputs", {})
    return assessment_record(pregnancy=pregnancy, institution=getattr(personas.inst, at),
                             by=getattr(personas.users, user), stage=kwargs.pop("stage", Assessment.Stage.FIRST),
                             inputs=inputs, **kwargs)


def test_register_derives_birth_date_and_rejects_bad_numbers(personas):
    woman, created = register(personas)
    assert created and woman.date_of_birth == dt.date(1992, 3, 4)
    assert woman.history.latest().history_user == personas.users.obstetrician_a
    with pytest.raises(ValidationError) as exc:
        register(personas, number="350121199203040000")
    assert "id_number" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        register(personas, number="", id_type=Woman.IdType.NONE)
    assert "no_id_reason" in exc.value.message_dict
    nodoc, created = register(personas, number="", id_type=Woman.IdType.NONE, no_id_reason="证件遗失，补办中",
                              date_of_birth=dt.date(1995, 1, 1))
    assert created and nodoc.id_number == ""


def test_second_institution_finds_the_same_woman_and_may_then_see_her(personas):
    woman, _ = register(personas)
    assert not visible_women(personas.users.obstetrician_b).filter(pk=woman.pk).exists()
    found, created = register(personas, user="obstetrician_b", at="hospital_b", name="林秀英")
    assert (found.pk, created) == (woman.pk, False)
    assert Woman.objects.count() == 1
    assert AccessLog.objects.filter(user=personas.users.obstetrician_b, action="lookup", object_id=str(woman.pk)).exists()
    assert visible_women(personas.users.obstetrician_b).filter(pk=woman.pk).exists()


def test_denied_roles_cannot_register_or_book(personas):
    with pytest.raises(ActionDenied):
        register(personas, user="bureau_a", at="bureau_a")
    woman, _ = register(personas)
    with pytest.raises(ActionDenied):  # a doctor of another institution cannot book here
        book(personas, woman, user="obstetrician_b", at="hospital_a")


def test_one_ongoing_pregnancy_at_a_time(personas):
    woman, _ = register(personas)
    book(personas, woman)
    with pytest.raises(ValidationError):
        book(personas, woman)


def test_screening_requires_answers_and_negative_is_green(personas):
    woman, _ = register(personas)
    pregnancy = book(personas, woman)
    with pytest.raises(ValidationError) as exc:
        screening_record(pregnancy=pregnancy, institution=personas.inst.hospital_a, by=personas.users.obstetrician_a,
                         answers={"1.1": False})
    assert "answers" in exc.value.message_dict
    screening = screening_record(pregnancy=pregnancy, institution=personas.inst.hospital_a,
                                 by=personas.users.obstetrician_a, answers=all_no(personas))
    assert not screening.positive
    assert Pregnancy.objects.get(pk=pregnancy.pk).colour == "green"


def test_positive_screen_at_primary_care_is_referred_with_a_deadline(personas, django_capture_on_commit_callbacks):
    woman, _ = register(personas, user="primary_a", at="primary_a")
    pregnancy = book(personas, woman, user="primary_a", at="primary_a")
    answers = all_no(personas, **{"2_2": True})
    with pytest.raises(ValidationError) as exc:
        screening_record(pregnancy=pregnancy, institution=personas.inst.primary_a, by=personas.users.primary_a,
                         answers=answers)
    assert "refer_to" in exc.value.message_dict
    with pytest.raises(ValidationError):
        screening_record(pregnancy=pregnancy, institution=personas.inst.primary_a, by=personas.users.primary_a,
                         answers=answers, refer_to=personas.inst.primary_a)
    screening = screening_record(pregnancy=pregnancy, institution=personas.inst.primary_a, by=personas.users.primary_a,
                                 answers=answers, refer_to=personas.inst.hospital_a)
    assert screening.positive and screening.positive_items == ["2.2"]
    referral = AssessmentReferral.objects.get()
    assert (referral.due_at - referral.created_at).days == 14
    assert Alert.objects.get(kind="screening.referred").recipient == personas.users.obstetrician_a

    move_deadlines_into_past(Deadline.objects.filter(kind="screening.assessment_due"))
    assert deadlines_sweep() == 1
    overdue = Alert.objects.get(kind="screening.assessment_overdue")
    assert overdue.recipient == personas.users.mch_a
    assert AssessmentReferral.objects.get().overdue_alerted_at is not None


def test_assessment_closes_the_referral_and_cancels_its_deadline(personas):
    woman, _ = register(personas, user="primary_a", at="primary_a")
    pregnancy = book(personas, woman, user="primary_a", at="primary_a")
    screening_record(pregnancy=pregnancy, institution=personas.inst.primary_a, by=personas.users.primary_a,
                     answers=all_no(personas, **{"1_1": True}), refer_to=personas.inst.hospital_a)
    assessment = assess(personas, pregnancy, inputs={"age_years": 36})
    referral = AssessmentReferral.objects.get()
    assert referral.status == "assessed" and referral.assessment == assessment
    assert Deadline.objects.get(kind="screening.assessment_due").state == "cancelled"
    assert assessment.colour == "yellow" and assessment.advice


def test_primary_care_cannot_make_the_first_assessment(personas):
    woman, _ = register(personas, user="primary_a", at="primary_a")
    pregnancy = book(personas, woman, user="primary_a", at="primary_a")
    with pytest.raises(ActionDenied):
        assess(personas, pregnancy, user="primary_a", at="primary_a")


@pytest.mark.parametrize(("inputs", "label", "hours"), [
    ({"age_years": 41}, "orange", 72),
    ({"pa_pressure_mmhg": 55}, "red", 24),
    ({"findings": ["P2"]}, "purple", 72),
])
def test_orange_red_purple_open_a_case_with_a_report_deadline(personas, inputs, label, hours):
    woman, _ = register(personas)
    pregnancy = book(personas, woman)
    assessment = assess(personas, pregnancy, inputs=inputs)
    assert assessment.label == label
    case = HighRiskCase.objects.get(pregnancy=pregnancy)
    assert case.responsible_doctor == personas.users.obstetrician_a and case.state == "opened"
    assert case.region == personas.regions.county_a
    assert round((case.report_due_at - case.opened_at).total_seconds() / 3600) == hours
    deadline = Deadline.objects.get(kind="highrisk.report_due")
    assert deadline.due_at == case.report_due_at
    assert Alert.objects.get(kind="highrisk.opened").recipient == personas.users.obstetrician_a
    assert Alert.objects.get(kind="highrisk.opened.mch").recipient == personas.users.mch_a
    continuation = ContinuationEvaluation.objects.filter(pregnancy=pregnancy)
    assert continuation.exists() == (label == "red")
    if label == "red":
        assert continuation.get().institution.level == 3


def test_report_cancels_the_deadline_and_overdue_alerts_the_mch_officer(personas):
    woman, _ = register(personas)
    pregnancy = book(personas, woman)
    assess(personas, pregnancy, inputs={"age_years": 41})
    case = HighRiskCase.objects.get()
    move_deadlines_into_past(Deadline.objects.filter(kind="highrisk.report_due"))
    deadlines_sweep()
    overdue = Alert.objects.get(kind="highrisk.report_overdue")
    assert overdue.recipient == personas.users.mch_a and overdue.priority == "critical"
    with pytest.raises(ActionDenied):
        highrisk_case_report(case=case, by=personas.users.obstetrician_b)
    reported = highrisk_case_report(case=case, by=personas.users.obstetrician_a)
    assert reported.state == "reported" and reported.reported_to == personas.inst.mch_a
    row = reported.history.latest()
    assert (row.history_user, row.history_change_reason) == (personas.users.obstetrician_a,
                                                             "reported to the county MCH institute")


def test_grading_lower_needs_a_reason_higher_is_recorded(personas):
    woman, _ = register(personas)
    pregnancy = book(personas, woman)
    with pytest.raises(ValidationError) as exc:
        assess(personas, pregnancy, inputs={"age_years": 41}, colour="yellow")
    assert "override_reason" in exc.value.message_dict
    lower = assess(personas, pregnancy, inputs={"age_years": 41}, colour="yellow", override_reason="高龄但体健，专家会诊")
    assert (lower.computed_colour, lower.colour, lower.overridden) == ("orange", "yellow", True)
    higher = assess(personas, pregnancy, stage=Assessment.Stage.DYNAMIC, inputs={"age_years": 30}, colour="orange")
    assert (higher.computed_colour, higher.colour) == ("green", "orange")
    assert HighRiskCase.objects.filter(pregnancy=pregnancy).exists()


def test_rising_colour_alerts_the_responsible_doctor_and_falling_proposes_closing(personas):
    woman, _ = register(personas)
    pregnancy = book(personas, woman)
    assess(personas, pregnancy, inputs={"age_years": 41})
    case = HighRiskCase.objects.get()
    assess(personas, pregnancy, user="duty_a", stage=Assessment.Stage.DYNAMIC,
           inputs={"age_years": 41, "pa_pressure_mmhg": 60})
    rose = Alert.objects.get(kind="screening.colour_rose")
    assert rose.recipient == personas.users.obstetrician_a and rose.priority == "urgent"
    assert HighRiskCase.objects.get(pk=case.pk).colour == "red"
    assess(personas, pregnancy, stage=Assessment.Stage.DYNAMIC, inputs={"age_years": 30})
    case.refresh_from_db()
    assert case.colour == "green" and case.closure_proposed and case.state == "opened"
    assert Alert.objects.filter(kind="screening.colour_rose").count() == 1


def test_void_restores_the_previous_grade(personas):
    woman, _ = register(personas)
    pregnancy = book(personas, woman)
    first = assess(personas, pregnancy, inputs={"age_years": 36})
    wrong = assess(personas, pregnancy, stage=Assessment.Stage.DYNAMIC, inputs={"age_years": 41})
    with pytest.raises(ValidationError):
        assessment_void(assessment=wrong, by=personas.users.obstetrician_a, reason=" ")
    assessment_void(assessment=wrong, by=personas.users.obstetrician_a, reason="年龄录入错误")
    assert Assessment.objects.get(pk=wrong.pk).status == "voided"
    assert Pregnancy.objects.get(pk=pregnancy.pk).colour == first.colour == "yellow"
    assert Assessment.objects.count() == 2  # kept, never deleted


def test_assessment_inputs_are_validated_like_the_interface(personas):
    woman, _ = register(personas)
    pregnancy = book(personas, woman)
    with pytest.raises(ValidationError) as exc:
        assess(personas, pregnancy, inputs={"age_years": 99, "ruleset": "x", "shoe_size": 38})
    assert {"age_years", "ruleset", "shoe_size"} <= set(exc.value.message_dict)


def test_mch_officer_merges_duplicates(personas):
    one, _ = register(personas, number="", id_type=Woman.IdType.NONE, no_id_reason="未带证件",
                      date_of_birth=dt.date(1992, 3, 4))
    two, _ = register(personas)
    pregnancy = book(personas, one)
    with pytest.raises(ActionDenied):
        woman_merge(keep=two, duplicate=one, by=personas.users.obstetrician_a, reason="同一人")
    kept = woman_merge(keep=two, duplicate=one, by=personas.users.mch_a, reason="同一人，补录身份证")
    assert Pregnancy.objects.get(pk=pregnancy.pk).woman == kept
    one.refresh_from_db()
    assert one.merged_into == kept and one.history.latest().history_user == personas.users.mch_a
    # A later look-up by the new number finds the kept record.
    again, created = register(personas, user="obstetrician_b", at="hospital_b")
    assert (again.pk, created) == (kept.pk, False)


def test_screening_assessment_history_carries_user_and_reason(personas):
    woman, _ = register(personas)
    pregnancy = book(personas, woman)
    assessment = assess(personas, pregnancy, inputs={"age_years": 36})
    row = assessment.history.latest()
    assert row.history_user == personas.users.obstetrician_a and row.history_change_reason == "assessed: yellow"
    assert timezone.now() - assessment.assessed_at < dt.timedelta(minutes=1)


def test_the_assessment_worklist_reads_only_referrals_in_scope(client, personas):
    """Issue 12: the worklist scoped inline; visible_assessment_referrals is its selector. The institutions
    on either end and the sending area's officers see the referral; another county's officer and a hospital
    it was not sent to do not."""
    from cases.selectors import visible_assessment_referrals

    woman, _ = register(personas, user="primary_a", at="primary_a")
    pregnancy = book(personas, woman, user="primary_a", at="primary_a")
    screening_record(pregnancy=pregnancy, institution=personas.inst.primary_a, by=personas.users.primary_a,
                     answers=all_no(personas, **{"2_2": True}), refer_to=personas.inst.hospital_a)
    referral = AssessmentReferral.objects.get()
    sees = {name for name in ("primary_a", "obstetrician_a", "mch_a", "mch_b", "obstetrician_b", "bureau_gd")
            if visible_assessment_referrals(getattr(personas.users, name)).filter(pk=referral.pk).exists()}
    assert sees == {"primary_a", "obstetrician_a", "mch_a"}
    client.force_login(personas.users.obstetrician_b)
    page = client.get(reverse("cases:worklist")).content.decode()
    assert woman.name not in page
    client.force_login(personas.users.obstetrician_a)
    assert woman.name in client.get(reverse("cases:worklist")).content.decode()
