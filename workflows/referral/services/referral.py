"""Critical-case referral and rescue (危急重症转诊救治).

Every function is a named step: it checks who may act and from which state, locks the referral row
(``select_for_update`` on PostgreSQL), runs the record's django-fsm transition, writes history with the
user and a reason, completes the referral's viewflow task (the flow takes ``select_for_update_lock``
on its process row), sets or cancels deadlines and raises alerts, all in one transaction. The UI and
the API call these functions and nothing else.

A transition asked from a state that no longer allows it raises ``TransitionConflict`` naming who
acted (409 in the API); a user without the role raises ``ActionDenied`` (403); bad input raises
``ValidationError`` with field errors (400).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    Colour,
    HighRiskCase,
    Pregnancy,
    Referral,
    ReferralAttachment,
    Urgency,
)
from cases.rules import settings_for
from notifications import kinds, push
from notifications.models import Alert, choice_param
from notifications.recipients import on_roster, register_step, role_members, to_duty, to_step, to_user
from notifications.services import alert_raise, alerts_close_stale, alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import (
    CLINICAL_ROLES,
    DutyShift,
    Institution,
    Membership,
    RescueCentre,
    Role,
    User,
)
from organisations.selectors import covering_rescue_centres, member_of, referral_centre_choices
from workflows.common import save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.flows import flow_cancel, flow_complete, flow_start
from workflows.outcomes import pregnancy_end_by_death
from workflows.referral import permissions

RESPONSE_DUE = "referral.response_due"
FEEDBACK_DUE = "referral.feedback_due"
CONSULTATION_DUE = "consultation.response_due"
URGENCY_NAMES = {Urgency.EMERGENCY: gettext_noop("Emergency"), Urgency.URGENT: gettext_noop("Urgent"),
                 Urgency.PLANNED: gettext_noop("Planned")}


def referral_link(referral: Referral) -> str:
    return reverse("referral:detail", args=[referral.pk])


def _shared_diagnosis(referral: Referral) -> str:
    """What alerts and boards may show: never an infectious diagnosis (purple shows as a colour only)."""
    return referral.diagnosis if referral.shows_diagnosis_on_shared_screens else gettext_noop("(purple)")


# Who may act on each step: workflows/referral/permissions.py (one rule per step).


def _locked(referral: Referral) -> Referral:
    # Only relations that no transition changes are joined: on PostgreSQL a row read after waiting for
    # the lock is re-checked, but columns joined from other tables keep the snapshot from before the
    # wait (a competing acceptance's answered_by would read as nobody).
    return Referral.objects.select_for_update(of=("self",)).select_related(
        "from_institution__region", "pregnancy__woman", "requested_by").get(pk=referral.pk)


def _require_after_request(referral: Referral, at: dt.datetime) -> None:
    """A step's time lies between the request and now (a typo such as year 0129 is refused)."""
    if at < referral.requested_at:
        raise ValidationError({"at": _("This time is before the referral was requested.")})


def _board_users(referral: Referral) -> list[Any]:
    institutions = [referral.from_institution_id, referral.to_centre.institution_id]
    if referral.escalated_to_id:
        institutions.append(referral.escalated_to.institution_id)  # type: ignore[union-attr]
    return list(Membership.objects.filter(institution_id__in=institutions, is_active=True,
                                          user__is_active=True).values_list("user_id", flat=True).distinct())


def _board_push(referral: Referral) -> None:
    """After commit, tell the open boards of both sides that this referral changed."""
    users = _board_users(referral)
    pk, state = referral.pk, referral.state
    transaction.on_commit(lambda: push.push_record_changed(users, kind="referral", pk=pk, state=state), robust=True)


def _params(referral: Referral, **extra: Any) -> dict[str, Any]:
    return {"woman": referral.pregnancy.woman.name, "from": referral.from_institution.name,
            "centre": referral.to_centre.institution.name, "urgency": URGENCY_NAMES[Urgency(referral.urgency)],
            "diagnosis": _shared_diagnosis(referral), **extra}


