"""The xlsx export of the death reports a user may see and their review conclusions (死亡报告导出), whole or
de-identified; each export is logged with its count and whether it carried names."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import DeathReport, DeathReviewConclusion
from cases.selectors import visible_death_reports
from organisations.http import ActionDenied
from organisations.models import AccessLog, Region
from organisations.scoping import user_scope
from organisations.services import access_record
from workflows.death import permissions as p
from workflows.death.views.report import card_rows, may_open
from workflows.export import spreadsheet_safe, xlsx_response

__all__ = ["PERSONAL_CARD_FIELDS", "report_export"]

# Card fields that name or locate her: left out of a de-identified export.
PERSONAL_CARD_FIELDS = frozenset({"card_number", "residence_address"})


def _when(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _on_time(done: dt.datetime | None, due: dt.datetime | None) -> str:
    if not (done and due):
        return ""
    return str(_("Yes") if done <= due else _("No"))


def _labels(model: Any, *names: str) -> list[str]:
    return [str(model._meta.get_field(n).verbose_name) for n in names]


def reference(report: DeathReport) -> str:
    """The report's anonymous case number (as on the review packet): stable, and carries nothing about her."""
    return report.review_number


def _reports_sheet(workbook: Any, reports: list[DeathReport], *, deidentified: bool) -> None:
    sheet = workbook.create_sheet(title=_("Death reports"))
    card_names = [n for n in DeathReport.CARD_FIELDS if not (deidentified and n in PERSONAL_CARD_FIELDS)]
    who = [_("Reference")] if deidentified else [_("Reference"), _("Name"), _("Document number")]
    sheet.append([*who, _("County"), _("Reporting institution"), *_labels(DeathReport, "origin", "state"),
                  *_labels(DeathReport, *card_names),
                  *_labels(DeathReport, "report_due_at", "reported_at"), _("Reported on time"),
                  *_labels(DeathReport, "card_due_at", "verified_at"), _("Card on time"),
                  *_labels(DeathReport, "investigation_due_at", "investigated_at"), _("Investigated on time"),
                  *_labels(DeathReport, "review_levels", "final_level", "final_avoidability", "final_icd10",
                           "final_cause_class", "closed_at", "exclusion_reason")])
    for report in reports:
        card = dict(zip(DeathReport.CARD_FIELDS, (text for _label, text in card_rows(report)), strict=True))
        ident = [reference(report)] if deidentified else [
            reference(report), report.woman.name, report.woman.id_number_masked]
        row = [*ident, report.region.name, report.reporting_institution.name, report.get_origin_display(),
               report.get_state_display(), *[card[n] if card[n] != "—" else "" for n in card_names],
               _when(report.report_due_at), _when(report.reported_at),
               _on_time(report.reported_at, report.report_due_at), _when(report.card_due_at),
               _when(report.verified_at), _on_time(report.verified_at, report.card_due_at),
               _when(report.investigation_due_at), _when(report.investigated_at),
               _on_time(report.investigated_at, report.investigation_due_at),
               "、".join(str(dict(DeathReport._meta.get_field("final_level").choices).get(lvl, lvl))
                        for lvl in report.review_levels),
               report.get_final_level_display() if report.final_level else "",
               report.get_final_avoidability_display() if report.final_avoidability else "",
               report.final_icd10, report.get_final_cause_class_display() if report.final_cause_class else "",
               _when(report.closed_at), report.exclusion_reason]
        sheet.append([spreadsheet_safe(str(v)) for v in row])


def _conclusions_sheet(workbook: Any, reports: list[DeathReport]) -> None:
    sheet = workbook.create_sheet(title=_("Review conclusions"))
    sheet.append([_("Reference"), _("County"), *_labels(
        DeathReviewConclusion, "level", "avoidability", "underlying_cause", "icd10", "cause_class", "icd_mm_group",
        "disagrees_with_lower", "note", "concluded_at")])
    for report in reports:
        for c in report.conclusions.all():
            sheet.append([spreadsheet_safe(str(v)) for v in [
                reference(report), report.region.name, c.get_level_display(), c.get_avoidability_display(),
                c.underlying_cause, c.icd10, c.get_cause_class_display(), c.get_icd_mm_group_display(),
                _("Yes") if c.disagrees_with_lower else _("No"), c.note, _when(c.concluded_at)]])


@login_required
def report_export(request: HttpRequest) -> HttpResponse:
    """Every report the user may see (optionally of one year of death), with its conclusions. A de-identified
    export (``?deidentified=1``) leaves out her name, document number, address and card number; both carry
    the same reference, so the two can be matched by whoever holds the identified one."""
    from openpyxl import Workbook

    user: Any = request.user
    if not may_open(user):
        raise ActionDenied(_("Your role does not include maternal death reporting and review."))
    # An expert reviewer on the packet exports what she reads: de-identified, whatever she asks for.
    deidentified = request.GET.get("deidentified") == "1" or p.is_packet_reader(user)
    qs = visible_death_reports(user).select_related(
        "woman", "region", "reporting_institution", "residence_region", "delivery_institution",
        "death_institution").prefetch_related(
        Prefetch("conclusions", queryset=DeathReviewConclusion.objects.order_by("concluded_at")))
    year = request.GET.get("year", "")
    if year.isdigit():
        qs = qs.filter(died_at__year=int(year))
    reports = list(qs.order_by("died_at", "pk"))
    workbook = Workbook(write_only=True)
    _reports_sheet(workbook, reports, deidentified=deidentified)
    _conclusions_sheet(workbook, reports)
    scope = user_scope(user)
    region_code = next((code for _level, code in scope.areas), None)
    summary = (_("Death reports export, de-identified: %(count)s reports") if deidentified
               else _("Death reports export: %(count)s reports")) % {"count": len(reports)}
    access_record(user=user, action=AccessLog.Action.EXPORT, object_type="cases.deathreport", summary=summary,
                  region=Region.objects.filter(code=region_code).first() if region_code else None)
    return xlsx_response(workbook, stem="death-reports-deidentified" if deidentified else "death-reports")
