"""The report pages: the MCH list by clock state, the reviewers' worklist, the report page (card,
clocks counting down, conclusions, the steps open to the user), the card form, each step's form, a
report made by hand, and "record a death" on any pregnancy.

Every read goes through ``visible_death_reports`` / ``visible_pregnancies``; every change through the
services in ``workflows/death/services.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from cases.models import DeathReport
from cases.selectors import visible_death_reports, visible_pregnancies, visible_review_meetings
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import BOOKING_ROLES, AccessLog, Membership, Region
from organisations.scoping import region_codes_in_area, user_scope
from organisations.selectors import acting_institutions
from organisations.services import access_record
from workflows.actions import Action as Step
from workflows.death import forms as f
from workflows.death import permissions as p
from workflows.death import selectors as sel
from workflows.death import services as ds
from workflows.forms import apply_errors
from workflows.screening.services import woman_register as register_woman

DENIED = gettext_lazy("Your role does not include maternal death reporting and review.")
APP_ROLES = p.REPORTER_ROLES | p.REVIEWER_ROLES | p.UNLOCK_ROLES
CLOCK_TABS = [("overdue", pgettext_lazy("death report clock", "Overdue")), ("due_soon", gettext_lazy("Due within a day")),
              ("on_time", gettext_lazy("On time")), ("closed", gettext_lazy("Closed")),
              ("excluded", gettext_lazy("Excluded"))]


def may_open(user: Any) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_superuser or Membership.objects.filter(user=user, role__in=APP_ROLES, is_active=True,
                                                          institution__is_active=True).exists()


def _report_for(request: HttpRequest, pk: Any) -> DeathReport:
    return get_visible_or_404(visible_death_reports(request.user).select_related(
        "woman", "region__city", "region__province", "reporting_institution__region", "pregnancy", "case", "referral",
        "reported_by", "verified_by", "investigated_by", "closed_by", "unlocked_by"), pk=pk)


def death_menu(user: Any) -> dict[str, bool]:
    scope = user_scope(user)
    return {"list": bool(scope.everything or scope.areas or scope.institution_ids),
            "worklist": bool(p.reviewer_region_codes(user)) or user.is_superuser,
            "new": bool(acting_institutions(user, BOOKING_ROLES)),
            "meetings": user.is_superuser or bool(p.reviewer_region_codes(user))
            or visible_review_meetings(user).exists()}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Reviewers open on their worklist when something awaits them, everyone else on the list."""
    if sel.review_worklist(user=request.user).exists():
        return redirect("death:worklist")
    return redirect("death:list")


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    clock = request.GET.get("clock") or "overdue"
    if clock not in sel.CLOCK_STATES:
        clock = "overdue"
    now = timezone.now()
    rows = list(sel.death_reports_by_clock(user=request.user, clock=clock, now=now)[:200])
    return render(request, "death/list.html", {
        "rows": rows, "clock": clock, "tabs": CLOCK_TABS, "counts": sel.clock_counts(user=request.user, now=now),
        "to_complete": list(sel.reports_to_complete(user=request.user)[:50]), "menu": death_menu(request.user),
        "now": now, "deidentified": p.is_packet_reader(request.user)})


@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    return render(request, "death/worklist.html", {"rows": list(sel.review_worklist(user=request.user)[:200]),
                                                   "now": timezone.now(),
                                                   "deidentified": p.is_packet_reader(request.user)})


def _clocks(report: DeathReport) -> list[dict[str, Any]]:
    now = timezone.now()
    rows = [
        (_("Report (24 h)"), report.report_due_at, report.reported_at),
        (_("Card at the county MCH institute"), report.card_due_at, report.verified_at),
        (_("County investigation"), report.investigation_due_at, report.investigated_at),
    ]
    if report.review_level is not None:
        rows.append((str(DeathReport.State(report.state).label), report.review_due_at, None))
    clocks = []
    for label, due, met in rows:
        if due is None:
            continue
        stopped = met is not None or report.state in (DeathReport.State.EXCLUDED, DeathReport.State.CLOSED)
        clocks.append({"label": label, "due": due, "met": met, "stopped": stopped,
                       "late": (met or now) > due if (met or not stopped) else False})
    return clocks


