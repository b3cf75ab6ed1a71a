"""How a case ends: delivery, postpartum follow-up, closure (and reopening), a maternal death; and the
cases a departed doctor leaves behind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    Assessment,
    Delivery,
    FollowUpVisit,
    HighRiskCase,
    Pregnancy,
)
from notifications.models import Alert
from notifications.recipients import to_step
from notifications.services import alert_raise, alerts_close_stale
from organisations.http import ActionDenied
from organisations.models import (
    OBSTETRIC_ROLES,
    Institution,
    Membership,
)
from workflows.common import save_with_history
from workflows.deadlines import deadlines_cancel_for
from workflows.highrisk import permissions
from workflows.highrisk.services.base import VISIT_MISSED, _locked, case_link
from workflows.highrisk.services.followup import followup_schedule
from workflows.highrisk.services.transfer import _pending_transfers_withdraw
from workflows.outcomes import case_alert_subjects, pregnancy_end_by_death
from workflows.routine import services as routine
from workflows.routine.services import BabyData


def case_record_delivery(
    *, case: HighRiskCase, by: Any, delivered_at: dt.datetime, place: str, institution: Institution | None,
    mode: str, caesarean_indication: str = "", gestational_weeks: int | None = None,
    gestational_days: int | None = None, babies: Sequence[BabyData] | None = None, live_births: int | None = None,
    stillbirths: int | None = None, outcome: str = "",
) -> HighRiskCase:
    """The case's delivery step: the pregnancy's one Delivery record (workflows/routine), recorded by the case's
    doctors; the delivery hook (:func:`case_on_delivery`) moves the case on, as it does for a delivery recorded
    on the pregnancy page."""
    with transaction.atomic():
        # Pregnancy first, then the case: the order delivery_record and its hook lock them in.
        Pregnancy.objects.select_for_update(of=("self",)).get(pk=case.pregnancy_id)
        case = _locked(case)
        permissions.check("delivery", by, case)
        routine.delivery_record(
            pregnancy=case.pregnancy, by=by, delivered_at=delivered_at, place=place, institution=institution,
            mode=mode, caesarean_indication=caesarean_indication, gestational_weeks=gestational_weeks,
            gestational_days=gestational_days, babies=babies, live_births=live_births, stillbirths=stillbirths,
            outcome=outcome)
        case = HighRiskCase.objects.get(pk=case.pk)
    return case


def case_on_delivery(*, pregnancy: Pregnancy, delivery: Delivery, by: Any) -> HighRiskCase | None:
    """Her open case moves on to delivered when her delivery is recorded, wherever it is recorded (a reaction to
    ``workflows.routine.services.DELIVERY_HOOKS``, registered in ``workflows/apps.py``)."""
    case = HighRiskCase.objects.select_for_update(of=("self",)).filter(pregnancy=pregnancy).first()
    if case is not None and case.state in HighRiskCase.DELIVERABLE_STATES:
        case.record_delivery()
        save_with_history(case, by=by, reason="delivered")
    return case


def case_delivered_on(case: HighRiskCase) -> dt.date | None:
    """The day of her delivery (China time), from the pregnancy's Delivery record."""
    return Delivery.objects.filter(pregnancy_id=case.pregnancy_id).values_list("delivered_on", flat=True).first()


def case_start_postpartum(*, case: HighRiskCase, by: Any) -> HighRiskCase:
    with transaction.atomic():
        case = _locked(case)
        permissions.check("postpartum", by, case)
        case.start_postpartum()
        save_with_history(case, by=by, reason="postpartum follow-up")
        followup_schedule(case=case, by=by, after=case_delivered_on(case) or timezone.localdate())
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
