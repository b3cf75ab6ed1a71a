"""Follow-up visits by colour and the tracing of a woman who missed one (lost to follow-up)."""

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
    Colour,
    FollowUpVisit,
    HighRiskCase,
    Tracing,
    TracingAttempt,
)
from cases.rules import settings_for
from notifications import kinds
from notifications.models import Alert
from notifications.recipients import to_step, to_user
from notifications.services import alert_raise, alerts_resolve
from organisations.http import TransitionConflict
from organisations.models import (
    Institution,
)
from workflows.common import save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.highrisk import permissions
from workflows.highrisk.services.base import TRACING_DUE, VISIT_MISSED, _locked, case_link
from workflows.screening.services import assessment_record


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
