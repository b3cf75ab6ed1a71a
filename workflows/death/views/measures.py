"""Improvement-measure pages (改进措施): the officers' list by institution with state tabs, an institution's own
list, a measure's page with its steps, a step's form, and "add a measure" on a report.

Reads go through ``visible_improvement_measures`` (and ``visible_death_reports`` for the report); writes through
the services in ``workflows/death/services/measures.py``. A measure's pages name the report by its anonymous
reference, never the woman: the owner institution's staff may not see the report.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from cases.models import DeathReport, ImprovementMeasure
from cases.models.death import reference_of
from cases.selectors import visible_death_reports, visible_improvement_measures
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import Membership
from organisations.scoping import user_scope
from workflows.actions import Action as Step
from workflows.death import forms as f
from workflows.death import permissions as p
from workflows.death import selectors as sel
from workflows.death import services as ds
from workflows.forms import apply_errors

__all__ = ["measure_action", "measure_detail", "measure_list", "measure_new", "measures_ours", "report_measures"]

MEASURE_TABS = [("open", pgettext_lazy("improvement measure", "Open")), ("overdue", pgettext_lazy("improvement measure", "Overdue")),
                ("done", gettext_lazy("Done, awaiting verification")), ("verified", pgettext_lazy("improvement measure", "Verified")),
                ("cancelled", gettext_lazy("Cancelled"))]


def _tab(request: HttpRequest) -> str:
    tab = request.GET.get("tab") or "overdue"
    return tab if tab in sel.MEASURE_TABS else "overdue"


def _oversees(user: Any) -> bool:
    scope = user_scope(user)
    return bool(scope.everything or scope.areas)


def _has_institution(user: Any) -> bool:
    return Membership.objects.filter(user=user, is_active=True, institution__is_active=True).exists()


def _list(request: HttpRequest, *, mine: bool) -> HttpResponse:
    tab, today = _tab(request), timezone.localdate()
    user: Any = request.user
    institution = request.GET.get("institution") or ""
    rows = sel.measures_by_tab(user=user, tab=tab, today=today, mine=mine)
    if institution:
        rows = rows.filter(owner_institution_id=uuid.UUID(institution)) if _is_uuid(institution) else rows.none()
    return render(request, "death/measures.html", {
        "mine": mine, "tab": tab, "tabs": MEASURE_TABS, "counts": sel.measure_tab_counts(user=user, today=today,
                                                                                          mine=mine),
        "institutions": sel.measure_counts_by_institution(user=user, today=today, mine=mine),
        "institution": institution, "rows": list(rows[:300]), "today": today,
        "can_oversee": _oversees(user), "can_ours": _has_institution(user)})


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@login_required
def measure_list(request: HttpRequest) -> HttpResponse:
    """The officers' list: measures of their area by owner institution. Others see their institution's."""
    if not _oversees(request.user):
        return redirect("death:measures_ours")
    return _list(request, mine=False)


@login_required
def measures_ours(request: HttpRequest) -> HttpResponse:
    """"Our measures": those owned by the institutions where the user works."""
    return _list(request, mine=True)


def _measure_for(request: HttpRequest, pk: Any) -> ImprovementMeasure:
    return get_visible_or_404(visible_improvement_measures(request.user).select_related(
        "set_by", "done_by", "verified_by", "rejected_by", "cancelled_by", "conclusion"), pk=pk)


def _steps() -> dict[str, Step]:
    return {
        "done": Step("done", gettext_lazy("Record it done, with the evidence"), lambda m, u, **kw: f.EvidenceForm(**kw),
                     lambda m, u, d: ds.death_measure_mark_done(measure=m, by=u, evidence=d["evidence"]),
                     p.can_mark_measure_done),
        "verify": Step("verify", gettext_lazy("Verify: the evidence shows it done"),
                       lambda m, u, **kw: f.VerifyForm(**kw),
                       lambda m, u, d: ds.death_measure_verify(measure=m, by=u, note=d["note"]),
                       p.can_verify_measure),
        "reject": Step("reject", gettext_lazy("Reject the evidence"), lambda m, u, **kw: f.ReasonForm(**kw),
                       lambda m, u, d: ds.death_measure_reject(measure=m, by=u, reason=d["reason"]),
                       p.can_reject_measure, danger=True),
        "cancel": Step("cancel", gettext_lazy("Cancel the measure"), lambda m, u, **kw: f.ReasonForm(**kw),
                       lambda m, u, d: ds.death_measure_cancel(measure=m, by=u, reason=d["reason"]),
                       p.can_cancel_measure, danger=True),
    }


@login_required
def measure_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    measure = _measure_for(request, pk)
    user: Any = request.user
    report_visible = visible_death_reports(user).filter(pk=measure.report_id).exists()
    return render(request, "death/measure.html", {
        "measure": measure, "report_visible": report_visible, "today": timezone.localdate(),
        "steps": [s for s in _steps().values() if s.allowed(user, measure)]})


@login_required
def measure_action(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    measure = _measure_for(request, pk)
    user: Any = request.user
    step = _steps().get(action)
    if step is None:
        raise Http404(_("Not found."))
    if not step.allowed(user, measure):
        raise ActionDenied(_("This step is not open to you now: the measure is %(state)s.")
                           % {"state": measure.get_state_display()})
    form = step.form(measure, user, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            step.run(measure, user, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Done: %(step)s.") % {"step": step.title})
            return redirect("death:measure", pk=measure.pk)
    return render(request, "death/measure_form.html", {"measure": measure, "form": form, "title": step.title},
                  status=422 if form.errors else 200)


@login_required
def measure_new(request: HttpRequest, pk: Any) -> HttpResponse:
    """A reviewing level adds an improvement measure to the death it reviews."""
    report = get_visible_or_404(visible_death_reports(request.user).select_related("region"), pk=pk)
    user: Any = request.user
    if not p.can_set_measure(user, report):
        raise ActionDenied(_("Measures are set by the MCH officers and expert reviewers of a level that reviews this "
                             "death, while it is under review or reviewed."))
    form = f.MeasureForm(request.POST or None, report=report)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ds.death_measure_set(report=report, by=user, text=data["text"],
                                 owner_institution=data["owner_institution"], due_on=data["due_on"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The improvement measure is set: its institution is told."))
            return redirect("death:detail", pk=report.pk)
    return render(request, "death/measure_form.html", {"form": form, "report": report,
                                                       "reference": reference_of(report),
                                                       "title": _("Add an improvement measure")},
                  status=422 if form.errors else 200)


def report_measures(*, user: Any, report: DeathReport) -> dict[str, Any]:
    """What the report page's measures section shows (``templates/death/_measures.html``)."""
    return {"measures": list(visible_improvement_measures(user).filter(report=report).select_related(
        "owner_institution").order_by("due_on", "set_at")), "can_set_measure": p.can_set_measure(user, report),
        "today": timezone.localdate()}
