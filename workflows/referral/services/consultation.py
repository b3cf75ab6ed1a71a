"""Consultations (会诊): a centre or a named expert asked for advice, answered under the province's deadline;
unanswered, it escalates like a referral. Who may answer or cancel: permissions.py."""

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
    Consultation,
    HighRiskCase,
    Pregnancy,
    Referral,
    Urgency,
)
from cases.rules import settings_for
from notifications import kinds
from notifications.models import Alert, choice_param
from notifications.recipients import to_duty, to_step, to_user
from notifications.services import alert_raise, alerts_close_stale, alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import (
    CLINICAL_ROLES,
    Institution,
    Membership,
    RescueCentre,
)
from organisations.selectors import member_of
from workflows.common import save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.flows import flow_cancel, flow_complete, flow_start
from workflows.referral import permissions
from workflows.referral.services.referral import CONSULTATION_DUE, URGENCY_NAMES, response_minutes  # noqa: F401


def consultation_request(*, pregnancy: Pregnancy, by: Any, from_institution: Institution, mode: str, urgency: str,
                         question: str, to_centre: RescueCentre | None = None, to_expert: Any = None,
                         referral: Referral | None = None) -> Consultation:
    """Ask a centre or a named expert for a remote or on-site consultation, answered under the
    province's deadline for this urgency; unanswered, it escalates like a referral."""
    errors: dict[str, list[str]] = {}
    if mode not in Consultation.Mode.values:
        errors["mode"] = [_("Choose remote or on site.")]
    if urgency not in Urgency.values:
        errors["urgency"] = [_("Choose emergency, urgent or planned.")]
    if not (question or "").strip():
        errors["question"] = [_("Write the question.")]
    if (to_centre is None) == (to_expert is None):
        errors["to_centre"] = [_("Ask either a rescue centre or a named expert.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        if not member_of(user=by, institution=from_institution.pk, roles=CLINICAL_ROLES):
            raise ActionDenied(_("You do not hold a clinical role at %(institution)s.")
                               % {"institution": from_institution.name})
        rules = settings_for(from_institution)
        minutes = int(getattr(rules, f"consultation_response_minutes_{urgency}"))
        consultation = Consultation(
            pregnancy=pregnancy, case=HighRiskCase.objects.filter(pregnancy=pregnancy).first(), referral=referral,
            from_institution=from_institution, requested_by=by, requested_at=now, to_centre=to_centre,
            to_expert=to_expert, mode=mode, urgency=urgency, question=question.strip(),
            response_due_at=now + dt.timedelta(minutes=minutes))
        save_with_history(consultation, by=by, reason="consultation requested")
        flow_start(consultation)
        deadline_create(kind=CONSULTATION_DUE, due_at=consultation.response_due_at, subject=consultation,
                        payload={"level": 1}, reason="consultation response deadline")
        alert_raise(kind="consultation.requested", subject=consultation, link=consultation_link(consultation),
                    priority=Alert.Priority.CRITICAL if urgency == Urgency.EMERGENCY else Alert.Priority.URGENT,
                    title=gettext_noop("Consultation (%(mode)s) asked by %(from)s: %(woman)s"),
                    body=gettext_noop("Answer within %(minutes)s minutes."),
                    params={"mode": choice_param(consultation, "mode"), "from": from_institution.name,
                            "woman": pregnancy.woman.name, "minutes": minutes},
                    to=[to_user(to_expert)] if to_expert is not None else [to_duty(to_centre.institution)],  # type: ignore[union-attr]
                    institution=to_centre.institution if to_centre is not None else from_institution)
    return consultation


def consultation_link(consultation: Consultation) -> str:
    return reverse("referral:consultation", args=[consultation.pk])


def consultation_answer(*, consultation: Consultation, by: Any, answer: str,
                        onsite_eta: dt.datetime | None = None) -> Consultation:
    if not (answer or "").strip():
        raise ValidationError({"answer": _("Write the answer.")})
    with transaction.atomic():
        consultation = Consultation.objects.select_for_update(of=("self",)).select_related(
            "pregnancy__woman", "requested_by", "from_institution").get(pk=consultation.pk)
        if not permissions.may_answer_consultation(by, consultation):
            raise ActionDenied(_("This consultation is not addressed to you."))
        if consultation.state != Consultation.State.REQUESTED:
            raise TransitionConflict(_("Already %(state)s (by %(who)s).") % {
                "state": consultation.get_state_display(), "who": consultation.answered_by or "—"})
        if consultation.mode == Consultation.Mode.ONSITE and onsite_eta is None:
            raise ValidationError({"onsite_eta": _("Say when you will be on site.")})
        consultation.record_answer(by=by, at=timezone.now(), answer=answer.strip(), onsite_eta=onsite_eta)
        save_with_history(consultation, by=by, reason="answered")
        flow_complete(consultation, "answer")
        deadlines_cancel_for(consultation, kind=CONSULTATION_DUE, by=by, reason="answered")
        alerts_resolve(subject=consultation, step=kinds.CONSULTATION_ANSWERED, by=by)
        alert_raise(kind="consultation.answered", subject=consultation, link=consultation_link(consultation),
                    title=gettext_noop("Consultation answered: %(woman)s"), body=gettext_noop("By %(who)s."),
                    params={"woman": consultation.pregnancy.woman.name, "who": str(by)},
                    to=[to_user(consultation.requested_by)], institution=consultation.from_institution)
    return consultation


def consultation_cancel(*, consultation: Consultation, by: Any, reason: str) -> Consultation:
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the consultation is cancelled.")})
    with transaction.atomic():
        consultation = Consultation.objects.select_for_update(of=("self",)).get(pk=consultation.pk)
        if not permissions.may_cancel_consultation(by, consultation):
            raise ActionDenied(_("Only the requesting institution cancels a consultation."))
        if consultation.state != Consultation.State.REQUESTED:
            raise TransitionConflict(_("Already %(state)s.") % {"state": consultation.get_state_display()})
        consultation.cancel(reason=reason.strip())
        save_with_history(consultation, by=by, reason="cancelled")
        flow_cancel(consultation)
        deadlines_cancel_for(consultation, by=by, reason="cancelled")
        alerts_close_stale(subjects=[consultation], reason=Alert.CloseReason.WITHDRAWN, by=by)
    return consultation


@deadline_handler(CONSULTATION_DUE)
def consultation_overdue(deadline: Any) -> None:
    """Unanswered: the centre's deputy (or, for a named expert, the expert's institution's duty doctor),
    then the requesting area's MCH officer — the same path as a referral."""
    consultation = Consultation.objects.select_for_update(of=("self",)).select_related(
        "to_centre__institution", "to_expert", "from_institution__region", "pregnancy__woman").filter(
        pk=deadline.subject_id).first()
    if consultation is None or consultation.state != Consultation.State.REQUESTED:
        return
    level = int(deadline.payload.get("level", 1))
    consultation.escalation_level = level
    save_with_history(consultation, by=None, reason=f"escalated (level {level}): no answer in time")
    if consultation.to_centre is not None:
        host = consultation.to_centre.institution
    else:
        membership = Membership.objects.filter(user=consultation.to_expert, is_active=True).select_related(
            "institution").first()
        host = membership.institution if membership else consultation.from_institution
    params = {"woman": consultation.pregnancy.woman.name, "from": consultation.from_institution.name,
              "host": host.name}
    if level == 1:
        alert_raise(kind="consultation.escalated", priority=Alert.Priority.CRITICAL, subject=consultation,
                    link=consultation_link(consultation), title=gettext_noop("Consultation unanswered: %(woman)s"),
                    body=gettext_noop("Asked by %(from)s; no answer in time."),
                    params=params, to=[to_step("on_call", host)], institution=host)
    else:
        # The requesting area's MCH officer oversees: it cannot answer, so it is told what to do.
        alert_raise(kind="consultation.escalated.oversight", priority=Alert.Priority.URGENT, subject=consultation,
                    link=consultation_link(consultation),
                    title=gettext_noop("For oversight: consultation for %(woman)s unanswered"),
                    body=gettext_noop("Asked by %(from)s of %(host)s; still no answer after the deputy was "
                                      "alerted. You cannot answer it yourself: phone %(host)s and make sure "
                                      "someone answers. This alert closes by itself once it is answered."),
                    params=params, to=[to_step("mch_officer", consultation.from_institution)],
                    institution=consultation.from_institution)
    if level == 1:
        minutes = (consultation.response_due_at - consultation.requested_at).total_seconds() / 60
        deadline_create(kind=CONSULTATION_DUE, due_at=timezone.now() + dt.timedelta(minutes=minutes),
                        subject=consultation, payload={"level": 2}, reason="second escalation")