def _steps() -> dict[str, Step]:
    return {
        "report": Step("report", gettext_lazy("Report the death"), lambda r, u, **kw: f.EmptyForm(**kw),
                       lambda r, u, d: ds.death_report_report(report=r, by=u), p.can_report),
        "verify": Step("verify", gettext_lazy("Confirm the card"), lambda r, u, **kw: f.EmptyForm(**kw),
                       lambda r, u, d: ds.death_report_verify(report=r, by=u), p.can_verify),
        "return": Step("return", gettext_lazy("Return for correction"), lambda r, u, **kw: f.ReasonForm(**kw),
                       lambda r, u, d: ds.death_report_return(report=r, by=u, reason=d["reason"]), p.can_verify),
        "exclude": Step("exclude", gettext_lazy("Exclude: not a maternal death"), lambda r, u, **kw: f.ReasonForm(**kw),
                        lambda r, u, d: ds.death_report_exclude(report=r, by=u, reason=d["reason"]), p.can_exclude,
                        danger=True),
        "investigate": Step("investigate", gettext_lazy("Record the investigation"),
                            lambda r, u, **kw: f.InvestigationForm(**kw),
                            lambda r, u, d: ds.death_report_investigate(report=r, by=u, findings=d["findings"],
                                                                        interviews=d["interviews"]),
                            p.can_investigate),
        "conclude": Step("conclude", gettext_lazy("Record this level's conclusion"),
                         lambda r, u, **kw: f.ConclusionForm(**kw),
                         lambda r, u, d: ds.death_report_conclude(report=r, by=u, **f.conclusion_kwargs(d)),
                         p.can_review),
        "close": Step("close", gettext_lazy("Close and lock the report"), lambda r, u, **kw: f.EmptyForm(**kw),
                      lambda r, u, d: ds.death_report_close(report=r, by=u), p.can_close),
        "unlock": Step("unlock", gettext_lazy("Unlock the closed report"), lambda r, u, **kw: f.ReasonForm(**kw),
                       lambda r, u, d: ds.death_report_unlock(report=r, by=u, reason=d["reason"]), p.can_unlock,
                       danger=True),
    }


def card_rows(report: DeathReport) -> list[tuple[Any, str]]:
    """The card as (label, text) rows in the page's language: choices by their label, yes/no/unknown."""
    rows: list[tuple[Any, str]] = []
    for name in DeathReport.CARD_FIELDS:
        field = DeathReport._meta.get_field(name)
        value = getattr(report, name)
        if value in (None, ""):
            text = "—"
        elif isinstance(value, bool):
            text = str(_("Yes") if value else _("No"))
        elif getattr(field, "choices", None):
            text = str(getattr(report, f"get_{name}_display")())
        elif isinstance(value, dt.datetime):
            text = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        else:
            text = str(value)
        rows.append((field.verbose_name, text))  # type: ignore[union-attr]
    return rows


@login_required
def report_detail(request: HttpRequest, pk: Any) -> HttpResponse:
    report = _report_for(request, pk)
    user: Any = request.user
    if not p.sees_identified(user, report):
        return redirect("death:packet", pk=report.pk)  # an expert reviewer works on the de-identified packet
    access_record(user=user, action=AccessLog.Action.VIEW, obj=report,
                  summary=f"{report._meta.verbose_name} {report.woman.name}", region=report.region,
                  institution=report.reporting_institution)
    return render(request, "death/detail.html", {
        "report": report, "woman": report.woman, "clocks": _clocks(report),
        "steps": [s for s in _steps().values() if s.allowed(user, report)],
        "can_edit": p.can_edit_card(user, report), "can_attach": p.can_attach(user, report),
        "conclusions": report.conclusions.select_related("concluded_by", "meeting").prefetch_related(
            "opinions__member").order_by("concluded_at"),
        "card": card_rows(report), "now": timezone.now()})


@login_required
def report_print(request: HttpRequest, pk: Any) -> HttpResponse:
    """The printable report card (孕产妇死亡报告卡), with her full document number: logged as an export."""
    report = _report_for(request, pk)
    user: Any = request.user
    if not p.sees_identified(user, report):
        return redirect(f"{reverse('death:packet', args=[report.pk])}?print=1")
    access_record(user=user, action=AccessLog.Action.EXPORT, obj=report,
                  summary=f"孕产妇死亡报告卡 {report.woman.name}", region=report.region,
                  institution=report.reporting_institution)
    return render(request, "death/print.html", {"report": report, "woman": report.woman, "card": card_rows(report),
                                                "printed_at": timezone.now()})


