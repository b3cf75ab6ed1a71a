"""High-risk case management (高危孕产妇专案管理).

Every orange, red or purple woman gets one case, one responsible doctor, and a report to the county
MCH institute within the province's deadline (orange and purple 72 h, red 24 h by default); plans
(management, treatment, emergency), follow-up visits by colour, tracing of women who miss a visit,
transfer between institutions, delivery, postpartum follow-up and closure. Each step is a named
transition run in one transaction with history, alerts and deadlines.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    COLOUR_NAMES,
    Assessment,
    CasePlan,
    CaseTransfer,
    Colour,
    FollowUpVisit,
    HighRiskCase,
    Pregnancy,
    Tracing,
    TracingAttempt,
)
from cases.rules import settings_for
from notifications import kinds
from notifications.models import Alert
from notifications.recipients import to_role, to_step, to_user
from notifications.services import alert_raise, alerts_close_stale, alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import (
    OBSTETRIC_ROLES,
    Institution,
    Membership,
    Region,
    RescueCentre,
    Role,
)
from workflows.common import require_member, save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.flows import flow_cancel, flow_complete, flow_start
from workflows.highrisk import permissions
from workflows.outcomes import case_alert_subjects, pregnancy_end_by_death
from workflows.screening.services import assessment_record

REPORT_DUE = "highrisk.report_due"
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




# --- Who may act on a case ----------------------------------------------------------------------------


def _locked(case: HighRiskCase) -> HighRiskCase:
    # Relations a transition changes (institution on transfer, responsible doctor on reassignment) are
    # not joined: on PostgreSQL, joined columns of a row read after waiting for its lock keep the
    # snapshot from before the wait, and a permission check would read the old institution.
    return HighRiskCase.objects.select_for_update(of=("self",)).select_related(
        "pregnancy__woman", "pregnancy__booking_institution").get(pk=case.pk)


# --- Responsible doctor ------------------------------------------------------------------------------

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


# --- Plans -------------------------------------------------------------------------------------------

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


# --- Delivery place ----------------------------------------------------------------------------------

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


# --- Follow-up visits, tracing -----------------------------------------------------------------------

VISIT_MISSED = "highrisk.visit_missed"
TRACING_DUE = "highrisk.tracing_due"


def followup_interval_days(case: HighRiskCase) -> int:
    settings = settings_for(case.institution)
    if case.colour == Colour.RED:
        return settings.followup_days_red
    if case.colour == Colour.ORANGE:
        return settings.followup_days_orange
    if case.purple:
        return settings.followup_days_purple
    return settings.followup_days_yellow


def followup_schedule(*, case: HighRiskCase, by: Any, after: dt.date) -> Any:
    """Schedule the next visit by the colour's interval; missing it by the province's grace days starts
    tracing (a deadline)."""
    settings = settings_for(case.institution)
    visit = FollowUpVisit(case=case, due_on=after + dt.timedelta(days=followup_interval_days(case)))
    save_with_history(visit, by=by, reason="next visit scheduled")
    missed_at = timezone.make_aware(dt.datetime.combine(
        visit.due_on + dt.timedelta(days=settings.lost_after_missed_days), dt.time(23, 59)))
    deadline_create(kind=VISIT_MISSED, due_at=missed_at, subject=visit, reason="visit missed: start tracing")
    case.next_visit_at = visit.due_on
    save_with_history(case, by=by, reason="next visit scheduled", update_fields=["next_visit_at"])
    return visit


def followup_record(*, visit: Any, by: Any, institution: Institution, findings: str,
                    inputs: dict[str, Any] | None = None) -> Any:
    """Record a follow-up visit, optionally with a dynamic re-assessment; the next visit is scheduled
    by the (possibly new) colour."""
    with transaction.atomic():
        visit = FollowUpVisit.objects.select_for_update(of=("self",)).get(pk=visit.pk)
        case = _locked(visit.case)
        permissions.check("visit", by, case)
        if visit.status not in (FollowUpVisit.Status.SCHEDULED, FollowUpVisit.Status.MISSED):
            raise TransitionConflict(_("This visit is already recorded."))
        assessment = None
        if inputs:
            assessment = assessment_record(pregnancy=case.pregnancy, institution=institution, by=by,
                                           stage=Assessment.Stage.DYNAMIC, inputs=inputs)
            case.refresh_from_db()
        visit.complete(by=by, at=timezone.now(), institution=institution, findings=findings.strip())
        visit.assessment = assessment
        save_with_history(visit, by=by, reason="visit recorded")
        deadlines_cancel_for(visit, kind=VISIT_MISSED, by=by, reason="visit done")
        for open_visit in case.visits.filter(status=FollowUpVisit.Status.SCHEDULED).exclude(pk=visit.pk):
            open_visit.cancel()
            save_with_history(open_visit, by=by, reason="replaced by a new schedule")
            deadlines_cancel_for(open_visit, kind=VISIT_MISSED, by=by, reason="replaced by a new schedule")
        if case.state == HighRiskCase.State.LOST:
            case.mark_found()
            save_with_history(case, by=by, reason="seen again: back under management")
            for subject in [case, *case.tracings.all()]:
                alerts_resolve(subject=subject, step=kinds.WOMAN_FOUND, by=by)
        if case.is_open and case.state not in (HighRiskCase.State.CLOSED,):
            followup_schedule(case=case, by=by, after=timezone.localdate())
    return visit


@deadline_handler(VISIT_MISSED)
def visit_missed(deadline: Any) -> None:
    """A visit missed by the grace days: a tracing task for the responsible doctor."""
    visit = FollowUpVisit.objects.select_for_update(of=("self",)).filter(pk=deadline.subject_id).first()
    if visit is None or visit.status != FollowUpVisit.Status.SCHEDULED:
        return
    case = _locked(visit.case)
    if not case.is_open:
        return
    visit.miss()
    save_with_history(visit, by=None, reason="visit missed")
    settings = settings_for(case.institution)
    now = timezone.now()
    tracing = Tracing(case=case, visit=visit, opened_at=now, due_at=now + dt.timedelta(days=settings.tracing_days))
    save_with_history(tracing, by=None, reason="visit missed: tracing")
    deadline_create(kind=TRACING_DUE, due_at=tracing.due_at, subject=tracing, reason="find her or mark her lost")
    alert_raise(kind="highrisk.tracing", priority=Alert.Priority.URGENT, subject=tracing, link=case_link(case),
                title=gettext_noop("Missed visit: trace %(woman)s"),
                body=gettext_noop("The visit due on %(due)s did not happen. Find her by %(by)s: phone, home "
                                  "visit or through primary care."),
                params={"woman": case.pregnancy.woman.name, "due": visit.due_on.isoformat(),
                        "by": timezone.localtime(tracing.due_at).strftime("%Y-%m-%d")},
                to=[to_user(case.responsible_doctor)], institution=case.institution)


def tracing_attempt_add(*, tracing: Any, by: Any, method: str, reached: bool, note: str) -> Any:
    if method not in TracingAttempt.Method.values:
        raise ValidationError({"method": _("Choose how she was sought.")})
    with transaction.atomic():
        tracing = Tracing.objects.select_for_update(of=("self",)).get(pk=tracing.pk)
        permissions.require_case_clinician(by, tracing.case)
        if tracing.status != Tracing.Status.OPEN:
            raise TransitionConflict(_("This tracing is closed."))
        attempt = TracingAttempt(tracing=tracing, method=method, at=timezone.now(), by=by, reached=reached,
                                 note=note.strip())
        save_with_history(attempt, by=by, reason="tracing attempt")
    return attempt


def tracing_found(*, tracing: Any, by: Any, outcome: str) -> Any:
    """She was found: the tracing closes and the case is back under management with a new visit."""
    if not outcome.strip():
        raise ValidationError({"outcome": _("Say where she is and what was agreed.")})
    with transaction.atomic():
        tracing = Tracing.objects.select_for_update(of=("self",)).get(pk=tracing.pk)
        case = _locked(tracing.case)
        permissions.require_case_clinician(by, case)
        if tracing.status != Tracing.Status.OPEN:
            raise TransitionConflict(_("This tracing is closed."))
        tracing.found(at=timezone.now(), outcome=outcome.strip())
        save_with_history(tracing, by=by, reason="found")
        deadlines_cancel_for(tracing, kind=TRACING_DUE, by=by, reason="found")
        alerts_resolve(subject=tracing, step=kinds.WOMAN_FOUND, by=by)
        alerts_resolve(subject=case, step=kinds.WOMAN_FOUND, by=by)
        if case.state == HighRiskCase.State.LOST:
            case.mark_found()
            save_with_history(case, by=by, reason="found: back under management")
        followup_schedule(case=case, by=by, after=timezone.localdate())
    return tracing


@deadline_handler(TRACING_DUE)
def tracing_overdue(deadline: Any) -> None:
    """Not found in time: marked lost, and a critical alert to the county MCH officer."""
    tracing = Tracing.objects.select_for_update(of=("self",)).filter(pk=deadline.subject_id).first()
    if tracing is None or tracing.status != Tracing.Status.OPEN:
        return
    case = _locked(tracing.case)
    now = timezone.now()
    tracing.lost(at=now)
    save_with_history(tracing, by=None, reason="not found in time")
    if case.state in (HighRiskCase.State.REPORTED, HighRiskCase.State.MANAGING, HighRiskCase.State.POSTPARTUM):
        case.mark_lost(at=now)
        save_with_history(case, by=None, reason="lost to follow-up")
    alert_raise(kind="highrisk.lost", priority=Alert.Priority.CRITICAL, subject=case, link=case_link(case),
                title=gettext_noop("Lost to follow-up: %(woman)s (%(colour)s)"),
                body=gettext_noop("%(institution)s could not find her. Responsible doctor: %(doctor)s."),
                params={"woman": case.pregnancy.woman.name, "colour": COLOUR_NAMES[Colour(case.colour)],
                        "institution": case.institution.name, "doctor": str(case.responsible_doctor)},
                to=[to_step("mch_officer", case.institution)], institution=case.institution)


# --- Transfer ----------------------------------------------------------------------------------------

def case_transfer_request(*, case: HighRiskCase, by: Any, to_institution: Institution, reason: str) -> Any:
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the case moves.")})
    with transaction.atomic():
        case = _locked(case)
        permissions.check("transfer", by, case)
        if to_institution.pk == case.institution_id:
            raise ValidationError({"to_institution": _("The case is already managed there.")})
        if to_institution.kind not in (Institution.Kind.MIDWIFERY_HOSPITAL, Institution.Kind.MCH_INSTITUTE) or \
                not to_institution.is_active:
            raise ValidationError({"to_institution": _("Choose a hospital that manages high-risk cases.")})
        if case.transfers.filter(status=CaseTransfer.Status.REQUESTED).exists():
            raise TransitionConflict(_("A transfer of this case is already awaiting an answer."))
        transfer = CaseTransfer(case=case, from_institution=case.institution, to_institution=to_institution,
                                reason=reason.strip(), requested_by=by, requested_at=timezone.now())
        save_with_history(transfer, by=by, reason="transfer requested")
        flow_start(transfer)
        alert_raise(kind="highrisk.transfer_requested", priority=Alert.Priority.URGENT, subject=transfer,
                    link=case_link(case),
                    title=gettext_noop("Case transfer to you: %(woman)s (%(colour)s)"),
                    body=gettext_noop("From %(from)s: %(reason)s. Accept and name the responsible doctor, or "
                                      "reject with a reason."),
                    params={"woman": case.pregnancy.woman.name, "colour": COLOUR_NAMES[Colour(case.colour)],
                            "from": case.institution.name, "reason": reason.strip()},
                    to=[to_role(to_institution, Role.OBSTETRICIAN)], institution=to_institution)
    return transfer


def _locked_transfer(transfer: Any) -> Any:
    transfer = CaseTransfer.objects.select_for_update(of=("self",)).select_related(
        "to_institution", "from_institution").get(pk=transfer.pk)
    if transfer.status != CaseTransfer.Status.REQUESTED:
        decided = transfer.decided_by
        raise TransitionConflict(_("This transfer was already answered (%(status)s, by %(who)s).")
                           % {"status": transfer.get_status_display(), "who": decided or "—"})
    return transfer


def case_transfer_accept(*, transfer: Any, by: Any, doctor: Any) -> Any:
    """The receiving institution accepts and names the new responsible doctor; the case moves. The sending
    institution keeps read access to what it did (the transfer row names it)."""
    with transaction.atomic():
        transfer = _locked_transfer(transfer)
        require_member(user=by, institution=transfer.to_institution, roles=OBSTETRIC_ROLES)
        if not Membership.objects.filter(user=doctor, institution=transfer.to_institution, role__in=OBSTETRIC_ROLES,
                                         is_active=True).exists():
            raise ValidationError({"doctor": _("Choose a doctor of %(institution)s.")
                                   % {"institution": transfer.to_institution.name}})
        case = _locked(transfer.case)
        if not case.is_open:
            raise TransitionConflict(_("This case is %(state)s.") % {"state": case.get_state_display()})
        now = timezone.now()
        transfer.accept(by=by, at=now, doctor=doctor)
        save_with_history(transfer, by=by, reason="transfer accepted")
        flow_complete(transfer, "answer")
        previous_doctor = case.responsible_doctor
        case.institution = transfer.to_institution
        case.region = transfer.to_institution.region
        case.responsible_doctor = doctor
        save_with_history(case, by=by, reason=f"transferred from {transfer.from_institution.name}")
        alerts_resolve(subject=transfer, step=kinds.TRANSFER_ANSWERED, by=by)
        alerts_resolve(subject=case, step=kinds.CASE_REASSIGNED, by=by)
        params = {"woman": case.pregnancy.woman.name, "to": transfer.to_institution.name, "doctor": str(doctor)}
        alert_raise(kind="highrisk.transfer_accepted", subject=transfer, link=case_link(case),
                    title=gettext_noop("Transfer accepted: %(woman)s is now managed at %(to)s"),
                    body=gettext_noop("Responsible doctor: %(doctor)s."), params=params,
                    to=[to_user(transfer.requested_by), to_user(previous_doctor)], institution=transfer.from_institution)
        if doctor.pk != by.pk:
            alert_raise(kind="highrisk.reassigned", priority=Alert.Priority.URGENT, subject=case,
                        link=case_link(case), title=gettext_noop("You are now responsible for %(woman)s"),
                        body=gettext_noop("Transferred to %(to)s."), params=params, to=[to_user(doctor)],
                        institution=transfer.to_institution)
    return transfer


def case_transfer_reject(*, transfer: Any, by: Any, reason: str) -> Any:
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the transfer is rejected.")})
    with transaction.atomic():
        transfer = _locked_transfer(transfer)
        require_member(user=by, institution=transfer.to_institution, roles=OBSTETRIC_ROLES)
        transfer.reject(by=by, at=timezone.now(), reason=reason.strip())
        save_with_history(transfer, by=by, reason="transfer rejected")
        flow_complete(transfer, "answer")
        alerts_resolve(subject=transfer, step=kinds.TRANSFER_ANSWERED, by=by)
        alert_raise(kind="highrisk.transfer_rejected", priority=Alert.Priority.URGENT, subject=transfer,
                    link=case_link(transfer.case),
                    title=gettext_noop("Transfer rejected: %(woman)s stays with you"),
                    body=gettext_noop("%(to)s: %(reason)s"),
                    params={"woman": transfer.case.pregnancy.woman.name, "to": transfer.to_institution.name,
                            "reason": reason.strip()},
                    to=[to_user(transfer.requested_by)], institution=transfer.from_institution)
    return transfer


def case_transfer_cancel(*, transfer: Any, by: Any, reason: str) -> Any:
    """The sending side withdraws a transfer still awaiting its answer; the receiving side is told."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the transfer is withdrawn.")})
    with transaction.atomic():
        transfer = _locked_transfer(transfer)
        permissions.require_case_clinician(by, transfer.case)
        _transfer_withdraw(transfer, by=by, reason=reason.strip())
    return transfer


