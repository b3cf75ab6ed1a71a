"""Prenatal screening and diagnosis quality control (产前筛查和产前诊断质量控制): the QC indicators as data, the
data elements they are computed from, and each licensed institution's figures per period.

DHIS2-style: an institution enters **data elements** (women screened, screen positives, women delivered, women
given a prenatal diagnosis, diagnoses confirmed), one value each per period; every **indicator** is a rate of two
elements (numerator ÷ denominator × 100 % or 1000 ‰), computed for the institution and summed up the area
(indicators/prenatal.py), never typed in.

The national list (《产前筛查和产前诊断质量控制指标》, 国卫办妇幼函〔2023〕466号, 2023-12-15) was not found publicly
(research/indicators.md §2). What ships (migration ``0029_prenatal_qc``) are the three rates of the national MCH
report forms that were read (孕产妇产前筛查率, 产前筛查阳性率, 产前诊断确诊率, domain.md §7.2 [READ P33]), each marked
with its origin and source; a province adds its own elements and indicators (origin ``province``), as the notice
allows ("各地可在此基础上扩充指标").

A report (one institution × one period) is open → submitted → (returned → submitted …): the institution's staff
enter and submit; the MCH officers of its area may return it with a reason. States change only through the named
transitions below, run by ``workflows/prenatal/services.py``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from cases.limits import reason_field
from organisations.models import Institution, Region


class Licence(models.TextChoices):
    """Which licence a data element or an indicator belongs to (母婴保健技术服务执业许可 items)."""

    SCREENING = "screening", _("Prenatal screening")
    DIAGNOSIS = "diagnosis", _("Prenatal diagnosis")


class Origin(models.TextChoices):
    """Where a definition comes from, shown beside it (like the risk table's read / recalled rows)."""

    NATIONAL_READ = "national_read", _("National: read in the source")
    PROVINCE = "province", _("Added by the province")


class PrenatalUnit(models.TextChoices):
    PERCENT = "percent", _("Percent")
    PER_1000 = "per_1000", _("Per 1,000")


PRENATAL_MULTIPLIER = {PrenatalUnit.PERCENT: 100, PrenatalUnit.PER_1000: 1000}


def licences_of(institution: Institution) -> set[str]:
    """The prenatal licences the institution holds."""
    held = set()
    if institution.prenatal_screening:
        held.add(Licence.SCREENING.value)
    if institution.prenatal_diagnosis:
        held.add(Licence.DIAGNOSIS.value)
    return held


class _Defined(models.Model):
    """What a data element and an indicator share: their code, names, licence, origin and order."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(_("code"), max_length=60, unique=True)
    province = models.ForeignKey(Region, verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT,
                                 limit_choices_to={"level": Region.Level.PROVINCE}, related_name="+",
                                 help_text=_("Empty for a national definition; a province's own applies in that "
                                             "province only."))
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=120)
    definition = models.TextField(_("definition"), max_length=2000)
    licence = models.CharField(_("applies to the licence"), max_length=12, choices=Licence.choices)
    origin = models.CharField(_("origin"), max_length=16, choices=Origin.choices, default=Origin.PROVINCE)
    source_url = models.URLField(_("source address"), max_length=300, blank=True)
    source_note = models.CharField(_("source"), max_length=300, blank=True,
                                   help_text=_("The document the definition was read in, or the province's own "
                                               "document."))
    order = models.PositiveSmallIntegerField(_("display order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name_zh}"

    def _origin_errors(self) -> dict[str, list[Any]]:
        errors: dict[str, list[Any]] = {}
        if self.province_id and self.province and self.province.level != Region.Level.PROVINCE:
            errors.setdefault("province", []).append(_("Choose a province."))
        if self.origin == Origin.PROVINCE and not self.province_id:
            errors.setdefault("province", []).append(_("A definition added by a province names that province."))
        if self.origin == Origin.NATIONAL_READ:
            if self.province_id:
                errors.setdefault("origin", []).append(_("A province's own definition is not national."))
            if not self.source_url:
                errors.setdefault("source_url", []).append(_("A national definition names the address it was "
                                                             "read at."))
        return errors


class PrenatalDataElement(_Defined):
    """One figure an institution enters per period (数据元), e.g. the women given serum screening."""

    history = HistoricalRecords()

    class Meta(_Defined.Meta):
        verbose_name = _("prenatal QC data element")
        verbose_name_plural = _("prenatal QC data elements")

    def clean(self) -> None:
        errors = self._origin_errors()
        if errors:
            raise ValidationError(errors)


class PrenatalIndicator(_Defined):
    """A QC indicator: numerator element ÷ denominator element × the unit's multiplier, with its explanation (说明)."""

    numerator = models.ForeignKey(PrenatalDataElement, verbose_name=_("numerator element"),
                                  on_delete=models.PROTECT, related_name="+")
    denominator = models.ForeignKey(PrenatalDataElement, verbose_name=_("denominator element"),
                                    on_delete=models.PROTECT, related_name="+")
    numerator_label = models.CharField(_("numerator"), max_length=200,
                                       help_text=_("The numerator as the source words it."))
    denominator_label = models.CharField(_("denominator"), max_length=200,
                                         help_text=_("The denominator as the source words it."))
    explanation = models.TextField(_("explanation"), max_length=2000, blank=True,
                                   help_text=_("The notes (说明): what is counted and what is not."))
    unit = models.CharField(_("unit"), max_length=12, choices=PrenatalUnit.choices, default=PrenatalUnit.PERCENT)
    numerator_within_denominator = models.BooleanField(
        _("numerator is part of the denominator"), default=True,
        help_text=_("The women counted in the numerator are among those counted in the denominator (positives "
                    "among the screened), so an entry whose numerator exceeds its denominator is refused."))
    history = HistoricalRecords()

    class Meta(_Defined.Meta):
        verbose_name = _("prenatal QC indicator")
        verbose_name_plural = _("prenatal QC indicators")

    @property
    def multiplier(self) -> int:
        return PRENATAL_MULTIPLIER[PrenatalUnit(self.unit)]

    def clean(self) -> None:
        errors = self._origin_errors()
        if self.numerator_id and self.numerator_id == self.denominator_id:
            errors.setdefault("denominator", []).append(_("The denominator is another element than the numerator."))
        for name in ("numerator", "denominator"):
            element = getattr(self, name) if getattr(self, f"{name}_id") else None
            if element is None:
                continue
            if element.province_id and element.province_id != self.province_id:
                errors.setdefault(name, []).append(_("This element belongs to another province."))
            if self.origin == Origin.NATIONAL_READ and element.origin != Origin.NATIONAL_READ:
                errors.setdefault(name, []).append(_("A national indicator is computed from national elements."))
        if errors:
            raise ValidationError(errors)


def _in_province(province_code: str | None) -> Q:
    return Q(province__isnull=True) | Q(province_id=province_code)


def elements_for(institution: Institution) -> list[PrenatalDataElement]:
    """The active elements the institution enters: those of its licences, national and its province's."""
    held = licences_of(institution)
    if not held:
        return []
    return list(PrenatalDataElement.objects.filter(
        _in_province(institution.region.province_id), active=True, licence__in=held).order_by("order", "code"))


def indicators_for(*, province_code: str | None, licences: Iterable[str] | None = None) -> list[PrenatalIndicator]:
    """The active indicators of a province (national and its own), optionally of some licences only."""
    qs = PrenatalIndicator.objects.filter(_in_province(province_code), active=True).select_related(
        "numerator", "denominator")
    if licences is not None:
        qs = qs.filter(licence__in=list(licences))
    return list(qs.order_by("order", "code"))


def validate_prenatal_values(values: Mapping[str, int | None], indicators: Iterable[PrenatalIndicator]) -> None:
    """The one check of an entry (the form and the service both run it): each value a whole number ≥ 0, and
    each indicator's numerator no larger than its denominator where the one counts part of the other. Field
    errors are keyed by element code."""
    errors: dict[str, list[Any]] = {}
    for code, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.setdefault(code, []).append(_("Enter a whole number, 0 or more."))
    for indicator in indicators:
        if not indicator.numerator_within_denominator:
            continue
        top, bottom = values.get(indicator.numerator.code), values.get(indicator.denominator.code)
        if top is None or bottom is None or indicator.numerator.code in errors or indicator.denominator.code in errors:
            continue
        if top > bottom:
            errors.setdefault(indicator.numerator.code, []).append(
                _("%(numerator)s (%(top)s) cannot exceed %(denominator)s (%(bottom)s): %(indicator)s.") % {
                    "numerator": indicator.numerator.name_zh, "top": top, "denominator": indicator.denominator.name_zh,
                    "bottom": bottom, "indicator": indicator.name_zh})
    if errors:
        raise ValidationError(errors)


# --- Periods: a month or a quarter, named "2026-03" or "2026-Q1" -------------------------------------------------

class QcPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


_MONTH_KEY = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER_KEY = re.compile(r"^(\d{4})-Q([1-4])$")


def period_bounds(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The month or quarter containing ``day``: its first and last day."""
    if kind == QcPeriod.MONTH:
        first_month = day.month
        last_month = day.month
    else:
        first_month = (day.month - 1) // 3 * 3 + 1
        last_month = first_month + 2
    return (dt.date(day.year, first_month, 1),
            dt.date(day.year, last_month, calendar.monthrange(day.year, last_month)[1]))


def period_key(kind: str, start: dt.date) -> str:
    if kind == QcPeriod.MONTH:
        return f"{start:%Y-%m}"
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def parse_period_key(key: str) -> tuple[str, dt.date, dt.date] | None:
    """``(kind, first day, last day)`` of a key such as ``2026-03`` or ``2026-Q1``; None when it is not one."""
    match = _MONTH_KEY.match(key or "")
    if match:
        start = dt.date(int(match[1]), int(match[2]), 1)
        return (QcPeriod.MONTH.value, *period_bounds(QcPeriod.MONTH, start))
    match = _QUARTER_KEY.match(key or "")
    if match and 1900 <= int(match[1]) <= 2100:
        start = dt.date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1)
        return (QcPeriod.QUARTER.value, *period_bounds(QcPeriod.QUARTER, start))
    return None


def recent_periods(kind: str, today: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """The ``count`` periods of ``kind`` ending with the one containing ``today``, newest first."""
    periods = []
    start, end = period_bounds(kind, today)
    for _step in range(count):
        periods.append((start, end))
        start, end = period_bounds(kind, start - dt.timedelta(days=1))
    return periods


class PrenatalReport(ConcurrentTransitionMixin, models.Model):
    """One licensed institution's prenatal QC figures for one period (its values are ``PrenatalValue`` rows).

        open → submitted ⇄ returned
    """

    class State(models.TextChoices):
        OPEN = "open", _("Being entered")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned for correction")

    EDITABLE_STATES = (State.OPEN, State.RETURNED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="prenatal_reports")
    period_kind = models.CharField(_("period"), max_length=8, choices=QcPeriod.choices, editable=False)
    period_start = models.DateField(_("period from"), editable=False)
    period_end = models.DateField(_("period to"), editable=False)
    state = FSMField(_("state"), default=State.OPEN, choices=State.choices, editable=False, db_index=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    returned_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("returned by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    return_reason = reason_field(_("why returned"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-period_start", "institution__name"]
        verbose_name = _("prenatal QC report")
        verbose_name_plural = _("prenatal QC reports")
        permissions = [("return_prenatalreport", _("Can return a prenatal QC report for correction"))]
        constraints = [
            models.UniqueConstraint(fields=["institution", "period_kind", "period_start"],
                                    name="prenatal_report_once_per_period"),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")),
                                   name="prenatal_report_period_ordered"),
        ]
        indexes = [models.Index(fields=["period_start", "period_end", "state"])]

    def __str__(self) -> str:
        return f"{self.institution} · {self.period_label}"

    @property
    def period_label(self) -> str:
        return period_key(self.period_kind, self.period_start)

    @property
    def is_editable(self) -> bool:
        return self.state in self.EDITABLE_STATES

    @transition(field=state, source=[State.OPEN, State.RETURNED], target=State.SUBMITTED)
    def submit(self, *, by: Any, at: dt.datetime) -> None:
        self.submitted_at, self.submitted_by = at, by

    @transition(field=state, source=State.SUBMITTED, target=State.RETURNED)
    def return_for_correction(self, *, by: Any, at: dt.datetime, reason: str) -> None:
        self.returned_at, self.returned_by, self.return_reason = at, by, reason


class PrenatalValue(models.Model):
    """One data element's value in a report, with who entered it last (and its history)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(PrenatalReport, verbose_name=_("report"), on_delete=models.CASCADE,
                               related_name="values")
    element = models.ForeignKey(PrenatalDataElement, verbose_name=_("data element"), on_delete=models.PROTECT,
                                related_name="+")
    value = models.PositiveIntegerField(_("value"))
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("entered by"), on_delete=models.PROTECT,
                                   related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["report", "element__order"]
        verbose_name = _("prenatal QC value")
        verbose_name_plural = _("prenatal QC values")
        constraints = [models.UniqueConstraint(fields=["report", "element"], name="prenatal_value_once")]

    def __str__(self) -> str:
        return f"{self.report} · {self.element.code} = {self.value}"
