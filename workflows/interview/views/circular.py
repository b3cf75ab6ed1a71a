"""Pages of circulars (通报): the desk's and the inbox's sections, the circular page (opening it marks it read
for the reader's institution), the draft form, subjects, the ranking (preview, then freeze), each step's form,
the printable version and the bureau's xlsx export. Reads through ``visible_circulars``; writes through
``workflows/interview/services/circular.py``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import Circular, CircularRecipient
from cases.selectors import visible_circulars
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import AccessLog
from organisations.services import access_record
from workflows.actions import Action as Step
from workflows.export import spreadsheet_safe, xlsx_response
from workflows.forms import apply_errors
from workflows.interview import circular_forms as f
from workflows.interview import permissions as p
from workflows.interview import services as cs
from workflows.interview.views.desk import DESK_SECTIONS, INBOX_SECTIONS

__all__ = ["circular_action", "circular_detail", "circular_edit", "circular_export", "circular_new", "circular_print",
           "circular_ranking", "circular_ranking_remove", "circular_subject_remove", "circular_subjects"]


def _with_counts(qs: Any) -> Any:
    return qs.annotate(recipients_total=Count("recipients", distinct=True),
                       recipients_read=Count("recipients", filter=Q(recipients__read_at__isnull=False), distinct=True))


def desk_circulars(user: Any) -> dict[str, Any]:
    """The bureau's circulars: drafts, awaiting my approval, published with read counts."""
    bureaus = p.circular_bureaus(user)
    mine = visible_circulars(user).filter(issuer__in=bureaus)
    awaiting = [c for c in mine.filter(state=Circular.State.AWAITING) if p.can_approve_circular(user, c)]
    return {"drafts": list(mine.filter(state__in=[Circular.State.DRAFTED, Circular.State.AWAITING]
                                       ).order_by("-drafted_at")[:50]),
            "awaiting": awaiting,
            "published": list(_with_counts(mine.filter(state__in=[Circular.State.PUBLISHED, Circular.State.WITHDRAWN])
                                           ).order_by("-published_at")[:50]),
            "may_draft": bureaus.exists()}


def inbox_circulars(user: Any) -> dict[str, Any]:
    """Published circulars addressed to the user's institutions or of their area, unread first."""
    mine = p.member_institution_ids(user)
    rows = []
    qs = visible_circulars(user).filter(state=Circular.State.PUBLISHED).exclude(issuer_id__in=mine).order_by(
        "-published_at")[:100]
    receipts = {r.circular_id: r for r in CircularRecipient.objects.filter(circular__in=[c.pk for c in qs],
                                                                            institution_id__in=mine)}
    for circular in qs:
        receipt = receipts.get(circular.pk)
        rows.append({"circular": circular, "addressed": receipt is not None,
                     "unread": receipt is not None and receipt.read_at is None})
    rows.sort(key=lambda r: not r["unread"])
    return {"rows": rows}


DESK_SECTIONS.append((gettext_lazy("Circulars"), "interview/circular_desk.html", desk_circulars))
INBOX_SECTIONS.append((gettext_lazy("Circulars received"), "interview/circular_inbox.html", inbox_circulars))


def _circular_for(request: HttpRequest, pk: Any) -> Circular:
    return get_visible_or_404(visible_circulars(request.user).select_related(
        "issuer__region", "region", "drafted_by", "submitted_by", "approved_by", "withdrawn_by"), pk=pk)


def _steps() -> dict[str, Step]:
    return {
        "submit": Step("submit", gettext_lazy("Submit for approval"), lambda c, u, **kw: f.EmptyForm(**kw),
                       lambda c, u, d: cs.circular_submit(circular=c, by=u), p.can_submit_circular),
        "approve": Step("approve", gettext_lazy("Approve and publish"), lambda c, u, **kw: f.EmptyForm(**kw),
                        lambda c, u, d: cs.circular_approve(circular=c, by=u), p.can_approve_circular),
        "return": Step("return", gettext_lazy("Return to the draft"), lambda c, u, **kw: f.ReasonForm(**kw),
                       lambda c, u, d: cs.circular_return(circular=c, by=u, reason=d["reason"]),
                       p.can_return_circular),
        "withdraw": Step("withdraw", gettext_lazy("Withdraw the circular"), lambda c, u, **kw: f.ReasonForm(**kw),
                         lambda c, u, d: cs.circular_withdraw(circular=c, by=u, reason=d["reason"]),
                         p.can_withdraw_circular, danger=True),
    }