def _transfer_withdraw(transfer: Any, *, by: Any, reason: str) -> None:
    transfer.cancel(by=by, at=timezone.now(), reason=reason)
    save_with_history(transfer, by=by, reason="transfer withdrawn")
    flow_cancel(transfer)
    alerts_close_stale(subjects=[transfer], reason=Alert.CloseReason.WITHDRAWN, by=by)
    alert_raise(kind="highrisk.transfer_withdrawn", subject=transfer, link=case_link(transfer.case),
                title=gettext_noop("Transfer withdrawn: %(woman)s"), body=gettext_noop("%(reason)s"),
                params={"woman": transfer.case.pregnancy.woman.name, "reason": reason},
                to=[to_role(transfer.to_institution, Role.OBSTETRICIAN)], institution=transfer.to_institution)


def _pending_transfers_withdraw(case: HighRiskCase, *, by: Any, reason: str) -> None:
    """A case that closes or ends in death takes its unanswered transfer with it."""
    for transfer in CaseTransfer.objects.select_for_update(of=("self",)).select_related(
            "to_institution", "case__pregnancy__woman").filter(case=case, status=CaseTransfer.Status.REQUESTED):
        _transfer_withdraw(transfer, by=by, reason=reason)


# --- Delivery, postpartum, closure, death ------------------------------------------------------------

