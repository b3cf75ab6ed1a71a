"""Pages of process 2 (high-risk case management): the case page with its timeline and actions, the
doctor's worklists, and the county register with its xlsx export."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cases.models import CaseTransfer, Delivery, HighRiskCase
from cases.rules import province_settings, settings_for
from cases.selectors import visible_highrisk_cases
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import OBSTETRIC_ROLES, AccessLog, Institution, Region, Role
from organisations.scoping import scope_q, user_scope
from organisations.selectors import acting_institutions, covering_rescue_centres
from organisations.services import access_record
from workflows.actions import Action
from workflows.export import spreadsheet_safe, xlsx_response
from workflows.forms import apply_errors
from workflows.highrisk import forms as f
from workflows.highrisk import permissions as perm
from workflows.highrisk import selectors
from workflows.highrisk import services as hr
from workflows.highrisk.flows import transfers_awaiting
from workflows.highrisk.services import highrisk_case_report
from workflows.registers import selectors as overdue
from workflows.registers.forms import NearMissForm
from workflows.registers.services import near_miss_record
from workflows.routine import permissions as routine_permissions
from workflows.routine.forms import DeliveryForm

# The reads the API shares (selectors.py); the names the pages and their tests know.
DELIVERING = selectors.DELIVERING
danger_ordered = selectors.danger_ordered
_delivering_places = selectors.delivering_places
_case_doctors = selectors.case_doctors


def _receiving(user: Any, case: HighRiskCase) -> CaseTransfer | None:
    """The transfer of this case whose open answer task is in ``user``'s inbox."""
    return selectors.transfer_awaiting(user=user, case=case)


