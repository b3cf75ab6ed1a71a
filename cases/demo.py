"""Demo high-risk cases for a first look: real assessments through the services, so the cases carry
their alerts, deadlines, visits and history like any other."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.db import transaction

from cases.models import Assessment, HighRiskCase, Pregnancy
from organisations.models import Institution, Membership, Role

# Inputs that grade orange, red or purple by the national table.
GRADES: list[dict[str, Any]] = [
    {"age_years": 41},
    {"bmi": 29.3},
    {"hb_g_l": 55},
    {"pa_pressure_mmhg": 58},
    {"uterine_surgeries": 2},
    {"findings": ["O2.2.1"]},
    {"findings": ["P2"]},
    {"findings": ["O3.7"]},
    {"findings": ["R2.2"]},
    {"fetuses": 3},
]


def seed_cases(count: int, *, seed: int = 5, progress: Callable[[int], None] | None = None) -> int:
    """Grade up to ``count`` ongoing pregnancies booked at hospitals as orange, red or purple by the
    hospital's demo obstetrician; returns how many cases were opened. ``progress`` hears each count."""
    from workflows.screening.services import assessment_record

    rng = random.Random(seed)  # noqa: S311  (demo data)
    candidates = list(Pregnancy.objects.filter(
        status=Pregnancy.Status.ONGOING, highrisk_case__isnull=True,
        booking_institution__kind=Institution.Kind.MIDWIFERY_HOSPITAL,
    ).select_related("booking_institution")[: count * 3])
    rng.shuffle(candidates)
    opened = 0
    for pregnancy in candidates:
        if opened >= count:
            break
        doctor = Membership.objects.filter(institution=pregnancy.booking_institution, role=Role.OBSTETRICIAN,
                                           is_active=True).select_related("user").first()
        if doctor is None:
            continue
        with transaction.atomic():
            assessment_record(pregnancy=pregnancy, institution=pregnancy.booking_institution, by=doctor.user,
                              stage=Assessment.Stage.FIRST, inputs=dict(rng.choice(GRADES)),
                              now=None)
        opened += 1
        if progress is not None:
            progress(opened)
    # Spread the next visits so the worklists show due, this-week and overdue rows.
    today = dt.date.today()  # noqa: DTZ011
    for case in HighRiskCase.objects.filter(next_visit_at__isnull=False).order_by("opened_at")[:count]:
        HighRiskCase.objects.filter(pk=case.pk).update(next_visit_at=today + dt.timedelta(days=rng.randint(-5, 10)))
    return opened


DEMO_REFERRALS = [
    # (urgency, reason, diagnosis, vitals, how far it has gone)
    ("urgent", "重度子痫前期，血压控制不佳", "重度子痫前期，孕 34 周", {"systolic_bp": 168, "diastolic_bp": 112, "pulse": 96},
     "requested"),
    ("emergency", "产后出血，宫缩乏力，药物处理无效", "产后出血 1500 mL", {"systolic_bp": 84, "pulse": 126, "spo2": 95},
     "departed"),
    ("urgent", "妊娠合并心脏病，心功能 III 级", "围产期心肌病", {"systolic_bp": 102, "pulse": 118, "respiratory_rate": 28},
     "in_treatment"),
]


def seed_referrals() -> int:
    """A few referrals from 闽侯县医院 to the Fuzhou city centre, at different steps, so that a first look
    shows a command board (gulou_duty) and a page of sent referrals (minhou_obstetrician). Idempotent:
    does nothing when referrals exist."""
    from cases.models import Referral
    from organisations.models import RescueCentre, User
    from workflows.referral import services as rs

    if Referral.objects.exists():
        return 0
    sender = User.objects.filter(username="minhou_obstetrician").first()
    receiver = User.objects.filter(username="gulou_duty").first()
    hospital = Institution.objects.filter(name="闽侯县医院").first()
    centre = RescueCentre.objects.filter(institution__name="福州市妇幼保健院").first()
    if not (sender and receiver and hospital and centre):
        return 0
    pregnancies = list(Pregnancy.objects.filter(booking_institution=hospital, status=Pregnancy.Status.ONGOING)
                       .exclude(referrals__isnull=False).order_by("booking_date")[:len(DEMO_REFERRALS)])
    made = 0
    for pregnancy, (urgency, reason, diagnosis, vitals, stage) in zip(pregnancies, DEMO_REFERRALS, strict=False):
        referral = rs.referral_request(pregnancy=pregnancy, by=sender, from_institution=hospital, to_centre=centre,
                                       urgency=urgency, reason=reason, diagnosis=diagnosis, vitals=vitals)
        if stage in ("departed", "in_treatment"):
            rs.referral_accept(referral=referral, by=receiver, team="产科 ICU 值班组",
                               expected_arrival_at=referral.requested_at + dt.timedelta(minutes=50))
            rs.referral_depart(referral=referral, by=sender, transport="ambulance", escort="助产士、麻醉医师")
        if stage == "in_treatment":
            rs.referral_arrive(referral=referral, by=receiver)
            rs.referral_start_treatment(referral=referral, by=receiver)
        made += 1
    return made
