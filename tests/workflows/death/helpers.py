"""Shared set-up for death-report tests: reviewers at each level beside the standing personas, a woman
who dies on her high-risk case, and a report walked through its steps."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from cases.models import DeathReport
from notifications.models import Alert
from organisations.models import Role
from tests.workflows.highrisk.test_services import open_case
from tests.workflows.referral.helpers import member
from workflows.death import services as ds
from workflows.highrisk.services import case_record_death

CARD = {"death_place": DeathReport.Place.COUNTY_HOSPITAL, "delivery_mode": DeathReport.DeliveryMode.CAESAREAN,
        "cause_a": "失血性休克", "cause_b": "产后出血", "cause_c": "宫缩乏力", "diagnosis_basis": "clinical",
        "underlying_cause": "产后出血", "icd10": "O72.1", "cause_class": "direct", "icd_mm_group": 3}
CONCLUSION = {"avoidability": "avoidable", "underlying_cause": "产后出血", "icd10": "O72.1", "cause_class": "direct",
              "icd_mm_group": 3, "note": "识别延误，输血不及时"}


def reviewers(personas: Any) -> SimpleNamespace:
    inst = personas.inst
    return SimpleNamespace(
        county=member("expert_county_a", inst.mch_a, Role.EXPERT_REVIEWER),
        county2=member("expert_county_a2", inst.hospital_a, Role.EXPERT_REVIEWER),
        county_b=member("expert_county_b", inst.mch_b, Role.EXPERT_REVIEWER),
        city=member("expert_city", inst.mch_city, Role.EXPERT_REVIEWER),
        mch_city=member("mch_city", inst.mch_city, Role.MCH_OFFICER),
        mch_province=member("mch_province", inst.mch_province, Role.MCH_OFFICER),
    )


def died_on_case(personas: Any, *, hours_ago: float = 2) -> DeathReport:
    case = open_case(personas)
    case_record_death(case=case, by=personas.users.obstetrician_a, at=timezone.now() - dt.timedelta(hours=hours_ago),
                      note="产后出血，抢救无效")
    return DeathReport.objects.get(case=case)


def reported(personas: Any) -> DeathReport:
    report = died_on_case(personas)
    ds.death_report_update_card(report=report, by=personas.users.obstetrician_a, data=CARD)
    return ds.death_report_report(report=report, by=personas.users.obstetrician_a)


def investigated(personas: Any) -> DeathReport:
    report = reported(personas)
    ds.death_report_verify(report=report, by=personas.users.mch_a)
    return ds.death_report_investigate(report=report, by=personas.users.mch_a, findings="入户调查：产后2小时出血",
                                       interviews="家属、接产医生")


def alerts(kind: str, **filters: Any) -> set[str]:
    return set(Alert.objects.filter(kind=kind, **filters).values_list("recipient__username", flat=True))
