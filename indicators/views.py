"""The indicators dashboard (指标) for MCH officers, bureau officers and system admins: tiles, the chosen
indicator by month and by sub-area with drill-down (province → city → county → institution), a period
picker, xlsx and CSV exports of every table, a print view, and a change stamp the page polls to stay live.

Every page starts from the reader's own area (``permissions.default_region``) and may go down only: a region
or institution outside her areas answers 404, like one that does not exist (``permissions.readable_*``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models.rules import province_settings
from indicators import permissions
from indicators.dashboard import Scope, dashboard_data, tables
from indicators.forms import PeriodForm
from indicators.live import change_stamp
from indicators.periods import EARLIEST, LATEST, PeriodKind, ReportPeriod
from organisations.http import ActionDenied
from organisations.models import AccessLog, Region
from organisations.services import access_record
from organisations.spreadsheets import csv_response, spreadsheet_safe, xlsx_response

__all__ = ["DENIED", "dashboard", "dashboard_data_json", "dashboard_export", "dashboard_live", "dashboard_print",
           "may_open"]

DENIED = gettext_lazy("Indicators open to MCH officers, bureau officers and system administrators.")
REGION_CODE = re.compile(r"^\d{6}$")
# How often the page asks whether its figures changed (milliseconds).
POLL_MS = 10_000


def may_open(user: Any) -> bool:
    return permissions.may_read_figures(user)


@dataclass
class Request:
    """One dashboard request, checked: the scope the reader may see, the period and the indicator asked for."""

    scope: Scope
    form: PeriodForm
    period: ReportPeriod | None
    indicator: str | None

    def query(self, **overrides: str | None) -> str:
        """The query string naming this scope, period and indicator, with some parameters replaced."""
        params: dict[str, str | None] = {}
        if self.period is not None:
            params.update(self.period.query())
        params["indicator"] = self.indicator
        if self.scope.institution is not None:
            params["institution"] = self.scope.institution.code
        params.update(overrides)
        return urlencode({key: value for key, value in params.items() if value})


def _checked(request: HttpRequest, code: str | None) -> Request:
    user: Any = request.user
    if not permissions.may_read_figures(user):
        raise ActionDenied(str(DENIED))
    if code is None:
        region = permissions.default_region(user)
    else:
        region = permissions.readable_region(user, code) if REGION_CODE.match(code) else None
    if region is None:
        raise Http404(_("No such region."))
    institution = None
    if request.GET.get("institution"):
        institution = permissions.readable_institution(user, request.GET["institution"][:32], region=region)
        if institution is None:
            raise Http404(_("No such institution in this region."))
    today = timezone.localdate()
    start_month = province_settings(province_code=region.province_id or region.code,
                                    on=today).statistical_year_start_month
    form = PeriodForm(request.GET, today=today, start_month=start_month)
    period = form.report_period() if form.is_valid() else None
    indicator = (form.cleaned_data.get("indicator") or None) if period is not None else None
    if period is not None:
        # The picker shows the period in force (also when the query named none), every field filled from it,
        # so that switching the kind starts from the same dates.
        form = PeriodForm(_shown(period), today=today, start_month=start_month)
        form.is_valid()
    return Request(scope=Scope(region=region, institution=institution), form=form, period=period,
                   indicator=indicator)


def _shown(period: ReportPeriod) -> dict[str, str]:
    start = period.date_from
    return {"period": period.kind, "month": f"{start:%Y-%m}", "quarter": str((start.month - 1) // 3 + 1),
            "year": str(period.year or start.year), "from": start.isoformat(), "to": period.date_to.isoformat()}


def _page_url(region_code: str, query: str) -> str:
    return reverse("indicators:region", args=[region_code]) + (f"?{query}" if query else "")


def _breadcrumb(user: Any, checked: Request) -> list[dict[str, Any]]:
    """The areas from the reader's widest one down to this page: she may go up to them, never above."""
    region = checked.scope.region
    chain = [code for code in dict.fromkeys((region.province_id, region.city_id)) if code and code != region.code]
    ancestors = {r.code: r for r in Region.objects.filter(pk__in=chain)}
    crumbs = []
    for candidate in [*(ancestors[code] for code in chain if code in ancestors), region]:
        if permissions.can_read_region(user, candidate):
            crumbs.append({"name": candidate.name, "code": candidate.code,
                           "url": _page_url(candidate.code, checked.query(institution=None))})
    if checked.scope.institution is not None:
        crumbs.append({"name": checked.scope.institution.name, "code": checked.scope.institution.code,
                       "url": _page_url(region.code, checked.query())})
    return crumbs


