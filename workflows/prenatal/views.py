"""Prenatal QC pages (产前筛查质控): the list of the area's licensed institutions × the recent periods with each
report's state and completeness, the entry grid of one institution and period (data elements as rows, the rates
computed beside them; save, submit, return), and the xlsx export of the list."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import (
    PrenatalDataElement,
    PrenatalReport,
    PrenatalValue,
    elements_for,
    indicators_for,
    licences_of,
    period_key,
    recent_periods,
)
from cases.selectors import visible_prenatal_institutions, visible_prenatal_reports
from indicators.prenatal import describe, figures_of
from organisations.http import ActionDenied, get_visible_or_404
from organisations.models import AccessLog, Institution
from organisations.services import access_record
from organisations.spreadsheets import spreadsheet_safe, xlsx_response
from workflows.forms import apply_errors
from workflows.prenatal import permissions as p
from workflows.prenatal import services as svc
from workflows.prenatal.forms import EntryForm, ReasonForm, element_name

__all__ = ["DENIED", "entry", "export", "home", "may_open"]

DENIED = p.DENIED
may_open = p.may_open
# Periods the list shows, newest first, and institutions per page at most.
LIST_PERIODS = 4
LIST_LIMIT = 500


def _require_open(user: Any) -> None:
    if not p.may_open(user):
        raise ActionDenied(str(DENIED))


def _elements_by_institution(institutions: list[Institution]) -> dict[Any, list[PrenatalDataElement]]:
    """Each institution's data elements (its licences, national and its province's), from one query."""
    elements = list(PrenatalDataElement.objects.filter(active=True).order_by("order", "code"))
    return {i.pk: [e for e in elements if e.licence in licences_of(i) and e.province_id in (None, i.region.province_id)]
            for i in institutions}


def _matrix(user: Any, today: dt.date) -> dict[str, Any]:
    institutions = list(visible_prenatal_institutions(user).order_by("region_id", "name")[:LIST_LIMIT])
    elements = _elements_by_institution(institutions)
    kinds = {i.pk: svc.period_kind_for(i, on=today) for i in institutions}
    periods = {kind: recent_periods(kind, today, LIST_PERIODS) for kind in set(kinds.values())}
    reports = {(r.institution_id, r.period_kind, r.period_start): r for r in
               visible_prenatal_reports(user).filter(institution__in=institutions).annotate(entered=Count("values"))}
    rows = []
    for institution in institutions:
        kind = kinds[institution.pk]
        cells = []
        for start, _end in periods[kind]:
            report = reports.get((institution.pk, kind, start))
            cells.append({"key": period_key(kind, start), "report": report,
                          "entered": getattr(report, "entered", 0) if report else 0,
                          "required": len(elements[institution.pk]),
                          "url": reverse("prenatal:entry", args=[institution.pk, period_key(kind, start)])})
        rows.append({"institution": institution, "kind": kind, "cells": cells,
                     "can_enter": p.may_enter(user, institution)})
    headers = {kind: [period_key(kind, start) for start, _e in spans] for kind, spans in periods.items()}
    return {"rows": rows, "headers": headers, "truncated": len(institutions) >= LIST_LIMIT}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    _require_open(request.user)
    today = timezone.localdate()
    context = _matrix(request.user, today)
    context["mine"] = p.entry_institutions(request.user)
    return render(request, "prenatal/home.html", context)


def _values(report: PrenatalReport | None) -> dict[str, int]:
    if report is None:
        return {}
    return dict(PrenatalValue.objects.filter(report=report).values_list("element__code", "value"))


def _rates(institution: Institution, values: dict[str, Any]) -> list[dict[str, Any]]:
    indicators = indicators_for(province_code=institution.region.province_id, licences=licences_of(institution))
    figures = figures_of({k: v for k, v in values.items() if v is not None}, indicators)
    return [{**describe(i), **figures[i.code]} for i in indicators]


@login_required
def entry(request: HttpRequest, institution: Any, period: str) -> HttpResponse:
    """The grid of one institution and period. Out of scope (or not licensed) is 404; a bad period key too."""
    user: Any = request.user
    _require_open(user)
    found = get_visible_or_404(visible_prenatal_institutions(user), pk=institution)
    try:
        kind, start, end = svc.resolve_period(found, period)
    except ValidationError:
        raise Http404(_("No such period.")) from None
    report = visible_prenatal_reports(user).filter(institution=found, period_kind=kind, period_start=start).select_related(
        "submitted_by", "returned_by").first()
    elements = elements_for(found)
    indicators = indicators_for(province_code=found.region.province_id, licences=licences_of(found))
    editable = (report is None or report.is_editable) and p.may_enter(user, found)
    form = EntryForm(initial=_values(report), elements=elements, indicators=indicators, disabled=not editable)
    return_form = ReasonForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "return":
                return_form = ReasonForm(request.POST)
                if report is None:
                    raise Http404(_("Nothing has been entered for this period."))
                if return_form.is_valid():
                    svc.prenatal_report_return(report=report, by=user, reason=return_form.cleaned_data["reason"])
                    messages.success(request, _("The figures were returned for correction."))
                    return redirect(request.path)
            elif action in ("save", "submit"):
                form = EntryForm(request.POST, elements=elements, indicators=indicators)
                if form.is_valid():
                    report = svc.prenatal_values_save(institution=found, period=(kind, start, end),
                                                      values=form.values(), by=user)
                    if action == "submit":
                        svc.prenatal_report_submit(report=report, by=user)
                        messages.success(request, _("The figures were submitted."))
                    else:
                        messages.success(request, _("The figures were saved."))
                    return redirect(request.path)
            else:
                raise Http404(_("Not found."))
        except ValidationError as exc:
            apply_errors(return_form if action == "return" else form, exc)
        status = 400
    shown = form.values() if form.is_bound and form.is_valid() else _values(report)
    return render(request, "prenatal/entry.html", {
        "institution": found, "period_key": period, "period_kind": kind, "start": start, "end": end,
        "report": report, "form": form, "return_form": return_form, "rates": _rates(found, shown),
        "can_edit": editable, "can_submit": editable,
        "can_return": report is not None and p.can_return(user, report),
        "history_url": reverse("history", args=["cases.prenatalreport", report.pk]) if report else None,
        "changes": list(PrenatalValue.history.filter(report_id=report.pk).select_related("history_user", "element")
                        .order_by("-history_date")[:20]) if report else [],
    }, status=status)


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """The list as a workbook: one row per institution and period shown, each data element's value, each rate and
    the report's state; a second sheet defines the indicators and says where each comes from."""
    from openpyxl import Workbook

    user: Any = request.user
    _require_open(user)
    today = timezone.localdate()
    matrix = _matrix(user, today)
    institutions = [row["institution"] for row in matrix["rows"]]
    provinces = {i.region.province_id for i in institutions}
    indicators = {code: indicators_for(province_code=code) for code in provinces}
    elements = list(PrenatalDataElement.objects.filter(active=True).order_by("order", "code"))
    all_indicators = {i.code: i for group in indicators.values() for i in group}
    report_ids = [cell["report"].pk for row in matrix["rows"] for cell in row["cells"] if cell["report"]]
    values: dict[Any, dict[str, int]] = defaultdict(dict)
    for report_id, code, value in PrenatalValue.objects.filter(report_id__in=report_ids).values_list(
            "report_id", "element__code", "value"):
        values[report_id][code] = value
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Prenatal QC")[:31])
    sheet.append([_("Institution"), _("Institution code"), _("Region"), _("Period"), _("State"),
                  *(element_name(e) for e in elements),
                  *(f"{i.name_zh} (%)" if i.unit == "percent" else f"{i.name_zh} (‰)" for i in all_indicators.values())])
    for row in matrix["rows"]:
        institution = row["institution"]
        own = {i.code for i in indicators[institution.region.province_id]}
        for cell in row["cells"]:
            report = cell["report"]
            entered = values.get(report.pk, {}) if report else {}
            figures = figures_of(entered, [i for i in all_indicators.values() if i.code in own])
            sheet.append([spreadsheet_safe(institution.name), institution.code, spreadsheet_safe(institution.region.name),
                          cell["key"], str(report.get_state_display()) if report else str(_("Not started")),
                          *(entered.get(e.code) for e in elements),
                          *((figures.get(code) or {}).get("value") for code in all_indicators)])
    about = workbook.create_sheet(title=_("Indicators")[:31])
    about.append([_("Code"), _("Indicator"), _("Definition"), _("Numerator"), _("Denominator"), _("Explanation"),
                  _("Origin"), _("Source")])
    for indicator in all_indicators.values():
        described = describe(indicator)
        about.append([indicator.code, spreadsheet_safe(indicator.name_zh), spreadsheet_safe(indicator.definition),
                      spreadsheet_safe(indicator.numerator_label), spreadsheet_safe(indicator.denominator_label),
                      spreadsheet_safe(indicator.explanation), described["origin_text"],
                      spreadsheet_safe(indicator.source_url or indicator.source_note)])
    access_record(user=user, action=AccessLog.Action.EXPORT, object_type="cases.prenatalreport",
                  summary=_("Prenatal QC export: %(count)s institutions") % {"count": len(institutions)})
    return xlsx_response(workbook, stem=f"prenatal-qc-{today:%Y%m%d}")
