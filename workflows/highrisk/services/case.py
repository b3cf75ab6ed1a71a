"""The case itself: opened (or regraded) by a grade, reported to the county MCH institute, handed over,
its plans and its planned delivery place."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    COLOUR_NAMES,
    Assessment,
    CasePlan,
    Colour,
    HighRiskCase,
    Pregnancy,
)
from cases.rules import settings_for
from notifications import kinds
from notifications.models import Alert
from notifications.recipients import to_step, to_user
from notifications.services import alert_raise, alerts_resolve
from organisations.models import (
    OBSTETRIC_ROLES,
    Institution,
    Membership,
    RescueCentre,
)
from workflows.common import save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.highrisk import permissions
from workflows.highrisk.services.base import (
    REPORT_DUE,
    _county_of,
    _locked,
    _mch_institute_for,
    case_link,
    needs_case,
)
from workflows.highrisk.services.followup import followup_schedule


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
            if existing.state == HighRiskCase.State.CLOSED:
                existing.reopen(reason=_("The risk rose again at a new assessment."), at=now)
                save_with_history(existing, by=by, reason="reopened: the risk rose again")
                followup_schedule(case=existing, by=by, after=timezone.localdate(now))
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
        followup_schedule(case=case, by=by, after=timezone.localdate(now))
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


def case_on_grade(*, pregnancy: Pregnancy, colour: str, purple: bool, assessment: Assessment | None, by: Any,
                  institution: Institution, now: dt.datetime) -> None:
    """A new grade reaches her case (a screening grade hook, registered in ``workflows/apps.py``): a new
    orange, red or purple assessment opens the case (or regrades the open one); any other grade, or the
    grade an older assessment gives back when one is voided, regrades a case she has."""
    if assessment is not None and needs_case(colour, purple):
        highrisk_case_open(pregnancy=pregnancy, by=by, institution=institution, colour=colour, purple=purple,
                           assessment=assessment, now=now)
        return
    case = HighRiskCase.objects.filter(pregnancy=pregnancy).first()
    if case is not None:
        highrisk_case_regrade(case=case, colour=colour, purple=purple, by=by, now=now)


def highrisk_case_report(*, case: HighRiskCase, by: Any, now: dt.datetime | None = None) -> HighRiskCase:
    """The responsible institution reports the case to the county MCH institute (报送)."""
    now = now or timezone.now()
    with transaction.atomic():
        case = HighRiskCase.objects.select_for_update(of=("self",)).select_related("institution__region", "pregnancy__woman").get(
            pk=case.pk)
        permissions.check("report", by, case)
        mch = _mch_institute_for(case.region)
        case.report(to=mch or case.institution, at=now)
        save_with_history(case, by=by, reason="reported to the county MCH institute")
        deadlines_cancel_for(case, kind=REPORT_DUE, by=by, reason="reported")
        alerts_resolve(subject=case, step=kinds.CASE_REPORTED, by=by)
        alert_raise(
            kind="highrisk.reported", subject=case, link=case_link(case),
            title=gettext_noop("High-risk case reported: %(woman)s"),
            params={"woman": case.pregnancy.woman.name}, to=[to_step("mch_officer", case.institution)],
            institution=case.institution, now=now,
        )
    return case


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


def highrisk_case_reassign(*, case: HighRiskCase, to: Any, by: Any, reason: str) -> HighRiskCase:
    """Hand the case to another doctor of the managing institution (专人), with a reason; both are alerted."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the case changes hands.")})
    with transaction.atomic():
        case = _locked(case)
        permissions.check("reassign", by, case)
        if not Membership.objects.filter(user=to, institution=case.institution, role__in=OBSTETRIC_ROLES,
                                         is_active=True).exists() or not to.is_active:
            raise ValidationError({"to": _("Choose an active doctor of %(institution)s.")
                                   % {"institution": case.institution.name}})
        previous = case.responsible_doctor
        if previous.pk == to.pk:
            raise ValidationError({"to": _("This doctor is already responsible.")})
        case.responsible_doctor = to
        save_with_history(case, by=by, reason=f"reassigned: {reason.strip()}")
        alerts_resolve(subject=case, step=kinds.CASE_REASSIGNED, by=by)
        params = {"woman": case.pregnancy.woman.name, "from": str(previous), "to": str(to), "reason": reason.strip()}
        alert_raise(kind="highrisk.reassigned", priority=Alert.Priority.URGENT, subject=case, link=case_link(case),
                    title=gettext_noop("You are now responsible for %(woman)s"),
                    body=gettext_noop("Handed over by %(from)s: %(reason)s"), params=params, to=[to_user(to)],
                    institution=case.institution)
        alert_raise(kind="highrisk.reassigned", subject=case, link=case_link(case),
                    title=gettext_noop("%(woman)s is now in the care of %(to)s"),
                    body=gettext_noop("Reason: %(reason)s"), params=params, to=[to_user(previous)],
                    institution=case.institution)
    return case


