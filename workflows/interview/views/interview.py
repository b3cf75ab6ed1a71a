"""Interview pages (约谈): the desk's and the inbox's sections, a new interview, the interview page with every
party's progress side by side, each step's form, the printable notice and minutes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import Interview, InterviewParty
from cases.selectors import visible_interviews
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import Institution, Membership
from workflows.actions import Action as Step
from workflows.forms import apply_errors
from workflows.interview import forms as f
from workflows.interview import permissions as p
from workflows.interview import services as svc
from workflows.interview.timeline import interview_timeline
from workflows.interview.views.desk import DESK_SECTIONS, INBOX_SECTIONS

__all__ = ["interview_action", "interview_detail", "interview_export", "interview_new", "interview_print",
           "party_action", "party_evidence", "party_evidence_download"]

S, PS = Interview.State, InterviewParty.State


def _parties() -> Prefetch:
    return Prefetch("parties", queryset=InterviewParty.objects.select_related("institution__region").prefetch_related(
        "attachments").order_by("institution__name"))


def _desk(user: Any) -> dict[str, Any]:
    rows = visible_interviews(user).exclude(state=S.DISMISSED).prefetch_related(_parties()).order_by(
        "state", "-proposed_at")
    return {"proposals": [i for i in rows if i.state == S.PROPOSED],
            "open": [i for i in rows if i.state in (S.NOTIFIED, S.HELD)][:100],
            "closed": [i for i in rows if i.state == S.CLOSED][:20],
            "can_new": bool(p.convening_bureaus(user))}


def _inbox(user: Any) -> dict[str, Any]:
    mine = Membership.objects.filter(user=user, is_active=True, role__in=p.PARTY_ROLES).values("institution_id")
    parties = InterviewParty.objects.filter(institution_id__in=mine).exclude(
        interview__state__in=[S.PROPOSED, S.DISMISSED]).select_related("interview__bureau", "institution").order_by(
        "-interview__notified_at")[:100]
    return {"parties": list(parties), "now": timezone.now()}


DESK_SECTIONS.append((gettext_lazy("Interviews convened"), "interview/_desk.html", _desk))
INBOX_SECTIONS.append((gettext_lazy("Interview notices"), "interview/_inbox.html", _inbox))


def _interview_for(request: HttpRequest, pk: Any) -> Interview:
    return get_visible_or_404(visible_interviews(request.user).select_related(
        "bureau__region", "region", "notified_by", "minutes_by", "proposed_by", "escalated_from").prefetch_related(
        _parties()), pk=pk)


def _party_areas(bureau: Institution) -> Any:
    from django.db.models import Q

    region = bureau.region
    return Institution.objects.filter(Q(region__city_id=region.code) | Q(region__province_id=region.code) |
                                      Q(region_id=region.code), is_active=True).exclude(pk=bureau.pk).select_related(
        "region").order_by("region__code", "kind", "name")


@login_required
def interview_new(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    bureaus = p.convening_bureaus(user)
    if not bureaus:
        raise ActionDenied(_("Only bureau officers convene interviews."))
    chosen = next((b for b in bureaus if str(b.pk) == request.POST.get("bureau")), bureaus[0])
    form = f.ProposeForm(request.POST or None, bureaus=bureaus, parties=_party_areas(chosen))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            interview = svc.interview_propose(
                by=user, bureau=data["bureau"], subject=data["subject"], reasons=data["reasons"],
                parties=[(institution, list(data["summoned"]), "") for institution in data["parties"]])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The interview is proposed: issue its notice when ready."))
            return redirect("interview:detail", pk=interview.pk)
    return render(request, "interview/form.html", {"form": form, "title": _("Propose an interview")},
                  status=422 if form.errors else 200)


def _interview_steps() -> dict[str, Step]:
    return {
        "notify": Step("notify", _("Issue the notice"), lambda i, u, **kw: f.NotifyForm(**kw),
                       lambda i, u, d: svc.interview_notify(interview=i, by=u, **d), p.can_notify),
        "dismiss": Step("dismiss", _("Dismiss the proposal"), lambda i, u, **kw: f.ReasonForm(**kw),
                        lambda i, u, d: svc.interview_dismiss(interview=i, by=u, reason=d["reason"]), p.can_dismiss,
                        danger=True),
        "hold": Step("hold", _("Record the minutes"),
                     lambda i, u, **kw: f.HoldForm(parties=list(i.parties.all()), **kw),
                     lambda i, u, d: svc.interview_hold(
                         interview=i, by=u, attendance=d["attendance"], requirements=d["requirements"],
                         expert_advice=d["expert_advice"],
                         statements={k[len("statement_"):]: v for k, v in d.items() if k.startswith("statement_")}),
                     p.can_hold),
    }


def _party_steps() -> dict[str, Step]:
    return {
        "acknowledge": Step("acknowledge", _("Acknowledge the notice"), lambda x, u, **kw: f.EmptyForm(**kw),
                            lambda x, u, d: svc.interview_acknowledge(party=x, by=u), p.can_acknowledge),
        "plan": Step("plan", _("Submit the rectification plan"), lambda x, u, **kw: f.PlanForm(**kw),
                     lambda x, u, d: svc.interview_plan_submit(party=x, by=u, plan=d["plan"]), p.can_submit_plan),
        "accept": Step("accept", _("Accept the plan"), lambda x, u, **kw: f.EmptyForm(**kw),
                       lambda x, u, d: svc.interview_plan_accept(party=x, by=u), p.can_decide_plan),
        "return": Step("return", _("Return the plan"), lambda x, u, **kw: f.ReasonForm(**kw),
                       lambda x, u, d: svc.interview_plan_return(party=x, by=u, reason=d["reason"]),
                       p.can_decide_plan, danger=True),
        "report": Step("report", _("Submit the rectification report"), lambda x, u, **kw: f.ReportForm(**kw),
                       lambda x, u, d: svc.interview_report_submit(party=x, by=u, report=d["report"]),
                       p.can_submit_report),
        "verify": Step("verify", _("Verify the rectification"), lambda x, u, **kw: f.VerifyForm(**kw),
                       lambda x, u, d: svc.interview_verify(party=x, by=u, **d), p.can_verify),
    }


@login_required
def interview_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    interview = _interview_for(request, pk)
    user: Any = request.user
    parties = []
    for party in interview.parties.all():
        party.interview = interview
        parties.append({"party": party, "steps": [s for s in _party_steps().values() if s.allowed(user, party)],
                        "mine": p.answers_for(user, party), "can_attach": p.can_attach_evidence(user, party)})
    return render(request, "interview/detail.html", {
        "interview": interview, "parties": parties, "now": timezone.now(),
        "steps": [s for s in _interview_steps().values() if s.allowed(user, interview)],
        "convener": p.may_convene(user, interview), "timeline": interview_timeline(interview)})


def _run(request: HttpRequest, *, record: Any, interview: Interview, step: Step | None, target: Any) -> HttpResponse:
    user: Any = request.user
    if step is None:
        raise Http404(_("Not found."))
    if not step.allowed(user, record):
        raise ActionDenied(_("This step is not open to you now: it is “%(state)s”.")
                           % {"state": record.get_state_display()})
    form = step.form(record, user, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            step.run(record, user, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Done: %(step)s.") % {"step": step.title})
            return redirect("interview:detail", pk=interview.pk)
    return render(request, "interview/action.html", {"interview": interview, "target": target, "form": form,
                                                     "step": step}, status=422 if form.errors else 200)


@login_required
def interview_action(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    interview = _interview_for(request, pk)
    return _run(request, record=interview, interview=interview, step=_interview_steps().get(action), target=None)


@login_required
def party_action(request: HttpRequest, pk: Any, party_pk: Any, action: str) -> HttpResponse:
    interview = _interview_for(request, pk)
    party = get_visible_or_404(interview.parties.select_related("institution"), pk=party_pk)
    party.interview = interview
    return _run(request, record=party, interview=interview, step=_party_steps().get(action), target=party)


@login_required
def interview_print(request: HttpRequest, pk: Any, document: str) -> HttpResponse:
    """The printable notice (约谈通知书) once issued, or the minutes (约谈记录) once held."""
    interview = _interview_for(request, pk)
    if document not in ("notice", "minutes") or (document == "notice" and not interview.notified_at) or (
            document == "minutes" and not interview.held_at):
        raise Http404(_("Not found."))
    return render(request, "interview/print.html", {"interview": interview, "document": document,
                                                    "parties": list(interview.parties.all()),
                                                    "printed_at": timezone.now()})


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@login_required
def interview_export(request: HttpRequest) -> HttpResponse:
    """The interviews the user may see and each summoned party's progress, as xlsx (logged)."""
    from openpyxl import Workbook

    from organisations.models import AccessLog
    from organisations.services import access_record
    from workflows.export import spreadsheet_safe, xlsx_response

    user: Any = request.user
    if not p.has_desk(user):
        raise ActionDenied(_("Only bureau and MCH officers export interviews."))
    rows = list(visible_interviews(user).prefetch_related(_parties()).order_by("proposed_at", "pk"))
    label = Interview._meta.get_field
    party_label = InterviewParty._meta.get_field
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Interviews convened"))
    sheet.append([str(label(n).verbose_name) for n in (
        "number", "subject", "bureau", "state", "origin", "reasons", "proposed_at", "notified_at", "scheduled_at",
        "place", "held_at", "closed_at", "dismiss_reason")])
    parties = workbook.create_sheet(title=_("Summoned parties"))
    parties.append([str(label("number").verbose_name), *[str(party_label(n).verbose_name) for n in (
        "institution", "state", "acknowledge_due_at", "acknowledged_at", "plan_due_at", "plan_submitted_at",
        "plan_accepted_at", "report_due_at", "report_submitted_at", "method", "verified_at", "escalation")]])
    for i in rows:
        sheet.append([spreadsheet_safe(str(v)) for v in (
            i.number, i.subject, i.bureau.name, i.get_state_display(), i.get_origin_display(), i.reasons,
            _when(i.proposed_at), _when(i.notified_at), _when(i.scheduled_at), i.place, _when(i.held_at),
            _when(i.closed_at), i.dismiss_reason)])
        for party in i.parties.all():
            parties.append([spreadsheet_safe(str(v)) for v in (
                i.number or i.subject, party.institution.name, party.get_state_display(),
                _when(party.acknowledge_due_at), _when(party.acknowledged_at), _when(party.plan_due_at),
                _when(party.plan_submitted_at), _when(party.plan_accepted_at), _when(party.report_due_at),
                _when(party.report_submitted_at), party.get_method_display() if party.method else "",
                _when(party.verified_at), party.escalation)])
    access_record(user=user, action=AccessLog.Action.EXPORT, object_type="cases.interview",
                  summary=_("Interviews export: %(count)s interviews") % {"count": len(rows)})
    return xlsx_response(workbook, stem="interviews")


