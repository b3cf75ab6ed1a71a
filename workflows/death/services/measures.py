"""Improvement measures (改进措施) set by a review, tracked to done: set by a reviewing level's MCH officers and
expert reviewers, done with evidence by the owner institution, verified (or the evidence rejected) by the bureau
over it, cancelled with a reason while open. Each measure's due date is a clock of the one deadline engine: a
reminder ``measure_warning_days`` before, a critical alert when it passes; the clock stops when it is done.

What is raised names the report by its anonymous reference (``ImprovementMeasure.reference``), never the woman:
the owner institution's staff may not see the report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import DeathReport, ImprovementMeasure
from notifications import kinds
from notifications.models import Alert
from notifications.services import alert_raise, alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Institution, Membership, Role, User
from workflows.common import save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.death import permissions as p
from workflows.death.services.base import PASSED, WARN, _locked, _targets, _users_at, rules_for

M = ImprovementMeasure.State
MEASURE_DUE = "death.measure_due"
# Who at the owner institution is told of its measures: the staff who run its maternal care (obstetricians at a
# hospital, primary-care doctors at a township centre, MCH officers at an MCH institute, bureau officers when a
# bureau owns the measure). Not the duty doctors: their alerts are emergencies, and a due date weeks ahead must
# not crowd the duty phone; not expert reviewers or system administrators, who do not act for the institution.
OWNER_ALERT_ROLES = frozenset({Role.OBSTETRICIAN, Role.PRIMARY_CARE, Role.MCH_OFFICER, Role.BUREAU_OFFICER})

__all__ = [
    "MEASURE_DUE", "MEASURE_STEPS", "OWNER_ALERT_ROLES", "death_measure_cancel", "death_measure_mark_done",
    "death_measure_reject", "death_measure_set", "death_measure_verify", "measure_bureau_users", "measure_link",
    "measure_owner_users",
]


def measure_link(measure: ImprovementMeasure) -> str:
    return reverse("death:measure", args=[measure.pk])


def _locked_measure(measure: ImprovementMeasure) -> ImprovementMeasure:
    return ImprovementMeasure.objects.select_for_update(of=("self",)).select_related(
        "report__region", "owner_institution__region", "set_by").get(pk=measure.pk)


def measure_owner_users(institution: Institution) -> list[User]:
    ids = Membership.objects.filter(institution=institution, role__in=list(OWNER_ALERT_ROLES), is_active=True
                                    ).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def measure_bureau_users(institution: Institution) -> list[User]:
    """The bureau officers nearest over the institution: its own region's bureau, else its city's, else its
    province's (the first level that has any)."""
    for code in p.bureau_codes_over(institution.region):
        users = _users_at(code, {Role.BUREAU_OFFICER})
        if users:
            return users
    return []


def _raise(measure: ImprovementMeasure, *, kind: str, priority: str, users: Iterable[User], title: str,
           body: str = "", extra: dict[str, Any] | None = None) -> list[Alert]:
    params = {"reference": measure.reference, "institution": measure.owner_institution.name,
              "due": measure.due_on.isoformat(), "measure": measure.text[:80], **(extra or {})}
    return alert_raise(kind=kind, priority=priority, subject=measure, link=measure_link(measure), title=title,
                       body=body, params=params, to=_targets(users), institution=measure.owner_institution)


def _require(allowed: bool, measure: ImprovementMeasure, states: Iterable[str], reason: str) -> None:
    if not allowed:
        raise ActionDenied(reason)
    if measure.state not in tuple(states):
        raise TransitionConflict(_("This step is no longer open: the measure is now “%(state)s”.")
                                 % {"state": measure.get_state_display()})


def _owner_reason(measure: ImprovementMeasure) -> str:
    return _("Only the staff of %(institution)s record this measure done.") % {
        "institution": measure.owner_institution.name}


def _bureau_reason(measure: ImprovementMeasure) -> str:
    return _("Only a health-bureau officer over %(institution)s verifies its measures.") % {
        "institution": measure.owner_institution.name}


def _needed(value: str, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: message})
    return text


# --- The due-date clock ----------------------------------------------------------------------------

def _due_moment(due_on: dt.date) -> dt.datetime:
    """A measure due on a day is late from the next local midnight."""
    return timezone.make_aware(dt.datetime.combine(due_on + dt.timedelta(days=1), dt.time.min))


