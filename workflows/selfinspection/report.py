"""The figures of a report: for a region (everything below it included) and a calendar year, one short table per
system of the five, as plain JSON-ready data (the page, the print view, the .docx and the frozen snapshot all
read it).

The indicators engine (indicators/services.py ``figures``) gives every figure it has, with the province's
target; the few it has no measure for (screenings and the colours of the first assessment, cases opened,
reports to the MCH institute, interviews and circulars) are counted here with small read-only queries, each
attributed like the engine's service figures: to the region of the institution (or the area) that did the work,
and to the date of the work in the year (China time).

One row::

    {"key": "early_booking_rate", "label": "早孕建册率", "unit": "percent", "value": 60.0, "display": "60.00 %",
     "ratio": "3 / 5", "target": {"display": "≥ 90.00 %", "met": False} | None}
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.models import (
    Assessment,
    AssessmentReferral,
    Circular,
    Colour,
    FollowUpVisit,
    HighRiskCase,
    ImprovementMeasure,
    Interview,
    InterviewParty,
    Referral,
    Screening,
)
from indicators.dashboard import COMPARISON_SIGN, format_value, indicator_name, unit_suffix
from indicators.measures import region_in
from indicators.models import Indicator, Unit
from indicators.services import active_indicators, figures
from organisations.models import Region

CHINA = ZoneInfo("Asia/Shanghai")

SYSTEMS: list[tuple[str, Any]] = [
    ("screening", gettext_lazy("Pregnancy risk screening and assessment")),
    ("highrisk", gettext_lazy("High-risk case management")),
    ("referral", gettext_lazy("Critical-case referral and rescue")),
    ("death", gettext_lazy("Maternal death reporting and review")),
    ("interview", gettext_lazy("Interviews and circulars")),
]

# Which of the indicators engine's figures each system's table shows, in this order (an inactive or unknown
# code is left out). A province's own indicators join the system of the measure they count (``MEASURE_SYSTEM``).
SYSTEM_INDICATORS: dict[str, list[str]] = {
    "screening": ["live_births", "deliveries", "early_booking_rate", "antenatal_check_rate", "antenatal_5_rate",
                  "system_management_rate", "hospital_delivery_rate", "caesarean_rate"],
    "highrisk": ["high_risk_proportion", "case_management_rate"],
    "referral": ["near_miss_ratio", "referral_answer_in_time_rate", "referral_answer_median_minutes",
                 "referral_feedback_in_time_rate", "ddi_in_target_rate"],
    "death": ["maternal_deaths", "mmr", "death_report_24h_rate", "death_reviewed_all_levels_rate",
              "death_avoidable_share"],
    "interview": [],
}
MEASURE_SYSTEM = {"high_risk_deliveries": "highrisk", "case_managed_deliveries": "highrisk",
                  "near_misses": "referral", "referrals_answer_owed": "referral", "referrals_answered_in_time": "referral",
                  "referral_answer_minutes": "referral", "referrals_feedback_owed": "referral",
                  "referrals_feedback_in_time": "referral", "emergency_caesareans": "referral",
                  "emergency_caesareans_in_target": "referral", "maternal_deaths": "death",
                  "death_reports_owed": "death", "death_reports_in_time": "death", "reviewable_deaths": "death",
                  "deaths_reviewed_all_levels": "death", "deaths_concluded": "death", "deaths_avoidable": "death"}


@dataclass(frozen=True)
class Year:
    """A calendar year (the data year of the reports), with the instant its figures are judged at: the end
    of the year, or now while the year is not over."""

    year: int
    now: dt.datetime

    @property
    def date_from(self) -> dt.date:
        return dt.date(self.year, 1, 1)

    @property
    def date_to(self) -> dt.date:
        return dt.date(self.year, 12, 31)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime(self.year, 1, 1, tzinfo=CHINA)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the year."""
        return dt.datetime(self.year + 1, 1, 1, tzinfo=CHINA)

    @property
    def cutoff(self) -> dt.datetime:
        """What is "open at year end" is judged at this instant."""
        return min(self.end, self.now)

    @property
    def span(self) -> str:
        return f"{self.date_from.isoformat()} – {self.date_to.isoformat()}"

    def during(self, path: str) -> Q:
        return Q(**{f"{path}__gte": self.start, f"{path}__lt": self.end})


# --- Rows ------------------------------------------------------------------------------------------


def _display(value: Any, unit: str) -> str:
    suffix = unit_suffix(unit)
    text = format_value(value, unit)
    return f"{text} {suffix}" if suffix and value is not None else text