def _notify_sender(referral: Referral, *, kind: str, title: str, body: str, priority: str = Alert.Priority.URGENT,
                   **extra: Any) -> None:
    alert_raise(kind=kind, priority=priority, subject=referral, link=referral_link(referral), title=title, body=body,
                params=_params(referral, **extra), to=[to_user(referral.requested_by)],
                institution=referral.from_institution)


def _notify_centre(referral: Referral, *, kind: str, title: str, body: str, priority: str = Alert.Priority.URGENT,
                   **extra: Any) -> None:
    alert_raise(kind=kind, priority=priority, subject=referral, link=referral_link(referral), title=title, body=body,
                params=_params(referral, **extra), to=[to_duty(referral.to_centre.institution)],
                institution=referral.to_centre.institution)


# --- Choosing the centre ----------------------------------------------------------------------------

def centre_suggestions(institution: Institution, at: dt.datetime | None = None) -> list[Any]:
    """The covering centres lowest sufficient level first, without the sending institution itself."""
    return [c for c in referral_centre_choices(institution=institution, at=at)
            if c.centre.institution_id != institution.pk]


def next_level_centre(centre: RescueCentre) -> RescueCentre | None:
    """The lowest-level active centre above ``centre`` whose responsibility area covers it."""
    above = [c for c in covering_rescue_centres(region_codes={centre.institution.region_id}).select_related(
        "institution") if c.rank > centre.rank and c.pk != centre.pk]
    return min(above, key=lambda c: (c.rank, c.institution.name)) if above else None


def _next_level_duty(institution: Institution, at: dt.datetime) -> list[User]:
    """Alert-chain step "next_level_centre": who is on duty (else the duty doctors) at the centre above
    the one hosted by ``institution``."""
    centre = RescueCentre.objects.filter(institution=institution, is_active=True).select_related(
        "institution__region").first()
    upper = next_level_centre(centre) if centre else None
    if upper is None:
        return []
    return on_roster(upper.institution, DutyShift.Kind.DUTY, at) or role_members(upper.institution, Role.DUTY_DOCTOR)


register_step("next_level_centre", _next_level_duty)


def response_minutes(institution: Institution, urgency: str) -> int:
    rules = settings_for(institution)
    return int(getattr(rules, f"referral_response_minutes_{Urgency(urgency).value}"))


# --- Request, answer, redirect ----------------------------------------------------------------------

VITAL_FIELDS = ("systolic_bp", "diastolic_bp", "pulse", "respiratory_rate", "spo2", "temperature", "consciousness")


