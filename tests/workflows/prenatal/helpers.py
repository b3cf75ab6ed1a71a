"""Licensed institutions and entered figures for the prenatal QC tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cases.models import PrenatalReport
from tests.personas import UserFactory
from workflows.prenatal import services as svc

# A quarter well in the past (the national default collects per quarter).
QUARTER = ("quarter", dt.date(2025, 1, 1), dt.date(2025, 3, 31))
FULL = {"screened": 400, "screen_positive": 20, "women_delivered": 500, "diagnosed": 30, "confirmed": 6}


def license_institutions(personas: Any) -> None:
    """闽侯县医院 screens and diagnoses; 鼓楼区医院 and 厦门市第三医院 screen only."""
    inst = personas.inst
    for institution, diagnosis in ((inst.hospital_a, True), (inst.hospital_a2, False), (inst.hospital_b, False)):
        institution.prenatal_screening = True
        institution.prenatal_diagnosis = diagnosis
        institution.prenatal_licence_number = f"闽母婴{institution.code}"
        institution.full_clean()
        institution.save()


def superuser() -> Any:
    user = UserFactory(username="root")
    user.is_superuser = True
    user.is_staff = True
    user.save()
    return user


def submitted(institution: Any, values: dict[str, int], *, by: Any, period: tuple = QUARTER) -> PrenatalReport:
    report = svc.prenatal_values_save(institution=institution, period=period, values=values, by=by)
    return svc.prenatal_report_submit(report=report, by=by)
