"""The problems a report finds by itself in a region's year: figures below their target, deadlines still open at
the year's end (screen-positive women not assessed, improvement measures, rectifications), high-risk cases and
maternal deaths reported late, referral answers past their deadline, and rescue centres whose own figures miss
their targets. Read-only; each problem is plain JSON-ready data::

    {"system": "death", "kind": "late_death_reports", "text": "…", "count": 2}

"Open at the year's end" is judged at the year's end (or now, while the year is not over): a deadline before
then, and the step not done by then (or not done at all).
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from django.db.models import F, Q
from django.utils.translation import gettext as _

from cases.models import (
    AssessmentReferral,
    DeathReport,
    HighRiskCase,
    ImprovementMeasure,
    InterviewParty,
    Referral,
)
from indicators.measures import region_in
from indicators.models import Indicator
from indicators.services import figures_by_institution
from organisations.models import Institution, Region, RescueCentre
from workflows.selfinspection.report import CHINA, Year, indicator_row

SERVICE = Indicator.AttributionKind.SERVICE


def problem(system: str, kind: str, text: str, count: int | None = None) -> dict[str, Any]:
    return {"system": system, "kind": kind, "text": text, "count": count}


def below_target(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every figure of the report whose target is not met."""
    out = []
    for section in sections:
        for row in section["rows"]:
            target = row.get("target")
            if target is not None and target["met"] is False:
                out.append(problem(section["system"], "below_target", _(
                    "%(figure)s is %(value)s, short of the target %(target)s.") % {
                    "figure": row["label"], "value": row["display"], "target": target["display"]}))
    return out


def _names(counts: Counter[Any]) -> str:
    names = dict(Institution.objects.filter(pk__in=list(counts)).values_list("pk", "name"))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], names.get(item[0], "")))
    return "、".join(f"{names.get(pk, '?')} {n}" for pk, n in ordered)


def _by_institution(system: str, kind: str, ids: list[Any], message: str) -> list[dict[str, Any]]:
    """One problem naming every institution concerned with its count (none when nothing was counted)."""
    if not ids:
        return []
    counts = Counter(ids)
    return [problem(system, kind, message % {"count": len(ids), "institutions": _names(counts)}, len(ids))]


def screening_problems(region: Region, year: Year) -> list[dict[str, Any]]:
    open_at_end = AssessmentReferral.objects.filter(
        region_in(region, "from_institution__region"), due_at__lt=year.cutoff).exclude(
        status=AssessmentReferral.Status.CANCELLED).filter(
        Q(assessment__isnull=True) | Q(assessment__assessed_at__gte=year.cutoff))
    return _by_institution("screening", "assessments_overdue",
                           list(open_at_end.values_list("from_institution_id", flat=True)),
                           _("%(count)s screen-positive women referred for assessment were still not assessed past "
                             "their deadline at the year's end (by referring institution: %(institutions)s)."))


def highrisk_problems(region: Region, year: Year) -> list[dict[str, Any]]:
    late = HighRiskCase.objects.filter(region_in(region, "region"), year.during("opened_at"),
                                       report_due_at__lt=year.cutoff).filter(
        Q(reported_at__isnull=True) | Q(reported_at__gt=F("report_due_at")))
    return _by_institution("highrisk", "cases_reported_late", list(late.values_list("institution_id", flat=True)),
                           _("%(count)s high-risk cases were reported to the MCH institute late or not at all "
                             "(by managing institution: %(institutions)s)."))


def referral_problems(region: Region, year: Year) -> list[dict[str, Any]]:
    late = Referral.objects.filter(region_in(region, "to_centre__institution__region"), year.during("requested_at"),
                                   response_due_at__lt=year.cutoff).filter(
        Q(answered_at__gt=F("response_due_at"))
        | (Q(answered_at__isnull=True) & ~Q(state=Referral.State.CANCELLED, closed_at__lte=F("response_due_at"))))
    return _by_institution("referral", "referral_answers_late",
                           list(late.values_list("to_centre__institution_id", flat=True)),
                           _("%(count)s referrals were answered after their deadline or not at all (by rescue "
                             "centre: %(institutions)s)."))