def case_actions() -> dict[str, Action]:
    """The steps of the case page, by name: each with its form, its service and who may take it now (the API
    offers the same steps, `allowed_steps`)."""
    return {a.name: a for a in [
        Action("report", gettext_lazy("Report to the county MCH institute"), lambda case, user, **kw: f.EmptyForm(**kw),
               lambda case, by, data: hr.highrisk_case_report(case=case, by=by),
               perm.can_report),
        Action("plan", gettext_lazy("Write a plan"),
               lambda case, user, **kw: f.PlanForm(centres=covering_rescue_centres(
                   region_codes={case.institution.region_id}).select_related("institution"), **kw),
               lambda case, by, data: hr.case_plan_add(case=case, by=by, kind=data["kind"], text=data["text"],
                                                       rescue_centre=data["rescue_centre"]),
               perm.can_plan),
        Action("visit", gettext_lazy("Record a follow-up visit"),
               lambda case, user, **kw: f.VisitForm(institutions=acting_institutions(user, OBSTETRIC_ROLES), **kw),
               lambda case, by, data, form=None: hr.followup_record(
                   visit=perm.due_visit(case), by=by, institution=data["institution"], findings=data["findings"],
                   inputs=form.engine_inputs() if form is not None else None),
               perm.can_record_visit),
        Action("reassign", gettext_lazy("Hand over to another doctor"),
               lambda case, user, **kw: f.ReassignForm(doctors=_case_doctors(case.institution).exclude(
                   pk=case.responsible_doctor_id), **kw),
               lambda case, by, data: hr.highrisk_case_reassign(case=case, to=data["to"], by=by, reason=data["reason"]),
               perm.can_reassign),
        Action("delivery-place", gettext_lazy("Plan the delivery place"),
               lambda case, user, **kw: f.DeliveryPlaceForm(places=_delivering_places(case), **kw),
               lambda case, by, data: hr.case_plan_delivery(case=case, by=by, institution=data["institution"],
                                                            reason=data["reason"]),
               perm.can_plan_delivery_place),
        Action("tracing-attempt", gettext_lazy("Record a tracing attempt"), lambda case, user, **kw: f.TracingAttemptForm(**kw),
               lambda case, by, data: hr.tracing_attempt_add(tracing=perm.open_tracing(case), by=by,
                                                             method=data["method"], reached=data["reached"],
                                                             note=data["note"]),
               perm.can_trace),
        Action("found", gettext_lazy("She was found"), lambda case, user, **kw: f.FoundForm(**kw),
               lambda case, by, data: hr.tracing_found(tracing=perm.open_tracing(case), by=by, outcome=data["outcome"]),
               perm.can_trace),
        Action("transfer", gettext_lazy("Transfer to another institution"),
               lambda case, user, **kw: f.TransferForm(places=_delivering_places(case).exclude(pk=case.institution_id), **kw),
               lambda case, by, data: hr.case_transfer_request(case=case, by=by, to_institution=data["to_institution"],
                                                               reason=data["reason"]),
               perm.can_request_transfer),
        Action("transfer-accept", gettext_lazy("Accept the transfer"),
               lambda case, user, **kw: f.TransferAcceptForm(doctors=_case_doctors(
                   case.transfers.filter(status=CaseTransfer.Status.REQUESTED).first().to_institution), **kw),
               lambda case, by, data: hr.case_transfer_accept(transfer=_receiving(by, case), by=by, doctor=data["doctor"]),
               lambda user, case: _receiving(user, case) is not None),
        Action("transfer-reject", gettext_lazy("Reject the transfer"), lambda case, user, **kw: f.TransferRejectForm(**kw),
               lambda case, by, data: hr.case_transfer_reject(transfer=_receiving(by, case), by=by,
                                                              reason=data["reason"]),
               lambda user, case: _receiving(user, case) is not None),
        Action("transfer-withdraw", gettext_lazy("Withdraw the transfer"),
               lambda case, user, **kw: f.TransferWithdrawForm(**kw),
               lambda case, by, data: hr.case_transfer_cancel(transfer=perm.pending_transfer(case), by=by,
                                                              reason=data["reason"]),
               perm.can_withdraw_transfer),
        # The pregnancy's one delivery record (workflows/routine), with its time, place and babies.
        Action("delivery", gettext_lazy("Record the delivery"),
               lambda case, user, **kw: DeliveryForm(institutions=routine_permissions.institutions_for(
                   "delivery", user), **kw),
               lambda case, by, data, form=None: hr.case_record_delivery(case=case, by=by, **form.delivery_kwargs()),
               perm.can_record_delivery),
        Action("postpartum", gettext_lazy("Start postpartum follow-up"), lambda case, user, **kw: f.EmptyForm(**kw),
               lambda case, by, data: hr.case_start_postpartum(case=case, by=by),
               perm.can_start_postpartum),
        Action("close", gettext_lazy("Close the case"), lambda case, user, **kw: f.CloseForm(**kw),
               lambda case, by, data: hr.case_close(case=case, by=by, kind=data["kind"], reason=data["reason"]),
               perm.can_close),
        Action("reopen", gettext_lazy("Reopen the case"), lambda case, user, **kw: f.ReopenForm(**kw),
               lambda case, by, data: hr.case_reopen(case=case, by=by, reason=data["reason"]),
               perm.can_reopen),
        Action("near-miss", gettext_lazy("Near-miss checklist"), lambda case, user, **kw: NearMissForm(**kw),
               lambda case, by, data: near_miss_record(pregnancy=case.pregnancy, by=by, institution=case.institution,
                                                       criteria=data["criteria"], note=data["note"]),
               perm.can_record_near_miss),
        Action("death", gettext_lazy("Record a maternal death"), lambda case, user, **kw: f.DeathForm(**kw),
               lambda case, by, data: hr.case_record_death(case=case, by=by, at=data["at"], note=data["note"]),
               perm.can_record_death, danger=True),
    ]}


def _case_for(request: HttpRequest, pk: Any) -> HighRiskCase:
    return get_visible_or_404(visible_highrisk_cases(request.user).select_related(
        "pregnancy__woman", "pregnancy__booking_institution", "institution__region", "responsible_doctor",
        "planned_delivery_institution", "reported_to"), pk=pk)


_timeline = selectors.case_timeline


