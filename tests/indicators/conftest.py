"""The hand-made data set every formula is checked on (2025, China time).

County A (闽侯县 350121) residents:
  D1 twins at hospital A: booked on day 90 (early), 5 antenatal visits (the last on the delivery day), a
     postpartum visit on day 28: systematically managed.
  D2 a stillbirth (no live birth) by caesarean at hospital A: booked on day 91 (not early), 1 antenatal visit,
     a postpartum visit on day 29 (does not count).
  D3 at home: booked on day 100 by the LMP but day 80 by the ultrasound EDD (early), 4 antenatal visits before
     the delivery and 1 after, a postpartum visit on the delivery day.
  D4 high risk at hospital B (another county's): a valid orange assessment and a case opened before delivery,
     booked early, 6 antenatal visits, a postpartum visit on day 3, caesarean; a near miss.
  D5 at hospital A: a voided red assessment, a valid yellow one, a red one after the delivery: not high risk.
  Outside the period: a delivery on 2024-12-31 and one on 2026-01-01.
  Deaths: one under county review (reported in 10 h), one reviewed and concluded avoidable (reported in 30 h),
  one excluded as not maternal (an accident), one still a draft past its report deadline.
County A2 (鼓楼区 350102): D7 at 23:30 on 2025-12-31, red before delivery, the case opened after it.
County B (同安区 350212): D8 at 00:10 on 2025-01-01, at hospital B.
Service: five referrals to county A's centre (answered in 5, 15 and 7 minutes, one never, one cancelled
before its deadline), one to county B's (2 minutes); emergency caesareans at hospital A in 25 and 40 minutes,
at hospital B in 20.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from cases.models import DeathReport, Delivery, Referral, Visit
from tests.indicators import factories as f

D = dt.date
ANTENATAL, POSTPARTUM = Visit.Kind.ANTENATAL, Visit.Kind.POSTPARTUM
CAESAREAN = Delivery.Mode.CAESAREAN
NOW = f.at(D(2026, 6, 1))


def _days(start: dt.date, *offsets: int) -> list[dt.date]:
    return [start + dt.timedelta(days=o) for o in offsets]


@pytest.fixture
def dataset(personas):  # type: ignore[no-untyped-def]
    r, i, u = personas.regions, personas.inst, personas.users
    doc = u.obstetrician_a
    a, a2, b = r.county_a, r.county_a2, r.county_b
    hosp_a, hosp_a2, hosp_b = i.hospital_a, i.hospital_a2, i.hospital_b

    p1 = f.pregnancy(region=a, booked_at=hosp_a, lmp=D(2025, 1, 1), booking_day=90)
    d1 = f.deliver(p1, on=D(2025, 10, 1), institution=hosp_a, live=2)
    f.visits(p1, kind=ANTENATAL, days=[*_days(D(2025, 4, 1), 0, 30, 60, 90), D(2025, 10, 1)], institution=hosp_a)
    f.visits(p1, kind=POSTPARTUM, days=[D(2025, 10, 29)], institution=i.primary_a)

    p2 = f.pregnancy(region=a, booked_at=hosp_a, lmp=D(2025, 1, 5), booking_day=91)
    f.deliver(p2, on=D(2025, 10, 5), institution=hosp_a, live=0, still=1, mode=CAESAREAN)
    f.visits(p2, kind=ANTENATAL, days=[D(2025, 6, 1)], institution=hosp_a)
    f.visits(p2, kind=POSTPARTUM, days=[D(2025, 11, 3)], institution=i.primary_a)

    lmp3 = D(2025, 2, 1)
    p3 = f.pregnancy(region=a, booked_at=i.primary_a, lmp=lmp3, booking_day=100,
                     edd_ultrasound=lmp3 + dt.timedelta(days=280 + 20))
    f.deliver(p3, on=D(2025, 11, 8), institution=None)
    f.visits(p3, kind=ANTENATAL, days=[*_days(D(2025, 5, 20), 0, 30, 60, 90), D(2025, 11, 9)], institution=i.primary_a)
    f.visits(p3, kind=POSTPARTUM, days=[D(2025, 11, 8)], institution=i.primary_a)

    p4 = f.pregnancy(region=a, booked_at=hosp_a, lmp=D(2025, 1, 10), booking_day=50)
    f.assess(p4, colour="orange", when=f.at(D(2025, 3, 1)), by=doc, institution=hosp_a)
    f.open_case(p4, when=f.at(D(2025, 3, 2)), by=doc, institution=hosp_a)
    f.deliver(p4, on=D(2025, 10, 10), institution=hosp_b, mode=CAESAREAN)
    f.visits(p4, kind=ANTENATAL, days=_days(D(2025, 3, 1), 0, 30, 60, 90, 120, 150), institution=hosp_a)
    f.visits(p4, kind=POSTPARTUM, days=[D(2025, 10, 13)], institution=i.primary_a)
    p4.near_miss_at = f.at(D(2025, 10, 10), 12)
    p4.save()

    p5 = f.pregnancy(region=a, booked_at=hosp_a, lmp=D(2025, 2, 10), booking_day=120)
    f.assess(p5, colour="red", when=f.at(D(2025, 4, 1)), by=doc, institution=hosp_a, voided=True)
    f.assess(p5, colour="yellow", when=f.at(D(2025, 4, 2)), by=doc, institution=hosp_a)
    f.deliver(p5, on=D(2025, 11, 1), institution=hosp_a)
    f.assess(p5, colour="red", when=f.at(D(2025, 11, 2)), by=doc, institution=hosp_a)

    for lmp, day in ((D(2024, 3, 1), D(2024, 12, 31)), (D(2025, 4, 1), D(2026, 1, 1))):
        f.deliver(f.pregnancy(region=a, booked_at=hosp_a, lmp=lmp), on=day, institution=hosp_a)

    died = f.pregnancy(region=a, booked_at=hosp_a, lmp=D(2025, 1, 1))
    f.death(died, died=f.at(D(2025, 6, 1)), reported=f.at(D(2025, 6, 1), 20), by=doc, institution=hosp_a,
            state=DeathReport.State.REVIEW_COUNTY)
    reviewed = f.pregnancy(region=a, booked_at=hosp_a, lmp=D(2025, 2, 1))
    f.death(reviewed, died=f.at(D(2025, 9, 1)), reported=f.at(D(2025, 9, 2), 16), by=doc, institution=hosp_a,
            state=DeathReport.State.REVIEWED, avoidability="avoidable")
    accident = f.pregnancy(region=a, booked_at=hosp_a, lmp=D(2025, 3, 1))
    f.death(accident, died=f.at(D(2025, 7, 1)), reported=f.at(D(2025, 7, 1), 12), by=doc, institution=hosp_a,
            state=DeathReport.State.EXCLUDED)
    draft = f.pregnancy(region=a, booked_at=hosp_a, lmp=D(2025, 3, 1))
    f.death(draft, died=f.at(D(2025, 8, 1)), by=doc, institution=hosp_a, state=DeathReport.State.DRAFTED)

    p7 = f.pregnancy(region=a2, booked_at=hosp_a2, lmp=D(2025, 3, 1), booking_day=70)
    f.assess(p7, colour="red", when=f.at(D(2025, 5, 1)), by=doc, institution=hosp_a2)
    f.deliver(p7, on=D(2025, 12, 31), hour=23, institution=hosp_a2)
    f.open_case(p7, when=f.at(D(2026, 1, 1), 1), by=doc, institution=hosp_a2)

    p8 = f.pregnancy(region=b, booked_at=hosp_b, lmp=D(2024, 4, 1))
    f.deliver(p8, on=D(2025, 1, 1), hour=0, institution=hosp_b)

    centre_a, centre_b = personas.centres.a, personas.centres.b
    day = D(2025, 5, 1)
    r1 = f.refer(p1, centre=centre_a, by=doc, requested=f.at(day), answered_after=5, state=Referral.State.CLOSED,
                 outcome_at=f.at(D(2025, 5, 2)), feedback_due=f.at(D(2025, 5, 9)), feedback_at=f.at(D(2025, 5, 8)))
    r2 = f.refer(p2, centre=centre_a, by=doc, requested=f.at(D(2025, 5, 2)), answered_after=15,
                 state=Referral.State.CLOSED, outcome_at=f.at(D(2025, 5, 3)), feedback_due=f.at(D(2025, 5, 10)),
                 feedback_at=f.at(D(2025, 5, 12)))
    f.refer(p3, centre=centre_a, by=doc, requested=f.at(D(2025, 5, 3)))
    f.refer(p5, centre=centre_a, by=doc, requested=f.at(D(2025, 5, 4)), state=Referral.State.CANCELLED,
            closed_at=f.at(D(2025, 5, 4), 10, 3))
    r5 = f.refer(p5, centre=centre_a, by=doc, requested=f.at(D(2025, 5, 5)), answered_after=7,
                 state=Referral.State.OUTCOME, outcome_at=f.at(D(2025, 5, 6)), feedback_due=f.at(D(2025, 5, 13)))
    f.refer(p8, centre=centre_b, by=u.obstetrician_b, requested=f.at(D(2025, 5, 6)), answered_after=2,
            state=Referral.State.ACCEPTED)

    f.caesarean(p2, institution=hosp_a, by=doc, decided=f.at(D(2025, 10, 5)), minutes=25)
    f.caesarean(p4, institution=hosp_a, by=doc, decided=f.at(D(2025, 10, 9)), minutes=40)
    f.caesarean(p8, institution=hosp_b, by=u.obstetrician_b, decided=f.at(D(2025, 1, 1)), minutes=20)
    return SimpleNamespace(personas=personas, d1=d1, r1=r1, r2=r2, r5=r5)