def case_record_delivery(*, case: HighRiskCase, by: Any, on: dt.date, institution: Institution, mode: str,
                         outcome: str) -> HighRiskCase:
    if mode not in HighRiskCase.DeliveryMode.values:
        raise ValidationError({"mode": _("Choose the delivery mode.")})
    if on > timezone.localdate():
        raise ValidationError({"on": _("The delivery date cannot be in the future.")})
    with transaction.atomic():
        case = _locked(case)
        permissions.check("delivery", by, case)
        case.record_delivery(on=on, institution=institution, mode=mode, outcome=outcome.strip())
        save_with_history(case, by=by, reason="delivered")
        pregnancy = Pregnancy.objects.select_for_update(of=("self",)).get(pk=case.pregnancy_id)
        if pregnancy.status == Pregnancy.Status.ONGOING:
            pregnancy.deliver()
            save_with_history(pregnancy, by=by, reason="delivered")
    return case


def case_start_postpartum(*, case: HighRiskCase, by: Any) -> HighRiskCase:
    with transaction.atomic():
        case = _locked(case)
        permissions.check("postpartum", by, case)
        case.start_postpartum()
        save_with_history(case, by=by, reason="postpartum follow-up")
        followup_schedule(case=case, by=by, after=case.delivered_at or timezone.localdate())
    return case


