"""Review-panel pages (评审会): the meetings of the user's levels, a new meeting, the meeting page (agenda,
each death's conclusion or its form, near-miss cases, members' opinions, finalising the minutes), the
conclusion form with the 12-cell table and the three delays, and the printable minutes.

Reads go through ``visible_review_meetings`` / ``visible_death_reports``; changes through the services
of ``workflows/death/services/panels.py`` and ``death_report_conclude``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cases.models import DeathReport, DeathReviewConclusion, ReviewMeeting
from cases.selectors import visible_death_reports, visible_near_misses, visible_review_meetings
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import AccessLog, Membership, User
from organisations.services import access_record
from workflows.death import forms as f
from workflows.death import permissions as p
from workflows.death import services as ds
from workflows.forms import apply_errors


def _meeting_for(request: HttpRequest, pk: Any) -> ReviewMeeting:
    return get_visible_or_404(visible_review_meetings(request.user).select_related(
        "region", "chair", "created_by", "finalised_by"), pk=pk)


def eligible_people(regions: list[Any]) -> Any:
    """Who may sit on the panels of ``regions``: their expert reviewers and MCH officers."""
    ids = Membership.objects.filter(role__in=list(p.REVIEWER_ROLES), is_active=True, institution__is_active=True,
                                    institution__region__in=regions).values("user_id")
    return User.objects.filter(pk__in=ids, is_active=True).order_by("name", "pk")


def _agenda_choices(meeting: ReviewMeeting, user: Any) -> tuple[Any, Any]:
    state = DeathReport.REVIEW_STATES[meeting.level]
    waiting = visible_death_reports(user).filter(state=state).exclude(pk__in=meeting.reports.values("pk"))
    reports = [r.pk for r in waiting if p.level_region_code(r, meeting.level) == meeting.region_id]
    field = {"county": "institution__region_id", "city": "institution__region__city_id",
             "province": "institution__region__province_id"}[meeting.level]
    near = visible_near_misses(user).filter(**{field: meeting.region_id}).exclude(
        pk__in=meeting.near_misses.values("pk")).exclude(criteria=[])
    return (DeathReport.objects.filter(pk__in=reports).select_related("woman", "reporting_institution"),
            near.order_by("-recorded_at"))


def _agenda(meeting: ReviewMeeting, user: Any) -> list[dict[str, Any]]:
    conclusions = {c.report_id: c for c in DeathReviewConclusion.objects.filter(
        report__in=meeting.reports.all(), level=meeting.level).select_related("concluded_by", "meeting")
        .prefetch_related("opinions__member")}
    rows = []
    for report in meeting.reports.select_related("woman", "reporting_institution", "region").order_by("died_at"):
        conclusion = conclusions.get(report.pk)
        mine = None
        if conclusion is not None and conclusion.meeting_id == meeting.pk:
            mine = next((o for o in conclusion.opinions.all() if o.member_id == user.pk), None)
        rows.append({"report": report, "conclusion": conclusion,
                     "in_meeting": conclusion is not None and conclusion.meeting_id == meeting.pk,
                     "can_conclude": conclusion is None and p.can_conclude_in_meeting(user, meeting, report),
                     "can_opine": conclusion is not None and conclusion.meeting_id == meeting.pk
                     and meeting.is_open and meeting.members.filter(pk=user.pk).exists(),
                     "my_opinion": mine,
                     "can_remove": conclusion is None and p.can_manage_meeting(user, meeting)})
    return rows


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    meetings = visible_review_meetings(user)
    return render(request, "death/meeting_list.html", {
        "meetings": list(meetings.prefetch_related("reports", "near_misses", "members").order_by(
            "-held_on", "-created_at")[:200]),
        "can_create": bool(p.meeting_regions(user))})


@login_required
def meeting_new(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    regions = [r for r in p.meeting_regions(user) if p.can_create_meeting(user, r)]
    if not regions:
        raise ActionDenied(_("Only an MCH officer of a county, a city or a province calls a review meeting."))
    form = f.MeetingForm(request.POST or None, regions=regions, people=eligible_people(regions),
                         initial={"held_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = ds.death_meeting_create(region=data["region"], held_on=data["held_on"], place=data["place"],
                                              chair=data["chair"], members=list(data["members"]),
                                              notes=data["notes"], by=user)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The meeting is called; its members are told."))
            return redirect("death:meeting", pk=meeting.pk)
    return render(request, "death/meeting_new.html", {"form": form}, status=422 if form.errors else 200)


def _detail_context(meeting: ReviewMeeting, user: Any, **extra: Any) -> dict[str, Any]:
    manage = p.can_manage_meeting(user, meeting)
    context: dict[str, Any] = {
        "meeting": meeting, "members": list(meeting.members.order_by("name", "pk")),
        "agenda": _agenda(meeting, user),
        "near_misses": list(meeting.near_misses.select_related("pregnancy__woman", "institution")),
        "can_manage": manage, "opinion_form": f.OpinionForm(), "finalise_form": f.FinaliseForm(
            initial={"notes": meeting.notes})}
    if manage:
        reports, near = _agenda_choices(meeting, user)
        context["agenda_form"] = f.AgendaForm(reports=reports, near_misses=near)
    context.update(extra)
    return context


@login_required
def meeting_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    meeting = _meeting_for(request, pk)
    return render(request, "death/meeting_detail.html", _detail_context(meeting, request.user))


@login_required
@require_POST
def meeting_action(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    """The meeting page's buttons: put a case on the agenda or take it off, give an opinion, finalise."""
    meeting = _meeting_for(request, pk)
    user: Any = request.user
    form: Any
    try:
        if action in ("add", "remove"):
            reports, near = _agenda_choices(meeting, user)
            if action == "remove":
                reports, near = meeting.reports.all(), meeting.near_misses.all()
            form = f.AgendaForm(request.POST, reports=reports, near_misses=near)
            if not form.is_valid():
                raise ValidationError(form.errors.as_data())
            run = ds.death_meeting_add_case if action == "add" else ds.death_meeting_remove_case
            run(meeting=meeting, by=user, report=form.cleaned_data["report"],
                near_miss=form.cleaned_data["near_miss"])
        elif action == "opinion":
            form = f.OpinionForm(request.POST)
            conclusion = get_visible_or_404(DeathReviewConclusion.objects.filter(meeting=meeting),
                                            pk=request.POST.get("conclusion"))
            if not form.is_valid():
                raise ValidationError(form.errors.as_data())
            ds.death_meeting_record_opinion(conclusion=conclusion, member=user, by=user,
                                            agrees=form.cleaned_data["agrees"], dissent=form.cleaned_data["dissent"])
        elif action == "finalise":
            form = f.FinaliseForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors.as_data())
            ds.death_meeting_finalise(meeting=meeting, by=user, notes=form.cleaned_data["notes"])
        else:
            raise Http404(_("Not found."))
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        text = "；".join(str(m) for msgs in errors.values() for m in msgs)
        messages.error(request, text)
        return render(request, "death/meeting_detail.html", _detail_context(meeting, user, action_error=text),
                      status=422)
    messages.success(request, _("Done."))
    return redirect("death:meeting", pk=meeting.pk)


