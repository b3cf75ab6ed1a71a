"""Demo high-risk cases for a first look: real assessments through the services, so the cases carry
their alerts, deadlines, visits and history like any other."""

from __future__ import annotations

import datetime as dt
import random
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


def seed_cases(count: int, *, seed: int = 5) -> int:
    """Grade up to ``count`` ongoing pregnancies booked at hospitals as orange, red or purple by the
    hospital's demo obstetrician; returns how many cases were opened."""
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
    # Spread the next visits so the worklists show due, this-week and overdue rows.
    today = dt.date.today()  # noqa: DTZ011
    for case in HighRiskCase.objects.filter(next_visit_at__isnull=False).order_by("opened_at")[:count]:
        HighRiskCase.objects.filter(pk=case.pk).update(next_visit_at=today + dt.timedelta(days=rng.randint(-5, 10)))
    return opened