def _clock_start(measure: ImprovementMeasure) -> None:
    rules = rules_for(measure.report)
    now = timezone.now()
    warn_at = timezone.make_aware(dt.datetime.combine(
        measure.due_on - dt.timedelta(days=rules.measure_warning_days), dt.time(9)))
    if warn_at > now:
        deadline_create(kind=MEASURE_DUE, due_at=warn_at, subject=measure, payload={"stage": WARN},
                        reason=f"{MEASURE_DUE}: reminder")
    deadline_create(kind=MEASURE_DUE, due_at=max(_due_moment(measure.due_on), now), subject=measure,
                    payload={"stage": PASSED}, reason=MEASURE_DUE)


def _clock_stop(measure: ImprovementMeasure, *, by: Any, reason: str) -> None:
    deadlines_cancel_for(measure, kind=MEASURE_DUE, by=by, reason=reason)


@deadline_handler(MEASURE_DUE)
def death_measure_clock_fired(deadline: Any) -> None:
    """A measure's reminder or due date came while it is still open."""
    measure = ImprovementMeasure.objects.select_for_update(of=("self",)).filter(pk=deadline.subject_id).select_related(
        "report__region", "owner_institution__region").first()
    if measure is None or measure.state != M.OPEN:
        return
    owner = measure_owner_users(measure.owner_institution)
    if deadline.payload.get("stage") == WARN:
        _raise(measure, kind=MEASURE_DUE, priority=Alert.Priority.URGENT, users=owner,
               title=gettext_noop("Improvement measure of %(institution)s due on %(due)s (%(reference)s)"),
               body=gettext_noop("%(measure)s"))
        return
    _raise(measure, kind=MEASURE_DUE, priority=Alert.Priority.CRITICAL,
           users=owner + measure_bureau_users(measure.owner_institution),
           title=gettext_noop("Improvement measure of %(institution)s overdue since %(due)s (%(reference)s)"),
           body=gettext_noop("%(measure)s"))


# --- The steps -------------------------------------------------------------------------------------

