"""Process 3: critical-case referral and rescue — every step for an allowed and a denied persona,
deadlines fired by the sweep, the redirect chain, consultation, near miss and DDI."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import override
from viewflow.workflow.models import Task
from viewflow.workflow.status import PROCESS, STATUS

from cases.models import Consultation, HighRiskCase, Pregnancy, Referral, Urgency
from cases.selectors import visible_pregnancies, visible_referrals
from notifications.models import Alert
from notifications.services import ESCALATE
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import DutyShift, Role
from tests.notifications.helpers import move_deadlines_into_past
from tests.personas import book_woman
from tests.workflows.referral.helpers import member, refer, rescue_staff, shift
from workflows import outcomes
from workflows.deadlines import deadlines_sweep
from workflows.models import Deadline
from workflows.referral import services as rs
from workflows.referral.flows import ReferralFlow
from workflows.referral.permissions import can_cancel
from workflows.referral.selectors import consultation_tasks_for, referral_tasks_for
from workflows.registers import services as registers

S = Referral.State


@pytest.fixture
def staff(personas):  # type: ignore[no-untyped-def]
    return rescue_staff(personas)


def open_nodes(referral):  # type: ignore[no-untyped-def]
    return sorted(t.flow_task.name for t in Task.objects.filter(process_id=referral.process_id, status=STATUS.NEW))


def alerts(kind, **filters):  # type: ignore[no-untyped-def]
    return set(Alert.objects.filter(kind=kind, **filters).values_list("recipient__username", flat=True))


def sweep_due(referral, kind):  # type: ignore[no-untyped-def]
    move_deadlines_into_past(Deadline.objects.filter(kind=kind, subject_id=str(referral.pk), state="pending"))
    deadlines_sweep()


def to_treatment(referral, staff, personas):  # type: ignore[no-untyped-def]
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU")
    rs.referral_depart(referral=referral, by=personas.users.obstetrician_a, transport="ambulance", escort="助产士")
    rs.referral_arrive(referral=referral, by=staff.city2)
    return rs.referral_start_treatment(referral=referral, by=staff.city2)


# --- Request ------------------------------------------------------------------------------------------

def test_request_alerts_the_duty_doctors_on_duty_and_starts_the_flow(personas, staff):
    referral = refer(personas)
    assert referral.state == S.REQUESTED
    assert alerts("referral.requested") == {"duty_city1", "duty_city2"}
    assert set(Alert.objects.filter(kind="referral.requested").values_list("priority", flat=True)) == {"critical"}
    due = referral.response_due_at - referral.requested_at
    assert due == dt.timedelta(minutes=10)  # national default for an emergency
    assert Deadline.objects.filter(kind=rs.RESPONSE_DUE, subject_id=str(referral.pk), state="pending").count() == 1
    assert referral.process.flow_class is ReferralFlow
    assert open_nodes(referral) == ["respond"]
    urgent = refer(personas, urgency=Urgency.URGENT)
    assert urgent.response_due_at - urgent.requested_at == dt.timedelta(minutes=60)
    assert Alert.objects.filter(kind="referral.requested", subject_id=str(urgent.pk)).first().priority == "urgent"


def test_request_refuses_bad_input_with_field_errors(personas, staff):
    woman = book_woman(at=personas.inst.hospital_a)
    pregnancy = Pregnancy.objects.get(woman=woman)
    with pytest.raises(ValidationError) as exc:
        rs.referral_request(pregnancy=pregnancy, by=personas.users.obstetrician_a,
                            from_institution=personas.inst.hospital_a, to_centre=personas.centres.city,
                            urgency="soon", reason=" ", diagnosis="", vitals={"spo2": 150, "pulse": 5})
    assert {"urgency", "reason", "diagnosis", "spo2", "pulse"} <= set(exc.value.message_dict)
    assert not Referral.objects.exists()


def test_choosing_another_than_the_suggested_centre_needs_a_reason(personas, staff):
    # 闽侯县医院 is itself county centre A, so the city centre is the first suggestion.
    suggestions = rs.centre_suggestions(personas.inst.hospital_a)
    assert [c.centre for c in suggestions] == [personas.centres.city, personas.centres.province]
    assert [u.username for u in suggestions[0].on_duty] == ["duty_city1", "duty_city2"]
    with pytest.raises(ValidationError) as exc:
        refer(personas, centre=personas.centres.province)
    assert "off_suggestion_reason" in exc.value.message_dict
    referral = refer(personas, centre=personas.centres.province, off_suggestion_reason="需要体外膜肺氧合")
    assert referral.to_centre == personas.centres.province


def test_only_a_clinician_of_the_sending_institution_refers_and_one_open_referral_at_a_time(personas, staff):
    woman = book_woman(at=personas.inst.hospital_a)
    pregnancy = Pregnancy.objects.get(woman=woman)
    kwargs = {"pregnancy": pregnancy, "from_institution": personas.inst.hospital_a, "to_centre": personas.centres.city,
              "urgency": Urgency.URGENT, "reason": "子痫前期重度", "diagnosis": "重度子痫前期"}
    for who in ("obstetrician_b", "mch_a", "bureau_a"):
        with pytest.raises(ActionDenied):
            rs.referral_request(by=getattr(personas.users, who), **kwargs)
    rs.referral_request(by=personas.users.obstetrician_a, **kwargs)
    with pytest.raises(TransitionConflict):
        rs.referral_request(by=personas.users.obstetrician_a, **kwargs)


def test_attachments_are_checked_by_type_content_and_size(personas, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    png = SimpleUploadedFile("ct.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, content_type="image/png")
    referral = refer(personas, attachments=[png])
    attachment = referral.attachments.get()
    assert (attachment.name, attachment.content_type) == ("ct.png", "image/png")
    assert "ct.png" not in attachment.file.name  # never the uploaded name on disk
    for name, content in [("x.exe", b"MZ"), ("fake.pdf", b"not a pdf"), ("a.txt", b"\xff\xfe\x00bad")]:
        with pytest.raises(ValidationError) as exc:
            rs.referral_attach(referral=referral, by=personas.users.obstetrician_a,
                               upload=SimpleUploadedFile(name, content))
        assert exc.value.messages
    settings.REFERRAL_ATTACHMENT_MAX_BYTES = 10
    with pytest.raises(ValidationError):
        rs.referral_attach(referral=referral, by=personas.users.obstetrician_a,
                           upload=SimpleUploadedFile("big.pdf", b"%PDF" + b"0" * 20))
    settings.REFERRAL_ATTACHMENT_MAX_BYTES = 1024
    with pytest.raises(ActionDenied):
        rs.referral_attach(referral=referral, by=personas.users.duty_b,
                           upload=SimpleUploadedFile("n.txt", "血常规".encode()))
    rs.referral_attach(referral=referral, by=staff.city1, upload=SimpleUploadedFile("n.txt", "血常规".encode()))
    assert referral.attachments.count() == 2


# --- Visibility ---------------------------------------------------------------------------------------

def test_visibility_and_a_centre_never_sees_another_centres_referral(personas, staff):
    to_city = refer(personas)
    to_province = refer(personas, centre=personas.centres.province, off_suggestion_reason="ECMO")
    seen = {who: set(visible_referrals(getattr(personas.users, who)).values_list("pk", flat=True))
            for who in ("obstetrician_a", "duty_a", "mch_a", "bureau_a", "bureau_province",
                        "duty_b", "obstetrician_b", "mch_b", "bureau_gd", "outsider")}
    both = {to_city.pk, to_province.pk}
    assert seen["obstetrician_a"] == seen["duty_a"] == seen["mch_a"] == seen["bureau_a"] == both
    assert seen["bureau_province"] == both
    for who in ("duty_b", "obstetrician_b", "mch_b", "bureau_gd", "outsider"):
        assert seen[who] == set(), who
    assert set(visible_referrals(staff.city1).values_list("pk", flat=True)) == {to_city.pk}
    assert set(visible_referrals(staff.province1).values_list("pk", flat=True)) == {to_province.pk}
    # The receiving centre may read the woman's pregnancy record; another centre may not.
    assert visible_pregnancies(staff.city1).filter(pk=to_city.pregnancy_id).exists()
    assert not visible_pregnancies(staff.city1).filter(pk=to_province.pregnancy_id).exists()


def test_task_inboxes_are_scoped_to_the_centre_and_the_sender(personas, staff):
    referral = refer(personas)
    city_tasks = referral_tasks_for(staff.city1)
    assert [t.process_id for t in city_tasks] == [referral.process_id]
    assert not referral_tasks_for(staff.province1).exists()
    assert not referral_tasks_for(personas.users.duty_b).exists()
    assert not referral_tasks_for(personas.users.obstetrician_a).exists()  # nothing for the sender yet
    rs.referral_decline(referral=referral, by=staff.city1, reason="ICU 满床")
    assert open_nodes(referral) == ["reroute"]
    assert [t.flow_task.name for t in referral_tasks_for(personas.users.obstetrician_a)] == ["reroute"]
    assert not referral_tasks_for(staff.city1).exists()


# --- Answer ----------------------------------------------------------------------------------------------

def test_accept_by_a_duty_doctor_closes_the_asking_alerts_and_tells_the_sender(personas, staff):
    referral = refer(personas)
    for who in (personas.users.obstetrician_a, personas.users.duty_b, staff.province1):
        with pytest.raises(ActionDenied):
            rs.referral_accept(referral=referral, by=who, team="x")
    with pytest.raises(ValidationError):
        rs.referral_accept(referral=referral, by=staff.city1, team=" ")
    eta = timezone.now() + dt.timedelta(minutes=40)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU 王主任组", expected_arrival_at=eta)
    referral.refresh_from_db()
    assert (referral.state, referral.answered_by, referral.receiving_team) == (S.ACCEPTED, staff.city1, "产科ICU 王主任组")
    assert open_nodes(referral) == ["depart"]
    asking = Alert.objects.filter(kind="referral.requested")
    assert all(a.acknowledged_by == staff.city1 for a in asking)
    assert alerts("referral.accepted") == {"obstetrician_a"}
    assert not Deadline.objects.filter(kind=rs.RESPONSE_DUE, subject_id=str(referral.pk), state="pending").exists()
    with pytest.raises(TransitionConflict) as exc:
        rs.referral_accept(referral=referral, by=staff.city2, team="另一组")
    assert str(staff.city1) in exc.value.reason


def test_decline_needs_a_reason_and_the_sender_redirects(personas, staff):
    referral = refer(personas)
    with pytest.raises(ValidationError):
        rs.referral_decline(referral=referral, by=staff.city1, reason="")
    with pytest.raises(ActionDenied):
        rs.referral_decline(referral=referral, by=personas.users.obstetrician_a, reason="不")
    rs.referral_decline(referral=referral, by=staff.city1, reason="ICU 满床")
    assert alerts("referral.declined", priority="critical") == {"obstetrician_a"}
    with pytest.raises(ActionDenied):  # the centre that declined cannot send it on any more
        rs.referral_redirect(referral=referral, by=staff.city1, to_centre=personas.centres.province, reason="x")
    new = rs.referral_redirect(referral=referral, by=personas.users.obstetrician_a,
                               to_centre=personas.centres.province, reason="市中心满床，转省中心")
    referral.refresh_from_db()
    assert referral.state == S.REDIRECTED and referral.process.status == PROCESS.DONE
    assert (new.state, new.to_centre, new.redirected_from) == (S.REQUESTED, personas.centres.province, referral)
    assert open_nodes(new) == ["respond"]
    assert alerts("referral.requested", subject_id=str(new.pk)) == {"duty_province1"}


def test_redirect_chain_by_the_centres(personas, staff):
    first = refer(personas, urgency=Urgency.URGENT)
    with pytest.raises(ValidationError):
        rs.referral_redirect(referral=first, by=staff.city1, to_centre=personas.centres.city, reason="同一中心")
    second = rs.referral_redirect(referral=first, by=staff.city1, to_centre=personas.centres.province,
                                  reason="需要心外科")
    assert alerts("referral.redirected") == {"obstetrician_a"}
    third = rs.referral_redirect(referral=second, by=staff.province1, to_centre=personas.centres.b,
                                 reason="患者家属在厦门")
    chain = [third.redirected_from.redirected_from, third.redirected_from, third]
    assert [r.to_centre for r in chain] == [personas.centres.city, personas.centres.province, personas.centres.b]
    assert [Referral.objects.get(pk=r.pk).state for r in chain] == [S.REDIRECTED, S.REDIRECTED, S.REQUESTED]
    # The first centre no longer sees where she went; the last sees only its own referral.
    assert set(visible_referrals(staff.city1).values_list("pk", flat=True)) == {first.pk}
    assert set(visible_referrals(personas.users.duty_b).values_list("pk", flat=True)) == {third.pk}


# --- After acceptance ------------------------------------------------------------------------------------

def test_the_road_to_feedback_with_a_denied_persona_at_each_step(personas, staff):
    referral = refer(personas)
    with pytest.raises(TransitionConflict):
        rs.referral_arrive(referral=referral, by=staff.city1)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU")
    with pytest.raises(ActionDenied):
        rs.referral_depart(referral=referral, by=personas.users.duty_b, transport="ambulance")
    with pytest.raises(ValidationError):
        rs.referral_depart(referral=referral, by=personas.users.obstetrician_a, transport="helicopter")
    rs.referral_depart(referral=referral, by=personas.users.obstetrician_a, transport="ambulance", escort="助产士")
    assert alerts("referral.departed") == {"duty_city1", "duty_city2"}
    with pytest.raises(ActionDenied):
        rs.referral_arrive(referral=referral, by=personas.users.obstetrician_a)
    rs.referral_arrive(referral=referral, by=staff.city2)
    with pytest.raises(ActionDenied):
        rs.referral_start_treatment(referral=referral, by=personas.users.obstetrician_a)
    rs.referral_start_treatment(referral=referral, by=staff.city2)
    with pytest.raises(ValidationError) as exc:
        rs.referral_outcome(referral=referral, by=staff.city2, outcome="transferred", note="转 ICU")
    assert "transferred_to" in exc.value.message_dict
    with pytest.raises(ActionDenied):
        rs.referral_outcome(referral=referral, by=personas.users.obstetrician_a, outcome="discharged", note="好")
    rs.referral_outcome(referral=referral, by=staff.city2, outcome="discharged", note="止血成功，痊愈出院")
    referral.refresh_from_db()
    assert referral.feedback_due_at - referral.outcome_at == dt.timedelta(days=7)
    with pytest.raises(ValidationError):
        rs.referral_feedback(referral=referral, by=staff.city2, summary="", advice="")
    with pytest.raises(ActionDenied):
        rs.referral_feedback(referral=referral, by=personas.users.obstetrician_a, summary="s", advice="a")
    rs.referral_feedback(referral=referral, by=staff.city2, summary="宫缩乏力性产后出血，B-Lynch 缝合",
                         advice="产后出血 500 mL 即启动预案")
    referral.refresh_from_db()
    assert referral.state == S.CLOSED and referral.process.status == PROCESS.DONE
    assert alerts("referral.feedback") == {"obstetrician_a"}
    reasons = list(referral.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert reasons == ["referral requested", "accepted", "departed", "arrived", "treatment started",
                       "outcome: discharged", "feedback given"]
    with pytest.raises(TransitionConflict):
        rs.referral_cancel(referral=referral, by=personas.users.obstetrician_a, reason="x")


def test_a_step_time_before_the_request_is_refused(personas, staff):
    """A mistyped year (0129) would be stored and read back as nonsense; found by the API contract run."""
    referral = refer(personas)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU")
    long_ago = referral.requested_at - dt.timedelta(days=365 * 1900)
    with pytest.raises(ValidationError) as refused:
        rs.referral_depart(referral=referral, by=personas.users.obstetrician_a, transport="ambulance", at=long_ago)
    assert set(refused.value.message_dict) == {"at"}
    with pytest.raises(ValidationError):
        rs.referral_arrive(referral=referral, by=staff.city2, at=referral.requested_at - dt.timedelta(minutes=5))
    referral.refresh_from_db()
    assert (referral.state, referral.departed_at, referral.arrived_at) == (S.ACCEPTED, None, None)


def test_arrival_without_a_recorded_departure(personas, staff):
    referral = refer(personas)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科")
    rs.referral_arrive(referral=referral, by=staff.city1)
    assert open_nodes(referral) == ["treat"]


def test_cancel_needs_a_reason_from_either_side_and_stops_everything(personas, staff):
    referral = refer(personas)
    with pytest.raises(ValidationError):
        rs.referral_cancel(referral=referral, by=personas.users.obstetrician_a, reason=" ")
    with pytest.raises(ActionDenied):
        rs.referral_cancel(referral=referral, by=personas.users.duty_b, reason="x")
    rs.referral_cancel(referral=referral, by=personas.users.obstetrician_a, reason="病情稳定，本院继续处理")
    referral.refresh_from_db()
    assert referral.state == S.CANCELLED and referral.process.status == PROCESS.CANCELED
    assert not Deadline.objects.filter(subject_id=str(referral.pk), state="pending").exists()
    assert alerts("referral.cancelled") == {"duty_city1", "duty_city2"}
    assert all(a.acknowledged_at for a in Alert.objects.filter(kind="referral.requested"))
    accepted = refer(personas)
    rs.referral_accept(referral=accepted, by=staff.city1, team="产科")
    rs.referral_cancel(referral=accepted, by=staff.city1, reason="孕妇家属拒绝转院")
    assert alerts("referral.cancelled", subject_id=str(accepted.pk)) == {"obstetrician_a"}


def test_cancel_is_refused_once_she_has_arrived(personas, staff):
    """Issue 11 item 10: cancelling is for before arrival; at the centre the referral ends with its outcome."""
    en_route = refer(personas)
    rs.referral_accept(referral=en_route, by=staff.city1, team="产科ICU")
    rs.referral_depart(referral=en_route, by=personas.users.obstetrician_a, transport="ambulance")
    rs.referral_cancel(referral=en_route, by=personas.users.obstetrician_a, reason="途中病情缓解，返回本院")
    assert Referral.objects.get(pk=en_route.pk).state == S.CANCELLED
    arrived = refer(personas)
    rs.referral_accept(referral=arrived, by=staff.city1, team="产科ICU")
    rs.referral_arrive(referral=arrived, by=staff.city2)
    for user in (personas.users.obstetrician_a, staff.city1):
        with pytest.raises(TransitionConflict) as refused:
            rs.referral_cancel(referral=arrived, by=user, reason="家属要求")
        assert "before she arrives" in str(refused.value) or "到达前" in str(refused.value)
    assert not can_cancel(staff.city1, Referral.objects.get(pk=arrived.pk))
    rs.referral_start_treatment(referral=arrived, by=staff.city2)
    with pytest.raises(TransitionConflict):
        rs.referral_cancel(referral=arrived, by=staff.city1, reason="家属要求")
    rs.referral_outcome(referral=arrived, by=staff.city2, outcome="discharged", note="痊愈出院")
    with pytest.raises(TransitionConflict):
        rs.referral_cancel(referral=arrived, by=staff.city1, reason="家属要求")
    fresh = Referral.objects.get(pk=arrived.pk)
    assert (fresh.state, fresh.cancel_reason) == (S.OUTCOME, "")
    assert not alerts("referral.cancelled", subject_id=str(arrived.pk))
    assert "cancelled" not in fresh.history.values_list("history_change_reason", flat=True)
    # The model's own transition refuses too, whoever calls it (the has_not_arrived condition).
    from django_fsm import can_proceed

    assert not can_proceed(fresh.cancel)


# --- Deadlines ------------------------------------------------------------------------------------------

def test_unanswered_referral_escalates_to_the_deputy_then_the_next_level_centre_and_bureau(personas, staff):
    referral = refer(personas)
    sweep_due(referral, rs.RESPONSE_DUE)
    referral.refresh_from_db()
    assert referral.escalation_level == 1
    assert alerts("referral.escalated") == {"deputy_city"}
    assert alerts("referral.unanswered") == {"obstetrician_a"}
    sweep_due(referral, rs.RESPONSE_DUE)
    referral.refresh_from_db()
    assert (referral.escalation_level, referral.escalated_to) == (2, personas.centres.province)
    # Who can act gets the critical alert; the bureau, which cannot answer, is told what it is for.
    assert alerts("referral.escalated", escalation_level=0) == {"deputy_city", "duty_province1"}
    oversight = Alert.objects.get(kind="referral.escalated.oversight")
    assert (oversight.recipient, oversight.priority) == (personas.users.bureau_a, Alert.Priority.URGENT)
    with override("zh-hans"):
        assert "您无法直接应答" in oversight.body_text and personas.centres.city.duty_phone in oversight.body_text
    assert not Deadline.objects.filter(kind=ESCALATE, state="pending", payload__chain=str(oversight.chain)).exists()
    reasons = list(referral.history.values_list("history_change_reason", flat=True))
    assert any("next-level centre" in (r or "") for r in reasons)
    # The next-level centre now sees it, has the task, and may take her.
    assert visible_referrals(staff.province1).filter(pk=referral.pk).exists()
    assert [t.process_id for t in referral_tasks_for(staff.province1)] == [referral.process_id]
    rs.referral_accept(referral=referral, by=staff.province1, team="省妇幼产科ICU")
    referral.refresh_from_db()
    assert (referral.state, referral.to_centre) == (S.ACCEPTED, personas.centres.province)
    assert referral.history.latest().history_change_reason == "accepted by the next-level centre"


def test_an_unacknowledged_level_2_escalation_runs_up_the_receiving_side(personas, staff):
    """The level-2 alert's own escalation chain (on_call → mch_officer → bureau_officer) resolves at the
    next-level centre, never at the sending hospital, whose deputy may be the sender herself."""
    province = personas.inst.mch_province
    shift(personas.users.obstetrician_a, personas.inst.hospital_a, DutyShift.Kind.ON_CALL)
    deputy = member("deputy_province", province, Role.DUTY_DOCTOR)
    shift(deputy, province, DutyShift.Kind.ON_CALL)
    member("mch_province", province, Role.MCH_OFFICER)
    referral = refer(personas)
    sweep_due(referral, rs.RESPONSE_DUE)
    sweep_due(referral, rs.RESPONSE_DUE)
    level2 = Alert.objects.filter(kind="referral.escalated", recipient=staff.province1).get()
    assert level2.institution == province

    def escalate():  # type: ignore[no-untyped-def]
        move_deadlines_into_past(Deadline.objects.filter(kind=ESCALATE, state="pending",
                                                         payload__chain=str(level2.chain)))
        deadlines_sweep()

    escalate()
    assert alerts("referral.escalated", chain=level2.chain, escalation_level=1) == {"deputy_province"}
    escalate()
    assert alerts("referral.escalated", chain=level2.chain, escalation_level=2) == {"mch_province"}
    escalate()
    assert alerts("referral.escalated", chain=level2.chain, escalation_level=3) == {"bureau_province"}
    assert "obstetrician_a" not in alerts("referral.escalated")


def test_an_answered_referral_does_not_escalate(personas, staff):
    referral = refer(personas)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科")
    Deadline.objects.filter(kind=rs.RESPONSE_DUE).update(state="pending")  # even a stale row is harmless
    sweep_due(referral, rs.RESPONSE_DUE)
    assert not Alert.objects.filter(kind="referral.escalated").exists()


def test_feedback_overdue_alerts_the_centre(personas, staff):
    referral = to_treatment(refer(personas), staff, personas)
    rs.referral_outcome(referral=referral, by=staff.city2, outcome="discharged", note="痊愈")
    sweep_due(referral, rs.FEEDBACK_DUE)
    assert alerts("referral.feedback_overdue") == {"duty_city1", "duty_city2"}


def test_death_at_the_centre_records_the_maternal_death_and_runs_the_hooks(personas, staff):
    from tests.workflows.highrisk.test_services import open_case

    case = open_case(personas, inputs={"pa_pressure_mmhg": 60})
    referral = rs.referral_request(pregnancy=case.pregnancy, by=personas.users.obstetrician_a,
                                   from_institution=personas.inst.hospital_a, to_centre=personas.centres.city,
                                   urgency=Urgency.EMERGENCY, reason="心衰", diagnosis="肺动脉高压，心衰")
    assert referral.case == case
    to_treatment(referral, staff, personas)
    calls = []
    outcomes.MATERNAL_DEATH_HOOKS.append(lambda **kw: calls.append(kw))
    try:
        rs.referral_outcome(referral=referral, by=staff.city2, outcome="died", note="抢救无效死亡")
    finally:
        outcomes.MATERNAL_DEATH_HOOKS.pop()
    case.refresh_from_db()
    assert case.state == HighRiskCase.State.DIED
    assert Pregnancy.objects.get(pk=case.pregnancy_id).status == Pregnancy.Status.DIED
    assert alerts("referral.death") == {"mch_a", "bureau_a", "obstetrician_a"}
    assert calls and calls[0]["source"] == referral and calls[0]["case"] == case


# --- Consultation, near miss, DDI ---------------------------------------------------------------------------

def test_consultation_to_a_centre_answered_or_escalated(personas, staff):
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    with pytest.raises(ValidationError):
        rs.consultation_request(pregnancy=pregnancy, by=personas.users.obstetrician_a,
                                from_institution=personas.inst.hospital_a, mode="remote", urgency="urgent",
                                question="?")
    consultation = rs.consultation_request(
        pregnancy=pregnancy, by=personas.users.obstetrician_a, from_institution=personas.inst.hospital_a,
        mode="remote", urgency="urgent", question="妊娠合并心脏病，可否继续妊娠？", to_centre=personas.centres.city)
    assert alerts("consultation.requested") == {"duty_city1", "duty_city2"}
    assert [t.process_id for t in consultation_tasks_for(staff.city1)] == [consultation.process_id]
    assert not consultation_tasks_for(personas.users.duty_b).exists()
    sweep_due(consultation, rs.CONSULTATION_DUE)
    assert alerts("consultation.escalated") == {"deputy_city"}
    sweep_due(consultation, rs.CONSULTATION_DUE)
    assert alerts("consultation.escalated.oversight") == {"mch_a"}
    with pytest.raises(ActionDenied):
        rs.consultation_answer(consultation=consultation, by=personas.users.duty_b, answer="x")
    rs.consultation_answer(consultation=consultation, by=staff.city2, answer="建议转诊至省级中心评估")
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.ANSWERED and consultation.process.status == PROCESS.DONE
    assert alerts("consultation.answered") == {"obstetrician_a"}
    with pytest.raises(TransitionConflict):
        rs.consultation_answer(consultation=consultation, by=staff.city1, answer="y")


def test_onsite_consultation_to_a_named_expert(personas, staff):
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    consultation = rs.consultation_request(
        pregnancy=pregnancy, by=personas.users.obstetrician_a, from_institution=personas.inst.hospital_a,
        mode="onsite", urgency="emergency", question="胎盘植入，请现场会诊", to_expert=staff.province1)
    assert alerts("consultation.requested", priority="critical") == {"duty_province1"}
    with pytest.raises(ActionDenied):
        rs.consultation_answer(consultation=consultation, by=staff.city1, answer="x")
    with pytest.raises(ValidationError):
        rs.consultation_answer(consultation=consultation, by=staff.province1, answer="马上到")
    rs.consultation_answer(consultation=consultation, by=staff.province1, answer="马上到",
                           onsite_eta=timezone.now() + dt.timedelta(minutes=50))
    assert Consultation.objects.get(pk=consultation.pk).state == Consultation.State.ANSWERED


def test_near_miss_checklist_marks_the_woman_and_alerts_the_mch_officer(personas, staff):
    referral = to_treatment(refer(personas), staff, personas)
    with pytest.raises(ValidationError):
        registers.near_miss_record(pregnancy=referral.pregnancy, by=staff.city2, institution=personas.inst.mch_city,
                            criteria=["bogus"], referral=referral)
    with pytest.raises(ActionDenied):
        registers.near_miss_record(pregnancy=referral.pregnancy, by=personas.users.mch_a,
                            institution=personas.inst.mch_city, criteria=["cv_shock"], referral=referral)
    registers.near_miss_record(pregnancy=referral.pregnancy, by=staff.city2, institution=personas.inst.mch_city,
                        criteria=[], referral=referral)
    assert Pregnancy.objects.get(pk=referral.pregnancy_id).near_miss_at is None
    record = registers.near_miss_record(pregnancy=referral.pregnancy, by=staff.city2, institution=personas.inst.mch_city,
                                 criteria=["coag_transfusion", "cv_shock", "cv_shock"], referral=referral)
    assert record.criteria == ["coag_transfusion", "cv_shock"] and record.is_near_miss
    assert Pregnancy.objects.get(pk=referral.pregnancy_id).near_miss_at is not None
    assert alerts("nearmiss.marked") == {"mch_a"}


@pytest.mark.parametrize(("minutes", "flagged"), [(25, False), (30, False), (42, True)])
def test_ddi_is_computed_and_flagged_above_the_target(personas, staff, minutes, flagged):
    referral = to_treatment(refer(personas), staff, personas)
    decision = timezone.now() - dt.timedelta(hours=1)
    record = registers.caesarean_record(pregnancy=referral.pregnancy, by=staff.city2, institution=personas.inst.mch_city,
                                 decision_at=decision, delivery_at=decision + dt.timedelta(minutes=minutes),
                                 referral=referral)
    assert (record.ddi_minutes, record.target_minutes, record.over_target) == (minutes, 30, flagged)


def test_ddi_refuses_impossible_times_and_other_roles(personas, staff):
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    now = timezone.now()
    with pytest.raises(ValidationError):
        registers.caesarean_record(pregnancy=pregnancy, by=staff.city1, institution=personas.inst.mch_city,
                            decision_at=now - dt.timedelta(minutes=5), delivery_at=now - dt.timedelta(minutes=20))
    with pytest.raises(ActionDenied):
        registers.caesarean_record(pregnancy=pregnancy, by=personas.users.mch_a, institution=personas.inst.mch_city,
                            decision_at=now - dt.timedelta(minutes=50), delivery_at=now - dt.timedelta(minutes=20))


def test_answering_is_for_duty_doctors_later_steps_for_the_centres_obstetricians_too(personas, staff):
    # 厦门市第三医院 hosts county centre B: obstetrician_b works there, duty_b is its duty doctor.
    referral = refer(personas, centre=personas.centres.b, off_suggestion_reason="家属在厦门")
    assert not referral_tasks_for(personas.users.obstetrician_b).exists()
    assert [t.flow_task.name for t in referral_tasks_for(personas.users.duty_b)] == ["respond"]
    for step in (lambda: rs.referral_accept(referral=referral, by=personas.users.obstetrician_b, team="产科"),
                 lambda: rs.referral_decline(referral=referral, by=personas.users.obstetrician_b, reason="满床"),
                 lambda: rs.referral_redirect(referral=referral, by=personas.users.obstetrician_b,
                                              to_centre=personas.centres.city, reason="x")):
        with pytest.raises(ActionDenied):
            step()
    rs.referral_accept(referral=referral, by=personas.users.duty_b, team="产科")
    assert [t.flow_task.name for t in referral_tasks_for(personas.users.obstetrician_b)] == ["depart"]
    rs.referral_arrive(referral=referral, by=personas.users.obstetrician_b)
    assert Referral.objects.get(pk=referral.pk).state == S.ARRIVED


def test_a_named_expert_reads_the_pregnancy_she_is_consulted_on(personas, staff):
    pregnancy = Pregnancy.objects.get(woman=book_woman(at=personas.inst.hospital_a))
    assert not visible_pregnancies(staff.province1).filter(pk=pregnancy.pk).exists()
    rs.consultation_request(pregnancy=pregnancy, by=personas.users.obstetrician_a,
                            from_institution=personas.inst.hospital_a, mode="remote", urgency="urgent",
                            question="可否阴道试产？", to_expert=staff.province1)
    assert visible_pregnancies(staff.province1).filter(pk=pregnancy.pk).exists()
    assert not visible_pregnancies(staff.city1).filter(pk=pregnancy.pk).exists()


def test_the_caesarean_list_reads_only_caesareans_in_scope(personas, staff):
    """Issue 12: the DDI list scoped inline; visible_emergency_caesareans is its selector. The centre that
    operated, the sender of her referral and the officers of the area see it; another area does not."""
    from cases.selectors import visible_emergency_caesareans

    referral = refer(personas)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科")
    rs.referral_arrive(referral=referral, by=staff.city2)
    now = timezone.now()
    record = registers.caesarean_record(pregnancy=referral.pregnancy, by=staff.city2, referral=referral,
                                        institution=personas.inst.mch_city, decision_at=now - dt.timedelta(minutes=40),
                                        delivery_at=now - dt.timedelta(minutes=10))
    sees = {name for name, user in [("city2", staff.city2), ("sender", personas.users.obstetrician_a),
                                    ("bureau_city", personas.users.bureau_city), ("mch_b", personas.users.mch_b),
                                    ("obstetrician_b", personas.users.obstetrician_b),
                                    ("bureau_gd", personas.users.bureau_gd)]
            if visible_emergency_caesareans(user).filter(pk=record.pk).exists()}
    assert sees == {"city2", "sender", "bureau_city"}
