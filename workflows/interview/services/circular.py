"""Circulars (通报): drafted by a bureau officer, approved by ANOTHER officer of the same bureau (approval
publishes), materialised to a distribution with read receipts and a read reminder; withdrawn with a reason.

Decision: approval and publication are one step (``circular_approve``; ``circular_publish`` is the same
function), so a circular is never approved and then left unpublished.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cases.models import (
    Circular,
    CircularRanking,
    CircularRankingRow,
    CircularRecipient,
    CircularSubject,
)
from cases.rules import province_settings
from notifications import kinds
from notifications.models import Alert
from notifications.recipients import to_user
from notifications.services import alert_raise, alerts_resolve
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Institution, Membership, Region, Role, User
from organisations.scoping import Scope, area_q, region_codes_in_area
from workflows.common import save_with_history
from workflows.deadlines import deadline_create, deadline_handler, deadlines_cancel_for
from workflows.interview import permissions as p
from workflows.interview.figures import FIGURES, ranked
from workflows.interview.services.interview import interview_from_circular

__all__ = [
    "CIRCULAR_READ_REMINDER", "circular_approve", "circular_create", "circular_link", "circular_mark_read",
    "circular_publish", "circular_ranking_attach", "circular_ranking_preview", "circular_ranking_remove", "circular_recipient_institutions",
    "circular_return", "circular_subject_add", "circular_subject_remove", "circular_submit", "circular_update",
    "circular_withdraw", "institutions_in_area",
]

S = Circular.State
CIRCULAR_READ_REMINDER = "circular.read_reminder"
EDITABLE = ("kind", "title", "number", "body", "period_from", "period_to", "distribution")
NO_SCOPE = Scope()


def circular_link(circular: Circular) -> str:
    return reverse("interview:circular", args=[circular.pk])


def _locked(circular: Circular) -> Circular:
    return Circular.objects.select_for_update(of=("self",)).select_related("issuer__region", "region").get(
        pk=circular.pk)


def _require(allowed: bool, circular: Circular, states: Iterable[str], reason: str) -> None:
    if not allowed:
        raise ActionDenied(reason)
    if circular.state not in tuple(states):
        raise TransitionConflict(_("This step is no longer open: the circular is now “%(state)s”.")
                                 % {"state": circular.get_state_display()})


def _issuer_reason(circular: Circular) -> str:
    return _("Only the officers of %(bureau)s act on this circular.") % {"bureau": circular.issuer.name}


def _area(circular: Circular) -> list[tuple[str, str]]:
    return [(circular.region.level, circular.region_id)]


def institutions_in_area(region: Region) -> Any:
    """The active institutions of a bureau's area (its region and everything below)."""
    return Institution.objects.filter(area_q(NO_SCOPE, "region", areas=[(region.level, region.code)]),
                                      is_active=True).select_related("region")


def _in_area(circular: Circular, *, institution: Institution | None = None, region: Region | None = None) -> bool:
    if institution is not None:
        return institutions_in_area(circular.region).filter(pk=institution.pk).exists()
    assert region is not None
    return Region.objects.filter(region_codes_in_area(NO_SCOPE, areas=_area(circular)), pk=region.pk).exists()


def _check_number(*, issuer: Institution, number: str, exclude: Any = None) -> None:
    if not (number or "").strip():
        raise ValidationError({"number": [_("Give the circular's number (文号).")]})
    taken = Circular.objects.filter(issuer=issuer, number=number.strip()).exclude(pk=exclude)
    if taken.exists():
        raise ValidationError({"number": [_("%(bureau)s already has a circular numbered %(number)s.")
                                          % {"bureau": issuer.name, "number": number.strip()}]})


def _check_contents(data: dict[str, Any]) -> None:
    errors: dict[str, list[str]] = {}
    if not (data.get("title") or "").strip():
        errors["title"] = [_("Give the circular a title.")]
    if not (data.get("body") or "").strip():
        errors["body"] = [_("Write the circular's text.")]
    if data.get("kind") not in Circular.Kind.values:
        errors["kind"] = [_("Choose commendation, criticism or information.")]
    start, end = data.get("period_from"), data.get("period_to")
    if start and end and start > end:
        errors["period_to"] = [_("The period ends before it starts.")]
    if errors:
        raise ValidationError(errors)


