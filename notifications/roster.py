"""The duty roster's pages and writes (值班表): who is on duty (值班) and on call (二线备班), gaps, handover.

Who keeps a centre's roster: its duty doctors and the MCH officers whose area contains it. They, and every
doctor who is on the roster, may read it (organisations/selectors.py holds that read side); anyone else who
can see the institution gets a 403 with the reason, and an institution out of scope is a 404. Writes go
through ``shift_create`` and ``shift_handover``: one transaction each, with history (user and reason) and
alerts to the people concerned, which is why the roster lives with the alerts. The pages keep their
addresses under /organisations/roster/ (project/urls.py mounts ``RosterApp`` there).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from django.views.decorators.http import require_POST

from notifications.recipients import to_user
from notifications.services import alert_raise, roster_gap_resolve
from organisations.forms import apply_errors, datetime_local_field
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import DutyShift, Institution, User
from organisations.selectors import (
    DEFAULT_DAYS,
    HANDOVER_GRACE,
    MAX_DAYS,
    RosterView,
    incoming_shift,
    roster_editable_institutions,
    roster_institutions,
    roster_staff,
    roster_view,
    visible_duty_shifts,
    visible_institutions,
)
from organisations.shell import AnmuApplication

SHIFT_TITLES = {
    DutyShift.Kind.DUTY: gettext_noop("You are on duty at %(institution)s: %(starts)s – %(ends)s"),
    DutyShift.Kind.ON_CALL: gettext_noop("You are on call (deputy) at %(institution)s: %(starts)s – %(ends)s"),
}
SHIFT_BODY = gettext_noop("Put on the roster by %(by)s.")
HANDOVER_TITLE = gettext_noop("Handover note from %(doctor)s, %(institution)s")
HANDOVER_BODY = gettext_noop("Your shift starts %(starts)s. %(note)s")


def _when(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _deny_edit() -> ActionDenied:
    return ActionDenied(_("Only the duty doctors of this rescue centre and the MCH officers of its area "
                          "may change its duty roster."))


def _deny_view() -> ActionDenied:
    return ActionDenied(_("Only the duty doctors of this rescue centre, the MCH officers of its area and "
                          "the doctors on its roster may see its duty roster."))


# --- Services ------------------------------------------------------------------------------------------


def shift_create(
    *,
    institution: Institution,
    user: User,
    kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    by: Any,
    reason: str,
    now: dt.datetime | None = None,
) -> DutyShift:
    """Put ``user`` on ``institution``'s roster, and tell them (unless they did it themselves).

    Refused (ActionDenied) unless ``by`` keeps this roster; invalid shifts raise ValidationError with
    field messages: staff only, ends after it starts, at most 72 hours, not already over, and no
    overlap with the same person's other shifts here.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # One roster change of a centre at a time (PostgreSQL); SQLite's IMMEDIATE transactions serialise anyway.
        institution = Institution.objects.select_for_update().get(pk=institution.pk)
        if not roster_editable_institutions(by).filter(pk=institution.pk).exists():
            raise _deny_edit()
        if not roster_staff(institution).filter(pk=user.pk).exists():
            raise ValidationError({"user": _("Only duty doctors and obstetricians of this institution can be "
                                             "on its roster.")})
        shift = DutyShift(institution=institution, user=user, kind=kind, starts_at=starts_at, ends_at=ends_at)
        shift.full_clean()
        if ends_at <= now:
            raise ValidationError({"ends_at": _("This shift would already be over.")})
        clash = DutyShift.objects.filter(institution=institution, user=user, starts_at__lt=ends_at,
                                         ends_at__gt=starts_at).order_by("starts_at").first()
        if clash is not None:
            raise ValidationError({"starts_at": _("%(name)s is already on this roster from %(starts)s to %(ends)s.")
                                   % {"name": user, "starts": _when(clash.starts_at), "ends": _when(clash.ends_at)}})
        shift._history_user = by  # type: ignore[attr-defined]
        shift._change_reason = reason  # type: ignore[attr-defined]
        shift.save()
        if kind == DutyShift.Kind.DUTY and starts_at <= now < ends_at:
            # Someone is on duty now: the "nobody on duty" alert is dealt with.
            roster_gap_resolve(institution=institution, by=by)
        if user.pk != by.pk:
            alert_raise(
                kind="roster.shift",
                title=SHIFT_TITLES[DutyShift.Kind(kind)],
                body=SHIFT_BODY,
                params={"institution": institution.name, "starts": _when(starts_at), "ends": _when(ends_at),
                        "by": str(by)},
                to=[to_user(user)],
                subject=shift,
                link=reverse("roster:detail", args=[institution.pk]),
                institution=institution,
                now=now,
            )
    return shift


