"""Interviews proposed by Anmu from a province's trigger rules: one of each kind, the evidence carried, once per
rule, party and period; the daily evaluation is a deadline row the sweep keeps standing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.models import ImprovementMeasure, Interview, InterviewTrigger, Referral
from tests.notifications.helpers import move_deadlines_into_past
from tests.workflows.death.helpers import CONCLUSION, died_on_case, investigated, reviewers
from tests.workflows.interview.helpers import alerts
from tests.workflows.referral.helpers import refer, rescue_staff
from workflows.deadlines import deadlines_sweep
from workflows.death import services as ds
from workflows.interview import services as svc
from workflows.models import Deadline

pytestmark = pytest.mark.django_db
K = InterviewTrigger.Kind


def rule(personas, kind, *, convener="county", threshold=1):  # type: ignore[no-untyped-def]
    return InterviewTrigger.objects.create(province=personas.regions.fujian, kind=kind, threshold=threshold,
                                           period_days=90, convener=convener, summoned=["head", "mch_head"])


def test_an_avoidable_death_proposes_an_interview_of_its_hospital_once(personas):
    rule(personas, K.AVOIDABLE_DEATH)
    report = investigated(personas)
    assert svc.interview_triggers_evaluate() == []  # not concluded yet
    ds.death_report_conclude(report=report, by=reviewers(personas).county, **CONCLUSION)
    [interview] = svc.interview_triggers_evaluate()
    assert interview.origin == Interview.Origin.RULE and interview.state == Interview.State.PROPOSED
    assert interview.bureau == personas.inst.bureau_a and interview.proposed_by is None
    assert [p.institution for p in interview.parties.all()] == [personas.inst.hospital_a]
    assert interview.parties.get().summoned == ["head", "mch_head"]
    report.refresh_from_db()
    assert [e["label"] for e in interview.evidence] == [report.review_number]
    assert report.woman.name not in str(interview.evidence) + interview.subject + interview.reasons
    assert alerts("interview.proposed") == {"bureau_a"}
    assert svc.interview_triggers_evaluate() == []  # once per rule, party and period


def test_a_threshold_not_reached_proposes_nothing_and_an_inactive_rule_is_ignored(personas):
    rule(personas, K.LATE_DEATH_REPORT, threshold=2)
    died_on_case(personas, hours_ago=30)  # its 24-hour report clock has passed
    assert svc.interview_triggers_evaluate() == []
    InterviewTrigger.objects.update(threshold=1, is_active=False)
    assert svc.interview_triggers_evaluate() == []
    InterviewTrigger.objects.update(is_active=True)
    [interview] = svc.interview_triggers_evaluate()
    assert interview.parties.get().institution == personas.inst.hospital_a


def test_late_referral_answers_summon_the_centre_before_its_city_bureau(personas):
    rescue_staff(personas)
    rule(personas, K.LATE_REFERRAL_ANSWERS, convener="city")
    referral = refer(personas)
    Referral.objects.filter(pk=referral.pk).update(response_due_at=timezone.now() - dt.timedelta(minutes=20))
    [interview] = svc.interview_triggers_evaluate()
    assert interview.bureau == personas.inst.bureau_city
    assert interview.parties.get().institution == personas.inst.mch_city
    assert interview.evidence[0]["kind"] == "referral" and "+20 min" in interview.evidence[0]["label"]


def test_overdue_improvement_measures_summon_their_owner(personas):
    rule(personas, K.OVERDUE_MEASURES)
    report = investigated(personas)
    measure = ds.death_measure_set(report=report, by=personas.users.mch_a, text="建立输血绿色通道",
                                   owner_institution=personas.inst.hospital_a, due_on=timezone.localdate())
    assert svc.interview_triggers_evaluate() == []  # due today: not overdue yet
    ImprovementMeasure.objects.filter(pk=measure.pk).update(due_on=timezone.localdate() - dt.timedelta(days=3))
    [interview] = svc.interview_triggers_evaluate()
    assert interview.evidence[0]["kind"] == "measure" and interview.parties.get().institution == measure.owner_institution


def test_the_sweep_keeps_one_nightly_evaluation_standing(personas):
    assert svc.interview_triggers_ensure() is True and svc.interview_triggers_ensure() is False
    row = Deadline.objects.get(kind=svc.TRIGGERS_DUE, state="pending")
    assert timezone.localtime(row.due_at).hour == 2 and row.due_at > timezone.now()
    rule(personas, K.LATE_DEATH_REPORT)
    died_on_case(personas, hours_ago=30)
    move_deadlines_into_past(Deadline.objects.filter(pk=row.pk))
    deadlines_sweep()
    assert Interview.objects.filter(origin=Interview.Origin.RULE).count() == 1
    assert Deadline.objects.filter(kind=svc.TRIGGERS_DUE, state="pending").count() == 1  # the next night's


# --- An indicator past its province target (issue 15's figures) ---------------------------------------------

def _indicator_world(personas):  # type: ignore[no-untyped-def]
    """County A: 4 deliveries, 1 of them systematically managed (25 %); county A2: 1 of 1 (100 %)."""
    from decimal import Decimal

    from cases.models import Visit
    from indicators.models import Indicator, IndicatorTarget
    from tests.indicators import factories as f

    today = timezone.localdate()
    regions, inst = personas.regions, personas.inst
    IndicatorTarget.objects.create(province=regions.fujian, indicator=Indicator.objects.get(
        code="system_management_rate"), comparison="gte", value=Decimal("95"), source_note="省级目标")

    def delivery(region, institution, *, managed):  # type: ignore[no-untyped-def]
        lmp = today - dt.timedelta(days=290)
        p = f.pregnancy(region=region, booked_at=institution, lmp=lmp, booking_day=60 if managed else 100)
        visits = [lmp + dt.timedelta(days=d) for d in (70, 120, 170, 220, 260)]
        f.visits(p, kind=Visit.Kind.ANTENATAL, days=visits if managed else visits[:2], institution=institution)
        f.deliver(p, on=today - dt.timedelta(days=10), institution=institution)
        if managed:
            f.visits(p, kind=Visit.Kind.POSTPARTUM, days=[today - dt.timedelta(days=5)], institution=institution)

    for managed in (True, False, False, False):
        delivery(regions.county_a, inst.hospital_a, managed=managed)
    delivery(regions.county_a2, inst.hospital_a2, managed=True)


def test_an_indicator_past_its_target_summons_the_county_bureau_once(personas):
    _indicator_world(personas)
    InterviewTrigger.objects.create(province=personas.regions.fujian, kind=K.INDICATOR_OFF_TARGET,
                                    indicator="system_management_rate", threshold=3, period_days=90,
                                    party=InterviewTrigger.Party.COUNTY_BUREAU, convener="city", summoned=["head"])
    [interview] = svc.interview_triggers_evaluate()
    assert interview.origin == Interview.Origin.RULE and interview.bureau == personas.inst.bureau_city
    assert [p.institution for p in interview.parties.all()] == [personas.inst.bureau_a]
    [evidence] = interview.evidence
    assert evidence["kind"] == "figure" and "25.0 (≥ 95.0) · 1/4" in evidence["label"]
    assert svc.interview_triggers_evaluate() == []  # once per rule, party and period
    # County A2 met the target; with only one delivery it would not have been judged anyway (threshold 3).


def test_a_small_denominator_is_no_evidence(personas):
    _indicator_world(personas)
    InterviewTrigger.objects.create(province=personas.regions.fujian, kind=K.INDICATOR_OFF_TARGET,
                                    indicator="system_management_rate", threshold=5, period_days=90,
                                    party=InterviewTrigger.Party.COUNTY_BUREAU, convener="city")
    assert svc.interview_triggers_evaluate() == []  # county A has 4 live births, below the rule's 5


def test_an_indicator_rule_names_a_known_indicator(personas):
    from django.core.exceptions import ValidationError

    rule = InterviewTrigger(province=personas.regions.fujian, kind=K.INDICATOR_OFF_TARGET, indicator="")
    with pytest.raises(ValidationError) as missing:
        rule.clean()
    assert "indicator" in missing.value.message_dict
    rule.indicator = "no_such_figure"
    with pytest.raises(ValidationError):
        rule.clean()
    rule.indicator = "mmr"
    rule.clean()
    with pytest.raises(ValidationError):
        InterviewTrigger(province=personas.regions.fujian, kind=K.OVERDUE_MEASURES, indicator="mmr").clean()