def case_close(*, case: HighRiskCase, by: Any, kind: str, reason: str) -> HighRiskCase:
    """Close a case: recovered at the 42-day check (after postpartum follow-up), the pregnancy ended
    otherwise (with a reason), or the risk fell below orange (when closing was proposed)."""
    if kind not in HighRiskCase.CloseKind.values:
        raise ValidationError({"kind": _("Choose why the case closes.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Write the closing reason.")})
    with transaction.atomic():
        case = _locked(case)
        permissions.check("close", by, case)
        if kind == HighRiskCase.CloseKind.RECOVERED:
            if case.state != HighRiskCase.State.POSTPARTUM:
                raise ActionDenied(_("A case closes as recovered at the 42-day check, during postpartum follow-up."))
            if not case.pregnancy.assessments.filter(stage=Assessment.Stage.DAY42,
                                                     status=Assessment.Status.VALID).exists():
                raise ActionDenied(_("Record the 42-day postpartum assessment first."))
        if kind == HighRiskCase.CloseKind.RISK_FELL and not case.closure_proposed:
            raise ActionDenied(_("The latest assessment is still orange, red or purple."))
        now = timezone.now()
        case.close(kind=kind, reason=reason.strip(), at=now)
        case.next_visit_at = None
        save_with_history(case, by=by, reason=f"closed: {kind}")
        for visit in case.visits.filter(status=FollowUpVisit.Status.SCHEDULED):
            visit.cancel()
            save_with_history(visit, by=by, reason="case closed")
            deadlines_cancel_for(visit, kind=VISIT_MISSED, by=by, reason="case closed")
        deadlines_cancel_for(case, by=by, reason="case closed")
        alerts_close_stale(subjects=case_alert_subjects(case), reason=Alert.CloseReason.CASE_CLOSED, by=by)
        _pending_transfers_withdraw(case, by=by, reason=_("The case was closed."))
        pregnancy = Pregnancy.objects.select_for_update(of=("self",)).get(pk=case.pregnancy_id)
        if kind == HighRiskCase.CloseKind.ENDED and pregnancy.status == Pregnancy.Status.ONGOING:
            pregnancy.end()
            save_with_history(pregnancy, by=by, reason=f"ended: {reason.strip()}")
        if kind == HighRiskCase.CloseKind.RECOVERED and pregnancy.status == Pregnancy.Status.DELIVERED:
            pregnancy.close()
            save_with_history(pregnancy, by=by, reason="42-day check: recovered")
    return case


