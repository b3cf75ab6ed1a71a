"""Demo women, high-risk cases and referrals for a first look (``manage.py seed_demo``): the cases and referrals
go through the real services, so they carry their alerts, deadlines, visits and history like any other."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from django.db import transaction

from cases.identity import id_check_char
from cases.models import Assessment, HighRiskCase, Pregnancy, Woman
from organisations.demo import REASON, K, person_name
from organisations.models import Institution, Membership, Region, Role

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



def seed_women(count: int, *, seed: int = 11) -> int:
    """Add ``count`` synthetic pregnant women with valid resident IDs, each with one ongoing pregnancy
    booked at an institution of her county. Returns how many were created."""
    rng = random.Random(seed + Woman.objects.count())  # noqa: S311
    today = dt.date.today()  # noqa: DTZ011
    bookers = list(Institution.objects.filter(
        kind__in=[K.PRIMARY_CARE, K.MIDWIFERY_HOSPITAL, K.MCH_INSTITUTE], region__level=Region.Level.COUNTY,
        is_active=True,
    ).select_related("region"))
    if not bookers:
        return 0
    made = 0
    batch = 1000
    while made < count:
        women: list[Woman] = []
        pregnancies: list[Pregnancy] = []
        for _ in range(min(batch, count - made)):
            place = rng.choice(bookers)
            born = today - dt.timedelta(days=rng.randint(18 * 365, 44 * 365))
            for _attempt in range(20):
                first17 = f"{place.region_id}{born:%Y%m%d}{rng.randint(0, 499) * 2:03d}"  # even: a woman (GB 11643)
                number = first17 + id_check_char(first17)
                if not Woman.objects.filter(id_type=Woman.IdType.RESIDENT_ID, id_number=number).exists() and \
                        all(w.id_number != number for w in women):
                    break
            woman = Woman(name=person_name(rng), id_type=Woman.IdType.RESIDENT_ID, id_number=number, date_of_birth=born,
                          phone=f"15{rng.randint(0, 9)}{rng.randint(0, 99999999):08d}",
                          residence_region=place.region, registered_by=place)
            women.append(woman)
            lmp = today - dt.timedelta(days=rng.randint(42, 280))
            gravidity = rng.randint(1, 4)
            pregnancies.append(Pregnancy(woman=woman, lmp=lmp, gravidity=gravidity, parity=rng.randint(0, gravidity - 1),
                                         booking_date=min(today, lmp + dt.timedelta(days=rng.randint(40, 90))),
                                         booking_institution=place))
        with transaction.atomic():
            Woman.objects.bulk_create(women)
            Pregnancy.objects.bulk_create(pregnancies)
            Woman.history.bulk_history_create(women, default_change_reason=REASON)
            Pregnancy.history.bulk_history_create(pregnancies, default_change_reason=REASON)
        made += len(women)
    return made


# How far back a demo case was opened (days), at most: far enough that some visits and reports are late.
OPENED_DAYS_AGO = 20


def seed_cases(count: int, *, seed: int = 5, progress: Callable[[int], None] | None = None) -> int:
    """Grade up to ``count`` ongoing pregnancies booked at hospitals as orange, red or purple by the
    hospital's demo obstetrician; returns how many cases were opened. ``progress`` hears each count.

    Each case is opened on a day between its booking and today (through the assessment service with that
    moment as ``now``), so its report deadline and first visit follow from when it was opened, as they
    would have: the worklists show visits due, this week and overdue, and the MCH overview late reports.
    About two cases in three were reported in time."""
    from django.utils import timezone

    from workflows.highrisk.services import highrisk_case_report
    from workflows.screening.services import assessment_record

    rng = random.Random(seed)  # noqa: S311  (demo data)
    candidates = list(Pregnancy.objects.filter(
        status=Pregnancy.Status.ONGOING, highrisk_case__isnull=True,
        booking_institution__kind=Institution.Kind.MIDWIFERY_HOSPITAL,
    ).select_related("booking_institution")[: count * 3])
    rng.shuffle(candidates)
    doctors = {m.institution_id: m.user for m in Membership.objects.filter(
        institution__in={p.booking_institution_id for p in candidates}, role=Role.OBSTETRICIAN, is_active=True,
    ).select_related("user").order_by("-pk")}  # one obstetrician per hospital
    now = timezone.now()
    today = timezone.localdate(now)
    opened = 0
    for pregnancy in candidates:
        if opened >= count:
            break
        doctor = doctors.get(pregnancy.booking_institution_id)
        if doctor is None:
            continue
        days_ago = rng.randint(0, max(0, min(OPENED_DAYS_AGO, (today - pregnancy.booking_date).days)))
        at = now - dt.timedelta(days=days_ago, minutes=rng.randint(0, 8 * 60) if days_ago else 0)
        with transaction.atomic():
            assessment_record(pregnancy=pregnancy, institution=pregnancy.booking_institution, by=doctor,
                              stage=Assessment.Stage.FIRST, inputs=dict(rng.choice(GRADES)), now=at)
            case = HighRiskCase.objects.filter(pregnancy=pregnancy).first()
            if case is not None and rng.random() < 2 / 3:
                hours = (case.report_due_at - case.opened_at).total_seconds() / 3600 if case.report_due_at else 24
                reported_at = at + dt.timedelta(hours=rng.uniform(0.5, hours * 0.8))
                if reported_at < now:
                    highrisk_case_report(case=case, by=doctor, now=reported_at)
        opened += 1
        if progress is not None:
            progress(opened)
    return opened


DEMO_REFERRALS = [
    # (urgency, reason, diagnosis, vitals, how far it has gone); {ga} is her gestational age in weeks.
    ("urgent", "重度子痫前期，血压控制不佳", "重度子痫前期，孕 {ga} 周", {"systolic_bp": 168, "diastolic_bp": 112, "pulse": 96},
     "requested"),
    ("emergency", "胎盘早剥，阴道流血，胎心减慢", "胎盘早剥，孕 {ga} 周，失血约 800 mL",
     {"systolic_bp": 88, "pulse": 122, "spo2": 96}, "departed"),
    ("urgent", "妊娠合并心脏病，心功能 III 级", "妊娠合并心脏病（孕 {ga} 周），心功能 III 级",
     {"systolic_bp": 102, "pulse": 118, "respiratory_rate": 28}, "in_treatment"),
]
# The demo referrals are for women far enough on for these diagnoses (weeks).
REFERRAL_MIN_WEEKS = 28


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
    today = dt.date.today()  # noqa: DTZ011  (a calendar date)
    ongoing = Pregnancy.objects.filter(booking_institution=hospital, status=Pregnancy.Status.ONGOING).exclude(
        referrals__isnull=False)
    # Women at least REFERRAL_MIN_WEEKS on, and still pregnant by their due date; then any others.
    far_enough = list(ongoing.filter(lmp__lte=today - dt.timedelta(weeks=REFERRAL_MIN_WEEKS),
                                     lmp__gt=today - dt.timedelta(days=280)).order_by("booking_date"))
    pregnancies = (far_enough + [p for p in ongoing.order_by("booking_date") if p not in far_enough])
    made = 0
    for pregnancy, (urgency, reason, diagnosis, vitals, stage) in zip(pregnancies, DEMO_REFERRALS, strict=False):
        weeks = pregnancy.gestational_age(today)[0]
        referral = rs.referral_request(pregnancy=pregnancy, by=sender, from_institution=hospital, to_centre=centre,
                                       urgency=urgency, reason=reason, diagnosis=diagnosis.format(ga=weeks),
                                       vitals=vitals)
        if stage in ("departed", "in_treatment"):
            rs.referral_accept(referral=referral, by=receiver, team="产科 ICU 值班组",
                               expected_arrival_at=referral.requested_at + dt.timedelta(minutes=50))
            rs.referral_depart(referral=referral, by=sender, transport="ambulance", escort="助产士、麻醉医师")
        if stage == "in_treatment":
            rs.referral_arrive(referral=referral, by=receiver)
            rs.referral_start_treatment(referral=referral, by=receiver)
        made += 1
    return made