def _set_named(circular: Circular, named: Iterable[Institution] | None) -> None:
    if named is None:
        return
    named = list(named)
    outside = [i.name for i in named if not _in_area(circular, institution=i)]
    if outside:
        raise ValidationError({"named_recipients": [_("Outside the area of %(bureau)s: %(names)s.")
                                                    % {"bureau": circular.issuer.name, "names": "、".join(outside)}]})
    circular.named_recipients.set(named)


def circular_create(*, issuer: Institution, by: Any, kind: str, title: str, number: str, body: str,
                    period_from: dt.date | None = None, period_to: dt.date | None = None,
                    distribution: str = Circular.Distribution.AREA,
                    named_recipients: Iterable[Institution] | None = None) -> Circular:
    """A new draft of ``issuer`` (a bureau ``by`` is an officer of)."""
    if not p.circular_bureaus(by).filter(pk=issuer.pk).exists():
        raise ActionDenied(_("Only the officers of a health bureau draft its circulars."))
    data = {"kind": kind, "title": title, "body": body, "period_from": period_from, "period_to": period_to}
    _check_contents(data)
    if distribution not in Circular.Distribution.values:
        raise ValidationError({"distribution": [_("Choose a distribution.")]})
    with transaction.atomic():
        _check_number(issuer=issuer, number=number)
        circular = Circular(kind=kind, title=title.strip(), number=number.strip(), body=body, issuer=issuer,
                            region=issuer.region, period_from=period_from, period_to=period_to,
                            distribution=distribution, drafted_by=by, drafted_at=timezone.now())
        try:
            with transaction.atomic():
                save_with_history(circular, by=by, reason="circular drafted")
        except IntegrityError as exc:  # two officers typed the same number at once
            raise ValidationError({"number": [_("%(bureau)s already has a circular numbered %(number)s.")
                                              % {"bureau": issuer.name, "number": number.strip()}]}) from exc
        _set_named(circular, named_recipients)
    return circular


def circular_update(*, circular: Circular, by: Any, data: dict[str, Any]) -> Circular:
    """Change a draft's contents (any of ``EDITABLE`` and ``named_recipients``)."""
    with transaction.atomic():
        circular = _locked(circular)
        _require(p.may_edit_circular(by, circular), circular, [S.DRAFTED], _issuer_reason(circular))
        unknown = set(data) - set(EDITABLE) - {"named_recipients"}
        if unknown:
            raise ValidationError({name: [_("This field cannot be changed here.")] for name in sorted(unknown)})
        for name in EDITABLE:
            if name in data:
                setattr(circular, name, data[name].strip() if isinstance(data[name], str) else data[name])
        _check_contents({name: getattr(circular, name) for name in EDITABLE})
        if circular.distribution not in Circular.Distribution.values:
            raise ValidationError({"distribution": [_("Choose a distribution.")]})
        _check_number(issuer=circular.issuer, number=circular.number, exclude=circular.pk)
        save_with_history(circular, by=by, reason="circular draft changed")
        _set_named(circular, data.get("named_recipients"))
    return circular