def case_reopen(*, case: HighRiskCase, by: Any, reason: str) -> HighRiskCase:
    if not reason.strip():
        raise ValidationError({"reason": _("Reopening a closed case needs a reason.")})
    with transaction.atomic():
        case = _locked(case)
        permissions.check("reopen", by, case)
        case.reopen(reason=reason.strip(), at=timezone.now())
        save_with_history(case, by=by, reason=f"reopened: {reason.strip()}")
        followup_schedule(case=case, by=by, after=timezone.localdate())
    return case


def case_end_by_death(*, pregnancy: Pregnancy, by: Any, at: dt.datetime, note: str) -> HighRiskCase | None:
    """Her open case ends with its visits, deadlines and pending transfer (a reaction to
    ``workflows.outcomes.pregnancy_end_by_death``, registered in ``workflows/apps.py``)."""
    case = HighRiskCase.objects.select_for_update(of=("self",)).filter(pregnancy=pregnancy).first()
    if case is not None and case.is_open:
        case.record_death(at=at, note=note)
        case.next_visit_at = None
        save_with_history(case, by=by, reason="maternal death")
        for visit in case.visits.filter(status=FollowUpVisit.Status.SCHEDULED):
            visit.cancel()
            save_with_history(visit, by=by, reason="maternal death")
            deadlines_cancel_for(visit, kind=VISIT_MISSED, by=by, reason="maternal death")
        deadlines_cancel_for(case, by=by, reason="maternal death")
        _pending_transfers_withdraw(case, by=by, reason=_("The woman died."))
    return case