def _refused(user: Any, circular: Circular, step: str) -> str:
    if step in ("approve", "return") and p.is_issuer_officer(user, circular):
        return _("Four eyes: another officer of %(bureau)s approves or returns this circular, not the one who "
                 "drafted or submitted it.") % {"bureau": circular.issuer.name}
    return _("This step is not open to you now: the circular is %(state)s.") % {"state": circular.get_state_display()}


def _context(circular: Circular, user: Any) -> dict[str, Any]:
    bureau = p.is_issuer_officer(user, circular) or user.is_superuser
    recipients = list(circular.recipients.select_related("institution__region", "read_by")) if bureau else []
    return {"circular": circular, "bureau_view": bureau,
            "subjects": list(circular.subjects.select_related("institution", "region")),
            "rankings": list(circular.rankings.prefetch_related("rows")),
            "recipients": recipients, "read_count": sum(1 for r in recipients if r.read_at),
            "named": list(circular.named_recipients.order_by("name")),
            "can_edit": p.can_edit_circular(user, circular)}


@login_required
def circular_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    circular = _circular_for(request, pk)
    user: Any = request.user
    if p.can_mark_circular_read(user, circular):
        cs.circular_mark_read(circular=circular, by=user)
    access_record(user=user, action=AccessLog.Action.VIEW, obj=circular, summary=f"通报 {circular.number}",
                  region=circular.region, institution=circular.issuer)
    return render(request, "interview/circular_detail.html", {
        **_context(circular, user), "steps": [s for s in _steps().values() if s.allowed(user, circular)]})


@login_required
def circular_print(request: HttpRequest, pk: Any) -> HttpResponse:
    circular = _circular_for(request, pk)
    user: Any = request.user
    access_record(user=user, action=AccessLog.Action.EXPORT, obj=circular, summary=f"通报 {circular.number}",
                  region=circular.region, institution=circular.issuer)
    return render(request, "interview/circular_print.html", {**_context(circular, user), "printed_at": timezone.now()})


def _form_data(form: Any) -> dict[str, Any]:
    data = dict(form.cleaned_data)
    data.pop("issuer", None)
    return data