@login_required
def party_evidence(request: HttpRequest, pk: Any, party_pk: Any) -> HttpResponse:
    """Upload evidence of a party's rectification (POST, several files) and go back to the interview."""
    from workflows.referral.forms import MultipleFileField

    interview = _interview_for(request, pk)
    party = get_visible_or_404(interview.parties.select_related("institution"), pk=party_pk)
    party.interview = interview
    user: Any = request.user
    if request.method != "POST":
        raise Http404(_("Not found."))
    try:
        files = MultipleFileField(required=False).clean(request.FILES.getlist("documents"))
        saved = svc.interview_evidence_attach(party=party, by=user, uploads=files)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("%(count)d document(s) added.") % {"count": len(saved)})
    return redirect("interview:detail", pk=interview.pk)


@login_required
def party_evidence_download(request: HttpRequest, pk: Any, party_pk: Any, file_pk: Any) -> Any:
    from organisations.models import AccessLog
    from organisations.services import access_record
    from workflows.export import stored_file_response

    interview = _interview_for(request, pk)
    party = get_visible_or_404(interview.parties.all(), pk=party_pk)
    attachment = get_visible_or_404(party.attachments.all(), pk=file_pk)
    access_record(user=request.user, action=AccessLog.Action.EXPORT, obj=interview,  # type: ignore[arg-type]
                  summary=f"{attachment._meta.verbose_name} {attachment.name}"[:200], region=interview.region,
                  institution=party.institution)
    return stored_file_response(attachment)