def referral_request(*, pregnancy: Pregnancy, by: Any, from_institution: Institution, to_centre: RescueCentre,
                     urgency: str, reason: str, diagnosis: str, vitals: dict[str, Any] | None = None,
                     off_suggestion_reason: str = "", attachments: Iterable[Any] = (),
                     redirected_from: Referral | None = None, now: dt.datetime | None = None) -> Referral:
    """Send a woman to a rescue centre. The centre's duty doctor is alerted at once (critical for an
    emergency) and must answer before the province's response deadline for this urgency."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if urgency not in Urgency.values:
        errors["urgency"] = [_("Choose emergency, urgent or planned.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why she is referred.")]
    if not (diagnosis or "").strip():
        errors["diagnosis"] = [_("Write the diagnosis.")]
    if not to_centre.is_active or not to_centre.institution.is_active:
        errors["to_centre"] = [_("This rescue centre is not active.")]
    elif to_centre.institution_id == from_institution.pk:
        errors["to_centre"] = [_("A woman is referred to another institution than the sending one.")]
    if redirected_from is None and "to_centre" not in errors:
        suggestions = centre_suggestions(from_institution, now)
        if suggestions and suggestions[0].centre.pk != to_centre.pk and not off_suggestion_reason.strip():
            errors["off_suggestion_reason"] = [
                _("%(centre)s is the suggested centre for %(institution)s; say why you choose another.")
                % {"centre": suggestions[0].centre.institution.name, "institution": from_institution.name}]
    referral = Referral(
        pregnancy=pregnancy, case=HighRiskCase.objects.filter(pregnancy=pregnancy).first(),
        from_institution=from_institution, requested_by=by, requested_at=now, to_centre=to_centre,
        off_suggestion_reason=off_suggestion_reason.strip(), redirected_from=redirected_from, urgency=urgency,
        reason=(reason or "").strip(), diagnosis=(diagnosis or "").strip(), colour=pregnancy.colour,
        purple=pregnancy.purple or pregnancy.colour == Colour.PURPLE,
        response_due_at=now, **{k: v for k, v in (vitals or {}).items() if k in VITAL_FIELDS},
    )
    try:
        referral.full_clean(exclude=["response_due_at", "pregnancy", "case", "from_institution", "requested_by",
                                     "to_centre", "redirected_from", "urgency", "reason", "diagnosis", "colour"])
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    attachments = list(attachments)
    for upload in attachments:
        try:
            ReferralAttachment._meta.get_field("file").run_validators(upload)
        except ValidationError as exc:
            errors.setdefault("attachments", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pregnancy = Pregnancy.objects.select_for_update(of=("self",)).select_related("woman").get(pk=pregnancy.pk)
        if not member_of(user=by, institution=from_institution, roles=CLINICAL_ROLES):
            raise ActionDenied(_("You do not hold a clinical role at %(institution)s.")
                               % {"institution": from_institution.name})
        if pregnancy.status not in (Pregnancy.Status.ONGOING, Pregnancy.Status.DELIVERED):
            raise TransitionConflict(_("This pregnancy is closed: %(status)s.")
                                     % {"status": pregnancy.get_status_display()})
        open_one = Referral.objects.filter(pregnancy=pregnancy, state__in=Referral.OPEN_STATES).exclude(
            pk=getattr(redirected_from, "pk", None)).first()
        if open_one is not None:
            raise TransitionConflict(_("She already has an open referral to %(centre)s (%(state)s).")
                                     % {"centre": open_one.to_centre.institution.name,
                                        "state": open_one.get_state_display()})
        minutes = response_minutes(from_institution, urgency)
        referral.pregnancy = pregnancy
        referral.response_due_at = now + dt.timedelta(minutes=minutes)
        save_with_history(referral, by=by, reason="redirected" if redirected_from else "referral requested")
        for upload in attachments:
            _attachment_save(referral, upload, by=by, at=now)
        flow_start(referral)
        deadline_create(kind=RESPONSE_DUE, due_at=referral.response_due_at, subject=referral, payload={"level": 1},
                        reason="referral response deadline")
        emergency = urgency == Urgency.EMERGENCY
        alert_raise(
            kind="referral.requested", subject=referral, link=referral_link(referral),
            priority=Alert.Priority.CRITICAL if emergency else Alert.Priority.URGENT,
            title=gettext_noop("%(urgency)s referral: %(woman)s from %(from)s"),
            body=gettext_noop("%(diagnosis)s. Answer within %(minutes)s minutes: accept, redirect or decline."),
            params=_params(referral, minutes=minutes), to=[to_duty(to_centre.institution)],
            institution=to_centre.institution, now=now)
        _board_push(referral)
    return referral


def _attachment_save(referral: Referral, upload: Any, *, by: Any, at: dt.datetime) -> ReferralAttachment:
    from pathlib import PurePosixPath

    from cases.models import ATTACHMENT_TYPES

    suffix = PurePosixPath(upload.name).suffix.lower()
    attachment = ReferralAttachment(referral=referral, file=upload, name=PurePosixPath(upload.name).name[:200],
                                    content_type=ATTACHMENT_TYPES[suffix], size=upload.size, uploaded_by=by,
                                    uploaded_at=at)
    save_with_history(attachment, by=by, reason="attached")
    return attachment


def referral_attach(*, referral: Referral, by: Any, upload: Any) -> ReferralAttachment:
    """Add a note or image to an open referral (either side)."""
    ReferralAttachment._meta.get_field("file").run_validators(upload)
    with transaction.atomic():
        referral = _locked(referral)
        permissions.check("attach", by, referral)
        attachment = _attachment_save(referral, upload, by=by, at=timezone.now())
    return attachment


def _answered(referral: Referral, *, by: Any) -> None:
    """The centre has answered: its response deadlines stop and the asking alerts close for everyone."""
    deadlines_cancel_for(referral, kind=RESPONSE_DUE, by=by, reason="answered")
    alerts_resolve(subject=referral, step=kinds.REFERRAL_ANSWERED, by=by)


def referral_accept(*, referral: Referral, by: Any, team: str, expected_arrival_at: dt.datetime | None = None) -> Referral:
    """A duty doctor of the receiving centre (or of the next-level centre it was escalated to) accepts,
    naming the receiving team and the expected arrival. Two doctors pressing at once: the row lock lets
    exactly one through; the other is told who accepted."""
    if not (team or "").strip():
        raise ValidationError({"team": _("Name the receiving team.")})
    now = timezone.now()
    if expected_arrival_at is not None and expected_arrival_at < now - dt.timedelta(minutes=5):
        raise ValidationError({"expected_arrival_at": _("The expected arrival cannot be in the past.")})
    with transaction.atomic():
        referral = _locked(referral)
        permissions.check("accept", by, referral)
        # The centre's own duty doctor answers for it; else the escalated centre's.
        centre = referral.to_centre if permissions.is_centre_duty(by, referral) else referral.escalated_to
        assert centre is not None  # the check passed: her centre's duty doctor, or the escalated centre's
        took_over = centre.pk != referral.to_centre_id
        referral.accept(by=by, at=now, team=team.strip(), expected_arrival_at=expected_arrival_at, centre=centre)
        save_with_history(referral, by=by, reason="accepted by the next-level centre" if took_over else "accepted")
        flow_complete(referral, "respond")
        _answered(referral, by=by)
        eta = timezone.localtime(expected_arrival_at).strftime("%H:%M") if expected_arrival_at else "—"
        _notify_sender(referral, kind="referral.accepted", title=gettext_noop("Accepted: %(woman)s → %(centre)s"),
                       body=gettext_noop("Accepted by %(who)s; team %(team)s; expected arrival %(eta)s. "
                                         "Record the departure when she leaves."),
                       priority=Alert.Priority.URGENT if referral.urgency == Urgency.EMERGENCY
                       else Alert.Priority.ROUTINE, who=str(by), team=team.strip(), eta=eta)
        _board_push(referral)
    return referral


def referral_decline(*, referral: Referral, by: Any, reason: str) -> Referral:
    """The centre cannot take her (reason required); the sender must redirect at once."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the referral is declined.")})
    with transaction.atomic():
        referral = _locked(referral)
        permissions.check("decline", by, referral)
        referral.decline(by=by, at=timezone.now(), reason=reason.strip())
        save_with_history(referral, by=by, reason="declined")
        flow_complete(referral, "respond")
        _answered(referral, by=by)
        _notify_sender(referral, kind="referral.declined",
                       priority=Alert.Priority.CRITICAL if referral.urgency == Urgency.EMERGENCY
                       else Alert.Priority.URGENT,
                       title=gettext_noop("Declined: %(woman)s — redirect now"),
                       body=gettext_noop("%(centre)s declined: %(reason)s. Choose another centre."),
                       reason=reason.strip())
        _board_push(referral)
    return referral