@login_required
def circular_new(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    bureaus = p.circular_bureaus(user)
    if not bureaus.exists():
        raise ActionDenied(_("Only the officers of a health bureau draft its circulars."))
    form = f.CircularForm(request.POST or None, bureaus=bureaus)
    if request.method == "POST" and form.is_valid():
        try:
            circular = cs.circular_create(issuer=form.cleaned_data.get("issuer") or bureaus.first(), by=user, **_form_data(form))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The draft is saved."))
            return redirect("interview:circular", pk=circular.pk)
    return render(request, "interview/circular_form.html", {"form": form, "title": _("Draft a circular")},
                  status=422 if form.errors else 200)


@login_required
def circular_edit(request: HttpRequest, pk: Any) -> HttpResponse:
    circular = _circular_for(request, pk)
    user: Any = request.user
    if not p.can_edit_circular(user, circular):
        raise ActionDenied(_("This step is not open to you now: the circular is %(state)s.")
                           % {"state": circular.get_state_display()})
    form = f.CircularForm(request.POST or None, bureaus=p.circular_bureaus(user), circular=circular)
    if request.method == "POST" and form.is_valid():
        try:
            cs.circular_update(circular=circular, by=user, data=_form_data(form))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The draft is saved."))
            return redirect("interview:circular", pk=circular.pk)
    return render(request, "interview/circular_form.html", {"form": form, "circular": circular,
                                                            "title": _("Change the draft")},
                  status=422 if form.errors else 200)


@login_required
def circular_subjects(request: HttpRequest, pk: Any) -> HttpResponse:
    circular = _circular_for(request, pk)
    user: Any = request.user
    if not p.can_edit_circular(user, circular):
        raise ActionDenied(_("This step is not open to you now: the circular is %(state)s.")
                           % {"state": circular.get_state_display()})
    form = f.SubjectForm(request.POST or None, circular=circular)
    if request.method == "POST" and form.is_valid():
        try:
            cs.circular_subject_add(circular=circular, by=user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The subject is added."))
            return redirect("interview:circular", pk=circular.pk)
    return render(request, "interview/circular_form.html", {"form": form, "circular": circular,
                                                            "title": _("Name a subject")},
                  status=422 if form.errors else 200)


@login_required
def circular_subject_remove(request: HttpRequest, pk: Any, subject_pk: Any) -> HttpResponse:
    circular = _circular_for(request, pk)
    subject = get_visible_or_404(circular.subjects.all(), pk=subject_pk)
    if request.method != "POST":
        raise Http404(_("Not found."))
    cs.circular_subject_remove(subject=subject, by=request.user)
    messages.success(request, _("The subject is removed."))
    return redirect("interview:circular", pk=circular.pk)


@login_required
def circular_ranking_remove(request: HttpRequest, pk: Any, ranking_pk: Any) -> HttpResponse:
    circular = _circular_for(request, pk)
    ranking = get_visible_or_404(circular.rankings.all(), pk=ranking_pk)
    if request.method != "POST":
        raise Http404(_("Not found."))
    cs.circular_ranking_remove(ranking=ranking, by=request.user)
    messages.success(request, _("The ranking is removed from the draft."))
    return redirect("interview:circular", pk=circular.pk)


@login_required
def circular_ranking(request: HttpRequest, pk: Any) -> HttpResponse:
    """Choose a figure and a period, see the table, then freeze it into the circular."""
    circular = _circular_for(request, pk)
    user: Any = request.user
    if not p.can_edit_circular(user, circular):
        raise ActionDenied(_("This step is not open to you now: the circular is %(state)s.")
                           % {"state": circular.get_state_display()})
    data = request.POST if request.method == "POST" else (request.GET if "figure" in request.GET else None)
    form = f.RankingForm(data, circular=circular)
    preview = None
    if data is not None and form.is_valid():
        try:
            if request.method == "POST":
                cs.circular_ranking_attach(circular=circular, by=user, **form.cleaned_data)
                messages.success(request, _("The ranking is frozen into the circular."))
                return redirect("interview:circular", pk=circular.pk)
            preview = cs.circular_ranking_preview(circular=circular, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
    return render(request, "interview/circular_ranking.html", {"form": form, "circular": circular,
                                                               "preview": preview},
                  status=422 if form.errors else 200)


@login_required
def circular_action(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    circular = _circular_for(request, pk)
    user: Any = request.user
    step = _steps().get(action)
    if step is None:
        raise Http404(_("Not found."))
    if not step.allowed(user, circular):
        raise ActionDenied(_refused(user, circular, action))
    form = step.form(circular, user, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            step.run(circular, user, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Done: %(step)s.") % {"step": step.title})
            return redirect("interview:circular", pk=circular.pk)
    return render(request, "interview/circular_action.html", {"circular": circular, "form": form, "step": step},
                  status=422 if form.errors else 200)


@login_required
def circular_export(request: HttpRequest) -> HttpResponse:
    """The bureau's circulars as a spreadsheet: one row each, with subjects and read counts."""
    from openpyxl import Workbook

    user: Any = request.user
    bureaus = p.circular_bureaus(user)
    if not bureaus.exists():
        raise ActionDenied(_("Only the officers of a health bureau export its circulars."))
    rows = _with_counts(visible_circulars(user).filter(issuer__in=bureaus)).prefetch_related(
        "subjects__institution", "subjects__region").order_by("-drafted_at")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Circulars"))
    sheet.append([_("Number (文号)"), _("Title"), _("Kind"), _("State"), _("Issuing bureau"), _("Published"),
                  _("Subjects"), _("Recipients"), _("Read")])

    def when(value: Any) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    count = 0
    for c in rows:
        sheet.append([spreadsheet_safe(str(v)) for v in [
            c.number, c.title, c.get_kind_display(), c.get_state_display(), c.issuer.name, when(c.published_at),
            "；".join(s.name for s in c.subjects.all()), c.recipients_total, c.recipients_read]])
        count += 1
    access_record(user=user, action=AccessLog.Action.EXPORT, object_type="cases.circular",
                  summary=f"通报导出 {count}", region=bureaus.first().region)
    return xlsx_response(workbook, stem="circulars")
