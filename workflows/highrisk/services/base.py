"""What every part of the high-risk process shares: the deadline kinds, who needs a case, a case's link,
its county and county MCH institute, and the row lock."""

from __future__ import annotations

from django.urls import reverse

from cases.models import (
    Colour,
    HighRiskCase,
)
from organisations.models import (
    Institution,
    Region,
)

REPORT_DUE = "highrisk.report_due"


def needs_case(colour: str, purple: bool) -> bool:
    return purple or colour in (Colour.ORANGE, Colour.RED)


def case_link(case: HighRiskCase) -> str:
    return reverse("cases:pregnancy_detail", args=[case.pregnancy_id])


def _county_of(institution: Institution) -> Region:
    """The county whose MCH institute keeps the register for cases managed at ``institution``."""
    return institution.region


def _mch_institute_for(region: Region) -> Institution | None:
    for code in [region.code, region.city_id, region.province_id]:
        if not code:
            continue
        found = Institution.objects.filter(kind=Institution.Kind.MCH_INSTITUTE, region_id=code, is_active=True).first()
        if found is not None:
            return found
    return None


def _locked(case: HighRiskCase) -> HighRiskCase:
    # Relations a transition changes (institution on transfer, responsible doctor on reassignment) are
    # not joined: on PostgreSQL, joined columns of a row read after waiting for its lock keep the
    # snapshot from before the wait, and a permission check would read the old institution.
    return HighRiskCase.objects.select_for_update(of=("self",)).select_related(
        "pregnancy__woman", "pregnancy__booking_institution").get(pk=case.pk)


VISIT_MISSED = "highrisk.visit_missed"


TRACING_DUE = "highrisk.tracing_due"