def circular_subject_add(*, circular: Circular, by: Any, reason: str, institution: Institution | None = None,
                         region: Region | None = None, evidence: str = "", requires_answer: bool = False,
                         answer_due_on: dt.date | None = None) -> CircularSubject:
    """Name an institution or an area of the bureau's area as a subject of the draft, with the reason."""
    with transaction.atomic():
        circular = _locked(circular)
        _require(p.may_edit_circular(by, circular), circular, [S.DRAFTED], _issuer_reason(circular))
        errors: dict[str, list[str]] = {}
        if (institution is None) == (region is None):
            errors["institution"] = [_("Name one institution or one area.")]
        elif institution is not None and not _in_area(circular, institution=institution):
            errors["institution"] = [_("%(name)s is outside the area of %(bureau)s.")
                                     % {"name": institution.name, "bureau": circular.issuer.name}]
        elif region is not None and not _in_area(circular, region=region):
            errors["region"] = [_("%(name)s is outside the area of %(bureau)s.")
                                % {"name": region.name, "bureau": circular.issuer.name}]
        if not (reason or "").strip():
            errors["reason"] = [_("Give the reason.")]
        if requires_answer and answer_due_on is None:
            errors["answer_due_on"] = [_("Give the date the rectification report is due.")]
        if errors:
            raise ValidationError(errors)
        subject = CircularSubject(circular=circular, institution=institution, region=region, reason=reason.strip(),
                                  evidence=evidence or "", requires_answer=requires_answer,
                                  answer_due_on=answer_due_on if requires_answer else None)
        save_with_history(subject, by=by, reason="subject added")
    return subject


def circular_subject_remove(*, subject: CircularSubject, by: Any) -> Circular:
    with transaction.atomic():
        circular = _locked(subject.circular)
        _require(p.may_edit_circular(by, circular), circular, [S.DRAFTED], _issuer_reason(circular))
        subject._history_user = by  # type: ignore[attr-defined]
        subject._change_reason = "subject removed"  # type: ignore[attr-defined]
        subject.delete()
    return circular


def circular_ranking_preview(*, circular: Circular, figure: str, period_from: dt.date,
                             period_to: dt.date) -> list[tuple[int, Any, Any]]:
    """The ranking as it would be frozen now (nothing stored)."""
    errors: dict[str, list[str]] = {}
    if figure not in FIGURES:
        errors["figure"] = [_("Choose a figure.")]
    if period_from and period_to and period_from > period_to:
        errors["period_to"] = [_("The period ends before it starts.")]
    if errors:
        raise ValidationError(errors)
    return ranked(FIGURES[figure].compute(circular.region, period_from, period_to))


def circular_ranking_attach(*, circular: Circular, by: Any, figure: str, period_from: dt.date,
                            period_to: dt.date) -> CircularRanking:
    """Compute the figure for the bureau's area once and store every row: the circular never changes after."""
    with transaction.atomic():
        circular = _locked(circular)
        _require(p.may_edit_circular(by, circular), circular, [S.DRAFTED], _issuer_reason(circular))
        rows = circular_ranking_preview(circular=circular, figure=figure, period_from=period_from,
                                        period_to=period_to)
        ranking = CircularRanking(circular=circular, figure=figure, label=str(FIGURES[figure].label),
                                  period_from=period_from, period_to=period_to, frozen_at=timezone.now(), frozen_by=by)
        save_with_history(ranking, by=by, reason="ranking frozen")
        for rank, subject, value in rows:
            is_region = isinstance(subject, Region)
            row = CircularRankingRow(ranking=ranking, rank=rank, region=subject if is_region else None,
                                     institution=None if is_region else subject, name=subject.name, value=value)
            save_with_history(row, by=by, reason="ranking frozen")
    return ranking


def circular_ranking_remove(*, ranking: CircularRanking, by: Any) -> Circular:
    """Take a frozen ranking off a draft (to freeze another period, say); history keeps what it held.
    Once the circular is submitted its rankings are part of it and stay."""
    with transaction.atomic():
        circular = _locked(ranking.circular)
        _require(p.may_edit_circular(by, circular), circular, [S.DRAFTED], _issuer_reason(circular))
        for row in ranking.rows.all():
            row._history_user = by  # type: ignore[attr-defined]
            row._change_reason = "ranking removed"  # type: ignore[attr-defined]
            row.delete()
        ranking._history_user = by  # type: ignore[attr-defined]
        ranking._change_reason = "ranking removed"  # type: ignore[attr-defined]
        ranking.delete()
    return circular


