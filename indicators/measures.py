"""The named measures: what the indicators' numerators and denominators count, written once in code.

Each measure is an exact integer for an *area* (a region of any level, everything below it included, or one
institution) and a *period* (``date_from``…``date_to`` inclusive, China time). A few are medians (of minutes).

Population measures attribute a pregnancy to the county of the woman's residence (``Woman.residence_region``)
and to the date of delivery (near misses: the date first marked; deaths: the date of death). Service measures
attribute an event to the region of the institution that served it and to the event's date.

How they are computed. Measures that count rows of one table form a :class:`Source`. A source's rows for an
area and a period are one ORM query (``rows``) that selects, per row, only the columns its measures need: plain
columns and booleans (the *flags*; a delivery's visits, booking, colour, case and residence are its summary
columns, kept by cases/summaries.py, so a delivery is one row read, not four lookups). One SQL
statement then aggregates those rows: ``SELECT SUM(CASE WHEN <flag> THEN 1 ELSE 0 END), … FROM (rows) GROUP BY
<key>``, so every subquery runs once per row however many measures read it, and the same statement with a group
key gives the grouped variants (by sub-area one level down, by institution, by month) in one query each. The
aggregate expressions are constant SQL written below over the flag aliases; no user input reaches them.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, transaction
from django.db.models import (
    BooleanField,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    UUIDField,
)
from django.db.models.functions import Coalesce, TruncMonth

from cases import selectors
from cases.models import DeathReport, Delivery
from organisations.models import Institution, Region

CHINA = ZoneInfo("Asia/Shanghai")
ANTENATAL_SYSTEMATIC_VISITS = 5


class Attribution(StrEnum):
    POPULATION = "population"
    SERVICE = "service"


class MeasureKind(StrEnum):
    COUNT = "count"
    MEDIAN = "median"


class Grouping(StrEnum):
    AREA = "area"
    INSTITUTION = "institution"
    MONTH = "month"


@dataclass(frozen=True)
class Area:
    """Where a figure is counted: a region (with everything below it), or one institution."""

    region: Region
    institution: Institution | None = None


@dataclass(frozen=True)
class Period:
    date_from: dt.date
    date_to: dt.date

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=CHINA)

    @property
    def end(self) -> dt.datetime:
        """The first instant after the period (its last day included)."""
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=CHINA)


@dataclass(frozen=True)
class Median:
    """A median and the number of values it is the median of (``value`` None when there are none)."""

    count: int
    value: float | None


@dataclass(frozen=True)
class Context:
    now: dt.datetime


FlagFactory = Callable[[Context], Any]


@dataclass
class Source:
    """The rows one family of measures counts, with where and when each row is attributed."""

    name: str
    attribution: Attribution
    rows: Callable[[], QuerySet[Any]]
    # The row's date: a DateField (already the China-time day) or a DateTimeField (cut at China midnight).
    date_path: str
    date_is_datetime: bool
    # The Region foreign key the row is attributed to (area figures and the by-area grouping).
    region_path: str
    # The institution the row is attributed to (an institution's figures and the by-institution grouping).
    institution: FlagFactory
    flags: dict[str, FlagFactory] = field(default_factory=dict)

    def queryset(self, *, area: Area, period: Period, grouping: Grouping | None, flags: Iterable[str],
                 context: Context) -> QuerySet[Any]:
        qs = self.rows().order_by()
        if self.date_is_datetime:
            qs = qs.filter(**{f"{self.date_path}__gte": period.start, f"{self.date_path}__lt": period.end})
        else:
            qs = qs.filter(**{f"{self.date_path}__gte": period.date_from, f"{self.date_path}__lte": period.date_to})
        if area.institution is not None or grouping == Grouping.INSTITUTION:
            qs = qs.alias(attributed_institution=self.institution(context))
        if area.institution is not None:
            qs = qs.filter(attributed_institution=area.institution.pk)
        elif grouping == Grouping.INSTITUTION:
            # An institution's rows, for the institutions located in the area: their ids as a list, not a
            # subquery, so the planner sees a few values and probes the (institution, date) index instead of
            # reading a county's share of a province-year sequentially (benchmarks/README.md, "indicators").
            located = Institution.objects.filter(region_in(area.region, "region")).values_list("pk", flat=True)
            # (An area without institutions keeps the subquery: an empty list would make no SQL at all.)
            qs = qs.filter(attributed_institution__in=list(located) or located)
        else:
            qs = qs.filter(region_in(area.region, self.region_path))
        annotations: dict[str, Any] = {name: self.flags[name](context) for name in flags}
        if grouping is not None:
            annotations["group_key"] = self.group_key(area=area, grouping=grouping, context=context)
        return qs.annotate(**annotations).values(*annotations)

    def group_key(self, *, area: Area, grouping: Grouping, context: Context) -> Any:
        if grouping == Grouping.MONTH:
            if self.date_is_datetime:
                return TruncMonth(self.date_path, tzinfo=CHINA, output_field=DateField())
            return TruncMonth(self.date_path)
        if grouping == Grouping.INSTITUTION:
            return F("attributed_institution")
        if area.region.level == Region.Level.PROVINCE:
            # A residence recorded at a city (or the province itself) counts for that city (the province).
            return Coalesce(F(f"{self.region_path}__city_id"), F(f"{self.region_path}__province_id"))
        if area.region.level == Region.Level.CITY:
            return F(f"{self.region_path}_id")
        raise ValueError("A county's figures group by institution or month, not by a sub-area.")


@dataclass(frozen=True)
class Measure:
    """One named measure. ``sql`` aggregates the source's rows (COUNT, SUM over the flags it ``uses``);
    a median names the flag holding each row's value (NULL rows are left out)."""

    name: str
    source: Source
    doc: str
    uses: tuple[str, ...] = ()
    sql: str = ""
    kind: MeasureKind = MeasureKind.COUNT
    median_of: str = ""

    @property
    def attribution(self) -> Attribution:
        return self.source.attribution


