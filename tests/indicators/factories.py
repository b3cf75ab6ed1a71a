"""Small factories for the indicators' hand-made data sets: records made directly with the ORM (the routine
services are another helper's), each with only what the measures read."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from zoneinfo import ZoneInfo

from cases.models import (
    Assessment,
    Baby,
    DeathReport,
    Delivery,
    EmergencyCaesarean,
    HighRiskCase,
    Pregnancy,
    Referral,
    RuleSet,
    Visit,
)
from organisations.models import Institution, Region
from tests.personas import PregnancyFactory, WomanFactory

CHINA = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A China-time instant on ``day``."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHINA)


def pregnancy(*, region: Region, booked_at: Institution, lmp: dt.date, booking_day: int = 60,
              edd_ultrasound: dt.date | None = None) -> Pregnancy:
    """A woman living in ``region`` with a pregnancy booked ``booking_day`` days after her LMP."""
    woman = WomanFactory(residence_region=region, registered_by=booked_at)
    return PregnancyFactory(woman=woman, booking_institution=booked_at, lmp=lmp,
                            booking_date=lmp + dt.timedelta(days=booking_day), edd_ultrasound=edd_ultrasound)


def deliver(p: Pregnancy, *, on: dt.date, institution: Institution | None, live: int = 1, still: int = 0,
            mode: str = Delivery.Mode.SPONTANEOUS, hour: int = 10, babies: bool = True) -> Delivery:
    place = Delivery.Place.INSTITUTION if institution is not None else Delivery.Place.HOME
    delivery = Delivery.objects.create(
        pregnancy=p, delivered_at=at(on, hour), delivered_on=on, place=place, institution=institution, mode=mode,
        live_births=live, stillbirths=still)
    if babies:
        outcomes = [Baby.Outcome.LIVE] * live + [Baby.Outcome.STILLBORN] * still
        for order, outcome in enumerate(outcomes, start=1):
            Baby.objects.create(delivery=delivery, order=order, outcome=outcome, sex=Baby.Sex.FEMALE)
    return delivery


def visits(p: Pregnancy, *, kind: str, days: list[dt.date], institution: Institution) -> None:
    for day in days:
        Visit.objects.create(pregnancy=p, kind=kind, date=day, institution=institution)


def assess(p: Pregnancy, *, colour: str, when: dt.datetime, by: Any, institution: Institution, purple: bool = False,
           voided: bool = False) -> Assessment:
    assessment = Assessment.objects.create(
        pregnancy=p, stage=Assessment.Stage.FIRST, assessed_at=when, assessor=by, institution=institution,
        ruleset=RuleSet.objects.order_by("effective_from").first(), computed_colour=colour, colour=colour,
        purple=purple, status=Assessment.Status.VOIDED if voided else Assessment.Status.VALID)
    return assessment


def open_case(p: Pregnancy, *, when: dt.datetime, by: Any, institution: Institution) -> HighRiskCase:
    return HighRiskCase.objects.create(pregnancy=p, institution=institution, responsible_doctor=by,
                                       region=institution.region, colour="orange", opened_at=when, opened_by=by)


def death(p: Pregnancy, *, died: dt.datetime, by: Any, institution: Institution, state: str,
          reported: dt.datetime | None = None, report_hours: int = 24, avoidability: str = "") -> DeathReport:
    return DeathReport.objects.create(
        woman=p.woman, pregnancy=p, origin=DeathReport.Origin.MANUAL, reporting_institution=institution,
        region=p.woman.residence_region, created_by=by, state=state, review_number=f"T-{next(_numbers)}",
        died_at=died, report_due_at=died + dt.timedelta(hours=report_hours), reported_at=reported,
        final_avoidability=avoidability)


def refer(p: Pregnancy, *, centre: Any, by: Any, requested: dt.datetime, due_minutes: int = 10,
          answered_after: int | None = None, state: str = Referral.State.REQUESTED,
          outcome_at: dt.datetime | None = None, feedback_due: dt.datetime | None = None,
          feedback_at: dt.datetime | None = None, closed_at: dt.datetime | None = None) -> Referral:
    return Referral.objects.create(
        pregnancy=p, from_institution=p.booking_institution, requested_by=by, requested_at=requested,
        to_centre=centre, urgency="emergency", reason="产后出血", diagnosis="产后出血",
        response_due_at=requested + dt.timedelta(minutes=due_minutes), state=state,
        answered_at=None if answered_after is None else requested + dt.timedelta(minutes=answered_after),
        outcome_at=outcome_at, feedback_due_at=feedback_due, feedback_at=feedback_at, closed_at=closed_at)


def caesarean(p: Pregnancy, *, institution: Institution, by: Any, decided: dt.datetime, minutes: int,
              target: int = 30) -> EmergencyCaesarean:
    return EmergencyCaesarean.objects.create(
        pregnancy=p, institution=institution, decision_at=decided, delivery_at=decided + dt.timedelta(minutes=minutes),
        ddi_minutes=minutes, target_minutes=target, over_target=minutes > target, recorded_by=by, recorded_at=decided)
