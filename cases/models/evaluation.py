"""The annual rescue-system evaluation (危重孕产妇救治体系技术评估): its schemes, held as data.

A scheme is the national edition (国卫办妇幼函〔2023〕481号, 3 areas and 28 indicators, of which Anmu ships the
7 that were read from the source) or a province's 细则 copied from it and edited. Each indicator says how its
value is obtained (computed from an Anmu indicator for the data year, or entered with evidence), its target
type and parameters, its points, and which levels and subjects it applies to. A row a province adds, or whose
definition or target it changes, is marked as the province's: no invented row is ever shown as national.

Scoring itself is pure code over these fields (``workflows/evaluation/scoring.py``).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, URLValidator
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from cases.limits import narrative_field
from organisations.models import Region


class Origin(models.TextChoices):
    NATIONAL = "national", _("National (read from the source)")
    PROVINCE = "province", _("Added or changed by the province")


class EvaluationScheme(models.Model):
    """One edition of an evaluation scheme: the national one (no province) or a province's 细则."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(pgettext_lazy("name of a place or an organisation", "name"), max_length=160)
    edition = models.PositiveSmallIntegerField(_("edition (year)"))
    province = models.ForeignKey(Region, verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT,
                                 limit_choices_to={"level": Region.Level.PROVINCE}, related_name="+",
                                 help_text=_("Empty for the national edition."))
    based_on = models.ForeignKey("self", verbose_name=_("based on"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(_("basis document"), max_length=200, blank=True,
                             help_text=_("The document that issued it, with its number (文号)."))
    source_url = models.CharField(_("source"), max_length=300, blank=True, validators=[URLValidator()])
    indicator_count = models.PositiveSmallIntegerField(
        _("indicators in the document"), null=True, blank=True,
        help_text=_("How many indicators the document has (the national edition: 28), whether or not all are "
                    "held here."))
    is_active = models.BooleanField(_("in use"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["province__code", "-edition", "code"]
        verbose_name = _("evaluation scheme")
        verbose_name_plural = _("evaluation schemes")

    def __str__(self) -> str:
        return self.name

    @property
    def is_national(self) -> bool:
        return self.province_id is None

    def copy_for(self, *, province: Region, code: str, name: str, by: Any = None) -> EvaluationScheme:
        """A province's 细则 started from this scheme: the same areas and indicators, each keeping its origin
        (a copied national row stays national until the province changes what it says)."""
        with transaction.atomic():
            copy = EvaluationScheme(code=code, name=name, edition=self.edition, province=province, based_on=self,
                                    basis=self.basis, source_url=self.source_url, indicator_count=self.indicator_count)
            _stamp(copy, by, f"copied from {self.code}")
            copy.save()
            mapping: dict[Any, EvaluationSection] = {}
            for section in sorted(self.sections.all(), key=lambda s: (s.parent_id is not None, s.order)):
                new = EvaluationSection(scheme=copy, number=section.number, name=section.name, order=section.order,
                                        parent=mapping.get(section.parent_id))
                _stamp(new, by, "copied")
                new.save()
                mapping[section.pk] = new
            for indicator in self.indicators.all():
                indicator.pk = uuid.uuid4()
                indicator._state.adding = True
                indicator.scheme, indicator.section = copy, mapping[indicator.section_id]
                _stamp(indicator, by, "copied")
                indicator.save()
        return copy


class EvaluationSection(models.Model):
    """An area (一 工作成效…) or a sub-area ((二) 体系构建…) of a scheme."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scheme = models.ForeignKey(EvaluationScheme, verbose_name=_("evaluation scheme"), on_delete=models.CASCADE,
                               related_name="sections")
    parent = models.ForeignKey("self", verbose_name=_("area"), null=True, blank=True, on_delete=models.CASCADE,
                               related_name="children", help_text=_("Empty for an area; the area of a sub-area."))
    number = models.CharField(_("number"), max_length=12)
    name = models.CharField(pgettext_lazy("name of a place or an organisation", "name"), max_length=120)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["scheme", "order", "number"]
        verbose_name = _("evaluation area")
        verbose_name_plural = _("evaluation areas")
        constraints = [models.UniqueConstraint(fields=["scheme", "number"], name="evaluation_section_number")]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def clean(self) -> None:
        if self.parent_id and self.parent is not None:
            if self.parent.scheme_id != self.scheme_id:
                raise ValidationError({"parent": _("The area belongs to another scheme.")})
            if self.parent.parent_id:
                raise ValidationError({"parent": _("A sub-area's area is an area, not another sub-area.")})


class EvaluationIndicator(models.Model):
    """One indicator of a scheme: what is measured, how its value is obtained and how it is scored."""

    class ValueSource(models.TextChoices):
        COMPUTED = "computed", _("Computed from an Anmu indicator for the data year")
        ENTERED = "entered", _("Entered with evidence")

    class TargetType(models.TextChoices):
        YES_NO = "yes_no", _("Yes or no")
        THRESHOLD = "threshold", _("Threshold (e.g. ≥ 1:3)")
        BAND = "band", _("Proportional band (e.g. 95–100 %, 0 below)")
        TREND = "trend", _("Trend against the previous year")
        NOT_CAPTURED = "not_captured", _("Not captured from the source")

    class Comparison(models.TextChoices):
        AT_LEAST = "ge", "≥"
        AT_MOST = "le", "≤"

    class BandScoring(models.TextChoices):
        PROPORTIONAL = "proportional", _("Points × value ÷ upper bound (按比例)")
        LINEAR = "linear", _("Linear from 0 at the lower bound to full points at the upper")

    class Trend(models.TextChoices):
        UP = "up", _("Rising (逐步提高)")
        UP_OR_KEEP = "up_or_keep", _("Rising, or kept at a high level (逐步提高或保持较高水平)")
        DOWN = "down", _("Falling (逐步降低)")

    class Subject(models.TextChoices):
        SYSTEM = "system", _("The system of an area (the bureau)")
        CENTRE = "centre", _("A rescue centre")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    scheme = models.ForeignKey(EvaluationScheme, verbose_name=_("evaluation scheme"), on_delete=models.CASCADE,
                               related_name="indicators")
    section = models.ForeignKey(EvaluationSection, verbose_name=_("area"), on_delete=models.PROTECT,
                                related_name="indicators")
    number = models.CharField(_("number"), max_length=12,
                              help_text=_("As in the document; '?' where the source does not show it."))
    name = models.CharField(pgettext_lazy("name of a place or an organisation", "name"), max_length=160)
    definition = narrative_field(_("definition or formula"), blank=True)
    value_source = models.CharField(_("value"), max_length=10, choices=ValueSource.choices,
                                    default=ValueSource.ENTERED)
    computed_from = models.CharField(_("computed from"), max_length=40, blank=True,
                                     help_text=_("For a computed value: the code of the Anmu indicator."))
    evidence = models.CharField(_("evidence required"), max_length=300, blank=True,
                                help_text=_("For an entered value: what proves it (an approval document, a "
                                            "screenshot of the database…)."))
    target_type = models.CharField(_("target type"), max_length=14, choices=TargetType.choices)
    target_text = models.CharField(_("target as written"), max_length=300, blank=True)
    comparison = models.CharField(_("comparison"), max_length=2, choices=Comparison.choices, blank=True)
    threshold = models.DecimalField(_("threshold"), max_digits=12, decimal_places=4, null=True, blank=True,
                                    help_text=_("For a threshold: the value to reach, e.g. 0.3333 for 1:3."))
    band_lower = models.DecimalField(_("band from"), max_digits=12, decimal_places=4, null=True, blank=True)
    band_upper = models.DecimalField(_("band to"), max_digits=12, decimal_places=4, null=True, blank=True)
    band_scoring = models.CharField(_("band scoring"), max_length=12, choices=BandScoring.choices, blank=True)
    trend = models.CharField(_("trend wanted"), max_length=10, choices=Trend.choices, blank=True)
    keep_level = models.DecimalField(_("high level kept"), max_digits=12, decimal_places=4, null=True, blank=True,
                                     help_text=_("For 'rising or kept high': a value at or above this meets "
                                                 "the target whatever the previous year's."))
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2, null=True, blank=True,
                                 validators=[MinValueValidator(Decimal(0))],
                                 help_text=_("Empty where the document gives none (the national edition)."))
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=3, null=True, blank=True,
                                 validators=[MinValueValidator(Decimal(0))])
    for_province = models.BooleanField(_("applies to provinces"), default=True)
    for_city = models.BooleanField(_("applies to cities"), default=True)
    for_county = models.BooleanField(_("applies to counties"), default=True)
    subject = models.CharField(_("subject"), max_length=8, choices=Subject.choices, default=Subject.SYSTEM)
    data_source = models.CharField(_("data source"), max_length=300, blank=True)
    basis = models.CharField(_("basis document"), max_length=300, blank=True)
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.PROVINCE)
    source_url = models.CharField(_("source"), max_length=300, blank=True, validators=[URLValidator()])
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    history = HistoricalRecords()

    # Changing one of these makes a national row the province's own (the scoring or meaning changed).
    DEFINING_FIELDS = ("name", "definition", "value_source", "computed_from", "target_type", "target_text",
                       "comparison", "threshold", "band_lower", "band_upper", "band_scoring", "trend", "keep_level",
                       "for_province", "for_city", "for_county", "subject")

    class Meta:
        ordering = ["scheme", "order", "number"]
        verbose_name = _("evaluation indicator")
        verbose_name_plural = _("evaluation indicators")
        constraints = [models.UniqueConstraint(fields=["scheme", "number", "name"],
                                               name="evaluation_indicator_unique")]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A national row whose meaning or target is changed is the province's from then on: no changed row is
        # ever shown as national.
        if self.origin == Origin.NATIONAL and not self._state.adding:
            stored = EvaluationIndicator.objects.filter(pk=self.pk).values("origin", *self.DEFINING_FIELDS).first()
            if stored is not None and stored["origin"] == Origin.NATIONAL and any(
                    stored[name] != getattr(self, name) for name in self.DEFINING_FIELDS):
                self.origin = Origin.PROVINCE
        super().save(*args, **kwargs)

    def applies_to(self, level: str) -> bool:
        flags: dict[str, bool] = {Region.Level.PROVINCE: self.for_province, Region.Level.CITY: self.for_city,
                                  Region.Level.COUNTY: self.for_county}
        return flags.get(level, False)

    @property
    def levels_display(self) -> str:
        names = [str(label) for flag, label in ((self.for_province, _("province")), (self.for_city, _("city")),
                                                (self.for_county, _("county"))) if flag]
        return "、".join(names)

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.section_id and self.scheme_id and self.section.scheme_id != self.scheme_id:
            errors["section"] = _("The area belongs to another scheme.")
        if self.value_source == self.ValueSource.COMPUTED:
            known = {code for hook in EVALUATION_INDICATOR_CHOICES for code, _label in hook()}
            if not self.computed_from:
                errors["computed_from"] = _("Choose the Anmu indicator the value is computed from.")
            elif known and self.computed_from not in known:
                errors["computed_from"] = _("No indicator has this code.")
        elif self.computed_from:
            errors["computed_from"] = _("Only a computed value names an indicator.")
        if self.target_type == self.TargetType.THRESHOLD:
            if self.threshold is None:
                errors["threshold"] = _("A threshold target needs its threshold.")
            if not self.comparison:
                errors["comparison"] = _("A threshold target needs its comparison (≥ or ≤).")
        if self.target_type == self.TargetType.BAND:
            if self.band_lower is None or self.band_upper is None:
                errors["band_upper"] = _("A band target needs both bounds.")
            elif self.band_lower >= self.band_upper or self.band_upper <= 0:
                errors["band_upper"] = _("The band's upper bound is above its lower bound and above 0.")
            if not self.band_scoring:
                errors["band_scoring"] = _("A band target needs its scoring.")
        if self.target_type == self.TargetType.TREND and not self.trend:
            errors["trend"] = _("A trend target needs the direction wanted.")
        if not (self.for_province or self.for_city or self.for_county):
            errors["for_county"] = _("An indicator applies to at least one level.")
        if errors:
            raise ValidationError(errors)


# The Anmu indicators an evaluation indicator may be computed from, as (code, name) pairs: they live above
# ``cases``, so the workflows register the lookup here (workflows/apps.py).
EVALUATION_INDICATOR_CHOICES: list[Any] = []


def _stamp(record: Any, by: Any, reason: str) -> None:
    record._history_user = by
    record._change_reason = reason