def referral_redirect(*, referral: Referral, by: Any, to_centre: RescueCentre, reason: str) -> Referral:
    """Send the referral on to another centre with a reason: by the receiving centre while it is asked, or
    by the sender while waiting or after a decline. The new centre receives a new referral as requested
    (with its own deadline and flow); this one ends as redirected. Returns the new referral."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the referral goes elsewhere.")})
    with transaction.atomic():
        referral = _locked(referral)
        permissions.check("redirect", by, referral)
        centre_side = permissions.is_centre_duty(by, referral)
        if to_centre.pk == referral.to_centre_id:
            raise ValidationError({"to_centre": _("Choose another centre than %(centre)s.")
                                   % {"centre": referral.to_centre.institution.name}})
        was = referral.state
        referral.redirect(by=by, at=timezone.now(), reason=reason.strip())
        save_with_history(referral, by=by, reason="redirected")
        flow_complete(referral, "respond" if was == Referral.State.REQUESTED else "reroute")
        _answered(referral, by=by)
        alerts_resolve(subject=referral, step=kinds.REFERRAL_REROUTED, by=by)
        alerts_close_stale(subjects=[referral], reason=Alert.CloseReason.REFERRAL_REDIRECTED, by=by)
        vitals = {name: getattr(referral, name) for name in VITAL_FIELDS}
        new = referral_request(
            pregnancy=referral.pregnancy, by=referral.requested_by, from_institution=referral.from_institution,
            to_centre=to_centre, urgency=referral.urgency, reason=referral.reason, diagnosis=referral.diagnosis,
            vitals=vitals, redirected_from=referral)
        for attachment in referral.attachments.all():
            ReferralAttachment.objects.create(referral=new, file=attachment.file.name, name=attachment.name,
                                              content_type=attachment.content_type, size=attachment.size,
                                              uploaded_by=attachment.uploaded_by, uploaded_at=attachment.uploaded_at)
        if centre_side:
            _notify_sender(referral, kind="referral.redirected",
                           title=gettext_noop("Redirected: %(woman)s → %(to)s"),
                           body=gettext_noop("%(centre)s sent the referral on to %(to)s: %(reason)s"),
                           to=to_centre.institution.name, reason=reason.strip())
        _board_push(referral)
    return new


# --- After acceptance ------------------------------------------------------------------------------

def referral_depart(*, referral: Referral, by: Any, transport: str, escort: str = "",
                    at: dt.datetime | None = None) -> Referral:
    if transport not in Referral.Transport.values:
        raise ValidationError({"transport": _("Choose how she travels.")})
    at = at or timezone.now()
    if at > timezone.now() + dt.timedelta(minutes=1):
        raise ValidationError({"at": _("The departure time cannot be in the future.")})
    with transaction.atomic():
        referral = _locked(referral)
        permissions.check("depart", by, referral)
        _require_after_request(referral, at)
        referral.depart(at=at, transport=transport, escort=(escort or "").strip())
        save_with_history(referral, by=by, reason="departed")
        flow_complete(referral, "depart")
        alerts_resolve(subject=referral, step=kinds.REFERRAL_DEPARTED, by=by)
        eta = timezone.localtime(referral.expected_arrival_at).strftime("%H:%M") if referral.expected_arrival_at else "—"
        _notify_centre(referral, kind="referral.departed", title=gettext_noop("En route: %(woman)s from %(from)s"),
                       body=gettext_noop("%(transport)s left at %(at)s; expected arrival %(eta)s."),
                       priority=Alert.Priority.URGENT if referral.urgency == Urgency.EMERGENCY
                       else Alert.Priority.ROUTINE,
                       transport=choice_param(referral, "transport"), at=timezone.localtime(at).strftime("%H:%M"),
                       eta=eta)
        _board_push(referral)
    return referral


def referral_arrive(*, referral: Referral, by: Any, at: dt.datetime | None = None) -> Referral:
    at = at or timezone.now()
    if at > timezone.now() + dt.timedelta(minutes=1):
        raise ValidationError({"at": _("The arrival time cannot be in the future.")})
    with transaction.atomic():
        referral = _locked(referral)
        permissions.check("arrive", by, referral)
        _require_after_request(referral, at)
        if referral.departed_at and at < referral.departed_at:
            raise ValidationError({"at": _("She cannot arrive before she left.")})
        was = referral.state
        referral.arrive(at=at)
        save_with_history(referral, by=by, reason="arrived")
        if was == Referral.State.ACCEPTED:
            flow_complete(referral, "depart")
        flow_complete(referral, "arrive")
        alerts_resolve(subject=referral, step=kinds.REFERRAL_ARRIVED, by=by)
        _notify_sender(referral, kind="referral.arrived", priority=Alert.Priority.ROUTINE,
                       title=gettext_noop("Arrived: %(woman)s at %(centre)s"),
                       body=gettext_noop("Arrived at %(at)s."), at=timezone.localtime(at).strftime("%H:%M"))
        _board_push(referral)
    return referral


def referral_start_treatment(*, referral: Referral, by: Any) -> Referral:
    with transaction.atomic():
        referral = _locked(referral)
        permissions.check("start_treatment", by, referral)
        referral.start_treatment(at=timezone.now())
        save_with_history(referral, by=by, reason="treatment started")
        flow_complete(referral, "treat")
        _board_push(referral)
    return referral


def referral_outcome(*, referral: Referral, by: Any, outcome: str, note: str,
                     transferred_to: Institution | None = None, at: dt.datetime | None = None) -> Referral:
    """Recovered and discharged, transferred on (naming where), or died (which records the maternal
    death and starts the death report). The feedback to the sender is then due within the province's
    days."""
    errors = {}
    if outcome not in Referral.Outcome.values:
        errors["outcome"] = [_("Choose the outcome.")]
    if not (note or "").strip():
        errors["note"] = [_("Summarise the course and the outcome.")]
    if outcome == Referral.Outcome.TRANSFERRED and transferred_to is None:
        errors["transferred_to"] = [_("Name where she was transferred.")]
    at = at or timezone.now()
    if at > timezone.now() + dt.timedelta(minutes=1):
        errors["at"] = [_("The outcome time cannot be in the future.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        referral = _locked(referral)
        permissions.check("outcome", by, referral)
        _require_after_request(referral, at)
        days = settings_for(referral.from_institution).referral_feedback_days
        due = at + dt.timedelta(days=days)
        referral.record_outcome(at=at, outcome=outcome, note=note.strip(),
                                transferred_to=transferred_to if outcome == Referral.Outcome.TRANSFERRED else None,
                                feedback_due_at=due)
        save_with_history(referral, by=by, reason=f"outcome: {outcome}")
        flow_complete(referral, "outcome")
        deadline_create(kind=FEEDBACK_DUE, due_at=due, subject=referral, reason="feedback to the sender")
        if outcome == Referral.Outcome.DIED:
            _maternal_death(referral, by=by, at=at, note=note.strip())
        _notify_sender(referral, kind="referral.outcome",
                       priority=Alert.Priority.URGENT if outcome == Referral.Outcome.DIED else Alert.Priority.ROUTINE,
                       title=gettext_noop("Outcome: %(woman)s — %(outcome)s"),
                       body=gettext_noop("%(centre)s recorded the outcome; its feedback follows."),
                       outcome=choice_param(referral, "outcome"))
        _board_push(referral)
    return referral


def _maternal_death(referral: Referral, *, by: Any, at: dt.datetime, note: str) -> None:
    """She died at the centre: the maternal death is recorded on her pregnancy and case (the death-report
    hooks run), and the sending area's MCH officer and bureau and the sending doctor are alerted."""
    pregnancy_end_by_death(pregnancy=referral.pregnancy, by=by, at=at, note=note, source=referral)
    alert_raise(kind="referral.death", priority=Alert.Priority.CRITICAL, subject=referral,
                link=referral_link(referral), title=gettext_noop("Maternal death: %(woman)s"),
                body=gettext_noop("Died at %(centre)s after referral from %(from)s. The death report is due within "
                                  "the legal deadline."),
                params=_params(referral), to=[to_step("mch_officer", referral.from_institution),
                                              to_step("bureau_officer", referral.from_institution),
                                              to_user(referral.requested_by)],
                institution=referral.from_institution)


