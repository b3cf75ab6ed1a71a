"""Pages of self-inspection reports: the list (with a form for a new draft), the report page (figures, problems
and the narrative form), the print view and the .docx download. Reads through
``cases.selectors.visible_selfinspection_reports``; writes through ``workflows/selfinspection/services.py``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import SelfInspectionReport
from cases.selectors import visible_selfinspection_reports
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import AccessLog
from organisations.services import access_record
from workflows.forms import apply_errors
from workflows.selfinspection import permissions as p
from workflows.selfinspection import services as svc
from workflows.selfinspection.document import DOCX, report_docx
from workflows.selfinspection.forms import NarrativeForm, NewReportForm
from workflows.selfinspection.kinds import kind_of
from workflows.selfinspection.permissions import may_open
from workflows.selfinspection.report import SYSTEMS

__all__ = ["DENIED", "home", "may_open", "report_detail", "report_docx_download", "report_edit", "report_finalise",
           "report_new", "report_print"]

DENIED = gettext_lazy("Self-inspection reports open to the MCH and bureau officers of an area.")


def _new_form(user: Any, data: Any = None) -> NewReportForm | None:
    regions = p.drafting_regions(user)
    return NewReportForm(data, regions=regions) if regions else None


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    reports = visible_selfinspection_reports(user).select_related("created_by", "finalised_by").order_by(
        "-year", "region_id", "kind")
    return render(request, "selfinspection/home.html", {"reports": reports[:200], "form": _new_form(user)})


@login_required
def report_new(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = _new_form(user, request.POST if request.method == "POST" else None)
    if form is None:
        raise ActionDenied(_("Only the MCH and bureau officers of an area draft its reports."))
    if request.method == "POST" and form.is_valid():
        try:
            report = svc.selfinspection_create(by=user, region=form.cleaned_data["region"],
                                               year=form.cleaned_data["year"], kind=form.cleaned_data["kind"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The draft is made: its figures are computed from the records."))
            return redirect("selfinspection:detail", pk=report.pk)
    reports = visible_selfinspection_reports(user).order_by("-year", "region_id", "kind")
    return render(request, "selfinspection/home.html", {"reports": reports[:200], "form": form},
                  status=422 if form.errors else 200)


def _report_for(request: HttpRequest, pk: Any) -> SelfInspectionReport:
    return get_visible_or_404(visible_selfinspection_reports(request.user).select_related(
        "region", "created_by", "updated_by", "finalised_by"), pk=pk)


def _refusal(report: SelfInspectionReport) -> str:
    if report.is_final:
        return _("This report is finalised: it no longer changes.")
    return _("Only the MCH and bureau officers of %(region)s change its reports.") % {"region": report.region.name}


def _context(report: SelfInspectionReport, user: Any) -> dict[str, Any]:
    content = svc.report_content(report)
    kind = kind_of(report.kind)
    narrative = [{"field": s.field, "title": s.title, "text": getattr(report, s.field)} for s in kind.sections]
    return {"report": report, "content": content, "narrative": narrative, "systems": dict(SYSTEMS),
            "can_edit": p.can_edit(user, report), "can_finalise": p.can_finalise(user, report)}


def _detail(request: HttpRequest, report: SelfInspectionReport, *, form: NarrativeForm | None = None,
            status: int = 200) -> HttpResponse:
    user: Any = request.user
    context = _context(report, user)
    if context["can_edit"] and form is None:
        form = NarrativeForm(report=report)
    return render(request, "selfinspection/detail.html", {**context, "form": form}, status=status)


@login_required
def report_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    return _detail(request, _report_for(request, pk))


@login_required
def report_edit(request: HttpRequest, pk: Any) -> HttpResponse:
    report = _report_for(request, pk)
    user: Any = request.user
    if request.method != "POST":
        return redirect("selfinspection:detail", pk=report.pk)
    if not p.can_edit(user, report):
        raise ActionDenied(_refusal(report))
    form = NarrativeForm(request.POST, report=report)
    if form.is_valid():
        try:
            svc.selfinspection_update(report=report, by=user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The report is saved."))
            return redirect("selfinspection:detail", pk=report.pk)
    return _detail(request, report, form=form, status=422)


@login_required
def report_finalise(request: HttpRequest, pk: Any) -> HttpResponse:
    report = _report_for(request, pk)
    user: Any = request.user
    if request.method != "POST":
        raise Http404(_("Not found."))
    if not p.can_finalise(user, report):
        raise ActionDenied(_refusal(report))
    posted = NarrativeForm(request.POST, report=report) if set(request.POST) & set(NarrativeForm.base_fields) else None
    try:
        if posted is not None:  # the narrative as typed on the page: saved, then finalised
            if not posted.is_valid():
                return _detail(request, report, form=posted, status=422)
            report = svc.selfinspection_update(report=report, by=user, **posted.cleaned_data)
        svc.selfinspection_finalise(report=report, by=user)
    except ValidationError as exc:
        # The narrative as saved, with the finalisation's errors on the sections still to write.
        form = NarrativeForm(data={"measures": report.measures, "problems": report.problems,
                                   "next_steps": report.next_steps}, report=report)
        form.is_valid()
        apply_errors(form, exc)
        return _detail(request, report, form=form, status=422)
    messages.success(request, _("The report is finalised: its figures are frozen as they are now."))
    return redirect("selfinspection:detail", pk=report.pk)


def _log_export(user: Any, report: SelfInspectionReport, what: str) -> None:
    access_record(user=user, action=AccessLog.Action.EXPORT, obj=report,
                  summary=f"自查报告 {report.region.name} {report.year} {what}", region=report.region)


@login_required
def report_print(request: HttpRequest, pk: Any) -> HttpResponse:
    report = _report_for(request, pk)
    user: Any = request.user
    _log_export(user, report, "print")
    return render(request, "selfinspection/print.html", {**_context(report, user), "printed_at": timezone.now()})


@login_required
def report_docx_download(request: HttpRequest, pk: Any) -> HttpResponse:
    report = _report_for(request, pk)
    user: Any = request.user
    _log_export(user, report, "docx")
    body = report_docx(report=report, content=svc.report_content(report))
    response = HttpResponse(body, content_type=DOCX)
    stem = f"selfinspection-{report.region_id}-{report.year}"
    response["Content-Disposition"] = f'attachment; filename="{stem}.docx"'
    return response