def case_record_death(*, case: HighRiskCase, by: Any, at: dt.datetime, note: str) -> HighRiskCase:
    """Record a maternal death: the case ends, the pregnancy is marked, the county MCH officer and bureau
    are alerted at once, and the death-report hooks start the report (孕产妇死亡个案报告)."""
    if not note.strip():
        raise ValidationError({"note": _("Write where and how she died.")})
    if at > timezone.now():
        raise ValidationError({"at": _("The time of death cannot be in the future.")})
    with transaction.atomic():
        case = _locked(case)
        permissions.check("death", by, case)
        pregnancy_end_by_death(pregnancy=case.pregnancy, by=by, at=at, note=note.strip(), source=case)
        case.refresh_from_db()
        params = {"woman": case.pregnancy.woman.name, "institution": case.institution.name}
        alert_raise(kind="highrisk.death", priority=Alert.Priority.CRITICAL, subject=case, link=case_link(case),
                    title=gettext_noop("Maternal death: %(woman)s"),
                    body=gettext_noop("Recorded by %(institution)s. The death report is due within the legal "
                                      "deadline."),
                    params=params, to=[to_step("mch_officer", case.institution),
                                       to_step("bureau_officer", case.institution)], institution=case.institution)
    return case


def orphaned_cases_alert(*, doctor: Any) -> int:
    """A doctor who can no longer act on their open cases (deactivated, or no longer at the institution):
    the county MCH officer of each case is alerted to reassign it. Returns how many cases."""
    cases = HighRiskCase.objects.filter(responsible_doctor=doctor, state__in=HighRiskCase.OPEN_STATES).select_related(
        "institution__region", "pregnancy__woman")
    count = 0
    for case in cases:
        still_there = doctor.is_active and Membership.objects.filter(
            user=doctor, institution=case.institution, role__in=OBSTETRIC_ROLES, is_active=True).exists()
        if still_there:
            continue
        alert_raise(kind="highrisk.orphaned", priority=Alert.Priority.URGENT, subject=case, link=case_link(case),
                    title=gettext_noop("Reassign %(woman)s: her responsible doctor %(doctor)s left"),
                    body=gettext_noop("The case at %(institution)s has no active responsible doctor."),
                    params={"woman": case.pregnancy.woman.name, "doctor": str(doctor),
                            "institution": case.institution.name},
                    to=[to_step("mch_officer", case.institution)], institution=case.institution,
                    dedupe_key=f"orphaned:{case.pk}:{doctor.pk}")
        count += 1
    return count
