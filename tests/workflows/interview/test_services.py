"""The interview (约谈) from proposal to closure: each step for an allowed and a denied persona, the parties'
rectification side by side, the deadlines fired by the sweep, escalation of a failed rectification."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import Interview, InterviewParty
from cases.selectors import visible_interviews
from notifications.models import Alert
from organisations.http import ActionDenied, TransitionConflict
from tests.notifications.helpers import move_deadlines_into_past
from tests.workflows.interview.helpers import alerts, heads, held, notified, proposed
from workflows.deadlines import deadlines_for, deadlines_sweep
from workflows.interview import services as svc

pytestmark = pytest.mark.django_db
S, P = Interview.State, InterviewParty.State


def party(interview, institution):  # type: ignore[no-untyped-def]
    return InterviewParty.objects.get(interview=interview, institution=institution)


def test_a_bureau_proposes_only_for_its_own_area_and_only_its_officers(personas):
    inst, u = personas.inst, personas.users
    interview = proposed(personas)
    assert interview.state == S.PROPOSED and interview.origin == "officer" and interview.parties.count() == 2
    assert interview.history.get().history_user == u.bureau_a
    assert interview.process is not None
    with pytest.raises(ValidationError) as outside:
        svc.interview_propose(by=u.bureau_a, bureau=inst.bureau_a, subject="x", reasons="y",
                              parties=[(inst.hospital_b, ["head"], "")])
    assert "parties" in outside.value.message_dict
    with pytest.raises(ValidationError):  # nobody to attend
        svc.interview_propose(by=u.bureau_a, bureau=inst.bureau_a, subject="x", reasons="y",
                              parties=[(inst.hospital_a, [], "")])
    with pytest.raises(ActionDenied):
        svc.interview_propose(by=u.mch_a, bureau=inst.bureau_a, subject="x", reasons="y",
                              parties=[(inst.hospital_a, ["head"], "")])
    with pytest.raises(ActionDenied):  # the city bureau convenes its own interviews, not the county's
        svc.interview_notify(interview=interview, by=u.bureau_city, number="1", place="x",
                             scheduled_at=timezone.now() + dt.timedelta(days=1))


def test_the_notice_reaches_each_party_with_an_acknowledgement_deadline(personas):
    h = heads(personas)
    interview = proposed(personas)
    assert h.hospital_a not in set(visible_interviews(h.hospital_a))  # a proposal stays inside the bureau
    with pytest.raises(ValidationError) as past:
        svc.interview_notify(interview=interview, by=personas.users.bureau_a, number="1号", place="x",
                             scheduled_at=timezone.now() - dt.timedelta(hours=1))
    assert "scheduled_at" in past.value.message_dict
    interview = svc.interview_notify(
        interview=interview, by=personas.users.bureau_a, number="闽侯卫约〔2026〕1号", place="会议室",
        scheduled_at=timezone.now() + dt.timedelta(days=3))
    assert interview.state == S.NOTIFIED and interview.notified_by == personas.users.bureau_a
    assert alerts("interview.notice") == {"head_hospital_a", "head_primary_a"}  # not the county-B head
    assert interview in visible_interviews(h.hospital_a) and interview not in visible_interviews(h.hospital_b)
    hospital = party(interview, personas.inst.hospital_a)
    assert set(deadlines_for(hospital, kind=svc.ACKNOWLEDGE_DUE).values_list("payload__stage", flat=True)) == {
        "warn", "passed"}
    with pytest.raises(ActionDenied):
        svc.interview_acknowledge(party=hospital, by=h.primary_a)  # another party's head
    svc.interview_acknowledge(party=hospital, by=h.hospital_a)
    hospital.refresh_from_db()
    assert hospital.state == P.ACKNOWLEDGED and hospital.acknowledged_by == h.hospital_a
    notice = Alert.objects.get(kind="interview.notice", subject_id=str(hospital.pk))
    assert notice.closed_reason == Alert.CloseReason.HANDLED and notice.acknowledged_by == h.hospital_a
    with pytest.raises(TransitionConflict):
        svc.interview_acknowledge(party=hospital, by=h.hospital_a)
    # The primary-care centre never acknowledges: the sweep reminds it, then tells the bureau too.
    primary = party(interview, personas.inst.primary_a)
    move_deadlines_into_past(deadlines_for(primary, kind=svc.ACKNOWLEDGE_DUE))
    move_deadlines_into_past(deadlines_for(hospital, kind=svc.ACKNOWLEDGE_DUE))
    deadlines_sweep()
    critical = alerts("interview.acknowledge_due", priority=Alert.Priority.CRITICAL)
    assert critical == {"head_primary_a", "bureau_a"}  # the hospital acknowledged in time: nothing for it


def test_a_collective_interview_one_party_passes_the_other_fails_and_is_escalated(personas):
    h, u, inst = heads(personas), personas.users, personas.inst
    interview = held(personas)
    assert interview.state == S.HELD and interview.minutes_by == u.bureau_a
    hospital, primary = party(interview, inst.hospital_a), party(interview, inst.primary_a)
    assert hospital.state == primary.state == P.PLAN_DUE
    assert alerts("interview.plan_requested") == {"head_hospital_a", "head_primary_a"}
    with pytest.raises(ValidationError):
        svc.interview_plan_submit(party=hospital, by=h.hospital_a, plan=" ")
    svc.interview_plan_submit(party=hospital, by=h.hospital_a, plan="1. 值班制度 2. 每月演练")
    svc.interview_plan_submit(party=primary, by=h.primary_a, plan="加强随访")
    assert alerts("interview.plan_submitted") == {"bureau_a"}
    with pytest.raises(ActionDenied):
        svc.interview_plan_accept(party=hospital, by=h.hospital_a)  # nobody accepts their own plan
    svc.interview_plan_accept(party=hospital, by=u.bureau_a)
    primary = svc.interview_plan_return(party=primary, by=u.bureau_a, reason="缺少责任人和时限")
    assert primary.state == P.PLAN_DUE and "interview.plan_returned" in {
        a.kind for a in Alert.objects.filter(recipient=h.primary_a)}
    svc.interview_plan_submit(party=primary, by=h.primary_a, plan="加强随访；责任人王医生；6月底前")
    svc.interview_plan_accept(party=primary, by=u.bureau_a)
    svc.interview_report_submit(party=hospital, by=h.hospital_a, report="已落实值班与演练")
    svc.interview_report_submit(party=primary, by=h.primary_a, report="随访率提高")
    with pytest.raises(ValidationError) as no_escalation:
        svc.interview_verify(party=primary, by=u.bureau_a, passed=False, method="onsite", findings="未落实")
    assert "escalation" in no_escalation.value.message_dict
    svc.interview_verify(party=hospital, by=u.bureau_a, passed=True, method="documents", findings="材料齐全")
    interview.refresh_from_db()
    assert interview.state == S.HELD  # one party is still under way
    svc.interview_verify(party=primary, by=u.bureau_a, passed=False, method="onsite", findings="随访记录不实",
                         escalation="提请市卫健委再次约谈")
    interview.refresh_from_db()
    assert interview.state == S.CLOSED and interview.closed_at is not None
    assert party(interview, inst.primary_a).state == P.FAILED and party(interview, inst.hospital_a).state == P.PASSED
    follow_up = Interview.objects.get(escalated_from=interview)
    assert follow_up.bureau == inst.bureau_city and follow_up.origin == "escalation" and follow_up.state == S.PROPOSED
    assert [p.institution for p in follow_up.parties.all()] == [inst.primary_a]
    assert alerts("interview.escalated") == {"bureau_city"}
    assert follow_up not in visible_interviews(u.bureau_a)  # the city's proposal stays inside the city bureau


def test_the_plan_and_report_deadlines_fire_and_stop_when_met(personas):
    h, inst = heads(personas), personas.inst
    interview = held(personas)
    hospital, primary = party(interview, inst.hospital_a), party(interview, inst.primary_a)
    svc.interview_plan_submit(party=hospital, by=h.hospital_a, plan="方案")
    for p in (hospital, primary):
        move_deadlines_into_past(deadlines_for(p, kind=svc.PLAN_DUE))
    deadlines_sweep()
    assert alerts("interview.plan_due", priority=Alert.Priority.CRITICAL) == {"head_primary_a", "bureau_a"}
    svc.interview_plan_accept(party=hospital, by=personas.users.bureau_a)
    move_deadlines_into_past(deadlines_for(hospital, kind=svc.REPORT_DUE).filter(payload__stage="warn"))
    deadlines_sweep()
    assert alerts("interview.report_due", priority=Alert.Priority.URGENT) == {"head_hospital_a"}


def test_who_sees_an_interview(personas):
    u = personas.users
    interview = notified(personas)
    assert interview in visible_interviews(u.bureau_a) and interview in visible_interviews(u.mch_a)
    assert interview in visible_interviews(u.bureau_city) and interview in visible_interviews(u.bureau_province)
    for outsider in (u.bureau_gd, u.mch_b, u.obstetrician_b, u.obstetrician_a):
        assert interview not in visible_interviews(outsider)