def count_row(key: str, label: Any, value: int) -> dict[str, Any]:
    return {"key": key, "label": str(label), "unit": Unit.COUNT, "value": value,
            "display": _display(value, Unit.COUNT), "ratio": "", "target": None}


def percent_row(key: str, label: Any, numerator: int, denominator: int) -> dict[str, Any]:
    value = None if not denominator else float(
        (Decimal(numerator) * 100 / Decimal(denominator)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return {"key": key, "label": str(label), "unit": Unit.PERCENT, "value": value,
            "display": _display(value, Unit.PERCENT), "ratio": f"{numerator:,} / {denominator:,}", "target": None}


def indicator_row(indicator: Indicator, figure: dict[str, Any]) -> dict[str, Any]:
    unit = figure["unit"]
    if figure.get("numerator") is None and figure.get("count") is not None:
        ratio = f"n = {figure['count']:,}"
    elif figure.get("denominator") is None:
        ratio = ""
    else:
        ratio = f"{figure['numerator']:,} / {figure['denominator']:,}"
    target = figure.get("target")
    return {"key": indicator.code, "label": indicator_name(indicator), "unit": unit, "value": figure["value"],
            "display": _display(figure["value"], unit), "ratio": ratio,
            "target": None if target is None else {
                "display": f"{COMPARISON_SIGN[target['comparison']]} {_display(target['value'], unit)}",
                "met": target["met"]}}


# --- The figures the engine has no measure for ----------------------------------------------------


def _screening_rows(region: Region, year: Year) -> list[dict[str, Any]]:
    screenings = Screening.objects.filter(region_in(region, "institution__region"), year.during("screened_at"))
    counted = screenings.aggregate(total=Count("pk"), positive=Count("pk", filter=Q(positive=True)))
    first = Assessment.objects.filter(region_in(region, "institution__region"), year.during("assessed_at"),
                                      status=Assessment.Status.VALID, stage=Assessment.Stage.FIRST)
    colours = Counter(dict(first.order_by().values_list("colour").annotate(n=Count("pk"))))
    purple = first.filter(purple=True).count()
    referred = AssessmentReferral.objects.filter(region_in(region, "from_institution__region"),
                                                 year.during("created_at")).exclude(
        status=AssessmentReferral.Status.CANCELLED)
    in_time = referred.filter(assessment__assessed_at__lte=F("due_at")).count()
    rows = [count_row("screenings", _("Screenings at booking"), counted["total"]),
            count_row("screenings_positive", _("Screenings positive"), counted["positive"]),
            count_row("first_assessments", _("First assessments"), sum(colours.values()))]
    for colour in (Colour.GREEN, Colour.YELLOW, Colour.ORANGE, Colour.RED):
        rows.append(count_row(f"first_{colour}", _("of which %(colour)s") % {"colour": Colour(colour).label},
                              colours.get(colour, 0)))
    rows.append(count_row("first_purple", _("of which purple (infectious disease)"), purple))
    rows.append(percent_row("screen_positive_assessed_in_time",
                            _("Screen-positive women referred and assessed by the deadline"), in_time, referred.count()))
    return rows


def _highrisk_rows(region: Region, year: Year) -> list[dict[str, Any]]:
    opened = HighRiskCase.objects.filter(region_in(region, "region"), year.during("opened_at"))
    counted = opened.aggregate(
        total=Count("pk"), orange=Count("pk", filter=Q(colour=Colour.ORANGE)),
        red=Count("pk", filter=Q(colour=Colour.RED)), purple=Count("pk", filter=Q(purple=True)),
        owed=Count("pk", filter=Q(report_due_at__isnull=False)),
        in_time=Count("pk", filter=Q(reported_at__lte=F("report_due_at"))))
    in_area = HighRiskCase.objects.filter(region_in(region, "region"))
    visits = FollowUpVisit.objects.filter(region_in(region, "case__region"), due_on__gte=year.date_from,
                                          due_on__lte=year.date_to).exclude(status=FollowUpVisit.Status.CANCELLED)
    visit_counts = visits.aggregate(due=Count("pk"), missed=Count("pk", filter=Q(status=FollowUpVisit.Status.MISSED)))
    return [
        count_row("cases_opened", _("High-risk cases opened"), counted["total"]),
        count_row("cases_opened_orange", _("of which orange"), counted["orange"]),
        count_row("cases_opened_red", _("of which red"), counted["red"]),
        count_row("cases_opened_purple", _("of which purple"), counted["purple"]),
        percent_row("cases_reported_in_time", _("Cases reported to the MCH institute by the deadline"),
                    counted["in_time"], counted["owed"]),
        count_row("followup_visits_due", _("Follow-up visits due"), visit_counts["due"]),
        count_row("followup_visits_missed", _("Follow-up visits missed"), visit_counts["missed"]),
        count_row("cases_lost", _("Women lost to follow-up"), in_area.filter(year.during("lost_at")).count()),
        count_row("cases_closed", _("Cases closed"), in_area.filter(year.during("closed_at")).count()),
    ]


def _referral_rows(region: Region, year: Year) -> list[dict[str, Any]]:
    requested = Referral.objects.filter(year.during("requested_at"))
    return [
        count_row("referrals_received", _("Referrals received by the area's rescue centres"),
                  requested.filter(region_in(region, "to_centre__institution__region")).count()),
        count_row("referrals_sent", _("Referrals sent by the area's institutions"),
                  requested.filter(region_in(region, "from_institution__region")).count()),
    ]


def _death_rows(region: Region, year: Year) -> list[dict[str, Any]]:
    measures = ImprovementMeasure.objects.filter(region_in(region, "owner_institution__region"),
                                                 year.during("set_at")).exclude(
        state=ImprovementMeasure.State.CANCELLED)
    counted = measures.aggregate(total=Count("pk"),
                                 verified=Count("pk", filter=Q(state=ImprovementMeasure.State.VERIFIED)))
    return [count_row("measures_set", _("Improvement measures set"), counted["total"]),
            count_row("measures_verified", _("of which verified by the bureau"), counted["verified"])]


def _interview_rows(region: Region, year: Year) -> list[dict[str, Any]]:
    interviews = Interview.objects.filter(region_in(region, "region"))
    parties = InterviewParty.objects.filter(region_in(region, "institution__region"))
    circulars = Circular.objects.filter(region_in(region, "region"), year.during("published_at")).exclude(
        state=Circular.State.DRAFTED)
    by_kind = Counter(dict(circulars.order_by().values_list("kind").annotate(n=Count("pk"))))
    verified = parties.filter(year.during("verified_at"))
    return [
        count_row("interviews_notified", _("Interview notices issued"),
                  interviews.filter(year.during("notified_at")).count()),
        count_row("interviews_held", _("Interviews held"), interviews.filter(year.during("held_at")).count()),
        count_row("parties_summoned", _("Institutions of the area summoned"),
                  parties.filter(year.during("interview__notified_at")).count()),
        count_row("rectifications_passed", _("Rectifications verified"),
                  verified.filter(state=InterviewParty.State.PASSED).count()),
        count_row("rectifications_failed", _("Rectifications failed"),
                  verified.filter(state=InterviewParty.State.FAILED).count()),
        count_row("circulars_commend", _("Circulars of commendation"), by_kind.get(Circular.Kind.COMMEND, 0)),
        count_row("circulars_criticise", _("Circulars of criticism"), by_kind.get(Circular.Kind.CRITICISE, 0)),
        count_row("circulars_inform", _("Circulars of information"), by_kind.get(Circular.Kind.INFORM, 0)),
    ]


OWN_ROWS = {"screening": _screening_rows, "highrisk": _highrisk_rows, "referral": _referral_rows,
            "death": _death_rows, "interview": _interview_rows}


def _system_of(indicator: Indicator) -> str | None:
    for system, codes in SYSTEM_INDICATORS.items():
        if indicator.code in codes:
            return system
    if indicator.province_id:
        return MEASURE_SYSTEM.get(indicator.numerator, "screening")
    return None


def sections(*, region: Region, year: Year) -> list[dict[str, Any]]:
    """One section per system: ``{"system", "title", "rows": [...]}``, the engine's figures first (with their
    targets), then the counts of the work."""
    engine = figures(region=region, date_from=year.date_from, date_to=year.date_to)["indicators"]
    indicators = {i.code: i for i in active_indicators(region=region)}
    placed: dict[str, list[Indicator]] = {system: [] for system, _title in SYSTEMS}
    for system, codes in SYSTEM_INDICATORS.items():
        placed[system].extend(indicators[code] for code in codes if code in indicators)
    for indicator in indicators.values():
        home = _system_of(indicator)
        if home is not None and indicator not in placed[home]:
            placed[home].append(indicator)
    out = []
    for system, title in SYSTEMS:
        rows = [indicator_row(i, engine[i.code]) for i in placed[system] if i.code in engine]
        rows.extend(OWN_ROWS[system](region, year))
        out.append({"system": system, "title": str(title), "rows": rows})
    return out


def year_of(year: int, *, now: dt.datetime | None = None) -> Year:
    return Year(year=year, now=now or timezone.now())
