"""The period picker's maths: months, quarters, years, the MCH statistical year across the new year (a
province setting), custom dates; the period each is compared with; the months its chart shows."""

from __future__ import annotations

import datetime as dt

import pytest

from indicators.forms import PeriodForm
from indicators.periods import (
    PeriodKind,
    custom_period,
    month_period,
    quarter_period,
    statistical_year,
    statistical_year_of,
    year_period,
)

D = dt.date


def test_a_month_and_the_month_before_across_the_new_year():
    january = month_period(2026, 1)
    assert (january.date_from, january.date_to) == (D(2026, 1, 1), D(2026, 1, 31))
    december = january.previous()
    assert (december.kind, december.date_from, december.date_to) == (PeriodKind.MONTH, D(2025, 12, 1), D(2025, 12, 31))
    assert month_period(2024, 2).date_to == D(2024, 2, 29)  # a leap year
    assert month_period(2025, 12).shifted(1) == january


def test_quarters_and_the_quarter_before():
    q4 = quarter_period(2025, 4)
    assert (q4.date_from, q4.date_to) == (D(2025, 10, 1), D(2025, 12, 31))
    q1 = quarter_period(2026, 1)
    assert (q1.date_from, q1.date_to) == (D(2026, 1, 1), D(2026, 3, 31))
    assert q1.previous() == q4
    assert quarter_period(2025, 2).date_to == D(2025, 6, 30)
    assert q4.shifted(1) == q1


def test_a_year_and_the_year_before():
    year = year_period(2025)
    assert (year.date_from, year.date_to, year.days) == (D(2025, 1, 1), D(2025, 12, 31), 365)
    assert year.previous() == year_period(2024)


def test_the_statistical_year_runs_october_to_september_across_the_new_year():
    stat = statistical_year(2026, start_month=10)
    assert (stat.date_from, stat.date_to) == (D(2025, 10, 1), D(2026, 9, 30))
    before = stat.previous()
    assert (before.date_from, before.date_to) == (D(2024, 10, 1), D(2025, 9, 30))
    # Named after the year it ends in: December 2025 is in statistical year 2026, September 2025 in 2025.
    assert statistical_year_of(D(2025, 12, 15), start_month=10) == 2026
    assert statistical_year_of(D(2025, 10, 1), start_month=10) == 2026
    assert statistical_year_of(D(2025, 9, 30), start_month=10) == 2025


def test_another_start_month_and_the_calendar_year():
    july = statistical_year(2026, start_month=7)
    assert (july.date_from, july.date_to) == (D(2025, 7, 1), D(2026, 6, 30))
    calendar = statistical_year(2026, start_month=1)
    assert (calendar.date_from, calendar.date_to) == (D(2026, 1, 1), D(2026, 12, 31))
    assert statistical_year_of(D(2026, 12, 31), start_month=1) == 2026


def test_custom_dates_are_compared_with_as_many_days_just_before():
    period = custom_period(D(2025, 3, 1), D(2025, 3, 10))
    before = period.previous()
    assert (before.date_from, before.date_to) == (D(2025, 2, 19), D(2025, 2, 28))
    assert before.days == period.days == 10


def test_the_chart_shows_twelve_months_ending_with_a_short_period():
    assert quarter_period(2026, 1).chart_range() == (D(2025, 4, 1), D(2026, 3, 31))
    assert month_period(2025, 12).chart_range() == (D(2025, 1, 1), D(2025, 12, 31))
    assert statistical_year(2026, start_month=10).chart_range() == (D(2025, 10, 1), D(2026, 9, 30))
    long = custom_period(D(2024, 1, 15), D(2025, 6, 10))
    assert long.chart_range() == (D(2024, 1, 15), D(2025, 6, 10))


TODAY = D(2025, 11, 20)


def _form(data, *, today=TODAY, start_month=10):  # type: ignore[no-untyped-def]
    return PeriodForm(data, today=today, start_month=start_month)


@pytest.mark.parametrize(("data", "expected"), [
    ({}, (D(2025, 1, 1), D(2025, 12, 31))),  # this calendar year
    ({"period": "month"}, (D(2025, 11, 1), D(2025, 11, 30))),
    ({"period": "month", "month": "2024-02"}, (D(2024, 2, 1), D(2024, 2, 29))),
    ({"period": "quarter"}, (D(2025, 10, 1), D(2025, 12, 31))),
    ({"period": "quarter", "year": "2024", "quarter": "1"}, (D(2024, 1, 1), D(2024, 3, 31))),
    ({"period": "stat_year"}, (D(2025, 10, 1), D(2026, 9, 30))),  # 20 November 2025 is in statistical year 2026
    ({"period": "stat_year", "year": "2025"}, (D(2024, 10, 1), D(2025, 9, 30))),
    ({"period": "custom", "from": "2025-02-03", "to": "2025-02-09"}, (D(2025, 2, 3), D(2025, 2, 9))),
])
def test_the_form_gives_the_period(data, expected):  # type: ignore[no-untyped-def]
    form = _form(data)
    assert form.is_valid(), form.errors
    period = form.report_period()
    assert (period.date_from, period.date_to) == expected


@pytest.mark.parametrize(("data", "field"), [
    ({"period": "month", "month": "2025-13"}, "month"),
    ({"period": "month", "month": "May"}, "month"),
    ({"period": "quarter", "quarter": "5"}, "quarter"),
    ({"period": "year", "year": "1850"}, "year"),
    ({"period": "week"}, "period"),
    ({"period": "custom", "from": "2025-02-03"}, "to"),
    ({"period": "custom", "from": "2025-02-09", "to": "2025-02-03"}, "to"),
    ({"period": "custom", "from": "2000-01-01", "to": "2025-01-01"}, "to"),
    ({"period": "custom", "from": "not a date", "to": "2025-01-01"}, "from"),
])
def test_bad_input_is_a_field_error(data, field):  # type: ignore[no-untyped-def]
    form = _form(data)
    assert not form.is_valid()
    assert field in form.errors
