"""The dashboard's periods: a month, a quarter, a calendar year, the MCH statistical year, or custom dates;
each with the period it is compared with and the months its chart shows.

The MCH statistical year (妇幼卫生统计年度) runs from the 1st of the province's
``statistical_year_start_month`` (ProvinceSettings, 10 by default: 1 October – 30 September) and is named
after the calendar year it ends in: statistical year 2026 is 2025-10-01 … 2026-09-30. With a start month
of 1 it is the calendar year.

The previous period is the one of the same kind just before (the previous month, quarter, year or
statistical year); for custom dates, the same number of days just before ``date_from``.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, replace

from django.db import models
from django.utils.translation import gettext_lazy as _

EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
# A custom period is at most this long (a longer one is a slow page for little use).
MAX_CUSTOM_DAYS = 3660
CHART_MONTHS = 12


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")
    STATISTICAL_YEAR = "stat_year", _("Statistical year")
    CUSTOM = "custom", _("Custom dates")


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class ReportPeriod:
    kind: str
    date_from: dt.date
    date_to: dt.date
    # What names the period: the year (of a quarter, a year, the year a statistical year ends in), the month
    # (1–12) of a month, the quarter (1–4); the statistical year's first month.
    year: int = 0
    month: int = 0
    quarter: int = 0
    start_month: int = 10

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def label(self) -> str:
        if self.kind == PeriodKind.MONTH:
            return _("%(year)d-%(month)02d") % {"year": self.year, "month": self.month}
        if self.kind == PeriodKind.QUARTER:
            return _("%(year)d Q%(quarter)d") % {"year": self.year, "quarter": self.quarter}
        if self.kind == PeriodKind.YEAR:
            return _("Year %(year)d") % {"year": self.year}
        if self.kind == PeriodKind.STATISTICAL_YEAR:
            return _("Statistical year %(year)d") % {"year": self.year}
        return _("%(from)s to %(to)s") % {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}

    def span(self) -> str:
        return f"{self.date_from.isoformat()} – {self.date_to.isoformat()}"

    def query(self) -> dict[str, str]:
        """The query parameters that name this period (the form's fields)."""
        if self.kind == PeriodKind.MONTH:
            return {"period": self.kind, "month": f"{self.year:04d}-{self.month:02d}"}
        if self.kind == PeriodKind.QUARTER:
            return {"period": self.kind, "year": str(self.year), "quarter": str(self.quarter)}
        if self.kind in (PeriodKind.YEAR, PeriodKind.STATISTICAL_YEAR):
            return {"period": self.kind, "year": str(self.year)}
        return {"period": self.kind, "from": self.date_from.isoformat(), "to": self.date_to.isoformat()}

    def shifted(self, steps: int) -> ReportPeriod:
        """The period ``steps`` periods of the same kind later (negative: earlier)."""
        if self.kind == PeriodKind.MONTH:
            return month_period(*add_months(self.year, self.month, steps))
        if self.kind == PeriodKind.QUARTER:
            year, month = add_months(self.year, (self.quarter - 1) * 3 + 1, 3 * steps)
            return quarter_period(year, (month - 1) // 3 + 1)
        if self.kind == PeriodKind.YEAR:
            return year_period(self.year + steps)
        if self.kind == PeriodKind.STATISTICAL_YEAR:
            return statistical_year(self.year + steps, start_month=self.start_month)
        delta = dt.timedelta(days=self.days * steps)
        return replace(self, date_from=self.date_from + delta, date_to=self.date_to + delta)

    def previous(self) -> ReportPeriod:
        return self.shifted(-1)

    def chart_range(self) -> tuple[dt.date, dt.date]:
        """The months the chart by month shows: the period's, or the last 12 months ending with the period's
        last month when the period is shorter than that."""
        months = (self.date_to.year - self.date_from.year) * 12 + self.date_to.month - self.date_from.month + 1
        if months >= CHART_MONTHS:
            return self.date_from, self.date_to
        year, month = add_months(self.date_to.year, self.date_to.month, 1 - CHART_MONTHS)
        return dt.date(year, month, 1), self.date_to


def month_period(year: int, month: int) -> ReportPeriod:
    return ReportPeriod(PeriodKind.MONTH, dt.date(year, month, 1), month_end(year, month), year=year, month=month)


def quarter_period(year: int, quarter: int) -> ReportPeriod:
    first = (quarter - 1) * 3 + 1
    return ReportPeriod(PeriodKind.QUARTER, dt.date(year, first, 1), month_end(year, first + 2), year=year,
                        quarter=quarter)


def year_period(year: int) -> ReportPeriod:
    return ReportPeriod(PeriodKind.YEAR, dt.date(year, 1, 1), dt.date(year, 12, 31), year=year)


def statistical_year(year: int, *, start_month: int) -> ReportPeriod:
    """The statistical year that ends in calendar year ``year``."""
    first_year, first_month = add_months(year, start_month, -12) if start_month > 1 else (year, 1)
    last_year, last_month = add_months(first_year, first_month, 11)
    return ReportPeriod(PeriodKind.STATISTICAL_YEAR, dt.date(first_year, first_month, 1),
                        month_end(last_year, last_month), year=year, start_month=start_month)


def statistical_year_of(day: dt.date, *, start_month: int) -> int:
    """The statistical year a day falls in (named after the calendar year it ends in)."""
    return day.year + 1 if start_month > 1 and day.month >= start_month else day.year


def custom_period(date_from: dt.date, date_to: dt.date) -> ReportPeriod:
    return ReportPeriod(PeriodKind.CUSTOM, date_from, date_to)


def default_period(today: dt.date) -> ReportPeriod:
    """Where the dashboard opens: this calendar year."""
    return year_period(today.year)