def death_measure_set(*, report: DeathReport, by: Any, text: str, owner_institution: Institution,
                      due_on: dt.date) -> ImprovementMeasure:
    """A reviewing level sets an improvement measure on the death: the owner institution is told and the due
    date's clock starts."""
    text = _needed(text, "text", _("Write the measure."))
    errors: dict[str, str] = {}
    if due_on is None or due_on < timezone.localdate():
        errors["due_on"] = _("The due date cannot be in the past.")
    if owner_institution is None or not owner_institution.is_active:
        errors["owner_institution"] = _("Choose an active institution.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        report = _locked(report)
        levels = p.measure_levels(by, report)
        if not levels:
            raise ActionDenied(_("Only the MCH officers and expert reviewers of a level that reviews this death set "
                                 "its improvement measures."))
        if report.state not in p.MEASURE_REPORT_STATES:
            raise TransitionConflict(_("Measures are set while the death is under review or reviewed: the report is "
                                       "now “%(state)s”.") % {"state": report.get_state_display()})
        if owner_institution.region.province_id != report.region.province_id:
            raise ValidationError({"owner_institution": _("Choose an institution of the report's province.")})
        level = levels[-1]
        measure = ImprovementMeasure(report=report, level=level, text=text, owner_institution=owner_institution,
                                     due_on=due_on, set_at=timezone.now(), set_by=by,
                                     conclusion=report.conclusions.filter(level=level).first())
        measure.full_clean(exclude=["report", "conclusion", "owner_institution", "set_by"])
        save_with_history(measure, by=by, reason=f"measure set ({level})")
        _clock_start(measure)
        _raise(measure, kind="death.measure_set", priority=Alert.Priority.ROUTINE,
               users=measure_owner_users(owner_institution),
               title=gettext_noop("Improvement measure for %(institution)s, due on %(due)s (%(reference)s)"),
               body=gettext_noop("%(measure)s"))
    return measure


def death_measure_mark_done(*, measure: ImprovementMeasure, by: Any, evidence: str) -> ImprovementMeasure:
    """The owner institution records the measure done with its evidence: the clock stops and the bureau over it
    is asked to verify."""
    evidence = _needed(evidence, "evidence", _("Say what was done, and where the proof is."))
    with transaction.atomic():
        measure = _locked_measure(measure)
        _require(p.may_mark_measure_done(by, measure), measure, [M.OPEN], _owner_reason(measure))
        measure.mark_done(by=by, at=timezone.now(), evidence=evidence)
        measure.full_clean(exclude=["report", "conclusion", "owner_institution", "set_by"])
        save_with_history(measure, by=by, reason="done with evidence")
        _clock_stop(measure, by=by, reason="measure done")
        alerts_resolve(subject=measure, step=kinds.MEASURE_DONE, by=by)
        _raise(measure, kind="death.measure_done", priority=Alert.Priority.ROUTINE,
               users=measure_bureau_users(measure.owner_institution),
               title=gettext_noop("%(institution)s has done an improvement measure: verify it (%(reference)s)"),
               body=gettext_noop("%(evidence)s"), extra={"evidence": evidence[:200]})
    return measure


def death_measure_verify(*, measure: ImprovementMeasure, by: Any, note: str = "") -> ImprovementMeasure:
    """The bureau over the owner institution accepts the evidence: the measure is verified, for good."""
    with transaction.atomic():
        measure = _locked_measure(measure)
        _require(p.may_verify_measure(by, measure), measure, [M.DONE], _bureau_reason(measure))
        measure.verify(by=by, at=timezone.now(), note=(note or "").strip())
        measure.full_clean(exclude=["report", "conclusion", "owner_institution", "set_by"])
        save_with_history(measure, by=by, reason="verified by the bureau")
        alerts_resolve(subject=measure, step=kinds.MEASURE_CHECKED, by=by)
        _raise(measure, kind="death.measure_verified", priority=Alert.Priority.ROUTINE,
               users=measure_owner_users(measure.owner_institution) + [measure.set_by],
               title=gettext_noop("Improvement measure of %(institution)s verified (%(reference)s)"))
    return measure


def death_measure_reject(*, measure: ImprovementMeasure, by: Any, reason: str) -> ImprovementMeasure:
    """The bureau rejects the evidence with a reason: the measure is open again and its clock runs (at once
    when its due date has passed)."""
    reason = _needed(reason, "reason", _("Say what the evidence lacks."))
    with transaction.atomic():
        measure = _locked_measure(measure)
        _require(p.may_reject_measure(by, measure), measure, [M.DONE], _bureau_reason(measure))
        measure.reject(by=by, at=timezone.now(), reason=reason)
        measure.full_clean(exclude=["report", "conclusion", "owner_institution", "set_by"])
        save_with_history(measure, by=by, reason=f"evidence rejected: {reason}")
        alerts_resolve(subject=measure, step=kinds.MEASURE_CHECKED, by=by)
        _clock_start(measure)
        _raise(measure, kind="death.measure_rejected", priority=Alert.Priority.URGENT,
               users=measure_owner_users(measure.owner_institution),
               title=gettext_noop("The evidence for an improvement measure of %(institution)s was rejected "
                                  "(%(reference)s)"),
               body=gettext_noop("%(reason)s"), extra={"reason": reason})
    return measure


def death_measure_cancel(*, measure: ImprovementMeasure, by: Any, reason: str) -> ImprovementMeasure:
    """Whoever set an open measure (or an MCH officer of its level) cancels it with a reason."""
    reason = _needed(reason, "reason", _("Say why the measure is cancelled."))
    with transaction.atomic():
        measure = _locked_measure(measure)
        _require(p.may_cancel_measure(by, measure), measure, [M.OPEN],
                 _("Only whoever set this measure, or an MCH officer of its review level, cancels it."))
        measure.cancel(by=by, at=timezone.now(), reason=reason)
        measure.full_clean(exclude=["report", "conclusion", "owner_institution", "set_by"])
        save_with_history(measure, by=by, reason=f"cancelled: {reason}")
        _clock_stop(measure, by=by, reason="measure cancelled")
        alerts_resolve(subject=measure, step=kinds.MEASURE_CANCELLED, by=by)
    return measure


# The steps a page or the API offers on a measure, by name: (permission, service).
MEASURE_STEPS: dict[str, tuple[Callable[[Any, ImprovementMeasure], bool], Callable[..., ImprovementMeasure]]] = {
    "done": (p.can_mark_measure_done, death_measure_mark_done),
    "verify": (p.can_verify_measure, death_measure_verify),
    "reject": (p.can_reject_measure, death_measure_reject),
    "cancel": (p.can_cancel_measure, death_measure_cancel),
}
