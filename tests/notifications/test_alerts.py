"""Alerts: raised in the transaction, pushed after commit, acknowledged once for all, escalated by the sweep."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction
from django.utils.translation import gettext_noop, override

from notifications.models import Alert, AlertPolicy
from notifications.recipients import to_duty, to_role, to_step, to_user
from notifications.services import alert_acknowledge, alert_raise, alerts_mark
from organisations.http import ActionDenied
from organisations.models import DutyShift, Membership, Role
from tests.notifications.helpers import move_deadlines_into_past, put_on_roster
from tests.personas import UserFactory
from workflows.deadlines import deadlines_sweep
from workflows.models import Deadline
from workflows.sweep import sweep_once

TITLE = gettext_noop("Nobody is on duty at %(institution)s")


def raise_simple(personas, **kwargs):  # type: ignore[no-untyped-def]
    defaults = {"kind": "test.note", "title": TITLE, "params": {"institution": "闽侯县医院"},
                "to": [to_user(personas.users.obstetrician_a)]}
    return alert_raise(**{**defaults, **kwargs})


def test_alert_is_written_in_the_transaction_and_pushed_after_commit(personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        alerts = raise_simple(personas)
    assert len(alerts) == 1 and Alert.objects.count() == 1
    assert len(callbacks) == 1  # the push waits for the commit
    alert = alerts[0]
    assert alert.history.latest().history_change_reason == "test.note"
    with override("zh-hans"):
        assert alert.title_text == "闽侯县医院无人值班"
    with override("en"):
        assert alert.title_text == "Nobody is on duty at 闽侯县医院"


def test_no_alert_survives_a_rolled_back_transition(personas):
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        raise_simple(personas)
        raise Boom
    assert not Alert.objects.exists()


def test_role_alert_reaches_each_member_and_first_ack_closes_it_for_all(personas):
    second = UserFactory(username="obstetrician_a2")
    Membership.objects.create(user=second, institution=personas.inst.hospital_a, role=Role.OBSTETRICIAN)
    alerts = alert_raise(kind="test.role", title=TITLE, to=[to_role(personas.inst.hospital_a, Role.OBSTETRICIAN)])
    assert {a.recipient for a in alerts} == {personas.users.obstetrician_a, second}
    assert len({a.group for a in alerts}) == 1

    acked = alert_acknowledge(alert_id=alerts[1].pk, by=second)
    assert acked.acknowledged_by == second
    for alert in Alert.objects.all():
        assert alert.acknowledged_by == second and alert.acknowledged_at is not None
    row = Alert.objects.get(pk=alerts[0].pk).history.latest()
    assert (row.history_user, row.history_change_reason) == (second, "acknowledged")
    # Acknowledging again is harmless and still names the first person.
    assert alert_acknowledge(alert_id=alerts[0].pk, by=personas.users.obstetrician_a).acknowledged_by == second


def test_nobody_may_acknowledge_an_alert_of_someone_else(personas):
    alert = raise_simple(personas)[0]
    with pytest.raises(ActionDenied):
        alert_acknowledge(alert_id=alert.pk, by=personas.users.obstetrician_b)
    with pytest.raises(ActionDenied):
        alert_acknowledge(alert_id="not-a-uuid", by=personas.users.obstetrician_b)
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is None


def test_duty_alert_goes_to_whoever_is_on_duty_now(personas):
    colleague = UserFactory(username="duty_a_night")
    Membership.objects.create(user=colleague, institution=personas.inst.hospital_a, role=Role.DUTY_DOCTOR)
    put_on_roster(colleague, personas.inst.hospital_a)
    alerts = alert_raise(kind="test.duty", title=TITLE, to=[to_duty(personas.inst.hospital_a)])
    assert [a.recipient for a in alerts] == [colleague]
    assert not Alert.objects.filter(kind="roster.gap").exists()


def test_nobody_on_duty_reaches_the_deputy_and_alerts_the_mch_officer(personas):
    deputy = UserFactory(username="deputy_a")
    Membership.objects.create(user=deputy, institution=personas.inst.hospital_a, role=Role.DUTY_DOCTOR)
    put_on_roster(deputy, personas.inst.hospital_a, kind=DutyShift.Kind.ON_CALL)
    alerts = alert_raise(kind="test.duty", title=TITLE, to=[to_duty(personas.inst.hospital_a)])
    assert [a.recipient for a in alerts] == [deputy]
    gap = Alert.objects.get(kind="roster.gap")
    assert gap.recipient == personas.users.mch_a and gap.priority == Alert.Priority.CRITICAL


def test_empty_roster_falls_back_to_every_duty_doctor(personas):
    alerts = alert_raise(kind="test.duty", title=TITLE, to=[to_duty(personas.inst.hospital_a)])
    assert [a.recipient for a in alerts] == [personas.users.duty_a]


def test_roster_gap_check_reports_each_uncovered_centre_once(personas):
    put_on_roster(personas.users.duty_a, personas.inst.hospital_a)
    sweep_once()
    sweep_once()
    gaps = Alert.objects.filter(kind="roster.gap")
    assert {a.institution for a in gaps} == {personas.inst.hospital_b, personas.inst.mch_city,
                                             personas.inst.mch_province}
    assert gaps.filter(institution=personas.inst.hospital_b).count() == 1


def test_unacknowledged_critical_alert_escalates_through_the_chain(personas, caplog,
                                                                  django_capture_on_commit_callbacks):
    deputy = UserFactory(username="deputy_a", phone="13912345678")
    Membership.objects.create(user=deputy, institution=personas.inst.hospital_a, role=Role.DUTY_DOCTOR)
    put_on_roster(personas.users.duty_a, personas.inst.hospital_a)
    put_on_roster(deputy, personas.inst.hospital_a, kind=DutyShift.Kind.ON_CALL)
    first = alert_raise(kind="test.critical", title=TITLE, priority=Alert.Priority.CRITICAL,
                        to=[to_duty(personas.inst.hospital_a)])[0]
    deadline = Deadline.objects.get(kind="alert.escalate")
    assert (deadline.due_at - first.created_at).total_seconds() == pytest.approx(300, abs=1)

    assert deadlines_sweep() == 0  # not due yet
    move_deadlines_into_past(Deadline.objects.filter(state="pending"))
    assert deadlines_sweep() == 1
    deadline.refresh_from_db()
    assert deadline.state == "fired" and deadline.history.latest().history_change_reason == "deadline fired"
    assert Alert.objects.get(pk=first.pk).escalated_at is not None
    step1 = Alert.objects.get(escalation_level=1)
    assert step1.recipient == deputy and step1.chain == first.chain

    move_deadlines_into_past(Deadline.objects.filter(state="pending"))
    with caplog.at_level(logging.INFO, logger="notifications.sms"), \
            django_capture_on_commit_callbacks(execute=True):
        assert deadlines_sweep() == 1
    step2 = Alert.objects.get(escalation_level=2)
    assert step2.recipient == personas.users.mch_a
    # The deputy did not answer an escalated alert either: a text message, with the number masked.
    assert Alert.objects.get(pk=step1.pk).sms_sent_at is not None
    assert "139****5678" in caplog.text and "13912345678" not in caplog.text

    alert_acknowledge(alert_id=step2.pk, by=personas.users.mch_a)
    assert not Deadline.objects.filter(state="pending").exists()
    assert Deadline.objects.filter(state="cancelled").count() == 1
    assert Alert.objects.filter(acknowledged_at__isnull=True).count() == 0


def test_acknowledged_in_time_means_no_escalation(personas):
    put_on_roster(personas.users.duty_a, personas.inst.hospital_a)
    alert = alert_raise(kind="test.critical", title=TITLE, priority=Alert.Priority.CRITICAL,
                        to=[to_duty(personas.inst.hospital_a)])[0]
    alert_acknowledge(alert_id=alert.pk, by=personas.users.duty_a)
    move_deadlines_into_past(Deadline.objects.all())
    assert deadlines_sweep() == 0
    assert Alert.objects.count() == 1


def test_province_policy_overrides_the_national_one(personas):
    AlertPolicy.objects.create(province=personas.regions.fujian, kind="test.critical", ack_minutes=2,
                               chain=["bureau_officer"])
    put_on_roster(personas.users.duty_a, personas.inst.hospital_a)
    alert_raise(kind="test.critical", title=TITLE, priority=Alert.Priority.CRITICAL,
                to=[to_duty(personas.inst.hospital_a)])
    deadline = Deadline.objects.get()
    assert (deadline.due_at - deadline.created_at).total_seconds() == pytest.approx(120, abs=2)
    move_deadlines_into_past(Deadline.objects.all())
    deadlines_sweep()
    assert Alert.objects.get(escalation_level=1).recipient == personas.users.bureau_a


def test_receipts_and_reads_only_touch_own_alerts(personas):
    mine = raise_simple(personas)[0]
    other = raise_simple(personas, to=[to_user(personas.users.obstetrician_b)])[0]
    assert alerts_mark(user=personas.users.obstetrician_a, ids=[mine.pk, other.pk, "junk"], field="delivered_at") == 1
    assert Alert.objects.get(pk=other.pk).delivered_at is None


def test_alert_with_nobody_to_receive_goes_to_the_mch_officer(personas):
    alerts = alert_raise(kind="test.step", title=TITLE, to=[to_step("on_call", personas.inst.hospital_a)])
    assert [a.recipient for a in alerts] == [personas.users.mch_a]
