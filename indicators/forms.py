"""The dashboard's period picker and indicator choice (GET parameters): bad input is a field error, never a 500."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from indicators.periods import (
    EARLIEST,
    LATEST,
    MAX_CUSTOM_DAYS,
    PeriodKind,
    ReportPeriod,
    custom_period,
    month_period,
    quarter_period,
    statistical_year,
    statistical_year_of,
    year_period,
)

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodForm(forms.Form):
    """Which period the figures are for. The fields a kind does not use are ignored; one it uses and that is
    missing takes today's (this month, this quarter, this year, this statistical year)."""

    period = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices, required=False,
                               widget=forms.Select(attrs={"data-period-kind": ""}))
    month = forms.CharField(label=_("Month"), required=False, max_length=7,
                            widget=forms.TextInput(attrs={"type": "month", "data-period-for": "month"}))
    year = forms.IntegerField(label=_("Year"), required=False, min_value=EARLIEST.year, max_value=LATEST.year,
                              widget=forms.NumberInput(attrs={"data-period-for": "quarter year stat_year"}))
    quarter = forms.TypedChoiceField(label=_("Quarter"), required=False, coerce=int, empty_value=None,
                                     choices=[("", "—"), *((str(q), _("Q%(quarter)d") % {"quarter": q})
                                                           for q in range(1, 5))],
                                     widget=forms.Select(attrs={"data-period-for": "quarter"}))
    date_from = forms.DateField(label=_("From"), required=False,
                                widget=forms.DateInput(attrs={"type": "date", "data-period-for": "custom"}))
    date_to = forms.DateField(label=_("To"), required=False,
                              widget=forms.DateInput(attrs={"type": "date", "data-period-for": "custom"}))
    indicator = forms.SlugField(required=False, max_length=60, widget=forms.HiddenInput)

    def __init__(self, *args: Any, today: dt.date, start_month: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.start_month = start_month
        # "from" and "to" in the query (the API's names); the fields keep Python-safe names.
        self.fields["from"] = self.fields.pop("date_from")
        self.fields["to"] = self.fields.pop("date_to")
        self.order_fields(["period", "month", "year", "quarter", "from", "to", "indicator"])

    def clean_month(self) -> tuple[int, int] | None:
        value = self.cleaned_data.get("month") or ""
        if not value:
            return None
        match = MONTH_RE.match(value)
        if not match or not 1 <= int(match.group(2)) <= 12 or not EARLIEST.year <= int(match.group(1)) <= LATEST.year:
            raise forms.ValidationError(_("Give a month as YYYY-MM."))
        return int(match.group(1)), int(match.group(2))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("period") or PeriodKind.YEAR
        data["period"] = kind
        if kind == PeriodKind.CUSTOM and not self.errors:
            date_from, date_to = data.get("from"), data.get("to")
            for name, value in (("from", date_from), ("to", date_to)):
                if value is None:
                    self.add_error(name, _("Give the first and the last day."))
                elif not EARLIEST <= value <= LATEST:
                    self.add_error(name, _("Give a date between 1900 and 2100."))
            if not self.errors and date_from and date_to:
                if date_from > date_to:
                    self.add_error("to", _("The period ends before it starts."))
                elif (date_to - date_from).days + 1 > MAX_CUSTOM_DAYS:
                    self.add_error("to", _("A custom period is at most ten years."))
        return data

    def report_period(self) -> ReportPeriod:
        """The chosen period (call after is_valid())."""
        data, today = self.cleaned_data, self.today
        kind = data["period"]
        year = data.get("year") or None
        if kind == PeriodKind.MONTH:
            year_month = data.get("month") or (today.year, today.month)
            return month_period(*year_month)
        if kind == PeriodKind.QUARTER:
            quarter = data.get("quarter") or (today.month - 1) // 3 + 1
            return quarter_period(year or today.year, quarter)
        if kind == PeriodKind.STATISTICAL_YEAR:
            return statistical_year(year or statistical_year_of(today, start_month=self.start_month),
                                    start_month=self.start_month)
        if kind == PeriodKind.CUSTOM:
            return custom_period(data["from"], data["to"])
        return year_period(year or today.year)