def _linked(data: dict[str, Any], checked: Request) -> dict[str, Any]:
    """The figures with the page's links: each tile to its indicator, each sub-area (or institution) down."""
    region = checked.scope.region
    for tile in data["tiles"]:
        tile["url"] = _page_url(region.code, checked.query(indicator=tile["code"]))
    if data["areas"] is not None:
        for row in data["areas"]["rows"]:
            if row["kind"] == "region":
                row["url"] = _page_url(row["key"], checked.query(institution=None))
            elif row["kind"] == "institution":
                row["url"] = _page_url(region.code, checked.query(institution=row["code"]))
            else:
                row["url"] = None
    return data


def _figures(checked: Request) -> dict[str, Any]:
    assert checked.period is not None  # noqa: S101 (callers answer 400 first)
    return _linked(dashboard_data(scope=checked.scope, period=checked.period, indicator_code=checked.indicator),
                   checked)


def _table_links(table: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The page's links in a table's first column (the summary's to each indicator, the sub-areas' down)."""
    urls = {tile["code"]: tile["url"] for tile in data["tiles"]}
    down = {row["key"]: row["url"] for row in (data["areas"] or {"rows": []})["rows"]}
    for row in table["rows"]:
        first = row[0]
        if first.get("href_indicator"):
            first["href"] = urls.get(first["href_indicator"])
        elif first.get("drill"):
            first["href"] = down.get(first["key"])
    return table


def _context(request: HttpRequest, checked: Request) -> dict[str, Any]:
    region = checked.scope.region
    context: dict[str, Any] = {"form": checked.form, "checked": checked, "scope": checked.scope,
                               "breadcrumb": _breadcrumb(request.user, checked), "kinds": PeriodKind}
    if checked.period is None:
        return context
    data = _figures(checked)
    page_tables = {name: _table_links(table, data) for name, table in tables(data).items()}
    previous, following = checked.period.previous(), checked.period.shifted(1)
    base = reverse("indicators:region", args=[region.code])
    context.update({
        "data": data, "tables": page_tables, "period": checked.period,
        "previous_url": _page_url(region.code, checked.query(**previous.query()))
        if previous.date_from >= EARLIEST else None,
        "next_url": _page_url(region.code, checked.query(**following.query()))
        if following.date_to <= LATEST else None,
        "query": checked.query(),
        "body_url": f"{base}?{checked.query(fragment='body')}",
        "live_url": reverse("indicators:live", args=[region.code]) + f"?{checked.query()}",
        "data_url": reverse("indicators:data", args=[region.code]) + f"?{checked.query()}",
        "print_url": reverse("indicators:print", args=[region.code]) + f"?{checked.query()}",
        "export_base": reverse("indicators:region", args=[region.code]) + "export/",
        "stamp": change_stamp(scope=checked.scope), "poll_ms": POLL_MS,
        "chart": _chart_data(data),
    })
    return context


def _chart_data(data: dict[str, Any]) -> dict[str, Any] | None:
    """What static/anmu/indicators.js draws (passed with json_script: no inline script)."""
    indicator = data["indicator"]
    if indicator is None:
        return None
    target = indicator["target"]
    return {
        "indicator": indicator["name"], "unit": indicator["unit"], "suffix": indicator["unit_suffix"],
        "target": None if target is None else {"value": target["value"], "comparison": target["comparison"],
                                               "label": _("Target") + " " + target["display"]},
        "months": [{"name": row["name"], "value": row["value"]} for row in data["months"]["rows"]],
        "areas": None if data["areas"] is None else [
            {"name": row["name"], "value": row["value"], "url": row.get("url"), "met": row["met"]}
            for row in data["areas"]["rows"]],
        "labels": {"months": _("By month"), "areas": _("By institution") if data["areas"] and
                   data["areas"]["by"] == "institution" else _("By sub-area")},
    }


@login_required
def dashboard(request: HttpRequest, code: str | None = None) -> HttpResponse:
    checked = _checked(request, code)
    context = _context(request, checked)
    status = 400 if checked.period is None else 200
    if request.GET.get("fragment") == "body" and checked.period is not None:
        return render(request, "indicators/_body.html", context, status=status)
    return render(request, "indicators/dashboard.html", context, status=status)


def _bad_request(checked: Request) -> JsonResponse:
    return JsonResponse({"errors": {name: [str(e) for e in errors] for name, errors in checked.form.errors.items()}},
                        status=400)


@login_required
def dashboard_data_json(request: HttpRequest, code: str) -> HttpResponse:
    """The figures the page shows, as JSON (tiles, the chosen indicator by month and by sub-area)."""
    checked = _checked(request, code)
    if checked.period is None:
        return _bad_request(checked)
    return JsonResponse({**_figures(checked), "stamp": change_stamp(scope=checked.scope)},
                        json_dumps_params={"ensure_ascii": False})


@login_required
def dashboard_live(request: HttpRequest, code: str) -> HttpResponse:
    """The change stamp of the page's area: the page fetches its figures again when it differs."""
    checked = _checked(request, code)
    return JsonResponse({"stamp": change_stamp(scope=checked.scope),
                         "checked_at": timezone.localtime().isoformat(timespec="seconds")})


@login_required
def dashboard_print(request: HttpRequest, code: str) -> HttpResponse:
    checked = _checked(request, code)
    context = _context(request, checked)
    if checked.period is None:
        return render(request, "indicators/dashboard.html", context, status=400)
    context["printed_at"] = timezone.now()
    return render(request, "indicators/print.html", context)


def _stem(checked: Request, table: str) -> str:
    assert checked.period is not None  # noqa: S101
    place = checked.scope.institution.code if checked.scope.institution else checked.scope.region.code
    return f"indicators-{place}-{table}-{checked.period.date_from:%Y%m%d}-{checked.period.date_to:%Y%m%d}"


@login_required
def dashboard_export(request: HttpRequest, code: str, table: str, fmt: str) -> HttpResponse:
    """One table of the page as xlsx or CSV: the same rows and columns as shown, the figures exact."""
    checked = _checked(request, code)
    if fmt not in ("xlsx", "csv"):
        raise Http404(_("Not found."))
    if checked.period is None:
        return _bad_request(checked)
    data = _figures(checked)
    found = tables(data).get(table)
    if found is None:
        raise Http404(_("Not found."))
    rows: list[list[Any]] = [found["header"], *([cell["value"] for cell in row] for row in found["rows"])]
    scope = checked.scope
    where = scope.institution.name if scope.institution else scope.region.name
    access_record(user=request.user, action=AccessLog.Action.EXPORT,  # type: ignore[arg-type]
                  object_type="indicators.figures", object_id=scope.region.code, region=scope.region,
                  summary=_("Indicators export: %(table)s, %(where)s, %(period)s") % {
                      "table": found["title"], "where": where, "period": checked.period.span()})
    if fmt == "csv":
        return csv_response(rows, stem=_stem(checked, table))
    return xlsx_response(_workbook(found, rows, checked, data), stem=_stem(checked, table))


def _workbook(found: dict[str, Any], rows: list[list[Any]], checked: Request, data: dict[str, Any]) -> Any:
    from openpyxl import Workbook

    assert checked.period is not None  # noqa: S101
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(found["title"])[:31])
    for row in rows:
        sheet.append([spreadsheet_safe(cell) for cell in row])
    about = workbook.create_sheet(title=_("About")[:31])
    scope = checked.scope
    for label, value in ((_("Area"), f"{scope.region.name} ({scope.region.code})"),
                         (_("Institution"), scope.institution.name if scope.institution else ""),
                         (_("Period"), f"{checked.period.label()} ({checked.period.span()})"),
                         (_("Indicator"), (data["indicator"] or {}).get("name", "") if found["name"] in ("areas", "months")
                          else ""),
                         (_("Exported at"), timezone.localtime().strftime("%Y-%m-%d %H:%M"))):
        about.append([str(label), spreadsheet_safe(str(value))])
    return workbook
