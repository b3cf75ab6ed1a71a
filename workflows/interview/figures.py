"""Figures a circular's ranking table (指标晾晒) may rank on, from what Anmu records now.

``FIGURES`` maps a key to a :class:`Figure`: its label and a function ``(area, start, end)`` that answers
``[(subject, value), ...]`` for the subjects of the bureau's area (a ``Region`` county or an ``Institution``),
counted over the dates ``start``–``end`` inclusive. Read-only. Adding a figure is one entry in ``FIGURES``.
The indicators issue will bring more (e.g. improvement measures overdue).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Avoidability, DeathReport, EmergencyCaesarean, ImprovementMeasure, Referral
from organisations.models import Institution, Region
from organisations.scoping import Scope, area_q, region_codes_in_area

Rows = list[tuple[Any, Decimal]]
NO_SCOPE = Scope()  # the areas are passed explicitly: the bureau's own


@dataclass(frozen=True)
class Figure:
    label: Any
    compute: Callable[[Region, dt.date, dt.date], Rows]
    by: str  # "county" or "institution": what the rows name


def _area(area: Region) -> list[tuple[str, str]]:
    return [(area.level, area.code)]


def _window(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    begin = dt.datetime.combine(start, dt.time.min, tzinfo=zone)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return begin, finish


def _counties(area: Region) -> QuerySet[Region]:
    return Region.objects.filter(region_codes_in_area(NO_SCOPE, areas=_area(area)),
                                 level=Region.Level.COUNTY).order_by("code")


def _by_county(area: Region, codes: list[str]) -> Rows:
    """Every county of the area, with zero where nothing was counted."""
    counts = Counter(codes)
    return [(county, Decimal(counts.get(county.code, 0))) for county in _counties(area)]


def _by_institution(ids: list[Any]) -> Rows:
    counts = Counter(ids)
    institutions = Institution.objects.filter(pk__in=list(counts)).order_by("region_id", "name")
    return [(institution, Decimal(counts[institution.pk])) for institution in institutions]


def _deaths(area: Region, start: dt.date, end: dt.date) -> QuerySet[DeathReport]:
    begin, finish = _window(start, end)
    return DeathReport.objects.filter(area_q(NO_SCOPE, "region", areas=_area(area)),
                                      died_at__gte=begin, died_at__lt=finish).exclude(state=DeathReport.State.EXCLUDED)


def deaths_avoidable(area: Region, start: dt.date, end: dt.date) -> Rows:
    """Maternal deaths whose final conclusion is avoidable (or avoidable had conditions been created), by county."""
    rows = _deaths(area, start, end).filter(final_avoidability__in=[Avoidability.AVOIDABLE, Avoidability.CONDITIONALLY])
    return _by_county(area, list(rows.values_list("region_id", flat=True)))


def death_reports_late(area: Region, start: dt.date, end: dt.date) -> Rows:
    """Death reports made after their 24-hour clock (or still unreported past it), by county."""
    now = timezone.now()
    rows = _deaths(area, start, end).filter(report_due_at__isnull=False).filter(
        Q(reported_at__gt=F("report_due_at")) | Q(reported_at__isnull=True, report_due_at__lt=now))
    return _by_county(area, list(rows.values_list("region_id", flat=True)))


def referral_answers_late(area: Region, start: dt.date, end: dt.date) -> Rows:
    """Referrals answered after their response deadline (or unanswered past it), by receiving institution."""
    begin, finish = _window(start, end)
    now = timezone.now()
    rows = Referral.objects.filter(area_q(NO_SCOPE, "to_centre__institution__region", areas=_area(area)),
                                   requested_at__gte=begin, requested_at__lt=finish).filter(
        Q(answered_at__gt=F("response_due_at")) | Q(answered_at__isnull=True, response_due_at__lt=now)
    ).exclude(state=Referral.State.CANCELLED)
    return _by_institution(list(rows.values_list("to_centre__institution_id", flat=True)))


def ddi_over_target(area: Region, start: dt.date, end: dt.date) -> Rows:
    """Emergency caesareans whose decision-to-delivery interval was above the province's target, by institution."""
    begin, finish = _window(start, end)
    rows = EmergencyCaesarean.objects.filter(area_q(NO_SCOPE, "institution__region", areas=_area(area)),
                                             decision_at__gte=begin, decision_at__lt=finish, over_target=True)
    return _by_institution(list(rows.values_list("institution_id", flat=True)))


def measures_overdue(area: Region, start: dt.date, end: dt.date) -> Rows:
    """Improvement measures due in the period and still not done by its end (or by today, for a period not over),
    by owner institution."""
    cutoff = min(end, timezone.localdate())
    rows = ImprovementMeasure.objects.filter(
        area_q(NO_SCOPE, "owner_institution__region", areas=_area(area)), due_on__gte=start, due_on__lt=cutoff).filter(
        Q(state=ImprovementMeasure.State.OPEN) | Q(done_at__date__gt=F("due_on"))).exclude(
        state=ImprovementMeasure.State.CANCELLED)
    return _by_institution(list(rows.values_list("owner_institution_id", flat=True)))


FIGURES: dict[str, Figure] = {
    "deaths_avoidable": Figure(_("Maternal deaths concluded avoidable"), deaths_avoidable, "county"),
    "death_reports_late": Figure(_("Death reports past the 24-hour clock"), death_reports_late, "county"),
    "referral_answers_late": Figure(_("Referral answers past their deadline"), referral_answers_late, "institution"),
    "ddi_over_target": Figure(_("Emergency caesareans with DDI over target"), ddi_over_target, "institution"),
    "measures_overdue": Figure(_("Improvement measures overdue"), measures_overdue, "institution"),
}


def figure_choices() -> list[tuple[str, Any]]:
    return [(key, figure.label) for key, figure in FIGURES.items()]


def ranked(rows: Rows) -> list[tuple[int, Any, Decimal]]:
    """Highest value first (the worst for every figure today), equal values share a rank (1, 2, 2, 4)."""
    ordered = sorted(rows, key=lambda row: (-row[1], getattr(row[0], "code", "") or getattr(row[0], "name", "")))
    out: list[tuple[int, Any, Decimal]] = []
    for position, (subject, value) in enumerate(ordered, start=1):
        rank = out[-1][0] if out and out[-1][2] == value else position
        out.append((rank, subject, value))
    return out