def _officers(institution_id: Any, roles: Iterable[str]) -> list[User]:
    ids = Membership.objects.filter(institution_id=institution_id, role__in=list(roles), is_active=True
                                    ).values("user_id")
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("pk"))


def _params(circular: Circular) -> dict[str, Any]:
    return {"number": circular.number, "title": circular.title, "bureau": circular.issuer.name}


def _alert(circular: Circular, *, kind: str, priority: str, users: Iterable[User], title: str, subject: Any = None,
           institution: Institution | None = None, extra: dict[str, Any] | None = None) -> list[Alert]:
    seen = {u.pk: to_user(u) for u in users}
    return alert_raise(kind=kind, priority=priority, subject=subject or circular, link=circular_link(circular),
                       title=title, params={**_params(circular), **(extra or {})}, to=list(seen.values()),
                       institution=institution or circular.issuer)


def circular_submit(*, circular: Circular, by: Any) -> Circular:
    """The draft goes to the bureau's other officers for approval."""
    with transaction.atomic():
        circular = _locked(circular)
        _require(p.may_submit_circular(by, circular), circular, [S.DRAFTED], _issuer_reason(circular))
        circular.submit(by=by, at=timezone.now())
        save_with_history(circular, by=by, reason="submitted for approval")
        others = [u for u in _officers(circular.issuer_id, p.BUREAU_ROLES)
                  if u.pk not in (by.pk, circular.drafted_by_id)]
        _alert(circular, kind="circular.submitted", priority=Alert.Priority.URGENT, users=others,
               title=gettext_noop("Approve or return the circular %(number)s “%(title)s”"))
    return circular


def _four_eyes(by: Any, circular: Circular) -> None:
    if p.is_issuer_officer(by, circular) and not p.may_approve_circular(by, circular):
        raise ActionDenied(_("Four eyes: another officer of %(bureau)s approves or returns this circular, "
                             "not the one who drafted or submitted it.") % {"bureau": circular.issuer.name})


def circular_return(*, circular: Circular, by: Any, reason: str) -> Circular:
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Give the reason.")]})
    with transaction.atomic():
        circular = _locked(circular)
        _four_eyes(by, circular)
        _require(p.may_return_circular(by, circular), circular, [S.AWAITING], _issuer_reason(circular))
        circular.return_to_draft(reason=reason.strip())
        save_with_history(circular, by=by, reason=f"returned: {reason.strip()}")
        alerts_resolve(subject=circular, step=kinds.CIRCULAR_DECIDED, by=by)
        users = [u for u in User.objects.filter(pk__in=[circular.drafted_by_id, circular.submitted_by_id])]
        _alert(circular, kind="circular.returned", priority=Alert.Priority.ROUTINE, users=users,
               title=gettext_noop("The circular %(number)s was returned: %(reason)s"), extra={"reason": reason.strip()})
    return circular


def circular_recipient_institutions(circular: Circular) -> list[Institution]:
    """Whom the distribution names, now: never the issuing bureau itself."""
    dist = Circular.Distribution
    if circular.distribution == dist.NAMED:
        qs = circular.named_recipients.filter(is_active=True)
    else:
        qs = institutions_in_area(circular.region)
        if circular.distribution == dist.LOWER_BUREAUS:
            qs = qs.filter(kind=Institution.Kind.HEALTH_BUREAU)
    return list(qs.exclude(pk=circular.issuer_id).order_by("region_id", "name"))


def _recipient_users(institution: Institution) -> list[User]:
    """An institution's heads and its MCH officers; a bureau's heads and officers."""
    roles = {Role.HEAD, Role.BUREAU_OFFICER} if institution.kind == Institution.Kind.HEALTH_BUREAU else {
        Role.HEAD, Role.MCH_OFFICER}
    return _officers(institution.pk, roles)


def _priority(circular: Circular) -> str:
    return Alert.Priority.URGENT if circular.kind == Circular.Kind.CRITICISE else Alert.Priority.ROUTINE