@login_required
def case_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    case = _case_for(request, pk)
    user: Any = request.user
    available = [a for a in case_actions().values() if a.allowed(user, case)]
    access_record(user=user, action=AccessLog.Action.VIEW, obj=case,
                  summary=f"{case._meta.verbose_name} {case.pregnancy.woman.name}", region=case.region,
                  institution=case.institution)
    return render(request, "highrisk/case_detail.html", {
        "case": case, "woman": case.pregnancy.woman, "actions": available, "timeline": _timeline(case),
        "delivery": Delivery.objects.filter(pregnancy_id=case.pregnancy_id).select_related("institution").first(),
        "visits": case.visits.order_by("due_on"), "plans": case.plans.select_related("author", "rescue_centre"),
        "today": timezone.localdate(), "now": timezone.now(),
        "delivery_problem": hr.delivery_place_problem(case, case.planned_delivery_institution)
        if case.planned_delivery_institution else None,
    })


def _initial(action: str, case: HighRiskCase, user: Any) -> dict[str, Any]:
    if action != "delivery":
        return {}
    own = routine_permissions.acting("delivery", user)
    return {"initial": {"place": Delivery.Place.INSTITUTION, "baby1_outcome": "live",
                        "institution": case.institution_id if any(i.pk == case.institution_id for i in own)
                        else own[0].pk if own else None}}


