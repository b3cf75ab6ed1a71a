"""Rule sets: the colour table in force, and each province's settings (deadlines, intervals, bounds)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from cases.models.colour import Colour
from organisations.models import Institution, Region


class RuleSet(models.Model):
    """One version of a pregnancy-risk colour table: the national 2017 table, or a province's.

    A province's table is a full copy of the rows it applies (made from the national one and then
    edited: rows added, removed or recoloured), so what a version says never changes behind it.
    ``as_of`` picks the version of a code in force on a date.
    """

    class BmiBasis(models.TextChoices):
        PRE_PREGNANCY = "pre_pregnancy", _("Pre-pregnancy weight")
        BOOKING = "booking", _("Weight at booking")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(_("code"), max_length=40)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(pgettext_lazy("name of a place or an organisation", "name"), max_length=120)
    province = models.ForeignKey(Region, verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT,
                                 limit_choices_to={"level": Region.Level.PROVINCE}, related_name="+",
                                 help_text=_("Empty for the national table."))
    based_on = models.ForeignKey("self", verbose_name=_("based on"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    effective_from = models.DateField(_("in force from"))
    # The province's open choices (risk-table.md, "Open choices").
    hbsag_carrier_purple = models.BooleanField(
        _("HBsAg carriers are also purple"), default=False,
        help_text=_("Y2.3 (carrier, normal liver function) also marks purple (P1)."))
    std_purple = models.BooleanField(
        _("Gonorrhoea and condyloma are also purple"), default=False,
        help_text=_("Y2.9 also marks purple (P7)."))
    bmi_basis = models.CharField(_("BMI is computed from"), max_length=16, choices=BmiBasis.choices,
                                 default=BmiBasis.PRE_PREGNANCY)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = _("risk rule set")
        verbose_name_plural = _("risk rule sets")
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="ruleset_unique_version")]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version}, {self.effective_from:%Y-%m-%d})"


class RiskRule(models.Model):
    """One row of a rule set's colour table, referred to by its code (Y1.2, O2.6.1, R1.1.1, P2)."""

    ruleset = models.ForeignKey(RuleSet, verbose_name=_("rule set"), on_delete=models.CASCADE, related_name="rules")
    code = models.CharField(_("code"), max_length=16, validators=[
        RegexValidator(r"^[YORP]\d+(\.\d+)*$", _("A code is Y, O, R or P followed by numbers, e.g. O2.6.1."))])
    colour = models.CharField(_("colour"), max_length=8,
                              choices=[c for c in Colour.choices if c[0] != Colour.GREEN])
    text = models.CharField(_("text"), max_length=300)
    text_en = models.CharField(_("text (English)"), max_length=300, blank=True)
    section = models.CharField(_("section"), max_length=8, blank=True)
    section_text = models.CharField(_("section title"), max_length=60, blank=True)
    group = models.CharField(_("group"), max_length=16, blank=True)
    group_text = models.CharField(_("group title"), max_length=120, blank=True)
    source = models.CharField(_("source"), max_length=10, default="read",
                              help_text=_("read: seen in the national text; recalled: reconstructed."))
    order = models.PositiveIntegerField(_("order"), default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["ruleset", "order"]
        verbose_name = _("risk rule")
        verbose_name_plural = _("risk rules")
        constraints = [models.UniqueConstraint(fields=["ruleset", "code"], name="riskrule_unique_code")]

    def __str__(self) -> str:
        return f"{self.code} {self.text}"


# Which maternal deaths a city or the province reviews after the county: all, only those concluded avoidable
# (or avoidable had conditions been created) or on which a level disagreed with the one below, or none.
DEATH_REVIEW_SCOPE = [("all", _("Every maternal death")),
                      ("disputed", _("Avoidable or disputed deaths only")),
                      ("none", _("None"))]


PRENATAL_QC_PERIODS = [("month", _("Month")), ("quarter", _("Quarter"))]


class ProvinceSettings(models.Model):
    """The settings the national texts leave open (deadlines, intervals, optional screening items),
    versioned by effective date: the national defaults (no province), and each province's own."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    province = models.ForeignKey(Region, verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT,
                                 limit_choices_to={"level": Region.Level.PROVINCE}, related_name="+",
                                 help_text=_("Empty for the national defaults."))
    effective_from = models.DateField(_("in force from"))
    screening_optional_items = models.JSONField(
        _("optional screening items"), default=list, blank=True,
        help_text=_("Codes of screening-form items offered according to capacity (建议); all others must be asked."))
    screen_positive_assess_days = models.PositiveSmallIntegerField(
        _("days to assess a screen-positive woman"), default=14)
    report_orange_hours = models.PositiveSmallIntegerField(_("hours to report an orange woman"), default=72)
    report_red_hours = models.PositiveSmallIntegerField(_("hours to report a red woman"), default=24)
    report_purple_hours = models.PositiveSmallIntegerField(_("hours to report a purple woman"), default=72)
    continuation_evaluation_days = models.PositiveSmallIntegerField(
        _("days for the tertiary evaluation of a red pregnancy"), default=7)
    followup_days_yellow = models.PositiveSmallIntegerField(_("follow-up interval, yellow (days)"), default=28)
    followup_days_orange = models.PositiveSmallIntegerField(_("follow-up interval, orange (days)"), default=14)
    followup_days_red = models.PositiveSmallIntegerField(_("follow-up interval, red (days)"), default=7)
    followup_days_purple = models.PositiveSmallIntegerField(_("follow-up interval, purple (days)"), default=14)
    lost_after_missed_days = models.PositiveSmallIntegerField(
        _("days after a missed visit before tracing starts"), default=7)
    tracing_days = models.PositiveSmallIntegerField(_("days to trace a woman before she is marked lost"), default=7)
    referral_response_minutes_emergency = models.PositiveSmallIntegerField(
        _("minutes for a centre to answer an emergency referral"), default=10)
    referral_response_minutes_urgent = models.PositiveSmallIntegerField(
        _("minutes for a centre to answer an urgent referral"), default=60)
    referral_response_minutes_planned = models.PositiveSmallIntegerField(
        _("minutes for a centre to answer a planned referral"), default=24 * 60)
    referral_feedback_days = models.PositiveSmallIntegerField(
        _("days for the centre's feedback to the sending institution"), default=7)
    consultation_response_minutes_emergency = models.PositiveSmallIntegerField(
        _("minutes to answer an emergency consultation"), default=15)
    consultation_response_minutes_urgent = models.PositiveSmallIntegerField(
        _("minutes to answer an urgent consultation"), default=60)
    consultation_response_minutes_planned = models.PositiveSmallIntegerField(
        _("minutes to answer a planned consultation"), default=24 * 60)
    ddi_target_minutes = models.PositiveSmallIntegerField(
        _("emergency caesarean decision-to-delivery target (minutes)"), default=30)
    # Plausibility of what is typed at registration and booking (cases/models/plausibility.py).
    mother_age_min_years = models.PositiveSmallIntegerField(
        _("youngest usual age of a mother (years)"), default=14,
        help_text=_("A younger woman is registered or booked only after the doctor confirms her date of birth."))
    mother_age_max_years = models.PositiveSmallIntegerField(
        _("oldest usual age of a mother (years)"), default=50,
        help_text=_("An older woman is registered or booked only after the doctor confirms her date of birth."))
    booking_max_gestation_weeks = models.PositiveSmallIntegerField(
        _("latest gestational week at booking"), default=42,
        help_text=_("A last menstrual period longer than this before the booking date is refused."))
    edd_correction_max_days = models.PositiveSmallIntegerField(
        _("largest ultrasound correction of the due date (days)"), default=42,
        help_text=_("An ultrasound due date further than this from the one by the last menstrual period is refused."))
    # Maternal death reporting and review (孕产妇死亡报告与评审, domain.md §5.2, §9).
    death_report_hours = models.PositiveSmallIntegerField(
        _("hours from a maternal death to its report"), default=24)
    death_card_days = models.PositiveSmallIntegerField(
        _("days from a maternal death until the card reaches the county MCH institute"), default=2)
    death_investigation_days = models.PositiveSmallIntegerField(
        _("days from a maternal death to the county investigation"), default=30)
    death_clock_warning_hours = models.PositiveSmallIntegerField(
        _("hours before a death-report deadline that a reminder goes"), default=6)
    death_escalation_hours = models.PositiveSmallIntegerField(
        _("hours after a missed death-report deadline before the next level is told"), default=24)
    death_review_county_days = models.PositiveSmallIntegerField(_("days for the county review"), default=90)
    death_review_city_days = models.PositiveSmallIntegerField(_("days for the city review"), default=180)
    death_review_province_days = models.PositiveSmallIntegerField(_("days for the provincial review"), default=365)
    death_review_city = models.CharField(
        _("which deaths the city reviews"), max_length=10, choices=DEATH_REVIEW_SCOPE, default="all")
    death_review_province = models.CharField(
        _("which deaths the province reviews"), max_length=10, choices=DEATH_REVIEW_SCOPE, default="disputed")
    # Interviews (约谈): the national texts fix none of these (domain.md §6, §9).
    interview_acknowledge_days = models.PositiveSmallIntegerField(
        _("days for a summoned party to acknowledge an interview notice"), default=3)
    interview_plan_days = models.PositiveSmallIntegerField(
        _("days after an interview for the rectification plan"), default=15)
    interview_report_days = models.PositiveSmallIntegerField(
        _("days after the plan is accepted for the rectification report"), default=60)
    interview_warning_days = models.PositiveSmallIntegerField(
        _("days before an interview deadline that a reminder goes"), default=2)
    death_break_glass_hours = models.PositiveSmallIntegerField(
        _("hours an expert reviewer sees a death's identified record after breaking the glass"), default=12)
    measure_warning_days = models.PositiveSmallIntegerField(
        _("days before an improvement measure is due that its institution is reminded"), default=7)
    # Interviews and circulars (约谈通报, domain.md §6): no national text fixes this.
    circular_read_reminder_days = models.PositiveSmallIntegerField(
        _("days after a circular is published before those who have not opened it are reminded"), default=3)
    # Routine records (产后访视, 产后42天检查): the window in which a visit counts as the 42-day check; a
    # postpartum visit later than its end is refused as a typing error.
    postpartum_42d_from_days = models.PositiveSmallIntegerField(
        _("earliest day after delivery for the 42-day postpartum check"), default=35)
    postpartum_42d_to_days = models.PositiveSmallIntegerField(
        _("latest day after delivery for the 42-day postpartum check (and any postpartum visit)"), default=90)
    # Indicators (妇幼卫生统计年度): the MCH statistical year runs from 1 October to 30 September by default.
    statistical_year_start_month = models.PositiveSmallIntegerField(
        _("first month of the MCH statistical year"), default=10,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("The statistical year starts on the 1st of this month (10: 1 October to 30 September; "
                    "1: the calendar year)."))
    # Prenatal screening and diagnosis QC (产前筛查和产前诊断质量控制, workflows/prenatal): how often each licensed
    # institution enters its figures. 国卫办妇幼函〔2023〕466号 leaves collection to the provinces.
    prenatal_qc_period = models.CharField(
        _("period of the prenatal QC figures"), max_length=8, choices=PRENATAL_QC_PERIODS, default="quarter",
        help_text=_("Licensed institutions enter their prenatal screening and diagnosis figures per month or "
                    "per quarter."))
    # The annual rescue-system evaluation (危重孕产妇救治体系技术评估): 国卫办妇幼函〔2023〕481号 makes it annual and
    # leaves the timetable, the re-check sample and the pass mark to the provinces. Defaults: Fujian's plan
    # (counties by the end of February, cities by the end of April, the province by the end of June; a city
    # re-checks at least 30 % of its counties and every county within 4 years; the province at least 2 cities).
    evaluation_county_month = models.PositiveSmallIntegerField(
        _("month (of the year after the data year) by whose end the counties' evaluation is done"), default=2,
        validators=[MinValueValidator(1), MaxValueValidator(12)])
    evaluation_city_month = models.PositiveSmallIntegerField(
        _("month by whose end the cities' evaluation is done"), default=4,
        validators=[MinValueValidator(1), MaxValueValidator(12)])
    evaluation_province_month = models.PositiveSmallIntegerField(
        _("month by whose end the province's evaluation is done"), default=6,
        validators=[MinValueValidator(1), MaxValueValidator(12)])
    evaluation_centre_lead_days = models.PositiveSmallIntegerField(
        _("days before the end of its level's month that a rescue centre's self-evaluation is due"), default=30,
        help_text=_("The bureau of the centre's level evaluates it on site by the end of that month."))
    evaluation_recheck_percent = models.PositiveSmallIntegerField(
        _("share of the areas below that the level above re-checks on site each year (%)"), default=30,
        validators=[MinValueValidator(1), MaxValueValidator(100)])
    evaluation_recheck_years = models.PositiveSmallIntegerField(
        _("years within which every area below is re-checked on site"), default=4,
        validators=[MinValueValidator(1), MaxValueValidator(10)])
    evaluation_province_recheck_min = models.PositiveSmallIntegerField(
        _("cities the province re-checks on site each year, at least"), default=2)
    evaluation_pass_percent = models.PositiveSmallIntegerField(
        _("pass mark (percent of the points available)"), default=80,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("Where a scheme gives points; the evaluator decides the result and gives a reason when "
                    "it differs from the mark."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["province_id", "-effective_from"]
        verbose_name = _("province settings")
        verbose_name_plural = _("province settings")
        constraints = [models.UniqueConstraint(fields=["province", "effective_from"], name="settings_unique_version")]

    def __str__(self) -> str:
        return f"{self.province or _('national defaults')} · {self.effective_from:%Y-%m-%d}"

    def clean(self) -> None:
        if self.mother_age_min_years >= self.mother_age_max_years:
            raise ValidationError({"mother_age_max_years": _("The oldest usual age must be above the youngest.")})

    def report_hours(self, colour: str, purple: bool) -> int | None:
        """Hours to report a woman of this grade to the county MCH institute (None: no report)."""
        if colour == Colour.RED:
            return self.report_red_hours
        if colour == Colour.ORANGE:
            return self.report_orange_hours
        if purple:
            return self.report_purple_hours
        return None


def province_settings(*, province_code: str | None, on: dt.date | None = None) -> ProvinceSettings:
    """The province's settings in force on ``on``, else the national defaults in force."""
    on = on or dt.date.today()  # noqa: DTZ011
    rows = ProvinceSettings.objects.filter(Q(province_id=province_code) | Q(province__isnull=True),
                                           effective_from__lte=on)
    best = sorted(rows, key=lambda row: (row.province_id is None, -row.effective_from.toordinal()))
    if best:
        return best[0]
    return ProvinceSettings(effective_from=on)  # the model's defaults are the national ones


def settings_for(institution: Institution, *, on: dt.date | None = None) -> ProvinceSettings:
    return province_settings(province_code=institution.region.province_id, on=on)
