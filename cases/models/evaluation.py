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

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, URLValidator
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
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


# --- Rounds ---------------------------------------------------------------------------------------------------
#
# A round is one province's evaluation of one level for one data year (福建: the counties by the end of February,
# the cities by the end of April, the province by the end of June). It holds one submission per subject: the
# system of each region of that level (the bureau self-evaluates, the level above evaluates) and each rescue
# centre of that level (the centre self-evaluates, the bureau of its own level evaluates it on site). Each
# submission runs a viewflow flow over the state machine below (workflows/evaluation/flows.py); the services in
# workflows/evaluation/services.py are the only writers.


class EvaluationRound(models.Model):
    """A province's evaluation of one level (county, city or province) for one data year."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("evaluation round", "Open")
        CLOSED = "closed", pgettext_lazy("evaluation round", "Closed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    province = models.ForeignKey(Region, verbose_name=_("province"), on_delete=models.PROTECT, related_name="+",
                                 limit_choices_to={"level": Region.Level.PROVINCE}, editable=False)
    year = models.PositiveSmallIntegerField(_("data year"), editable=False)
    level = models.CharField(_("level evaluated"), max_length=8, choices=Region.Level.choices, editable=False)
    scheme = models.ForeignKey(EvaluationScheme, verbose_name=_("evaluation scheme"), on_delete=models.PROTECT,
                               related_name="rounds", editable=False)
    state = FSMField(_("state"), default=State.OPEN, choices=State.choices, editable=False, db_index=True)
    opened_at = models.DateTimeField(pgettext_lazy("evaluation round", "opened at"), editable=False)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT,
                                  related_name="+", editable=False)
    closed_at = models.DateTimeField(pgettext_lazy("evaluation round", "closed at"), null=True, blank=True,
                                     editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-year", "province_id", "level"]
        verbose_name = _("evaluation round")
        verbose_name_plural = _("evaluation rounds")
        constraints = [models.UniqueConstraint(fields=["province", "year", "level"],
                                               name="evaluation_round_once")]

    def __str__(self) -> str:
        return f"{self.province_id} {self.year} {self.get_level_display()}"

    @transition(field=state, source=State.OPEN, target=State.CLOSED)
    def close(self, *, at: Any) -> None:
        self.closed_at = at


class EvaluationSubmission(ConcurrentTransitionMixin, models.Model):
    """One subject's evaluation in a round: its self-evaluation, the evaluation by the level above, the result,
    and for a failing subject the rectification, the re-evaluation and, for a centre, de-listing (摘牌).

        draft → submitted → (returned → draft) → passed | failed
        failed → rectifying → passed (rectified) | delisted (a centre) | failed_again (a system)
        delisted → restored
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Self-evaluating")
        SUBMITTED = "submitted", _("Submitted, awaiting evaluation")
        PASSED = "passed", pgettext_lazy("evaluation result", "Passed")
        FAILED = "failed", pgettext_lazy("evaluation result", "Failed")
        RECTIFYING = "rectifying", _("Rectifying")
        FAILED_AGAIN = "failed_again", _("Failed again after rectification")
        DELISTED = "delisted", _("De-listed (摘牌)")
        RESTORED = "restored", _("Restored after de-listing")

    DONE_STATES = (State.PASSED, State.FAILED_AGAIN, State.DELISTED, State.RESTORED)
    EVALUATED_STATES = (State.PASSED, State.FAILED, State.RECTIFYING, State.FAILED_AGAIN, State.DELISTED,
                        State.RESTORED)

    Subject = EvaluationIndicator.Subject

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(EvaluationRound, verbose_name=_("evaluation round"), on_delete=models.CASCADE,
                              related_name="submissions", editable=False)
    subject = models.CharField(_("subject"), max_length=8, choices=EvaluationIndicator.Subject.choices,
                               editable=False)
    region = models.ForeignKey(Region, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+",
                               editable=False, help_text=_("The area evaluated, or the area of the centre."))
    centre = models.ForeignKey("organisations.RescueCentre", verbose_name=_("rescue centre"), null=True,
                               blank=True, on_delete=models.PROTECT, related_name="evaluations", editable=False)
    evaluator = models.ForeignKey(Region, verbose_name=_("evaluated by (area)"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+", editable=False,
                                  help_text=_("The level above; empty for a province's own system (evaluated "
                                              "by the national level, outside Anmu)."))
    state = FSMField(_("state"), default=State.DRAFT, choices=State.choices, editable=False, db_index=True)
    process = models.OneToOneField("viewflow.Process", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="evaluation_submission", editable=False)
    self_due_on = models.DateField(_("self-evaluation due on"), editable=False)
    evaluation_due_on = models.DateField(_("evaluation due on"), null=True, blank=True, editable=False)
    self_summary = narrative_field(_("self-evaluation summary"), blank=True)
    report = models.ForeignKey("cases.SelfInspectionReport", verbose_name=_("self-evaluation report"), null=True,
                               blank=True, on_delete=models.PROTECT, related_name="+", editable=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+", editable=False)
    returned_reason = models.CharField(_("returned because"), max_length=300, blank=True, editable=False)
    on_site = models.BooleanField(_("re-checked on site"), default=False, editable=False,
                                  help_text=_("Drawn into the sample of the level above, or a centre (always "
                                              "evaluated on site)."))
    total = models.DecimalField(_("score"), max_digits=8, decimal_places=2, null=True, blank=True, editable=False)
    available = models.DecimalField(_("points available"), max_digits=8, decimal_places=2, null=True, blank=True,
                                    editable=False)
    met_count = models.PositiveSmallIntegerField(_("targets met"), default=0, editable=False)
    judged_count = models.PositiveSmallIntegerField(_("targets judged"), default=0, editable=False)
    suggested_pass = models.BooleanField(_("pass by the score"), null=True, blank=True, editable=False)
    result_reason = narrative_field(_("reason for the result"), blank=True)
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True, editable=False)
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("evaluated by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+", editable=False)
    rectification = models.ForeignKey("cases.Interview", verbose_name=_("rectification"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+", editable=False)
    reevaluation_findings = narrative_field(_("re-evaluation findings"), blank=True)
    reevaluated_at = models.DateTimeField(_("re-evaluated at"), null=True, blank=True, editable=False)
    restored_reason = narrative_field(_("restored because"), blank=True)
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["round", "subject", "region_id"]
        verbose_name = _("evaluation submission")
        verbose_name_plural = _("evaluation submissions")
        constraints = [
            models.UniqueConstraint(fields=["round", "region"], condition=models.Q(subject="system"),
                                    name="evaluation_one_system_per_round"),
            models.UniqueConstraint(fields=["round", "centre"], condition=models.Q(subject="centre"),
                                    name="evaluation_one_centre_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.subject_name}"

    @property
    def subject_name(self) -> str:
        if self.subject == self.Subject.CENTRE and self.centre_id:
            return self.centre.institution.name  # type: ignore[union-attr]
        return self.region.name

    @property
    def share(self) -> Decimal | None:
        """The score as a percentage of the points available."""
        if self.total is None or not self.available:
            return None
        return (self.total * 100 / self.available).quantize(Decimal("0.1"))

    @transition(field=state, source=State.DRAFT, target=State.SUBMITTED)
    def submit(self, *, by: Any, at: Any, report: Any = None) -> None:
        self.submitted_by, self.submitted_at, self.report, self.returned_reason = by, at, report, ""

    @transition(field=state, source=State.SUBMITTED, target=State.DRAFT)
    def send_back(self, *, reason: str) -> None:
        self.returned_reason = reason

    @transition(field=state, source=State.SUBMITTED, target=State.PASSED)
    def pass_evaluation(self, *, by: Any, at: Any, reason: str) -> None:
        self.evaluated_by, self.evaluated_at, self.result_reason = by, at, reason

    @transition(field=state, source=State.SUBMITTED, target=State.FAILED)
    def fail_evaluation(self, *, by: Any, at: Any, reason: str) -> None:
        self.evaluated_by, self.evaluated_at, self.result_reason = by, at, reason

    @transition(field=state, source=State.FAILED, target=State.RECTIFYING)
    def start_rectification(self, *, interview: Any) -> None:
        self.rectification = interview

    @transition(field=state, source=State.RECTIFYING, target=State.PASSED)
    def pass_reevaluation(self, *, at: Any, findings: str) -> None:
        self.reevaluated_at, self.reevaluation_findings = at, findings

    @transition(field=state, source=State.RECTIFYING, target=State.DELISTED,
                conditions=[lambda s: getattr(s, "subject", None) == EvaluationIndicator.Subject.CENTRE])
    def delist(self, *, at: Any, findings: str) -> None:
        self.reevaluated_at, self.reevaluation_findings = at, findings

    @transition(field=state, source=State.RECTIFYING, target=State.FAILED_AGAIN,
                conditions=[lambda s: getattr(s, "subject", None) == EvaluationIndicator.Subject.SYSTEM])
    def fail_reevaluation(self, *, at: Any, findings: str) -> None:
        self.reevaluated_at, self.reevaluation_findings = at, findings

    @transition(field=state, source=State.DELISTED, target=State.RESTORED)
    def restore(self, *, at: Any, reason: str) -> None:
        self.restored_at, self.restored_reason = at, reason


class EvaluationScore(models.Model):
    """One indicator of one submission: the value computed from Anmu's records, the self-evaluation's entered
    value with its evidence, the evaluator's value (an override keeps the computed value beside it, with the
    reason), and the score of the value that counts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    submission = models.ForeignKey(EvaluationSubmission, verbose_name=_("evaluation submission"),
                                   on_delete=models.CASCADE, related_name="scores", editable=False)
    indicator = models.ForeignKey(EvaluationIndicator, verbose_name=_("evaluation indicator"),
                                  on_delete=models.PROTECT, related_name="+", editable=False)
    computed_value = models.DecimalField(_("computed value"), max_digits=14, decimal_places=4, null=True,
                                         blank=True, editable=False)
    previous_value = models.DecimalField(_("previous year's value"), max_digits=14, decimal_places=4, null=True,
                                         blank=True, editable=False)
    self_value = models.DecimalField(_("self-evaluation value"), max_digits=14, decimal_places=4, null=True,
                                     blank=True)
    evidence = models.CharField(_("evidence"), max_length=500, blank=True,
                                help_text=_("What proves the entered value: the document's number, where the "
                                            "screenshot is kept."))
    evaluator_value = models.DecimalField(_("evaluator's value"), max_digits=14, decimal_places=4, null=True,
                                          blank=True)
    override_reason = models.CharField(_("reason for the evaluator's value"), max_length=300, blank=True)
    evidence_checked = models.BooleanField(_("evidence checked"), null=True, blank=True)
    met = models.BooleanField(_("target met"), null=True, blank=True, editable=False)
    points = models.DecimalField(_("points"), max_digits=6, decimal_places=2, null=True, blank=True,
                                 editable=False)
    note = models.CharField(_("note"), max_length=300, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["submission", "indicator__order", "indicator__number"]
        verbose_name = _("evaluation score")
        verbose_name_plural = _("evaluation scores")
        constraints = [models.UniqueConstraint(fields=["submission", "indicator"], name="evaluation_score_once")]

    def __str__(self) -> str:
        return f"{self.submission} · {self.indicator}"

    @property
    def value(self) -> Decimal | None:
        """The value that counts: the evaluator's where given, else the computed value, else the entered one."""
        for value in (self.evaluator_value, self.computed_value, self.self_value):
            if value is not None:
                return value
        return None

    @property
    def overridden(self) -> bool:
        return self.evaluator_value is not None and self.computed_value is not None \
            and self.evaluator_value != self.computed_value


class EvaluationVisit(models.Model):
    """An on-site visit of the evaluators (现场评估), "四不两直" (unannounced) or announced, with what it found."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    submission = models.ForeignKey(EvaluationSubmission, verbose_name=_("evaluation submission"),
                                   on_delete=models.CASCADE, related_name="visits", editable=False)
    visited_on = models.DateField(_("visited on"))
    unannounced = models.BooleanField(_("unannounced (四不两直)"), default=True,
                                      help_text=_("Not announced, no greeting, no report heard, no escort; straight "
                                                  "to the wards and the people."))
    evaluators = models.CharField(_("evaluators"), max_length=300)
    findings = narrative_field(_("findings"))
    recorded_at = models.DateTimeField(_("recorded at"), editable=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+", editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["submission", "visited_on"]
        verbose_name = _("on-site visit")
        verbose_name_plural = _("on-site visits")

    def __str__(self) -> str:
        return f"{self.submission} · {self.visited_on}"


class EvaluationSample(models.Model):
    """The areas an evaluator re-checks on site in a round, drawn reproducibly (workflows/evaluation/sampling.py):
    the seed, the rule in force and each area's reason are kept, so anyone can draw it again and get the same."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(EvaluationRound, verbose_name=_("evaluation round"), on_delete=models.CASCADE,
                              related_name="samples", editable=False)
    evaluator = models.ForeignKey(Region, verbose_name=_("evaluated by (area)"), on_delete=models.PROTECT,
                                  related_name="+", editable=False)
    seed = models.CharField(_("seed"), max_length=80, editable=False)
    share = models.PositiveSmallIntegerField(_("share re-checked (%)"), editable=False)
    coverage_years = models.PositiveSmallIntegerField(_("every area within (years)"), editable=False)
    minimum = models.PositiveSmallIntegerField(_("at least"), editable=False)
    drawn = models.JSONField(_("areas drawn"), default=list, editable=False,
                             help_text=_("[{region, name, reason, last_checked}], in the order drawn."))
    drawn_at = models.DateTimeField(_("drawn at"), editable=False)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("drawn by"), on_delete=models.PROTECT,
                                 related_name="+", editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["round", "evaluator_id"]
        verbose_name = _("re-check sample")
        verbose_name_plural = _("re-check samples")
        constraints = [models.UniqueConstraint(fields=["round", "evaluator"], name="evaluation_sample_once")]

    def __str__(self) -> str:
        return f"{self.round} · {self.evaluator_id}"