def shift_handover(*, shift: DutyShift, by: Any, note: str, now: dt.datetime | None = None) -> DutyShift:
    """The outgoing doctor writes (or corrects) what the next shift must know; the incoming doctor is alerted."""
    now = now or timezone.now()
    note = (note or "").strip()
    with transaction.atomic():
        shift = DutyShift.objects.select_for_update().select_related("institution", "user").get(pk=shift.pk)
        if shift.user_id != getattr(by, "pk", None):
            raise ActionDenied(_("Only the doctor of this shift writes its handover note."))
        if not shift.starts_at <= now <= shift.ends_at + HANDOVER_GRACE:
            raise ActionDenied(_("The handover note is written during the shift or within 12 hours after it ends."))
        if not note:
            raise ValidationError({"note": _("Write what the next shift must know.")})
        shift.handover_note = note
        shift.handover_at = now
        shift._history_user = by  # type: ignore[attr-defined]
        shift._change_reason = "handover"  # type: ignore[attr-defined]
        shift.save(update_fields=["handover_note", "handover_at"])
        incoming = incoming_shift(shift)
        if incoming is not None:
            alert_raise(
                kind="roster.handover",
                title=HANDOVER_TITLE,
                body=HANDOVER_BODY,
                params={"doctor": str(shift.user), "institution": shift.institution.name,
                        "starts": _when(incoming.starts_at), "note": note},
                priority="urgent",
                to=[to_user(incoming.user)],
                subject=shift,
                link=reverse("roster:detail", args=[shift.institution_id]),
                institution=shift.institution,
                now=now,
            )
    return shift


# --- Forms ---------------------------------------------------------------------------------------------


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} ({obj.username})"


class ShiftForm(forms.Form):
    user = StaffChoiceField(queryset=User.objects.none(), label=gettext_lazy("Doctor"))
    kind = forms.ChoiceField(choices=DutyShift.Kind.choices, label=gettext_lazy("Kind"))
    starts_at = datetime_local_field(gettext_lazy("Starts"))
    ends_at = datetime_local_field(gettext_lazy("Ends"))
    reason = forms.CharField(label=gettext_lazy("Reason (kept in the history)"), max_length=100, required=False)

    def __init__(self, *args: Any, institution: Institution, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = roster_staff(institution)  # type: ignore[attr-defined]


class HandoverForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Handover note"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 5}),
                           help_text=gettext_lazy("Women in the centre, referrals on the way, beds, equipment."))


# --- Pages ---------------------------------------------------------------------------------------------


def _centre_or_404(request: HttpRequest, pk: Any) -> Institution:
    return get_visible_or_404(visible_institutions(request.user).filter(rescue_centre__isnull=False), pk=pk)


def _days(request: HttpRequest) -> int:
    try:
        return min(max(int(request.GET.get("days", DEFAULT_DAYS)), 1), MAX_DAYS)
    except ValueError:
        return DEFAULT_DAYS


def _suggested_shift(view: RosterView) -> dict[str, Any]:
    """Prefill the form with the first gap (or the end of the roster), a 24-hour shift from 08:00 style."""
    if view.gaps:
        start = view.gaps[0].starts_at
        if start <= view.now:  # a gap now: from the next full hour
            start = (timezone.localtime(view.now) + dt.timedelta(hours=1)).replace(minute=0, second=0,
                                                                                     microsecond=0)
    else:
        start = max(r.ends_at for r in view.rows if r.shift is not None and r.shift.kind == DutyShift.Kind.DUTY)
    start = timezone.localtime(start)
    return {"kind": DutyShift.Kind.DUTY, "starts_at": start, "ends_at": start + dt.timedelta(hours=24)}


def _handover_shift(user: Any, institution: Institution, now: dt.datetime) -> DutyShift | None:
    """The viewer's shift here whose handover note they may write now (the latest one)."""
    return (DutyShift.objects.filter(institution=institution, user=user, starts_at__lte=now,
                                     ends_at__gte=now - HANDOVER_GRACE)
            .order_by("-starts_at").first())