@login_required
def case_action(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    case = _case_for(request, pk)
    user: Any = request.user
    spec = case_actions().get(action)
    if spec is None:
        raise Http404(_("Not found."))
    if not spec.allowed(user, case):
        raise ActionDenied(_("This action is not open to you on this case now."))
    form = spec.form(case, user, data=request.POST or None, **_initial(action, case, user))
    if request.method == "POST" and form.is_valid():
        try:
            if action in ("visit", "delivery"):
                spec.run(case, user, form.cleaned_data, form=form)
            else:
                spec.run(case, user, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Done: %(action)s.") % {"action": spec.title})
            return redirect("highrisk:case_detail", pk=case.pk)
    return render(request, "highrisk/action.html", {"case": case, "form": form, "action": spec})


@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    """The doctor's worklists: my cases, visits due today and this week, overdue, tracing, transfers to me."""
    user: Any = request.user
    today = timezone.localdate()
    tab = request.GET.get("tab", "mine")
    if tab not in selectors.WORKLIST_TABS:
        tab = "mine"
    transfers = transfers_awaiting(user).select_related("case__pregnancy__woman", "from_institution")
    rows = danger_ordered(selectors.worklist_tab(user=user, tab=tab, today=today), today)[:200] \
        if tab != "transfers" else []
    counts = selectors.worklist_counts(user=user, today=today)
    counts["transfers"] = transfers.count()
    orphaned = []
    if user_scope(user).areas:
        orphaned = list(danger_ordered(visible_highrisk_cases(user).filter(
            state__in=HighRiskCase.OPEN_STATES, responsible_doctor__is_active=False), today)[:100])
    return render(request, "highrisk/worklist.html", {
        "tab": tab, "rows": rows, "counts": counts, "transfers": transfers if tab == "transfers" else [],
        "today": today, "orphaned": orphaned,
        "tab_names": [(name, label, counts[name]) for name, label in [
            ("mine", _("My cases")), ("today", _("Visits due today")), ("week", _("Due this week")),
            ("overdue", _("Overdue")), ("tracing", _("Tracing")), ("unreported", _("Not yet reported")),
            ("transfers", _("Transfers awaiting me"))]],
    })


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows: an exact count of a province's open cases costs more than the page."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        rows: Any = self.object_list
        return rows.order_by().values("pk")[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


def _register_rows(request: HttpRequest) -> tuple[QuerySet[HighRiskCase], f.RegisterFilterForm]:
    user: Any = request.user
    if not user.has_perm("cases.view_highriskcase"):
        raise ActionDenied(_("Your role does not include the high-risk register."))
    institutions = Institution.objects.filter(
        scope_q(user, region_field="region", institution_fields=["pk"]), kind__in=DELIVERING).order_by("name")
    form = f.RegisterFilterForm(request.GET or None, institutions=institutions)
    qs = visible_highrisk_cases(user).select_related(
        "pregnancy__woman", "institution", "responsible_doctor")  # what a row and the export show
    qs = selectors.register_filter(qs, form.cleaned_data if form.is_valid() else {})
    return danger_ordered(qs, timezone.localdate()), form


@login_required
def register(request: HttpRequest) -> HttpResponse:
    """专案登记册: every case of the user's area, with filters; ?export=xlsx downloads it (logged)."""
    rows, form = _register_rows(request)
    if request.GET.get("export") == "xlsx":
        return _export(request, rows)
    page = CappedPaginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "highrisk/register.html", {"page": page, "form": form, "query": query.urlencode(),
                                                            "today": timezone.localdate()})


def _export(request: HttpRequest, rows: QuerySet[HighRiskCase]) -> HttpResponse:
    from openpyxl import Workbook

    user: Any = request.user
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("High-risk register"))
    sheet.append([_("Name"), _("Document number"), _("Colour"), _("Purple"), _("State"), _("Institution"),
                  _("Responsible doctor"), _("Opened"), _("Reported"), _("Next visit"), _("Due date")])
    count = 0
    for case in rows.iterator(chunk_size=2000):
        woman = case.pregnancy.woman
        sheet.append([spreadsheet_safe(v) for v in [
            woman.name, woman.id_number_masked, case.get_colour_display(), _("yes") if case.purple else "",
            case.get_state_display(), case.institution.name, str(case.responsible_doctor),
            timezone.localtime(case.opened_at).strftime("%Y-%m-%d"),
            timezone.localtime(case.reported_at).strftime("%Y-%m-%d") if case.reported_at else "",
            case.next_visit_at.isoformat() if case.next_visit_at else "", case.pregnancy.edd.isoformat()]])
        count += 1
    scope = user_scope(user)
    region_code = next((code for _level, code in scope.areas), None)
    access_record(user=user, action=AccessLog.Action.EXPORT, object_type="cases.highriskcase",
                  summary=_("High-risk register export: %(count)s cases") % {"count": count},
                  region=Region.objects.filter(code=region_code).first() if region_code else None)
    return xlsx_response(workbook, stem="highrisk-register")


@login_required
def late_overview(request: HttpRequest) -> HttpResponse:
    """逾期事项: the MCH officer's overview of her county's late work, one section per kind, each row linking
    to its record."""
    user: Any = request.user
    if not overdue.may_see_overview(user):
        raise ActionDenied(_("The overview of late work is for MCH officers."))
    now = timezone.now()
    today = timezone.localdate(now)
    sections = overdue.late_sections(user=user, now=now, today=today)
    cap = overdue.ROWS_PER_SECTION
    rows = {name: list(qs[:cap + 1]) for name, qs in sections.items()}
    # A section shorter than the cap is counted by its rows; only a longer one costs a COUNT.
    counts = {name: len(found) if len(found) <= cap else sections[name].order_by().count()
              for name, found in rows.items()}
    rows = {name: found[:cap] for name, found in rows.items()}
    officer_at = acting_institutions(user, frozenset({Role.MCH_OFFICER}))
    rules = settings_for(officer_at[0], on=today) if officer_at else province_settings(province_code=None, on=today)
    return render(request, "highrisk/late.html", {
        "rows": rows, "counts": counts, "now": now, "today": today, "cap": cap,
        "red_hours": rules.report_red_hours, "orange_hours": rules.report_orange_hours,
        "purple_hours": rules.report_purple_hours, "feedback_days": rules.referral_feedback_days,
    })


@login_required
@require_POST
def case_report(request: HttpRequest, pk: str) -> HttpResponse:
    case = get_visible_or_404(visible_highrisk_cases(request.user), pk=pk)
    highrisk_case_report(case=case, by=request.user)
    messages.success(request, _("Reported to the county MCH institute."))
    return redirect("cases:pregnancy_detail", pk=case.pregnancy_id)
