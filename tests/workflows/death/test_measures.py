"""Improvement measures (改进措施) tracked to done: set by a reviewing level, done with evidence by the owner
institution, verified or rejected by the bureau over it, cancelled by whoever set it; the due-date clock fired by
the sweep; who sees them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cases.models import DeathReport, ImprovementMeasure
from cases.selectors import visible_death_reports, visible_improvement_measures
from notifications.models import Alert
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Institution, Role
from tests.notifications.helpers import move_deadlines_into_past
from tests.personas import InstitutionFactory
from tests.workflows.death.helpers import CONCLUSION, alerts, investigated, reported, reviewers
from tests.workflows.referral.helpers import member
from workflows.deadlines import deadlines_for, deadlines_sweep
from workflows.death import permissions as p
from workflows.death import services as ds
from workflows.death.selectors import measure_counts_by_institution, measures_by_tab, overdue_measures
from workflows.models import Deadline

pytestmark = pytest.mark.django_db
M = ImprovementMeasure.State
TEXT = "建立产后出血快速输血通道，每季度演练一次"


def in_days(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


def set_measure(personas, report=None, *, by=None, owner=None, days: int = 30) -> ImprovementMeasure:  # type: ignore[no-untyped-def]
    report = report or investigated(personas)
    return ds.death_measure_set(report=report, by=by or personas.users.mch_a, text=TEXT,
                                owner_institution=owner or personas.inst.hospital_a, due_on=in_days(days))


def last_history(measure: ImprovementMeasure):  # type: ignore[no-untyped-def]
    return measure.history.order_by("-history_date", "-history_id").first()


def fire(measure: ImprovementMeasure, stage: str) -> int:
    move_deadlines_into_past(deadlines_for(measure, kind=ds.MEASURE_DUE).filter(payload__stage=stage))
    return deadlines_sweep()


@pytest.fixture
def bureau_b(personas):  # type: ignore[no-untyped-def]
    institution = InstitutionFactory(name="同安区卫生健康局", kind=Institution.Kind.HEALTH_BUREAU, level=None,
                                     region=personas.regions.county_b)
    return member("bureau_b", institution, Role.BUREAU_OFFICER)


# --- Set -------------------------------------------------------------------------------------------

def test_the_county_reviewers_set_a_measure_the_owner_is_told_and_its_clock_starts(personas):
    r = reviewers(personas)
    report = investigated(personas)
    measure = set_measure(personas, report, by=r.county)
    assert measure.state == M.OPEN and measure.level == "county" and measure.set_by == r.county
    assert measure.set_at is not None and measure.conclusion is None
    row = last_history(measure)
    assert row.history_user == r.county and row.history_change_reason == "measure set (county)"
    told = alerts("death.measure_set")
    assert "obstetrician_a" in told and "duty_a" not in told and "mch_a" not in told
    alert = Alert.objects.get(kind="death.measure_set", recipient__username="obstetrician_a")
    assert report.woman.name not in str(alert.params) and measure.reference in str(alert.params)
    assert set(deadlines_for(measure, kind=ds.MEASURE_DUE).values_list("payload__stage", flat=True)) == {
        "warn", "passed"}


def test_a_measure_links_the_conclusion_of_the_level_that_set_it(personas):
    r = reviewers(personas)
    report = investigated(personas)
    ds.death_report_conclude(report=report, by=r.county, **CONCLUSION)  # → city review (city reviews all)
    report = DeathReport.objects.get(pk=report.pk)
    assert report.state == DeathReport.State.REVIEW_CITY
    county = set_measure(personas, report, by=personas.users.mch_a)
    city = set_measure(personas, report, by=r.city)
    assert county.level == "county" and county.conclusion == report.conclusions.get(level="county")
    assert city.level == "city" and city.conclusion is None


@pytest.mark.parametrize("who", ["obstetrician_a", "mch_b", "bureau_a"])
def test_others_may_not_set_a_measure(personas, who):
    report = investigated(personas)
    with pytest.raises(ActionDenied):
        set_measure(personas, report, by=getattr(personas.users, who))
    assert not ImprovementMeasure.objects.exists()


def test_a_level_that_has_not_reviewed_it_may_not_set_a_measure(personas):
    r = reviewers(personas)
    report = investigated(personas)  # awaiting the county review only
    with pytest.raises(ActionDenied):
        set_measure(personas, report, by=r.city)


def test_measures_are_set_only_once_the_death_is_under_review(personas):
    report = reported(personas)
    ds.death_report_verify(report=report, by=personas.users.mch_a)
    report = DeathReport.objects.get(pk=report.pk)
    report.review_levels = ["county"]  # as if it had reached a review, to reach the state check
    report.save()
    with pytest.raises(TransitionConflict):
        set_measure(personas, report)


def test_a_closed_report_takes_no_new_measure(personas):
    r = reviewers(personas)
    report = investigated(personas)
    unavoidable = {**CONCLUSION, "avoidability": "unavoidable"}
    ds.death_report_conclude(report=report, by=r.county, **unavoidable)
    ds.death_report_conclude(report=report, by=r.city, **unavoidable)
    report = DeathReport.objects.get(pk=report.pk)
    assert report.state == DeathReport.State.REVIEWED
    assert p.can_set_measure(r.mch_city, report)
    ds.death_report_close(report=report, by=r.mch_city)
    report = DeathReport.objects.get(pk=report.pk)
    assert not p.can_set_measure(r.mch_city, report)
    with pytest.raises(TransitionConflict):
        set_measure(personas, report, by=r.mch_city)


def test_setting_a_measure_validates_its_fields(personas):
    report = investigated(personas)
    with pytest.raises(ValidationError) as empty:
        ds.death_measure_set(report=report, by=personas.users.mch_a, text="  ", owner_institution=personas.inst.hospital_a,
                             due_on=in_days(10))
    assert "text" in empty.value.message_dict
    with pytest.raises(ValidationError) as past:
        ds.death_measure_set(report=report, by=personas.users.mch_a, text=TEXT,
                             owner_institution=personas.inst.hospital_a, due_on=in_days(-1))
    assert "due_on" in past.value.message_dict
    with pytest.raises(ValidationError) as elsewhere:
        set_measure(personas, report, owner=personas.inst.hospital_gd)
    assert "owner_institution" in elsewhere.value.message_dict
    assert not ImprovementMeasure.objects.exists()


# --- Done, verified, rejected, cancelled -----------------------------------------------------------

def test_the_owner_institution_records_it_done_the_clock_stops_and_the_bureau_is_asked(personas):
    measure = set_measure(personas)
    done = ds.death_measure_mark_done(measure=measure, by=personas.users.duty_a, evidence="已建立输血通道，见演练记录")
    assert done.state == M.DONE and done.done_by == personas.users.duty_a and done.done_at is not None
    assert done.evidence == "已建立输血通道，见演练记录"
    row = last_history(done)
    assert row.history_user == personas.users.duty_a and row.history_change_reason == "done with evidence"
    assert not deadlines_for(measure, kind=ds.MEASURE_DUE).exists()
    assert Deadline.objects.filter(kind=ds.MEASURE_DUE, state=Deadline.State.CANCELLED).count() == 2
    assert not Alert.objects.filter(kind="death.measure_set", acknowledged_at__isnull=True).exists()
    asked = alerts("death.measure_done")
    assert asked == {"bureau_a"}


@pytest.mark.parametrize("who", ["primary_a", "mch_a", "bureau_a"])
def test_only_the_owner_institution_records_it_done(personas, who):
    measure = set_measure(personas)
    with pytest.raises(ActionDenied):
        ds.death_measure_mark_done(measure=measure, by=getattr(personas.users, who), evidence="已完成")
    assert ImprovementMeasure.objects.get(pk=measure.pk).state == M.OPEN


def test_done_needs_evidence_and_happens_once(personas):
    measure = set_measure(personas)
    with pytest.raises(ValidationError) as empty:
        ds.death_measure_mark_done(measure=measure, by=personas.users.obstetrician_a, evidence=" ")
    assert "evidence" in empty.value.message_dict
    ds.death_measure_mark_done(measure=measure, by=personas.users.obstetrician_a, evidence="已完成")
    with pytest.raises(TransitionConflict):
        ds.death_measure_mark_done(measure=measure, by=personas.users.obstetrician_a, evidence="再次")


@pytest.mark.parametrize("who", ["bureau_a", "bureau_city", "bureau_province"])
def test_a_bureau_over_the_institution_verifies(personas, who):
    measure = set_measure(personas)
    ds.death_measure_mark_done(measure=measure, by=personas.users.obstetrician_a, evidence="已完成")
    by = getattr(personas.users, who)
    verified = ds.death_measure_verify(measure=measure, by=by, note="现场核实")
    assert verified.state == M.VERIFIED and verified.verified_by == by and verified.verification_note == "现场核实"
    row = last_history(verified)
    assert row.history_user == by and row.history_change_reason == "verified by the bureau"
    assert not Alert.objects.filter(kind="death.measure_done", acknowledged_at__isnull=True).exists()
    assert {"obstetrician_a", "mch_a"} <= alerts("death.measure_verified")


@pytest.mark.parametrize("who", ["bureau_gd", "mch_a", "obstetrician_a", "bureau_b"])
def test_nobody_else_verifies(personas, bureau_b, who):
    measure = set_measure(personas)
    ds.death_measure_mark_done(measure=measure, by=personas.users.obstetrician_a, evidence="已完成")
    by = bureau_b if who == "bureau_b" else getattr(personas.users, who)
    with pytest.raises(ActionDenied):
        ds.death_measure_verify(measure=measure, by=by)
    with pytest.raises(ActionDenied):
        ds.death_measure_reject(measure=measure, by=by, reason="证据不足")


def test_an_open_measure_cannot_be_verified(personas):
    measure = set_measure(personas)
    with pytest.raises(TransitionConflict):
        ds.death_measure_verify(measure=measure, by=personas.users.bureau_a)


def test_the_bureau_rejects_the_evidence_and_the_measure_is_open_again_with_its_clock(personas):
    measure = set_measure(personas)
    ds.death_measure_mark_done(measure=measure, by=personas.users.obstetrician_a, evidence="已完成")
    with pytest.raises(ValidationError) as empty:
        ds.death_measure_reject(measure=measure, by=personas.users.bureau_a, reason="")
    assert "reason" in empty.value.message_dict
    reopened = ds.death_measure_reject(measure=measure, by=personas.users.bureau_a, reason="缺少演练签到表")
    assert reopened.state == M.OPEN and reopened.rejections == 1 and reopened.done_at is None
    assert reopened.rejection_reason == "缺少演练签到表" and reopened.rejected_by == personas.users.bureau_a
    row = last_history(reopened)
    assert row.history_user == personas.users.bureau_a and row.history_change_reason == "evidence rejected: 缺少演练签到表"
    assert alerts("death.measure_rejected") == {"obstetrician_a"}
    assert not Alert.objects.filter(kind="death.measure_done", acknowledged_at__isnull=True).exists()
    assert deadlines_for(measure, kind=ds.MEASURE_DUE).filter(payload__stage="passed").count() == 1
    # Done again, with better evidence: the rejection alert resolves.
    ds.death_measure_mark_done(measure=measure, by=personas.users.obstetrician_a, evidence="附签到表")
    assert not Alert.objects.filter(kind="death.measure_rejected", acknowledged_at__isnull=True).exists()


def test_whoever_set_it_cancels_it_while_open(personas):
    r = reviewers(personas)
    measure = set_measure(personas, by=r.county)
    with pytest.raises(ActionDenied):
        ds.death_measure_cancel(measure=measure, by=personas.users.obstetrician_a, reason="重复")
    with pytest.raises(ActionDenied):
        ds.death_measure_cancel(measure=measure, by=r.county2, reason="重复")
    with pytest.raises(ValidationError):
        ds.death_measure_cancel(measure=measure, by=r.county, reason="")
    cancelled = ds.death_measure_cancel(measure=measure, by=r.county, reason="与另一措施重复")
    assert cancelled.state == M.CANCELLED and cancelled.cancelled_by == r.county
    assert last_history(cancelled).history_change_reason == "cancelled: 与另一措施重复"
    assert not deadlines_for(measure, kind=ds.MEASURE_DUE).exists()
    assert not Alert.objects.filter(kind="death.measure_set", acknowledged_at__isnull=True).exists()


def test_the_county_mch_officer_cancels_a_county_measure_but_not_once_done(personas):
    r = reviewers(personas)
    measure = set_measure(personas, by=r.county)
    ds.death_measure_mark_done(measure=measure, by=personas.users.obstetrician_a, evidence="已完成")
    with pytest.raises(TransitionConflict):
        ds.death_measure_cancel(measure=measure, by=personas.users.mch_a, reason="不再需要")
    assert p.may_cancel_measure(personas.users.mch_a, measure)


# --- The due-date clock ----------------------------------------------------------------------------

def test_the_sweep_reminds_the_owner_then_alerts_the_owner_and_its_bureau_when_overdue(personas):
    measure = set_measure(personas)
    assert fire(measure, "warn") == 1
    urgent = alerts("death.measure_due", priority=Alert.Priority.URGENT)
    assert urgent == {"obstetrician_a"}
    assert fire(measure, "passed") == 1
    critical = alerts("death.measure_due", priority=Alert.Priority.CRITICAL)
    assert critical == {"obstetrician_a", "bureau_a"}
    ds.death_measure_mark_done(measure=measure, by=personas.users.obstetrician_a, evidence="已完成")
    assert not Alert.objects.filter(kind="death.measure_due", acknowledged_at__isnull=True).exists()


def test_the_sweep_says_nothing_once_it_is_done(personas):
    measure = set_measure(personas)
    rows = list(deadlines_for(measure, kind=ds.MEASURE_DUE))
    ds.death_measure_mark_done(measure=measure, by=personas.users.obstetrician_a, evidence="已完成")
    # Even a row that was somehow left pending fires without an alert for a measure no longer open.
    Deadline.objects.filter(pk=rows[0].pk).update(state=Deadline.State.PENDING)
    move_deadlines_into_past(Deadline.objects.filter(pk=rows[0].pk))
    assert deadlines_sweep() == 1
    assert not Alert.objects.filter(kind="death.measure_due").exists()


def test_a_measure_due_within_the_warning_days_has_no_reminder_row(personas):
    measure = set_measure(personas, days=2)
    assert set(deadlines_for(measure, kind=ds.MEASURE_DUE).values_list("payload__stage", flat=True)) == {"passed"}


def test_overdue_measures_lists_open_measures_past_their_due_date(personas, bureau_b):
    late = set_measure(personas, days=5)
    on_time = set_measure(personas, report=late.report, days=20)
    ImprovementMeasure.objects.filter(pk=late.pk).update(due_on=in_days(-3))
    assert list(overdue_measures()) == [ImprovementMeasure.objects.get(pk=late.pk)]
    assert list(overdue_measures(user=personas.users.bureau_a)) == [ImprovementMeasure.objects.get(pk=late.pk)]
    assert not overdue_measures(user=bureau_b).exists()
    assert not overdue_measures(institution=personas.inst.mch_a).exists()
    assert on_time not in overdue_measures()


# --- Who sees them ---------------------------------------------------------------------------------

def test_measures_are_seen_through_their_report_and_by_the_owner_institution(personas, bureau_b):
    report = investigated(personas)
    own = set_measure(personas, report)
    elsewhere = set_measure(personas, report, owner=personas.inst.hospital_a2)
    gulou = member("obstetrician_gulou", personas.inst.hospital_a2, Role.OBSTETRICIAN)
    assert set(visible_improvement_measures(personas.users.mch_a)) == {own, elsewhere}
    assert set(visible_improvement_measures(personas.users.bureau_a)) == {own, elsewhere}
    assert set(visible_improvement_measures(personas.users.obstetrician_a)) == {own, elsewhere}
    # The Gulou hospital's doctor sees her institution's measure, not the report nor the other measure.
    assert set(visible_improvement_measures(gulou)) == {elsewhere}
    assert not visible_death_reports(gulou).filter(pk=report.pk).exists()
    for outsider in (bureau_b, personas.users.mch_b, personas.users.bureau_gd, personas.users.outsider):
        assert not visible_improvement_measures(outsider).exists()


def test_the_bureau_list_counts_by_institution_in_its_area_only(personas, bureau_b):
    report = investigated(personas)
    set_measure(personas, report)
    done = set_measure(personas, report)
    set_measure(personas, report, owner=personas.inst.mch_a)
    ds.death_measure_mark_done(measure=done, by=personas.users.obstetrician_a, evidence="已完成")
    rows = {row["name"]: row for row in measure_counts_by_institution(user=personas.users.bureau_a)}
    assert rows["闽侯县医院"]["open"] == 1 and rows["闽侯县医院"]["done"] == 1
    assert rows["闽侯县妇幼保健院"]["open"] == 1
    assert measures_by_tab(user=personas.users.bureau_a, tab="done").get() == done
    assert measure_counts_by_institution(user=bureau_b) == []
    mine = measure_counts_by_institution(user=personas.users.obstetrician_a, mine=True)
    assert [row["name"] for row in mine] == ["闽侯县医院"]


def test_the_demo_sets_an_overdue_and_a_done_measure_on_the_closed_death():
    from organisations.demo import seed_organisations
    from workflows.death.demo import seed_deaths
    from workflows.demo import seed_women

    seed_organisations()
    seed_women(40)
    seed_deaths()
    measures = {m.state: m for m in ImprovementMeasure.objects.select_related("report")}
    assert set(measures) == {M.OPEN, M.DONE}
    assert measures[M.OPEN].is_overdue(timezone.localdate())
    assert measures[M.OPEN].report.state == DeathReport.State.CLOSED
    assert measures[M.DONE].evidence and measures[M.DONE].done_by.username == "minhou_obstetrician"
    assert deadlines_sweep() >= 1
    assert Alert.objects.filter(kind="death.measure_due", priority=Alert.Priority.CRITICAL).exists()