def referral_feedback(*, referral: Referral, by: Any, summary: str, advice: str) -> Referral:
    """The centre's feedback closes the loop: a summary and advice to the sending institution."""
    errors = {}
    if not (summary or "").strip():
        errors["summary"] = [_("Write the summary for the sending institution.")]
    if not (advice or "").strip():
        errors["advice"] = [_("Write your advice to the sending institution.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        referral = _locked(referral)
        permissions.check("feedback", by, referral)
        referral.give_feedback(at=timezone.now(), summary=summary.strip(), advice=advice.strip())
        save_with_history(referral, by=by, reason="feedback given")
        flow_complete(referral, "feedback")
        deadlines_cancel_for(referral, kind=FEEDBACK_DUE, by=by, reason="feedback given")
        alerts_resolve(subject=referral, step=kinds.REFERRAL_FEEDBACK_GIVEN, by=by)
        alerts_close_stale(subjects=[referral], reason=Alert.CloseReason.REFERRAL_ENDED, by=by)
        _notify_sender(referral, kind="referral.feedback", priority=Alert.Priority.ROUTINE,
                       title=gettext_noop("Feedback from %(centre)s: %(woman)s"),
                       body=gettext_noop("Read the summary and advice on the referral page."))
        _board_push(referral)
    return referral


def referral_cancel(*, referral: Referral, by: Any, reason: str) -> Referral:
    """Either side cancels a referral with a reason, only before she arrives; the other side is told.
    After arrival the referral ends with its outcome (a ``TransitionConflict``, 409 in the API)."""
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the referral is cancelled.")})
    with transaction.atomic():
        referral = _locked(referral)
        permissions.check("cancel", by, referral)
        sender = permissions.is_sender(by, referral)
        referral.cancel(at=timezone.now(), reason=reason.strip())
        save_with_history(referral, by=by, reason="cancelled")
        flow_cancel(referral)
        deadlines_cancel_for(referral, by=by, reason="cancelled")
        alerts_close_stale(subjects=[referral], reason=Alert.CloseReason.REFERRAL_CANCELLED, by=by)
        kwargs = {"kind": "referral.cancelled", "title": gettext_noop("Cancelled: referral of %(woman)s"),
                  "body": gettext_noop("%(reason)s"), "reason": reason.strip()}
        if sender:
            _notify_centre(referral, **kwargs)  # type: ignore[arg-type]
        else:
            _notify_sender(referral, **kwargs)  # type: ignore[arg-type]
        _board_push(referral)
    return referral


# --- Deadlines -------------------------------------------------------------------------------------

@deadline_handler(RESPONSE_DUE)
def referral_response_overdue(deadline: Any) -> None:
    """Unanswered in time. Level 1: a critical alert to the centre's on-call deputy (and the sender is
    told). Level 2, one response window later: the next-level centre's duty doctors (who may then accept
    her themselves) and the bureau; that alert, unacknowledged, escalates up the next-level centre's side
    (its deputy, then its MCH officer and bureau). Each escalation is recorded on the referral."""
    referral = Referral.objects.select_for_update(of=("self",)).select_related(
        "to_centre__institution__region", "from_institution__region", "pregnancy__woman", "requested_by").filter(
        pk=deadline.subject_id).first()
    if referral is None or referral.state != Referral.State.REQUESTED:
        return
    level = int(deadline.payload.get("level", 1))
    now = timezone.now()
    minutes = response_minutes(referral.from_institution, referral.urgency)
    referral.escalation_level = level
    if level == 1:
        save_with_history(referral, by=None, reason="escalated: no answer in time, the deputy is alerted")
        alert_raise(kind="referral.escalated", priority=Alert.Priority.CRITICAL, subject=referral,
                    link=referral_link(referral), title=gettext_noop("No answer: %(urgency)s referral of %(woman)s"),
                    body=gettext_noop("%(centre)s has not answered for %(minutes)s minutes. Answer now."),
                    params=_params(referral, minutes=minutes), to=[to_step("on_call", referral.to_centre.institution)],
                    institution=referral.to_centre.institution, now=now)
        _notify_sender(referral, kind="referral.unanswered", priority=Alert.Priority.URGENT,
                       title=gettext_noop("Still unanswered: %(woman)s → %(centre)s"),
                       body=gettext_noop("The centre's deputy has been alerted. You may redirect to another centre."))
        deadline_create(kind=RESPONSE_DUE, due_at=now + dt.timedelta(minutes=minutes), subject=referral,
                        payload={"level": 2}, reason="second escalation")
    else:
        upper = next_level_centre(referral.to_centre)
        referral.escalated_to = upper
        save_with_history(referral, by=None, reason="escalated: the next-level centre and the bureau are alerted")
        # Those who can act get the critical alert: the next-level centre's duty doctors (who may accept
        # her), else the receiving centre's again. It belongs to that side: unacknowledged, its own chain
        # (on_call, mch_officer, bureau_officer) runs up from there, never back to the sending hospital.
        receiving = upper.institution if upper is not None else referral.to_centre.institution
        elapsed = int((now - referral.requested_at).total_seconds() // 60)
        params = _params(referral, upper=upper.institution.name if upper else referral.to_centre.institution.name,
                         minutes=elapsed, phone=referral.to_centre.duty_phone or "—")
        alert_raise(kind="referral.escalated", priority=Alert.Priority.CRITICAL, subject=referral,
                    link=referral_link(referral),
                    title=gettext_noop("Escalated: %(centre)s has not answered the referral of %(woman)s"),
                    body=gettext_noop("%(urgency)s referral from %(from)s, unanswered for %(minutes)s minutes. "
                                      "%(upper)s may accept her: answer now."),
                    params=params, to=[to_duty(receiving)], institution=receiving, now=now)
        # The sending area's bureau oversees: it cannot answer, so it is told what the alert is for and
        # what it can do. It never escalates; it closes once someone answers.
        alert_raise(kind="referral.escalated.oversight", priority=Alert.Priority.URGENT, subject=referral,
                    link=referral_link(referral),
                    title=gettext_noop("For oversight: %(centre)s has not answered the referral of %(woman)s"),
                    body=gettext_noop("%(urgency)s referral from %(from)s, unanswered for %(minutes)s minutes; "
                                      "%(upper)s has been alerted and may accept her. You cannot answer it "
                                      "yourself: phone %(centre)s (duty phone %(phone)s) if it stays unanswered, "
                                      "and follow it on the referral page. This alert closes by itself once "
                                      "the referral is answered."),
                    params=params, to=[to_step("bureau_officer", referral.from_institution)],
                    institution=referral.from_institution, now=now)
    _board_push(referral)


@deadline_handler(FEEDBACK_DUE)
def referral_feedback_overdue(deadline: Any) -> None:
    referral = Referral.objects.select_related("to_centre__institution", "from_institution", "pregnancy__woman").filter(
        pk=deadline.subject_id).first()
    if referral is None or referral.state != Referral.State.OUTCOME:
        return
    _notify_centre(referral, kind="referral.feedback_overdue",
                   title=gettext_noop("Feedback overdue: %(woman)s"),
                   body=gettext_noop("%(from)s is waiting for the summary and advice on the woman it referred."))
