"""Transfer of a case to another institution: requested, answered by the receiving institution's doctors
(its flow task), withdrawn."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    COLOUR_NAMES,
    CaseTransfer,
    Colour,
    HighRiskCase,
)
from notifications import kinds
from notifications.models import Alert
from notifications.recipients import to_role, to_user
from notifications.services import alert_raise, alerts_close_stale, alerts_resolve
from organisations.http import TransitionConflict
from organisations.models import (
    OBSTETRIC_ROLES,
    Institution,
    Membership,
    Role,
)
from workflows.common import require_member, save_with_history
from workflows.flows import flow_cancel, flow_complete, flow_start
from workflows.highrisk import permissions
from workflows.highrisk.services.base import _locked, case_link


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