def region_in(region: Region, path: str) -> Q:
    """Rows whose ``path`` (a Region foreign key) lies in ``region`` or below it."""
    if region.level == Region.Level.PROVINCE:
        return Q(**{f"{path}__province_id": region.code})
    if region.level == Region.Level.CITY:
        return Q(**{f"{path}__city_id": region.code})
    return Q(**{f"{path}_id": region.code})


def _bool(q: Q) -> ExpressionWrapper:
    return ExpressionWrapper(q, output_field=BooleanField())


def _count_if(condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _sum_if(column: str, condition: str) -> str:
    return f"SUM(CASE WHEN {condition} THEN {column} ELSE 0 END)"


# --- Population: deliveries --------------------------------------------------------------------------
# What each delivery's flags are (antenatal visits before it, a postpartum visit within 28 days, an early
# booking, a high-risk colour or case before it, the residence) is defined once in cases/summaries.py and
# kept on the delivery as columns; the deliveries' measures read those columns.

DELIVERIES = Source(
    name="deliveries", attribution=Attribution.POPULATION, rows=selectors.indicator_deliveries,
    date_path="delivered_on", date_is_datetime=False, region_path="residence_region",
    institution=lambda context: F("institution_id"),
    flags={
        "live": lambda context: F("live_births"),
        "still": lambda context: F("stillbirths"),
        "at_institution": lambda context: _bool(Q(place=Delivery.Place.INSTITUTION)),
        "caesarean": lambda context: _bool(Q(mode=Delivery.Mode.CAESAREAN)),
        "early": lambda context: F("booked_early"),
        "antenatal": lambda context: F("antenatal_visits_before"),
        "postpartum": lambda context: F("postpartum_visit_within_28d"),
        "high_risk": lambda context: F("high_risk_before"),
        "case_opened": lambda context: F("case_opened_before"),
    },
)

SYSTEMATIC = f"early AND antenatal >= {ANTENATAL_SYSTEMATIC_VISITS} AND at_institution AND postpartum"

_DELIVERY_MEASURES = [
    Measure("deliveries", DELIVERIES, "Deliveries in the period (产妇数): one per woman delivered, whatever the "
            "number of babies.", sql="COUNT(*)"),
    Measure("live_births", DELIVERIES, "Live-born babies of the deliveries in the period (活产数): twins count two.",
            uses=("live",), sql="SUM(live)"),
    Measure("stillbirths", DELIVERIES, "Stillborn babies of the deliveries in the period.",
            uses=("still",), sql="SUM(still)"),
    Measure("early_booked_deliveries", DELIVERIES,
            "Deliveries whose booking was before 13 weeks: booking_date − (EDD − 280 days) < 91 days, EDD by "
            "ultrasound when given, else LMP + 280 (a booking at exactly 91 days is not early).",
            uses=("early",), sql=_count_if("early")),
    Measure("antenatal_checked_deliveries", DELIVERIES,
            "Deliveries with at least one antenatal visit dated on or before the delivery date.",
            uses=("antenatal",), sql=_count_if("antenatal >= 1")),
    Measure("antenatal_5_deliveries", DELIVERIES,
            "Deliveries with at least five antenatal visits dated on or before the delivery date.",
            uses=("antenatal",), sql=_count_if(f"antenatal >= {ANTENATAL_SYSTEMATIC_VISITS}")),
    Measure("postpartum_visited_deliveries", DELIVERIES,
            "Deliveries with a postpartum visit 0–28 days after the delivery date (day 28 counts, day 29 not).",
            uses=("postpartum",), sql=_count_if("postpartum")),
    Measure("institution_deliveries", DELIVERIES, "Deliveries at an institution (not at home, en route or "
            "elsewhere).", uses=("at_institution",), sql=_count_if("at_institution")),
    Measure("institution_live_births", DELIVERIES, "Live births of deliveries at an institution.",
            uses=("live", "at_institution"), sql=_sum_if("live", "at_institution")),
    Measure("caesarean_deliveries", DELIVERIES, "Caesarean deliveries.", uses=("caesarean",),
            sql=_count_if("caesarean")),
    Measure("caesarean_live_births", DELIVERIES, "Live births of caesarean deliveries.",
            uses=("live", "caesarean"), sql=_sum_if("live", "caesarean")),
    Measure("systematically_managed_deliveries", DELIVERIES,
            "Deliveries with all of: booked before 13 weeks, at least five antenatal visits on or before the "
            "delivery date, delivered at an institution, a postpartum visit within 28 days.",
            uses=("early", "antenatal", "at_institution", "postpartum"), sql=_count_if(SYSTEMATIC)),
    Measure("high_risk_deliveries", DELIVERIES,
            "Deliveries whose highest valid (not voided) colour before delivery was orange, red or purple.",
            uses=("high_risk",), sql=_count_if("high_risk")),
    Measure("case_managed_deliveries", DELIVERIES,
            "Of the high-risk deliveries, those with a high-risk case (专案) opened before delivery.",
            uses=("high_risk", "case_opened"), sql=_count_if("high_risk AND case_opened")),
]


# --- Population: near misses and maternal deaths ----------------------------------------------------


def _first_near_miss_institution(context: Context) -> Subquery:
    """The institution whose checklist first met a WHO criterion."""
    first = (selectors.indicator_near_miss_checks().filter(pregnancy=OuterRef("pk"))
             .order_by("recorded_at", "pk").values("institution_id")[:1])
    return Subquery(first, output_field=UUIDField())


NEAR_MISSES = Source(
    name="near_misses", attribution=Attribution.POPULATION,
    rows=lambda: selectors.indicator_pregnancies().filter(near_miss_at__isnull=False),
    date_path="near_miss_at", date_is_datetime=True, region_path="woman__residence_region",
    institution=_first_near_miss_institution,
)

MATERNAL_DEATHS = Source(
    name="maternal_deaths", attribution=Attribution.POPULATION, rows=selectors.indicator_death_reports,
    date_path="died_at", date_is_datetime=True, region_path="woman__residence_region",
    institution=lambda context: F("reporting_institution_id"),
)

_OTHER_POPULATION_MEASURES = [
    Measure("near_misses", NEAR_MISSES, "Near misses (危重孕产妇): pregnancies by the date they were first marked "
            "(the first checklist meeting a WHO criterion).", sql="COUNT(*)"),
    Measure("maternal_deaths", MATERNAL_DEATHS, "Maternal deaths by the date of death: death reports recorded "
            "(reported, whatever followed) and not excluded as not maternal.", sql="COUNT(*)"),
]


# --- Service: referrals, emergency caesareans, death reporting and review ---------------------------

REFERRAL_ANSWERS = Source(
    name="referral_answers", attribution=Attribution.SERVICE, rows=selectors.indicator_referrals,
    date_path="requested_at", date_is_datetime=True, region_path="to_centre__institution__region",
    institution=lambda context: F("to_centre__institution_id"),
    flags={
        # An answer was owed: given, or its deadline passed (unless cancelled before the deadline, unanswered).
        "answer_owed": lambda context: _bool(
            Q(answered_at__isnull=False)
            | (Q(response_due_at__lt=context.now)
               & ~Q(state="cancelled", closed_at__lte=F("response_due_at")))),
        "answered_in_time": lambda context: _bool(Q(answered_at__lte=F("response_due_at"))),
        "answer_time": lambda context: ExpressionWrapper(F("answered_at") - F("requested_at"),
                                                         output_field=DurationField()),
    },
)

REFERRAL_FEEDBACK = Source(
    name="referral_feedback", attribution=Attribution.SERVICE, rows=selectors.indicator_referrals,
    date_path="outcome_at", date_is_datetime=True, region_path="to_centre__institution__region",
    institution=lambda context: F("to_centre__institution_id"),
    flags={
        "feedback_owed": lambda context: _bool(
            Q(feedback_due_at__isnull=False) & (Q(feedback_at__isnull=False) | Q(feedback_due_at__lt=context.now))),
        "feedback_in_time": lambda context: _bool(Q(feedback_at__lte=F("feedback_due_at"))),
    },
)

EMERGENCY_CAESAREANS = Source(
    name="emergency_caesareans", attribution=Attribution.SERVICE, rows=selectors.indicator_emergency_caesareans,
    date_path="decision_at", date_is_datetime=True, region_path="institution__region",
    institution=lambda context: F("institution_id"),
    flags={"in_target": lambda context: _bool(Q(ddi_minutes__lte=F("target_minutes")))},
)

DEATH_REPORTING = Source(
    name="death_reporting", attribution=Attribution.SERVICE,
    rows=lambda: selectors.indicator_death_reports(drafts=True),
    date_path="died_at", date_is_datetime=True, region_path="reporting_institution__region",
    institution=lambda context: F("reporting_institution_id"),
    flags={
        # A death imported from another system was reported there: its report time in Anmu is the import's,
        # so its timeliness is not Anmu's to judge.
        "report_owed": lambda context: _bool(
            Q(report_due_at__isnull=False) & (Q(reported_at__isnull=False) | Q(report_due_at__lt=context.now))
            & ~Q(origin="import")),
        "reported_in_time": lambda context: _bool(Q(reported_at__lte=F("report_due_at")) & ~Q(origin="import")),
    },
)

DEATH_REVIEW = Source(
    name="death_review", attribution=Attribution.SERVICE, rows=selectors.indicator_death_reports,
    date_path="died_at", date_is_datetime=True, region_path="region",
    institution=lambda context: F("reporting_institution_id"),
    flags={
        "reviewed": lambda context: _bool(Q(state__in=[DeathReport.State.REVIEWED, DeathReport.State.CLOSED])),
        "concluded": lambda context: _bool(~Q(final_avoidability="")),
        "avoidable": lambda context: _bool(Q(final_avoidability__in=["avoidable", "conditionally"])),
    },
)

_SERVICE_MEASURES = [
    Measure("referrals_answer_owed", REFERRAL_ANSWERS,
            "Referrals requested in the period whose answer was owed: answered, or past the answer deadline "
            "(a referral cancelled unanswered before its deadline owed none). By the rescue centre's region.",
            uses=("answer_owed",), sql=_count_if("answer_owed")),
    Measure("referrals_answered_in_time", REFERRAL_ANSWERS,
            "Referrals requested in the period answered (accepted, declined or redirected) by their deadline.",
            uses=("answered_in_time",), sql=_count_if("answered_in_time")),
    Measure("referral_answer_minutes", REFERRAL_ANSWERS,
            "Median minutes from request to answer, over the referrals requested in the period and answered.",
            uses=("answer_time",), kind=MeasureKind.MEDIAN, median_of="answer_time"),
    Measure("referrals_feedback_owed", REFERRAL_FEEDBACK,
            "Referrals whose outcome was recorded in the period and whose feedback was owed: given, or past "
            "its deadline.", uses=("feedback_owed",), sql=_count_if("feedback_owed")),
    Measure("referrals_feedback_in_time", REFERRAL_FEEDBACK,
            "Referrals whose outcome was recorded in the period, with the feedback given by its deadline.",
            uses=("feedback_in_time",), sql=_count_if("feedback_in_time")),
    Measure("emergency_caesareans", EMERGENCY_CAESAREANS,
            "Emergency caesareans decided in the period, by the operating institution's region.", sql="COUNT(*)"),
    Measure("emergency_caesareans_in_target", EMERGENCY_CAESAREANS,
            "Emergency caesareans whose decision-to-delivery interval was within the province's target at the "
            "time (30 minutes by default).", uses=("in_target",), sql=_count_if("in_target")),
    Measure("death_reports_owed", DEATH_REPORTING,
            "Maternal deaths in the period (not excluded) whose report was owed: reported, or past the report "
            "deadline (the province's hours after death). By the reporting institution's region. Deaths imported "
            "from another system are left out: they were reported there.",
            uses=("report_owed",), sql=_count_if("report_owed")),
    Measure("death_reports_in_time", DEATH_REPORTING,
            "Maternal deaths in the period reported by the report deadline.",
            uses=("reported_in_time",), sql=_count_if("reported_in_time")),
    Measure("reviewable_deaths", DEATH_REVIEW,
            "Maternal deaths in the period (recorded, not excluded), by the county that investigates them.",
            sql="COUNT(*)"),
    Measure("deaths_reviewed_all_levels", DEATH_REVIEW,
            "Maternal deaths in the period reviewed at every level the province requires (reviewed or closed).",
            uses=("reviewed",), sql=_count_if("reviewed")),
    Measure("deaths_concluded", DEATH_REVIEW,
            "Maternal deaths in the period with a review conclusion on avoidability (the highest level's so far).",
            uses=("concluded",), sql=_count_if("concluded")),
    Measure("deaths_avoidable", DEATH_REVIEW,
            "Maternal deaths in the period concluded avoidable, or avoidable had conditions been created.",
            uses=("avoidable",), sql=_count_if("avoidable")),
]

MEASURES: dict[str, Measure] = {m.name: m for m in [*_DELIVERY_MEASURES, *_OTHER_POPULATION_MEASURES,
                                                     *_SERVICE_MEASURES]}


def measure_choices() -> list[tuple[str, str]]:
    return [(name, f"{name} ({m.attribution})") for name, m in MEASURES.items()]


# --- Computing --------------------------------------------------------------------------------------

Result = dict[str, int | Median]


def compute(*, names: Iterable[str], area: Area, period: Period, grouping: Grouping | None = None,
            now: dt.datetime) -> dict[Any, Result]:
    """The named measures for the area and period: ``{None: {...}}`` ungrouped, else ``{key: {...}}`` with
    one entry per group that has rows (area code, institution id as a string, or "YYYY-MM"). One query per
    source (a median adds one)."""
    context = Context(now=now)
    by_source: dict[str, list[Measure]] = defaultdict(list)
    for name in dict.fromkeys(names):
        by_source[MEASURES[name].source.name].append(MEASURES[name])
    out: dict[Any, Result] = defaultdict(dict)
    with _session():
        for measures in by_source.values():
            source = measures[0].source
            counts = [m for m in measures if m.kind == MeasureKind.COUNT]
            if counts:
                _aggregate(source, counts, area=area, period=period, grouping=grouping, context=context, out=out)
            for median in (m for m in measures if m.kind == MeasureKind.MEDIAN):
                _median(source, median, area=area, period=period, grouping=grouping, context=context, out=out)
    if grouping is None:
        out.setdefault(None, {})
    for result in out.values():
        for name in dict.fromkeys(names):
            result.setdefault(name, empty_value(name))
    return dict(out)


def empty_value(name: str) -> int | Median:
    """What a measure is over no rows."""
    return Median(0, None) if MEASURES[name].kind == MeasureKind.MEDIAN else 0


def _key(value: Any, grouping: Grouping | None) -> Any:
    if grouping is None:
        return None
    if grouping == Grouping.MONTH:
        return str(value)[:7]
    if grouping == Grouping.INSTITUTION:
        return str(uuid.UUID(str(value))) if value is not None else None
    return value


def _aggregate(source: Source, measures: list[Measure], *, area: Area, period: Period, grouping: Grouping | None,
               context: Context, out: dict[Any, Result]) -> None:
    flags = [flag for flag in source.flags if any(flag in m.uses for m in measures)]
    rows = source.queryset(area=area, period=period, grouping=grouping, flags=flags, context=context)
    connection = connections[rows.db]
    inner, params = rows.query.sql_with_params()
    # A fence on PostgreSQL: without it the planner pulls the rows' subquery up and evaluates a flag's
    # subquery once per aggregate that reads it.
    fence = " OFFSET 0" if connection.vendor == "postgresql" else ""
    columns = ", ".join(f"COALESCE({m.sql}, 0)" for m in measures)
    if grouping is None:
        sql = f"SELECT {columns} FROM ({inner}{fence}) measured"  # noqa: S608 (constant SQL over our aliases)
    else:
        sql = (f"SELECT group_key, {columns} FROM ({inner}{fence}) measured "  # noqa: S608 (as above)
               "GROUP BY group_key")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            key = _key(row[0], grouping) if grouping is not None else None
            values = row[1:] if grouping is not None else row
            result = out[key]
            for measure, value in zip(measures, values, strict=True):
                result[measure.name] = int(value or 0)


@contextmanager
def _session() -> Iterator[None]:
    """One transaction for all the statements of a computation, with the planner settings they need set
    once (PostgreSQL; elsewhere nothing): one round of BEGIN/SET/COMMIT instead of one per source."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT compiling an aggregate over a province-year costs more than the statement saves (0.7 s of
        # 1.9 s for 100,000 deliveries when the flags were subqueries); this transaction only.
        cursor.execute("SET LOCAL jit = off")
        # Grouping a province-year by area or month and joining it to the regions needs more than the
        # server's default work_mem (4 MB) to stay in memory (benchmarks/README.md, "indicators").
        cursor.execute(f"SET LOCAL work_mem = '{aggregate_work_mem()}'")
        yield


def aggregate_work_mem() -> str:
    """PostgreSQL's work_mem for an aggregate statement (``INDICATORS_WORK_MEM``, default 64MB): a number and
    kB, MB or GB, checked because SET takes no parameters."""
    value = str(getattr(settings, "INDICATORS_WORK_MEM", "64MB"))
    if not re.fullmatch(r"[1-9][0-9]{0,6}(kB|MB|GB)", value):
        raise ImproperlyConfigured(f"INDICATORS_WORK_MEM must be like 64MB, not {value!r}")
    return value


def _median(source: Source, measure: Measure, *, area: Area, period: Period, grouping: Grouping | None,
            context: Context, out: dict[Any, Result]) -> None:
    rows = source.queryset(area=area, period=period, grouping=grouping, flags=[measure.median_of], context=context)
    values: dict[Any, list[float]] = defaultdict(list)
    for row in rows.filter(**{f"{measure.median_of}__isnull": False}):
        values[_key(row.get("group_key"), grouping)].append(row[measure.median_of].total_seconds() / 60)
    for key, minutes in values.items():
        out[key][measure.name] = Median(len(minutes), statistics.median(minutes))
