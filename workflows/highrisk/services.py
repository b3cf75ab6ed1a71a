"""High-risk case management (高危孕产妇专案管理): opening, reporting and regrading a case.

Every orange, red or purple woman gets one case, one responsible doctor, and a report to the county
MCH institute within the province's deadline (orange and purple 72 h, red 24 h by default).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import SEVERITY, Assessment, Colour, HighRiskCase, Pregnancy
from cases.rules import settings_for
from notifications.models import Alert
from notifications.recipients import to_step, to_user
from notifications.services import alert_raise
from organisations.http import ActionDenied
from organisations.models import CLINICAL_ROLES, Institution, Region, Role
from workflows.common import require_member, save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for

REPORT_DUE = "highrisk.report_due"
COLOUR_NAMES = {
    Colour.GREEN: gettext_noop("green"), Colour.YELLOW: gettext_noop("yellow"), Colour.ORANGE: gettext_noop("orange"),
    Colour.RED: gettext_noop("red"), Colour.PURPLE: gettext_noop("purple"),
}


def needs_case(colour: str, purple: bool) -> bool:
    return purple or colour in (Colour.ORANGE, Colour.RED)


def case_link(case: HighRiskCase) -> str:
    return reverse("cases:pregnancy_detail", args=[case.pregnancy_id])


def _county_of(institution: Institution) -> Region:
    """The county whose MCH institute keeps the register for cases managed at ``institution``."""
    return institution.region


def highrisk_case_open(
    *, pregnancy: Pregnancy, by: Any, institution: Institution, colour: str, purple: bool,
    assessment: Assessment | None = None, responsible_doctor: Any = None, now: dt.datetime | None = None,
) -> HighRiskCase:
    """Open the pregnancy's high-risk case (or regrade the one that is open), in the caller's transaction.

    The assessing doctor is the responsible doctor until reassigned. A report to the county MCH
    institute falls due by the province's deadline for the grade; the doctor and the MCH officer are
    alerted.
    """
    now = now or timezone.now()
    with transaction.atomic():
        existing = HighRiskCase.objects.select_for_update(of=("self",)).filter(pregnancy=pregnancy).first()
        if existing is not None:
            return highrisk_case_regrade(case=existing, colour=colour, purple=purple, by=by, now=now)
        doctor = responsible_doctor or by
        settings = settings_for(institution, on=timezone.localdate(now))
        hours = settings.report_hours(colour, purple) or settings.report_orange_hours
        case = HighRiskCase(
            pregnancy=pregnancy, institution=institution, responsible_doctor=doctor, region=_county_of(institution),
            colour=colour, purple=purple, opened_at=now, opened_by=by, report_due_at=now + dt.timedelta(hours=hours),
        )
        case.full_clean(exclude=["state"])
        save_with_history(case, by=by, reason="opened from a risk assessment" if assessment else "opened by hand")
        deadline_create(kind=REPORT_DUE, due_at=case.report_due_at, subject=case, reason="report to the MCH institute")
        params = {"woman": pregnancy.woman.name, "colour": COLOUR_NAMES[Colour(case.label.split("+")[-1])],
                  "institution": institution.name, "hours": hours}
        alert_raise(
            kind="highrisk.opened", priority=Alert.Priority.URGENT, subject=case, link=case_link(case),
            title=gettext_noop("High-risk case: %(woman)s (%(colour)s)"),
            body=gettext_noop("You are the responsible doctor. Report the case to the county MCH institute "
                              "within %(hours)s hours and make the management plans."),
            params=params, to=[to_user(doctor)], institution=institution, now=now,
        )
        alert_raise(
            kind="highrisk.opened.mch", priority=Alert.Priority.URGENT, subject=case, link=case_link(case),
            title=gettext_noop("New high-risk case at %(institution)s: %(woman)s (%(colour)s)"),
            body=gettext_noop("The report is due within %(hours)s hours."),
            params=params, to=[to_step("mch_officer", institution)], institution=institution, now=now,
        )
    return case


def highrisk_case_regrade(*, case: HighRiskCase, colour: str, purple: bool, by: Any,
                          now: dt.datetime | None = None) -> HighRiskCase:
    """The case follows the latest assessment; below orange and not purple, closing is proposed."""
    case.colour, case.purple = colour, purple
    case.closure_proposed = not needs_case(colour, purple)
    save_with_history(case, by=by, reason="regraded by a new assessment")
    return case


def highrisk_case_report(*, case: HighRiskCase, by: Any, now: dt.datetime | None = None) -> HighRiskCase:
    """The responsible institution reports the case to the county MCH institute (报送)."""
    now = now or timezone.now()
    with transaction.atomic():
        case = HighRiskCase.objects.select_for_update(of=("self",)).select_related("institution__region", "pregnancy__woman").get(
            pk=case.pk)
        require_member(user=by, institution=case.institution, roles=CLINICAL_ROLES)
        if case.state != HighRiskCase.State.OPENED:
            raise ActionDenied(_("This case was already reported."))
        mch = _mch_institute_for(case.region)
        case.report(to=mch or case.institution, at=now)
        save_with_history(case, by=by, reason="reported to the county MCH institute")
        deadlines_cancel_for(case, kind=REPORT_DUE, by=by, reason="reported")
        alert_raise(
            kind="highrisk.reported", subject=case, link=case_link(case),
            title=gettext_noop("High-risk case reported: %(woman)s"),
            params={"woman": case.pregnancy.woman.name}, to=[to_step("mch_officer", case.institution)],
            institution=case.institution, now=now,
        )
    return case


def _mch_institute_for(region: Region) -> Institution | None:
    for code in [region.code, region.city_id, region.province_id]:
        if not code:
            continue
        found = Institution.objects.filter(kind=Institution.Kind.MCH_INSTITUTE, region_id=code, is_active=True).first()
        if found is not None:
            return found
    return None


@deadline_handler(REPORT_DUE)
def highrisk_report_overdue(deadline: Any) -> None:
    case = HighRiskCase.objects.select_related("institution__region", "pregnancy__woman").filter(
        pk=deadline.subject_id).first()
    if case is None or case.state != HighRiskCase.State.OPENED:
        return
    params = {"woman": case.pregnancy.woman.name, "institution": case.institution.name,
              "doctor": str(case.responsible_doctor)}
    alert_raise(
        kind="highrisk.report_overdue", priority=Alert.Priority.CRITICAL, subject=case, link=case_link(case),
        title=gettext_noop("Overdue: high-risk case of %(woman)s not reported"),
        body=gettext_noop("%(institution)s has not reported the case in time. Responsible doctor: %(doctor)s."),
        params=params, to=[to_step("mch_officer", case.institution)], institution=case.institution,
    )


def severity(colour: str) -> int:
    return SEVERITY.get(Colour(colour), 0)


OBSTETRIC_ROLES = frozenset({Role.OBSTETRICIAN, Role.DUTY_DOCTOR})
