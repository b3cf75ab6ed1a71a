"""Writes of self-inspection reports: draft one for a region and year, edit its narrative, finalise it (which
freezes the figures and problems as they are then). Every caller (the pages, later the evaluation rounds) calls
these; each runs one transaction with the row locked, checks who acts, and saves with history."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cases.limits import NARRATIVE_MAX_CHARS
from cases.models import SelfInspectionReport
from organisations.http import ActionDenied, TransitionConflict
from organisations.models import Region
from workflows.common import save_with_history
from workflows.selfinspection import permissions as p
from workflows.selfinspection.kinds import kind_of
from workflows.selfinspection.problems import find_problems
from workflows.selfinspection.report import sections, year_of

__all__ = ["FIRST_YEAR", "report_content", "report_live", "selfinspection_create", "selfinspection_finalise",
           "selfinspection_update"]

FIRST_YEAR = 2000


def report_live(*, region: Region, year: int, kind: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """The report's figures and problems computed now from the records (a draft's)."""
    period = year_of(year, now=now)
    found = sections(region=region, year=period)
    return {"title": kind_of(kind).title_for(region=region, year=year), "kind": kind, "year": year,
            "region": {"code": region.code, "name": region.name}, "span": period.span,
            "as_of": timezone.localtime(period.now).strftime("%Y-%m-%d %H:%M"),
            "sections": found, "problems": find_problems(region=region, year=period, sections=found)}


def report_content(report: SelfInspectionReport) -> dict[str, Any]:
    """What the report shows: its frozen snapshot once finalised, else the live figures."""
    if report.is_final and report.snapshot:
        return report.snapshot
    return report_live(region=report.region, year=report.year, kind=report.kind)


def _check_year(year: Any) -> int:
    latest = timezone.localdate().year
    if not isinstance(year, int) or not FIRST_YEAR <= year <= latest:
        raise ValidationError({"year": [_("Choose a year from %(first)d to %(last)d.")
                                        % {"first": FIRST_YEAR, "last": latest}]})
    return year


def _exists(region: Region, year: int, kind: str) -> ValidationError:
    return ValidationError({"year": [_("%(region)s already has this report for %(year)d: open it from the list.")
                                     % {"region": region.name, "year": year}]})


def selfinspection_create(*, by: Any, region: Region, year: int,
                          kind: str = SelfInspectionReport.Kind.SELF_INSPECTION) -> SelfInspectionReport:
    """A new draft of ``region``'s report for ``year``: one per region, year and kind."""
    if not p.may_draft(by, region):
        raise ActionDenied(_("Only the MCH and bureau officers of %(region)s draft its reports.")
                           % {"region": region.name})
    if kind not in SelfInspectionReport.Kind.values:
        raise ValidationError({"kind": [_("Choose the kind of report.")]})
    year = _check_year(year)
    with transaction.atomic():
        if SelfInspectionReport.objects.filter(region=region, year=year, kind=kind).exists():
            raise _exists(region, year, kind)
        report = SelfInspectionReport(region=region, year=year, kind=kind, created_by=by, updated_by=by)
        try:
            with transaction.atomic():
                save_with_history(report, by=by, reason="report drafted")
        except IntegrityError as exc:  # two officers drafted it at once
            raise _exists(region, year, kind) from exc
    return report


def _locked(report: SelfInspectionReport) -> SelfInspectionReport:
    return SelfInspectionReport.objects.select_for_update(of=("self",)).select_related("region").get(pk=report.pk)


def _require_draft(by: Any, report: SelfInspectionReport) -> None:
    if not p.may_edit(by, report):
        raise ActionDenied(_("Only the MCH and bureau officers of %(region)s change its reports.")
                           % {"region": report.region.name})
    if report.state != SelfInspectionReport.State.DRAFT:
        raise TransitionConflict(_("This report is finalised: it no longer changes."))


def selfinspection_update(*, report: SelfInspectionReport, by: Any, measures: str, problems: str,
                          next_steps: str) -> SelfInspectionReport:
    """Save the narrative sections of a draft."""
    values = {"measures": measures, "problems": problems, "next_steps": next_steps}
    errors = {name: [_("At most %(n)d characters.") % {"n": NARRATIVE_MAX_CHARS}]
              for name, value in values.items() if len(value or "") > NARRATIVE_MAX_CHARS}
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        report = _locked(report)
        _require_draft(by, report)
        for name, value in values.items():
            setattr(report, name, (value or "").strip())
        report.updated_by = by
        save_with_history(report, by=by, reason="narrative edited")
    return report


def selfinspection_finalise(*, report: SelfInspectionReport, by: Any) -> SelfInspectionReport:
    """Finalise a draft: its narrative must be written; the figures and problems are frozen as computed now, in
    the site's language (the report is a document as filed)."""
    with transaction.atomic():
        report = _locked(report)
        _require_draft(by, report)
        sections_ = kind_of(report.kind).sections
        missing = {s.field: [_("Write this section before finalising.")] for s in sections_
                   if not getattr(report, s.field).strip()}
        if missing:
            raise ValidationError(missing)
        now = timezone.now()
        with translation.override(settings.LANGUAGE_CODE):
            snapshot = report_live(region=report.region, year=report.year, kind=report.kind, now=now)
        report.finalise(by=by, at=now, snapshot=snapshot)
        report.updated_by = by
        save_with_history(report, by=by, reason="report finalised")
    return report