def failing_centres(region: Region, year: Year) -> list[dict[str, Any]]:
    """The rescue centres located in the region whose own service figures miss their targets."""
    centres = set(RescueCentre.objects.filter(region_in(region, "institution__region"), is_active=True)
                  .values_list("institution_id", flat=True))
    if not centres:
        return []
    indicators = {i.code: i for i in Indicator.objects.filter(attribution=SERVICE)}
    data = figures_by_institution(region=region, date_from=year.date_from, date_to=year.date_to)
    out = []
    for group in data["groups"]:
        if group["key"] is None or _uuid(group["key"]) not in centres:
            continue
        failed = [indicator_row(indicators[code], figure) for code, figure in group["indicators"].items()
                  if code in indicators and figure.get("target") and figure["target"]["met"] is False]
        if failed:
            out.append(problem("referral", "failing_centre", _(
                "Rescue centre %(centre)s misses its targets: %(figures)s.") % {
                "centre": group["name"], "figures": "；".join(
                    f"{row['label']} {row['display']}（{row['target']['display']}）" for row in failed)},
                len(failed)))
    return out


def _uuid(value: Any) -> uuid.UUID:
    return uuid.UUID(str(value))


def death_problems(region: Region, year: Year) -> list[dict[str, Any]]:
    deaths = DeathReport.objects.filter(region_in(region, "reporting_institution__region"),
                                        year.during("died_at")).exclude(
        state=DeathReport.State.EXCLUDED).exclude(origin=DeathReport.Origin.IMPORT)
    late = deaths.filter(report_due_at__lt=year.cutoff).filter(
        Q(reported_at__isnull=True) | Q(reported_at__gt=F("report_due_at")))
    out = _by_institution("death", "late_death_reports",
                          list(late.values_list("reporting_institution_id", flat=True)),
                          _("%(count)s maternal deaths were reported after the legal clock or not at all (by "
                            "reporting institution: %(institutions)s)."))
    investigations = DeathReport.objects.filter(region_in(region, "region"), investigation_due_at__lt=year.cutoff
                                                ).exclude(state__in=[DeathReport.State.EXCLUDED,
                                                                     DeathReport.State.DRAFTED]).filter(
        Q(investigated_at__isnull=True) | Q(investigated_at__gte=year.cutoff)).count()
    if investigations:
        out.append(problem("death", "investigations_overdue", _(
            "%(count)s maternal death investigations were past their deadline and not done at the year's end.")
            % {"count": investigations}, investigations))
    measures = ImprovementMeasure.objects.filter(
        region_in(region, "owner_institution__region"), due_on__lt=year.cutoff.astimezone(CHINA).date()).exclude(
        state=ImprovementMeasure.State.CANCELLED).filter(
        Q(state=ImprovementMeasure.State.OPEN) | Q(done_at__gte=year.cutoff))
    out += _by_institution("death", "measures_overdue", list(measures.values_list("owner_institution_id", flat=True)),
                           _("%(count)s improvement measures were past their due date and not done at the year's "
                             "end (by responsible institution: %(institutions)s)."))
    return out


def interview_problems(region: Region, year: Year) -> list[dict[str, Any]]:
    parties = InterviewParty.objects.filter(region_in(region, "institution__region")).filter(
        Q(state=InterviewParty.State.PLAN_DUE, plan_due_at__lt=year.cutoff)
        | Q(state=InterviewParty.State.PLAN_ACCEPTED, report_due_at__lt=year.cutoff))
    return _by_institution("interview", "rectifications_overdue",
                           list(parties.values_list("institution_id", flat=True)),
                           _("%(count)s rectification plans or reports were past their deadline at the year's end "
                             "(by summoned party: %(institutions)s)."))


def find_problems(*, region: Region, year: Year, sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every problem of the region's year, in the order of the five systems."""
    found = [*below_target(sections), *screening_problems(region, year), *highrisk_problems(region, year),
             *referral_problems(region, year), *failing_centres(region, year), *death_problems(region, year),
             *interview_problems(region, year)]
    order = {"screening": 0, "highrisk": 1, "referral": 2, "death": 3, "interview": 4}
    return sorted(found, key=lambda p: order.get(p["system"], 9))
