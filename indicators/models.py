"""Indicators held as data: each names a numerator and a denominator among the measures written in code
(indicators/measures.py), a unit and a multiplier; targets are rows per province.

A province adds a ratio of existing measures without code: a new ``Indicator`` row for that province naming
two measures of the same attribution (population or service). The national rows (province empty) are the
ones the issue lists, seeded by migration 0002.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from indicators.measures import MEASURES, Attribution, MeasureKind
from organisations.models import Region


class Unit(models.TextChoices):
    PERCENT = "percent", _("Percent")
    PER_1000 = "per_1000", _("Per 1,000")
    PER_100000 = "per_100000", _("Per 100,000")
    MINUTES = "minutes", pgettext_lazy("unit of time", "Minutes")
    COUNT = "count", _("Count")


# The multiplier each unit implies (a ratio's value is numerator × multiplier / denominator).
UNIT_MULTIPLIER = {Unit.PERCENT: 100, Unit.PER_1000: 1000, Unit.PER_100000: 100000, Unit.MINUTES: 1, Unit.COUNT: 1}


class Indicator(models.Model):
    """One figure: a count (numerator only), a ratio of two counted measures, or a median (minutes)."""

    class AttributionKind(models.TextChoices):
        POPULATION = Attribution.POPULATION, _("Population (the woman's county of residence)")
        SERVICE = Attribution.SERVICE, _("Service (the institution's region)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(_("code"), max_length=60, unique=True,
                            help_text=_("The figure's key in the API and the command, e.g. mmr."))
    province = models.ForeignKey(Region, verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT,
                                 limit_choices_to={"level": Region.Level.PROVINCE}, related_name="+",
                                 help_text=_("Empty for a national indicator; a province's own is shown in that "
                                             "province only."))
    name_zh = models.CharField(_("name (Chinese)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=120)
    definition = models.TextField(_("definition"), max_length=2000)
    unit = models.CharField(_("unit"), max_length=12, choices=Unit.choices)
    numerator = models.CharField(_("numerator measure"), max_length=60)
    denominator = models.CharField(_("denominator measure"), max_length=60, blank=True,
                                   help_text=_("Empty for a count or a median."))
    multiplier = models.PositiveIntegerField(_("multiplier"), default=1)
    attribution = models.CharField(_("attribution"), max_length=12, choices=AttributionKind.choices)
    order = models.PositiveSmallIntegerField(_("display order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")

    def __str__(self) -> str:
        return f"{self.code} · {self.name_zh}"

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        numerator = MEASURES.get(self.numerator)
        denominator = MEASURES.get(self.denominator) if self.denominator else None
        if numerator is None:
            errors["numerator"] = [_("Choose one of the measures written in code.")]
        if self.denominator and denominator is None:
            errors["denominator"] = [_("Choose one of the measures written in code.")]
        for name, measure in (("numerator", numerator), ("denominator", denominator)):
            if measure is not None and self.attribution and measure.attribution != self.attribution:
                errors.setdefault(name, []).append(_("This measure is counted by another attribution."))
        if numerator is not None and numerator.kind == MeasureKind.MEDIAN:
            if self.denominator:
                errors.setdefault("denominator", []).append(_("A median has no denominator."))
            if self.unit != Unit.MINUTES:
                errors.setdefault("unit", []).append(_("A median of minutes is in minutes."))
        elif self.unit == Unit.MINUTES:
            errors.setdefault("unit", []).append(_("Only a median of minutes is in minutes."))
        if denominator is not None and denominator.kind == MeasureKind.MEDIAN:
            errors.setdefault("denominator", []).append(_("A denominator is a count, not a median."))
        if self.unit == Unit.COUNT and self.denominator:
            errors.setdefault("denominator", []).append(_("A count has no denominator."))
        if self.unit in (Unit.PERCENT, Unit.PER_1000, Unit.PER_100000) and not self.denominator:
            errors.setdefault("denominator", []).append(_("A rate needs a denominator."))
        if self.unit and self.multiplier != UNIT_MULTIPLIER[Unit(self.unit)]:
            errors.setdefault("multiplier", []).append(
                _("The unit's multiplier is %(value)s.") % {"value": UNIT_MULTIPLIER[Unit(self.unit)]})
        if self.province_id and self.province and self.province.level != Region.Level.PROVINCE:
            errors.setdefault("province", []).append(_("Choose a province."))
        if errors:
            raise ValidationError(errors)


class IndicatorTarget(models.Model):
    """A province's target for an indicator (e.g. 系统管理率 ≥ 95 %, MMR ≤ 7 per 100,000 in Zhejiang's plan);
    with no province, the national target that applies where the province set none."""

    class Comparison(models.TextChoices):
        AT_LEAST = "gte", _("At least (≥)")
        AT_MOST = "lte", _("At most (≤)")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    province = models.ForeignKey(Region, verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT,
                                 limit_choices_to={"level": Region.Level.PROVINCE}, related_name="+",
                                 help_text=_("Empty for the national target."))
    indicator = models.ForeignKey(Indicator, verbose_name=_("indicator"), on_delete=models.PROTECT,
                                  related_name="targets")
    comparison = models.CharField(_("comparison"), max_length=4, choices=Comparison.choices)
    value = models.DecimalField(_("target value"), max_digits=12, decimal_places=2)
    source_note = models.CharField(_("source"), max_length=300,
                                   help_text=_("The plan or document that sets the target."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["province_id", "indicator__order"]
        verbose_name = _("indicator target")
        verbose_name_plural = _("indicator targets")
        constraints = [
            models.UniqueConstraint(fields=["province", "indicator"], name="target_once_per_province"),
            models.UniqueConstraint(fields=["indicator"], condition=Q(province__isnull=True),
                                    name="target_once_nationally"),
        ]

    def __str__(self) -> str:
        sign = "≥" if self.comparison == self.Comparison.AT_LEAST else "≤"
        return f"{self.indicator.code} {sign} {self.value}"

    def clean(self) -> None:
        if self.province_id and self.province and self.province.level != Region.Level.PROVINCE:
            raise ValidationError({"province": _("Choose a province.")})
        indicator = self.indicator if self.indicator_id else None
        if indicator is not None and indicator.province_id and indicator.province_id != self.province_id:
            raise ValidationError({"indicator": _("This indicator belongs to another province.")})

    def met_by(self, value: Decimal | float | None) -> bool | None:
        if value is None:
            return None
        value = Decimal(str(value))
        return value >= self.value if self.comparison == self.Comparison.AT_LEAST else value <= self.value
