"""A county's year (2025, China time) with a few records of each system, counted by hand.

County A (闽侯县 350121), at 闽侯县医院 (hospital A, which hosts county A's rescue centre):
  screenings: three in 2025 (two positive, at the primary-care centre), one in 2024 (another year); one at hospital B (county B);
  first assessments: green, orange and red; a voided red one and a re-assessment do not count;
  screen-positive referral: one assessed by its deadline, one never assessed (overdue at the year's end);
  high-risk cases: an orange one reported in time, a red one never reported (late);
  deliveries: two, neither systematically managed (target ≥ 95 %: not met);
  referrals to county A's centre: answered in 5 minutes and in 15 (deadline 10): 50 % in time, target ≥ 90 %;
  a maternal death reported in 30 hours against a 24-hour clock, with an improvement measure due 2025-06-30
  still open;
  an interview of the county bureau held, and a circular of commendation published.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest

from cases.models import (
    AssessmentReferral,
    Circular,
    DeathReport,
    HighRiskCase,
    ImprovementMeasure,
    Interview,
    Referral,
    Screening,
)
from indicators.models import Indicator, IndicatorTarget
from tests.indicators import factories as f

D = dt.date
YEAR = 2025


def screen(p, *, institution, by, when, positive):  # type: ignore[no-untyped-def]
    return Screening.objects.create(pregnancy=p, institution=institution, screened_by=by, screened_at=when,
                                    positive=positive, answers={}, positive_items=["1.1"] if positive else [])


def target(province, code, comparison, value):  # type: ignore[no-untyped-def]
    return IndicatorTarget.objects.create(province=province, indicator=Indicator.objects.get(code=code),
                                          comparison=comparison, value=Decimal(value), source_note="测试方案")


@pytest.fixture
def seeded(personas):  # type: ignore[no-untyped-def]
    r, i, u = personas.regions, personas.inst, personas.users
    doc = u.obstetrician_a
    a, hosp_a = r.county_a, i.hospital_a

    p1 = f.pregnancy(region=a, booked_at=hosp_a, lmp=D(2025, 1, 1), booking_day=120)
    p2 = f.pregnancy(region=a, booked_at=hosp_a, lmp=D(2025, 1, 10), booking_day=50)
    p3 = f.pregnancy(region=a, booked_at=hosp_a, lmp=D(2025, 2, 1), booking_day=60)
    p_b = f.pregnancy(region=r.county_b, booked_at=i.hospital_b, lmp=D(2025, 2, 1))

    screen(p1, institution=hosp_a, by=doc, when=f.at(D(2025, 5, 1)), positive=False)
    positive2 = screen(p2, institution=i.primary_a, by=u.primary_a, when=f.at(D(2025, 3, 1)), positive=True)
    positive3 = screen(p3, institution=i.primary_a, by=u.primary_a, when=f.at(D(2025, 4, 2)), positive=True)
    screen(p3, institution=hosp_a, by=doc, when=f.at(D(2024, 12, 31), 23, 30), positive=True)
    screen(p_b, institution=i.hospital_b, by=u.obstetrician_b, when=f.at(D(2025, 4, 2)), positive=True)

    f.assess(p1, colour="green", when=f.at(D(2025, 5, 1)), by=doc, institution=hosp_a)
    orange = f.assess(p2, colour="orange", when=f.at(D(2025, 3, 2)), by=doc, institution=hosp_a)
    f.assess(p3, colour="red", when=f.at(D(2025, 4, 3)), by=doc, institution=hosp_a)
    f.assess(p1, colour="red", when=f.at(D(2025, 5, 2)), by=doc, institution=hosp_a, voided=True)

    AssessmentReferral.objects.create(pregnancy=p2, screening=positive2, from_institution=i.primary_a, to_institution=hosp_a,
                                      created_at=f.at(D(2025, 3, 1)), due_at=f.at(D(2025, 3, 15)),
                                      status=AssessmentReferral.Status.ASSESSED, assessment=orange)
    AssessmentReferral.objects.create(pregnancy=p3, screening=positive3, from_institution=i.primary_a, to_institution=hosp_a,
                                      created_at=f.at(D(2025, 4, 2)), due_at=f.at(D(2025, 4, 16)))

    HighRiskCase.objects.create(pregnancy=p2, institution=hosp_a, responsible_doctor=doc, region=a, colour="orange",
                                opened_at=f.at(D(2025, 3, 2)), opened_by=doc, report_due_at=f.at(D(2025, 3, 5)),
                                reported_at=f.at(D(2025, 3, 3)), state=HighRiskCase.State.MANAGING)
    HighRiskCase.objects.create(pregnancy=p3, institution=hosp_a, responsible_doctor=doc, region=a, colour="red",
                                opened_at=f.at(D(2025, 4, 3)), opened_by=doc, report_due_at=f.at(D(2025, 4, 4)))

    f.deliver(p1, on=D(2025, 10, 1), institution=hosp_a)
    f.deliver(p2, on=D(2025, 10, 12), institution=hosp_a)

    centre_a = personas.centres.a
    f.refer(p2, centre=centre_a, by=doc, requested=f.at(D(2025, 6, 1)), answered_after=5,
            state=Referral.State.ACCEPTED)
    f.refer(p3, centre=centre_a, by=doc, requested=f.at(D(2025, 7, 1)), answered_after=15,
            state=Referral.State.ACCEPTED)

    died = f.pregnancy(region=a, booked_at=hosp_a, lmp=D(2025, 1, 1))
    death = f.death(died, died=f.at(D(2025, 6, 1)), reported=f.at(D(2025, 6, 2), 16), by=doc, institution=hosp_a,
                    state=DeathReport.State.REVIEW_COUNTY)
    ImprovementMeasure.objects.create(report=death, text="加强产后出血演练", owner_institution=hosp_a,
                                      due_on=D(2025, 6, 30), set_at=f.at(D(2025, 6, 10)), set_by=u.mch_a)

    Interview.objects.create(bureau=i.bureau_a, region=a, origin=Interview.Origin.OFFICER, subject="转诊应答超时",
                             reasons="转诊应答超时", state=Interview.State.HELD, proposed_by=u.bureau_a,
                             notified_at=f.at(D(2025, 8, 1)), held_at=f.at(D(2025, 8, 10)), number="闽侯卫约〔2025〕1号")
    Circular.objects.create(kind=Circular.Kind.COMMEND, title="表扬通报", number="闽侯卫通〔2025〕1号", body="表扬",
                            issuer=i.bureau_a, region=a, state=Circular.State.PUBLISHED, drafted_by=u.bureau_a,
                            drafted_at=f.at(D(2025, 9, 1)), published_at=f.at(D(2025, 9, 2)))

    target(r.fujian, "system_management_rate", IndicatorTarget.Comparison.AT_LEAST, "95")
    target(r.fujian, "referral_answer_in_time_rate", IndicatorTarget.Comparison.AT_LEAST, "90")
    return SimpleNamespace(personas=personas, p1=p1, hospital_a=hosp_a)
