"""Shared set-up for referral tests: the city centre (福州市妇幼保健院) with two duty doctors on duty and
an on-call deputy, the provincial centre with one duty doctor, and a woman at 闽侯县医院 to refer."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from django.utils import timezone

from cases.models import Pregnancy, Referral, Urgency
from organisations.models import DutyShift, Role
from tests.personas import MembershipFactory, UserFactory, book_woman
from workflows.referral import services as rs


def member(username: str, institution: Any, role: str) -> Any:
    user = UserFactory(username=username)
    MembershipFactory(user=user, institution=institution, role=role)
    return user


def shift(user: Any, institution: Any, kind: str = DutyShift.Kind.DUTY) -> DutyShift:
    now = timezone.now()
    return DutyShift.objects.create(institution=institution, user=user, kind=kind,
                                    starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=11))


def rescue_staff(personas: Any) -> SimpleNamespace:
    city = personas.inst.mch_city
    province = personas.inst.mch_province
    staff = SimpleNamespace(
        city1=member("duty_city1", city, Role.DUTY_DOCTOR),
        city2=member("duty_city2", city, Role.DUTY_DOCTOR),
        city_deputy=member("deputy_city", city, Role.DUTY_DOCTOR),
        province1=member("duty_province1", province, Role.DUTY_DOCTOR),
    )
    shift(staff.city1, city)
    shift(staff.city2, city)
    shift(staff.city_deputy, city, DutyShift.Kind.ON_CALL)
    shift(staff.province1, province)
    return staff


def refer(personas: Any, *, urgency: str = Urgency.EMERGENCY, centre: Any = None, **kwargs: Any) -> Referral:
    woman = book_woman(at=personas.inst.hospital_a)
    pregnancy = Pregnancy.objects.get(woman=woman)
    return rs.referral_request(
        pregnancy=pregnancy, by=personas.users.obstetrician_a, from_institution=personas.inst.hospital_a,
        to_centre=centre or personas.centres.city, urgency=urgency, reason="产后出血，宫缩乏力",
        diagnosis="产后出血 1500 mL", vitals={"systolic_bp": 82, "pulse": 128, "spo2": 94}, **kwargs)