@login_required
def meeting_conclude(request: HttpRequest, pk: Any, report_pk: Any) -> HttpResponse:
    """A death on the agenda: the panel's conclusion with the 12-cell table, the three delays and every
    member's agreement or dissent."""
    meeting = _meeting_for(request, pk)
    user: Any = request.user
    report = get_visible_or_404(visible_death_reports(user).filter(pk__in=meeting.reports.values("pk")).select_related(
        "woman", "reporting_institution", "region"), pk=report_pk)
    if not p.can_conclude_in_meeting(user, meeting, report):
        raise ActionDenied(_("This conclusion is not open to you now: the report is %(state)s.")
                           % {"state": report.get_state_display()})
    members = list(meeting.members.order_by("name", "pk"))
    initial = {"underlying_cause": report.underlying_cause, "icd10": report.icd10, "cause_class": report.cause_class,
               "icd_mm_group": report.icd_mm_group}
    form = f.ConclusionForm(request.POST or None, members=members, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            ds.death_report_conclude(report=report, by=user, meeting=meeting, **form.service_kwargs())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The panel's conclusion is recorded."))
            return redirect("death:meeting", pk=meeting.pk)
    return render(request, "death/meeting_conclude.html", {
        "meeting": meeting, "report": report, "form": form, "icd10": f.icd10_choices(),
        "conclusions": report.conclusions.select_related("concluded_by")}, status=422 if form.errors else 200)


@login_required
def meeting_minutes(request: HttpRequest, pk: Any) -> HttpResponse:
    """The printable minutes (评审会纪要): logged as an export."""
    meeting = _meeting_for(request, pk)
    user: Any = request.user
    access_record(user=user, action=AccessLog.Action.EXPORT, obj=meeting,
                  summary=f"孕产妇死亡评审会纪要 {meeting.region.name} {meeting.held_on:%Y-%m-%d}", region=meeting.region)
    return render(request, "death/meeting_minutes.html", {
        "meeting": meeting, "members": list(meeting.members.order_by("name", "pk")),
        "agenda": _agenda(meeting, user),
        "near_misses": list(meeting.near_misses.select_related("pregnancy__woman", "institution")),
        "printed_at": timezone.now()})
