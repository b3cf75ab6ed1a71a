"""Alerts follow their record: an actionable alert resolves for everyone when its step is taken (naming who),
informational ones stay routine or urgent, and nothing stays open once the referral ends, the case closes
or the woman dies."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.translation import override

from cases.models import HighRiskCase, Urgency
from notifications.models import Alert
from notifications.services import ESCALATE
from tests.workflows.highrisk.test_services import open_case
from tests.workflows.referral.helpers import refer, rescue_staff
from workflows.highrisk import services as hr
from workflows.models import Deadline
from workflows.referral import services as rs

R = Alert.CloseReason


@pytest.fixture
def staff(personas):  # type: ignore[no-untyped-def]
    return rescue_staff(personas)


def of(kind, **filters):  # type: ignore[no-untyped-def]
    return list(Alert.objects.filter(kind=kind, **filters).select_related("recipient", "acknowledged_by"))


def to_outcome(referral, staff, personas, outcome="discharged"):  # type: ignore[no-untyped-def]
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU")
    rs.referral_depart(referral=referral, by=personas.users.obstetrician_a, transport="ambulance")
    rs.referral_arrive(referral=referral, by=staff.city2)
    rs.referral_start_treatment(referral=referral, by=staff.city2)
    return rs.referral_outcome(referral=referral, by=staff.city2, outcome=outcome, note="抢救经过")


def test_an_answered_referral_resolves_its_alert_for_every_recipient_naming_who(personas, staff):
    referral = refer(personas)  # an emergency: critical, with an escalation pending
    asked = of("referral.requested")
    assert {a.recipient for a in asked} == {staff.city1, staff.city2}
    assert Deadline.objects.filter(kind=ESCALATE, state="pending").count() == 1
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU")
    for alert in of("referral.requested"):
        assert (alert.acknowledged_by, alert.closed_reason) == (staff.city1, R.HANDLED)
        with override("zh-hans"):
            assert alert.closed_text == f"已由 {staff.city1} 处理"
    assert not Deadline.objects.filter(kind=ESCALATE, state="pending").exists()


def test_the_sender_is_told_of_the_acceptance_without_critical_escalation_or_sms(personas, staff):
    """"已接收：… 出发时请记录出发" is news for the sender: urgent for an emergency, never escalated."""
    referral = refer(personas)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU")
    accepted = of("referral.accepted")
    assert [(a.recipient, a.priority) for a in accepted] == [(personas.users.obstetrician_a, Alert.Priority.URGENT)]
    assert not Deadline.objects.filter(kind=ESCALATE, state="pending").exists()
    planned = refer(personas, urgency=Urgency.PLANNED)
    rs.referral_accept(referral=planned, by=staff.city1, team="产科")
    assert of("referral.accepted", subject_id=str(planned.pk))[0].priority == Alert.Priority.ROUTINE
    # Once she has left, "record the departure" is done: it closes, naming who recorded it.
    rs.referral_depart(referral=referral, by=personas.users.obstetrician_a, transport="ambulance")
    first = of("referral.accepted", subject_id=str(referral.pk))[0]
    assert (first.closed_reason, first.acknowledged_by) == (R.HANDLED, personas.users.obstetrician_a)
    departed = of("referral.departed")
    assert departed and all(a.priority == Alert.Priority.URGENT for a in departed)


def test_a_cancelled_referral_closes_its_open_alerts_with_that_reason(personas, staff):
    referral = refer(personas)
    rs.referral_accept(referral=referral, by=staff.city1, team="产科ICU")
    rs.referral_cancel(referral=referral, by=personas.users.obstetrician_a, reason="家属拒绝转院")
    accepted = of("referral.accepted")[0]
    assert (accepted.closed_reason, accepted.acknowledged_by) == (R.REFERRAL_CANCELLED, personas.users.obstetrician_a)
    with override("zh-hans"):
        assert accepted.closed_text.startswith("转诊已取消，自动关闭")
    # The news of the cancellation itself is new, and open.
    assert of("referral.cancelled") and all(a.is_open for a in of("referral.cancelled"))
    assert not Alert.objects.filter(subject_id=str(referral.pk), acknowledged_at__isnull=True).exclude(
        kind="referral.cancelled").exists()


def test_a_closed_referral_closes_what_is_left_and_feedback_resolves_the_overdue_alert(personas, staff):
    from tests.notifications.helpers import move_deadlines_into_past
    from workflows.deadlines import deadlines_sweep

    referral = to_outcome(refer(personas), staff, personas)
    move_deadlines_into_past(Deadline.objects.filter(kind=rs.FEEDBACK_DUE, state="pending"))
    deadlines_sweep()
    assert {a.recipient for a in of("referral.feedback_overdue")} == {staff.city1, staff.city2}
    left_open = Alert.objects.filter(subject_id=str(referral.pk), acknowledged_at__isnull=True)
    assert left_open.filter(kind="referral.outcome").exists()
    rs.referral_feedback(referral=referral, by=staff.city2, summary="产后出血已控制", advice="加强产后随访")
    for alert in of("referral.feedback_overdue"):
        assert (alert.closed_reason, alert.acknowledged_by) == (R.HANDLED, staff.city2)
    assert of("referral.outcome")[0].closed_reason == R.REFERRAL_ENDED
    assert [a.kind for a in left_open] == ["referral.feedback"]


def test_english_titles_render_choice_values_in_english(personas, staff):
    referral = to_outcome(refer(personas), staff, personas)
    outcome = of("referral.outcome")[0]
    assert outcome.params["outcome"] == {"choice": "cases.Referral.outcome", "value": "discharged"}
    with override("en"):
        assert outcome.title_text.endswith("— Recovered and discharged")
        assert of("referral.departed")[0].body_text.startswith("120 ambulance left at ")
    with override("zh-hans"):
        assert outcome.title_text.endswith("——好转出院")
        assert "ambulance" not in of("referral.departed")[0].body_text
    assert referral.outcome == "discharged"


def test_the_bureau_gets_an_oversight_alert_it_can_open_and_it_closes_when_answered(client, personas, staff):
    from tests.notifications.helpers import move_deadlines_into_past
    from workflows.deadlines import deadlines_sweep

    referral = refer(personas)
    for _level in (1, 2):
        move_deadlines_into_past(Deadline.objects.filter(kind=rs.RESPONSE_DUE, state="pending"))
        deadlines_sweep()
    oversight = of("referral.escalated.oversight")
    assert [a.recipient for a in oversight] == [personas.users.bureau_a]
    assert personas.users.bureau_a not in {a.recipient for a in of("referral.escalated")}
    client.force_login(personas.users.bureau_a)
    page = client.get(oversight[0].link, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    # The page says what she is there for and whom to ring, not only "nothing for you here".
    body = page.content.decode()
    assert 'data-testid="referral-oversight"' in body and "您在此为督导" in body
    assert "您当前对该转诊没有可执行的操作" not in body
    rs.referral_accept(referral=referral, by=staff.province1, team="省妇幼产科ICU")
    closed = of("referral.escalated.oversight")[0]
    assert (closed.closed_reason, closed.acknowledged_by) == (R.HANDLED, staff.province1)


def test_a_closed_case_closes_its_open_alerts_and_the_report_resolves_the_doctors(personas):
    case = open_case(personas)
    doctor = personas.users.obstetrician_a
    hr.highrisk_case_report(case=case, by=doctor)
    opened = of("highrisk.opened")[0]
    assert (opened.closed_reason, opened.acknowledged_by) == (R.HANDLED, doctor)
    assert of("highrisk.opened.mch")[0].closed_reason == R.HANDLED
    reported = of("highrisk.reported")
    assert reported and reported[0].is_open
    hr.case_close(case=case, by=doctor, kind=HighRiskCase.CloseKind.ENDED, reason="自然流产")
    reported = of("highrisk.reported")[0]
    assert (reported.closed_reason, reported.acknowledged_by) == (R.CASE_CLOSED, doctor)
    with override("zh-hans"):
        assert reported.closed_text.startswith("专案已结案，自动关闭")


def test_a_death_closes_every_open_alert_about_her_but_the_death_alert(personas, staff):
    case = open_case(personas, inputs={"pa_pressure_mmhg": 60})
    referral = rs.referral_request(pregnancy=case.pregnancy, by=personas.users.obstetrician_a,
                                   from_institution=personas.inst.hospital_a, to_centre=personas.centres.city,
                                   urgency=Urgency.EMERGENCY, reason="心衰", diagnosis="肺动脉高压，心衰")
    to_outcome(referral, staff, personas, outcome="died")
    for kind in ("highrisk.opened", "highrisk.opened.mch", "referral.arrived"):
        alert = of(kind)[0]
        assert (alert.closed_reason, alert.acknowledged_by) == (R.WOMAN_DIED, staff.city2), kind
    death = of("referral.death")
    assert death and all(a.is_open and a.priority == Alert.Priority.CRITICAL for a in death)
    outcome = of("referral.outcome")[0]
    assert outcome.is_open and outcome.priority == Alert.Priority.URGENT


def test_the_death_report_alert_outlives_the_closing_of_its_case(personas):
    case = open_case(personas)
    hr.case_record_death(case=case, by=personas.users.obstetrician_a, at=case.opened_at, note="产后大出血")
    assert of("highrisk.opened")[0].closed_reason == R.WOMAN_DIED
    death = of("highrisk.death")
    assert {a.recipient for a in death} >= {personas.users.mch_a} and all(a.is_open for a in death)


def test_the_inbox_filter_names_the_kinds_in_chinese(client, personas, staff):
    refer(personas)
    client.force_login(staff.city1)
    body = client.get(reverse("alerts:index")).content.decode()
    assert re.search(r'<option value="referral.requested"\s*>转诊申请：待应答</option>', body)
    assert ">referral.requested<" not in body