@login_required
def card_edit(request: HttpRequest, pk: Any) -> HttpResponse:
    report = _report_for(request, pk)
    if not p.can_edit_card(request.user, report):
        raise ActionDenied(_("The card is not open to you for editing now: the report is %(state)s.")
                           % {"state": report.get_state_display()})
    form = f.CardForm(request.POST or None, report=DeathReport.objects.get(pk=report.pk))
    if request.method == "POST" and form.is_valid():
        try:
            ds.death_report_update_card(report=report, by=request.user, data=form.card_data())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The card is saved."))
            return redirect("death:detail", pk=report.pk)
    return render(request, "death/card.html", {"report": report, "form": form, "icd10": f.icd10_choices()},
                  status=422 if form.errors else 200)


@login_required
def report_action(request: HttpRequest, pk: Any, action: str) -> HttpResponse:
    report = _report_for(request, pk)
    user: Any = request.user
    step = _steps().get(action)
    if step is None:
        raise Http404(_("Not found."))
    if not step.allowed(user, report):
        raise ActionDenied(_("This step is not open to you now: the report is %(state)s.")
                           % {"state": report.get_state_display()})
    form = step.form(report, user, data=request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            step.run(report, user, form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Done: %(step)s.") % {"step": step.title})
            return redirect("death:detail", pk=report.pk)
    return render(request, "death/action.html", {
        "report": report, "form": form, "step": step, "icd10": f.icd10_choices(),
        "conclusions": report.conclusions.select_related("concluded_by"),
        "deidentified": not p.sees_identified(user, report)}, status=422 if form.errors else 200)


def _reporting_institutions(user: Any) -> list[Any]:
    return acting_institutions(user, p.REPORTER_ROLES)


@login_required
def pregnancy_death(request: HttpRequest, pregnancy_pk: Any) -> HttpResponse:
    """"Record a death" on any pregnancy the user may see (the pregnancy page links here)."""
    pregnancy = get_visible_or_404(visible_pregnancies(request.user), pk=pregnancy_pk)
    institutions = _reporting_institutions(request.user)
    if not institutions:
        raise ActionDenied(_("You do not hold a role that reports deaths."))
    form = f.RecordDeathForm(request.POST or None, institutions=institutions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = ds.pregnancy_record_death(pregnancy=pregnancy, by=request.user, institution=data["institution"],
                                               died_at=data["died_at"], note=data["note"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The death is recorded: complete and report the card."))
            return redirect("death:card", pk=report.pk)
    return render(request, "death/form.html", {"form": form, "title": _("Record a maternal death"),
                                               "subtitle": pregnancy.woman.name, "submit": _("Record the death")},
                  status=422 if form.errors else 200)


@login_required
def report_new(request: HttpRequest) -> HttpResponse:
    """A death of a woman Anmu never saw (at home, on the way, at an institution that never booked her):
    she is found by document number or registered (the same de-dup as registration)."""
    institutions = acting_institutions(request.user, BOOKING_ROLES)
    if not institutions or not request.user.has_perm("cases.add_woman"):
        raise ActionDenied(_("Your role does not include registering women."))
    scope = user_scope(request.user)
    regions = Region.objects.filter(level=Region.Level.COUNTY).filter(
        Q(province_id__in={i.region.province_id for i in institutions}) | region_codes_in_area(scope)).order_by("code")
    form = f.ManualReportForm(request.POST or None, regions=regions, institutions=institutions,
                              initial={"residence_region": institutions[0].region_id})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            woman, _created = register_woman(
                by=request.user, institution=data["institution"], name=data["name"], id_type=data["id_type"],
                id_number=data["id_number"], no_id_reason=data["no_id_reason"], date_of_birth=data["date_of_birth"],
                phone=data["phone"], residence_region=data["residence_region"], confirmed=form.confirmed)
            report = ds.death_report_create_manual(by=request.user, institution=data["institution"], woman=woman,
                                                   died_at=data["died_at"])
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The death is recorded: complete and report the card."))
            return redirect("death:card", pk=report.pk)
    return render(request, "death/form.html", {"form": form, "title": _("Report a death by hand"),
                                               "submit": _("Find or register her and report")},
                  status=422 if form.errors else 200)