def case_plan_add(*, case: HighRiskCase, by: Any, kind: str, text: str, rescue_centre: Any = None) -> Any:
    """Write a plan. The emergency plan of an orange or red woman names the upper-level rescue centre it
    was made with. Once the plans are in place a reported case is under management."""
    if kind not in CasePlan.Kind.values:
        raise ValidationError({"kind": _("Choose the kind of plan.")})
    if not text.strip():
        raise ValidationError({"text": _("Write the plan.")})
    with transaction.atomic():
        case = _locked(case)
        permissions.check("plan", by, case)
        needs_centre = kind == CasePlan.Kind.EMERGENCY and case.colour in (Colour.ORANGE, Colour.RED)
        if needs_centre and rescue_centre is None:
            raise ValidationError({"rescue_centre": _("Name the upper-level rescue centre this emergency plan was "
                                                      "made with.")})
        plan = CasePlan(case=case, kind=kind, text=text.strip(), author=by, written_at=timezone.now(),
                        rescue_centre=rescue_centre)
        save_with_history(plan, by=by, reason=f"{kind} plan written")
        if case.state == HighRiskCase.State.REPORTED and plans_in_place(case):
            case.start_management()
            save_with_history(case, by=by, reason="plans in place: under management")
    return plan


def plans_in_place(case: HighRiskCase) -> bool:
    kinds = set(case.plans.values_list("kind", flat=True))
    needed = {CasePlan.Kind.MANAGEMENT}
    if case.colour in (Colour.ORANGE, Colour.RED):
        needed.add(CasePlan.Kind.EMERGENCY)
    return needed <= kinds


def delivery_place_problem(case: HighRiskCase, institution: Institution) -> str | None:
    """Why ``institution`` does not meet the level the case's colour requires, or None."""
    level = institution.level or 0
    kind_ok = institution.kind in (Institution.Kind.MIDWIFERY_HOSPITAL, Institution.Kind.MCH_INSTITUTE)
    if not kind_ok:
        return _("%(place)s does not deliver babies.") % {"place": institution.name}
    if case.colour == Colour.RED and level < Institution.Level.TERTIARY:
        return _("A red woman delivers at a tertiary (level 3) hospital.")
    if case.colour == Colour.ORANGE:
        is_centre = RescueCentre.objects.filter(institution=institution, is_active=True).exists()
        if not is_centre:
            return _("An orange woman delivers at a county-level rescue centre or higher.")
        tertiary_nearby = RescueCentre.objects.filter(
            is_active=True, institution__level=Institution.Level.TERTIARY,
            institution__region__province_id=institution.region.province_id).exists()
        if level < Institution.Level.TERTIARY and tertiary_nearby:
            return _("An orange woman delivers at a tertiary hospital where one is available.")
    if case.colour == Colour.YELLOW and level < Institution.Level.SECONDARY:
        return _("A yellow woman delivers at a secondary-or-higher hospital.")
    return None


def case_plan_delivery(*, case: HighRiskCase, by: Any, institution: Institution, reason: str = "") -> HighRiskCase:
    """Plan where she delivers. A place below the level her colour needs is refused unless a reason is
    given; then it is kept and the MCH officer is alerted."""
    with transaction.atomic():
        case = _locked(case)
        permissions.check("delivery_place", by, case)
        problem = delivery_place_problem(case, institution)
        if problem and not reason.strip():
            raise ValidationError({"institution": [problem, _("Give a reason to plan this place anyway.")]})
        case.planned_delivery_institution = institution
        case.planned_delivery_reason = reason.strip() if problem else ""
        save_with_history(case, by=by, reason="delivery place planned" + (" below the required level" if problem
                                                                          else ""))
        if problem:
            alert_raise(kind="highrisk.delivery_place", priority=Alert.Priority.URGENT, subject=case,
                        link=case_link(case),
                        title=gettext_noop("Delivery planned below the required level: %(woman)s"),
                        body=gettext_noop("%(place)s: %(problem)s Reason given: %(reason)s"),
                        params={"woman": case.pregnancy.woman.name, "place": institution.name, "problem": problem,
                                "reason": reason.strip()},
                        to=[to_step("mch_officer", case.institution)], institution=case.institution)
    return case