def circular_approve(*, circular: Circular, by: Any) -> Circular:
    """Another officer of the same bureau approves: the circular is published, its recipients are fixed and
    told, and the read reminder is set."""
    with transaction.atomic():
        circular = _locked(circular)
        _four_eyes(by, circular)
        _require(p.may_approve_circular(by, circular), circular, [S.AWAITING], _issuer_reason(circular))
        if circular.distribution == Circular.Distribution.NAMED and not circular.named_recipients.exists():
            raise ValidationError({"named_recipients": [_("Name at least one institution to send it to.")]})
        now = timezone.now()
        circular.approve(by=by, at=now)
        save_with_history(circular, by=by, reason="approved and published")
        alerts_resolve(subject=circular, step=kinds.CIRCULAR_DECIDED, by=by)
        for institution in circular_recipient_institutions(circular):
            recipient = CircularRecipient(circular=circular, institution=institution)
            save_with_history(recipient, by=by, reason="published to")
            _alert(circular, kind="circular.published", priority=_priority(circular), subject=recipient,
                   institution=institution, users=_recipient_users(institution),
                   title=gettext_noop("%(bureau)s circular %(number)s: %(title)s"))
        rules = province_settings(province_code=circular.region.province_id, on=timezone.localdate(now))
        deadline_create(kind=CIRCULAR_READ_REMINDER, subject=circular,
                        due_at=now + dt.timedelta(days=rules.circular_read_reminder_days),
                        reason="circular read reminder")
        interview_from_circular(circular=circular, by=by)  # criticised institutions that must answer
    return circular


circular_publish = circular_approve


@deadline_handler(CIRCULAR_READ_REMINDER)
def circular_read_reminder_fired(deadline: Any) -> None:
    """Remind the recipients that have not opened the circular (those who read it hear nothing)."""
    circular = Circular.objects.select_related("issuer", "region").filter(pk=deadline.subject_id).first()
    if circular is None or circular.state != S.PUBLISHED:
        return
    for recipient in circular.recipients.filter(read_at__isnull=True).select_related("institution"):
        _alert(circular, kind="circular.unread", priority=_priority(circular), subject=recipient,
               institution=recipient.institution, users=_recipient_users(recipient.institution),
               title=gettext_noop("You have not yet opened the circular %(number)s of %(bureau)s: %(title)s"))


def circular_withdraw(*, circular: Circular, by: Any, reason: str) -> Circular:
    """A published circular is withdrawn with a reason; it stays on record, marked withdrawn."""
    if not (reason or "").strip():
        raise ValidationError({"reason": [_("Give the reason.")]})
    with transaction.atomic():
        circular = _locked(circular)
        _require(p.may_withdraw_circular(by, circular), circular, [S.PUBLISHED], _issuer_reason(circular))
        circular.withdraw(by=by, at=timezone.now(), reason=reason.strip())
        save_with_history(circular, by=by, reason=f"withdrawn: {reason.strip()}")
        deadlines_cancel_for(circular, kind=CIRCULAR_READ_REMINDER, by=by, reason="circular withdrawn")
        for recipient in circular.recipients.all():
            alerts_resolve(subject=recipient, step=kinds.CIRCULAR_WITHDRAWN, by=by)
    return circular


def circular_mark_read(*, circular: Circular, by: Any) -> list[CircularRecipient]:
    """The first member of a recipient institution to open the circular marks it read for the institution."""
    with transaction.atomic():
        circular = _locked(circular)
        _require(p.may_mark_circular_read(by, circular), circular, [S.PUBLISHED],
                 _("Only the institutions this circular went to confirm reading it."))
        marked = []
        rows = CircularRecipient.objects.select_for_update().filter(
            Q(circular=circular), Q(institution_id__in=p.member_institution_ids(by)), Q(read_at__isnull=True))
        for recipient in rows:
            recipient.read_at, recipient.read_by = timezone.now(), by
            save_with_history(recipient, by=by, reason="read")
            alerts_resolve(subject=recipient, step=kinds.CIRCULAR_READ, by=by)
            marked.append(recipient)
    return marked