def _render_roster(request: HttpRequest, institution: Institution, *, shift_form: ShiftForm | None = None,
                   handover_form: HandoverForm | None = None, status: int = 200) -> HttpResponse:
    user: Any = request.user
    now = timezone.now()
    days = _days(request)
    view = roster_view(institution=institution, now=now, days=days)
    can_edit = roster_editable_institutions(user).filter(pk=institution.pk).exists()
    if can_edit and shift_form is None:
        shift_form = ShiftForm(institution=institution, initial=_suggested_shift(view))
    mine = _handover_shift(user, institution, now)
    if mine is not None and handover_form is None:
        handover_form = HandoverForm(initial={"note": mine.handover_note})
    return render(request, "organisations/roster.html", {
        "roster": view,
        "institution": institution,
        "days": days,
        "can_edit": can_edit,
        "shift_form": shift_form if can_edit else None,
        "handover_shift": mine,
        "handover_incoming": incoming_shift(mine) if mine is not None else None,
        "handover_form": handover_form if mine is not None else None,
    }, status=status)


@login_required
def roster_index(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    now = timezone.now()
    institutions = list(roster_institutions(user, now=now).select_related("region", "rescue_centre"))
    if not institutions:
        raise ActionDenied(_("Duty rosters are kept by the duty doctors of rescue centres and the MCH officers "
                             "of their area."))
    if len(institutions) == 1:
        return redirect("roster:detail", institutions[0].pk)
    views = [roster_view(institution=i, now=now, days=1) for i in institutions]
    return render(request, "organisations/roster_index.html", {"rosters": views})


@login_required
def roster_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    institution = _centre_or_404(request, pk)
    if not roster_institutions(request.user).filter(pk=institution.pk).exists():
        raise _deny_view()
    return _render_roster(request, institution)


@login_required
@require_POST
def roster_shift_add(request: HttpRequest, pk: Any) -> HttpResponse:
    user: Any = request.user
    institution = _centre_or_404(request, pk)
    if not roster_editable_institutions(user).filter(pk=institution.pk).exists():
        raise _deny_edit()
    form = ShiftForm(request.POST, institution=institution)
    if form.is_valid():
        data = form.cleaned_data
        try:
            shift = shift_create(institution=institution, user=data["user"], kind=data["kind"],
                                 starts_at=data["starts_at"], ends_at=data["ends_at"], by=user,
                                 reason=data["reason"] or "roster page")
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("%(name)s is on the roster from %(starts)s to %(ends)s.") % {
                "name": shift.user, "starts": _when(shift.starts_at), "ends": _when(shift.ends_at)})
            return redirect("roster:detail", institution.pk)
    return _render_roster(request, institution, shift_form=form)


@login_required
@require_POST
def roster_handover(request: HttpRequest, pk: Any, shift_pk: Any) -> HttpResponse:
    user: Any = request.user
    institution = _centre_or_404(request, pk)
    shift = get_visible_or_404(visible_duty_shifts(user).filter(institution=institution), pk=shift_pk)
    form = HandoverForm(request.POST)
    if form.is_valid():
        try:
            shift = shift_handover(shift=shift, by=user, note=form.cleaned_data["note"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            incoming = incoming_shift(shift)
            if incoming is not None:
                messages.success(request, _("Handover note saved; %(name)s was alerted.") % {"name": incoming.user})
            else:
                messages.warning(request, _("Handover note saved. Nobody is on the roster right after this shift: "
                                            "the note waits on this page."))
            return redirect("roster:detail", institution.pk)
    return _render_roster(request, institution, handover_form=form)


def may_open_roster(user: Any) -> bool:
    """Keepers and readers of a roster by role, and the doctors on one."""
    return bool(user.is_authenticated and (user.has_perm("organisations.view_dutyshift")
                                           or DutyShift.objects.filter(user=user).exists()))


class RosterApp(AnmuApplication):
    title = gettext_lazy("Duty roster")
    icon = "event_available"
    app_name = "roster"
    menu_template_name = "notifications/roster_menu.html"
    permission = staticmethod(may_open_roster)
    denied_reason = gettext_lazy("Duty rosters are kept by the duty doctors of rescue centres and the MCH officers "
                                 "of their area.")

    index_path = path("", roster_index, name="index")
    detail_path = path("<uuid:pk>/", roster_detail, name="detail")
    shift_add_path = path("<uuid:pk>/shifts/", roster_shift_add, name="shift_add")
    handover_path = path("<uuid:pk>/shifts/<uuid:shift_pk>/handover/", roster_handover, name="handover")
