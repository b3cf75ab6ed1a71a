"""Domain records: women, pregnancies, screenings, risk assessments, high-risk cases.

State lives in django-fsm-2 fields changed only by named transitions; the services in
``workflows/<process>/services.py`` call them inside a transaction with a row lock.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from cases.identity import id_birth_date, normalise_id_number, validate_resident_id
from cases.limits import narrative_field, reason_field
from cases.plausibility import birth_date_errors, pregnancy_errors
from organisations.models import Institution, Region
from organisations.personal import mask_id_number, mask_phone, normalise_phone, validate_phone

PREGNANCY_DAYS = 280


class Colour(models.TextChoices):
    GREEN = "green", _("Green (low risk)")
    YELLOW = "yellow", _("Yellow (general risk)")
    ORANGE = "orange", _("Orange (higher risk)")
    RED = "red", _("Red (high risk)")
    PURPLE = "purple", _("Purple (infectious disease)")


SEVERITY = {Colour.GREEN: 0, Colour.YELLOW: 1, Colour.ORANGE: 2, Colour.RED: 3}


def danger_rank_expression() -> Case:
    """Red 0, orange 1, purple only 2, else 3: the worklist order in SQL, and in the indexes that serve it
    (the query and the index must use the same expression)."""
    return Case(When(colour=Colour.RED, then=Value(0)), When(colour=Colour.ORANGE, then=Value(1)),
                When(purple=True, then=Value(2)), default=Value(3), output_field=models.IntegerField())


class Woman(models.Model):
    class IdType(models.TextChoices):
        RESIDENT_ID = "resident_id", _("Resident ID card")
        PASSPORT = "passport", _("Passport")
        HK_MACAO_PERMIT = "hk_macao", _("Hong Kong/Macao residents' permit")
        TAIWAN_PERMIT = "taiwan", _("Taiwan residents' permit")
        NONE = "none", _("No document yet")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=60)
    id_type = models.CharField(_("identity document"), max_length=16, choices=IdType.choices,
                               default=IdType.RESIDENT_ID)
    id_number = models.CharField(_("document number"), max_length=32, blank=True)
    no_id_reason = models.CharField(_("why there is no document"), max_length=200, blank=True)
    date_of_birth = models.DateField(_("date of birth"))
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    residence_region = models.ForeignKey(Region, verbose_name=_("residence"), on_delete=models.PROTECT,
                                         related_name="+")
    registered_by = models.ForeignKey(Institution, verbose_name=_("registered by"), on_delete=models.PROTECT,
                                      related_name="+")
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    # A duplicate record merged into another keeps existing (for history) but is no longer used.
    merged_into = models.ForeignKey("self", verbose_name=_("merged into"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="merged_records", editable=False)
    merged_at = models.DateTimeField(_("merged at"), null=True, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("woman")
        verbose_name_plural = _("women")
        permissions = [("merge_woman", _("Can merge duplicate records of one woman"))]
        constraints = [
            # One woman per document number: a second booking finds her instead of duplicating her.
            models.UniqueConstraint(fields=["id_type", "id_number"], condition=~Q(id_number=""),
                                    name="woman_unique_document"),
        ]
        indexes = [models.Index(fields=["residence_region"]), models.Index(fields=["registered_by"])]

    def __str__(self) -> str:
        return self.name

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    def clean(self) -> None:
        errors: dict[str, list] = {}
        self.id_number = normalise_id_number(self.id_number)
        if self.phone:
            self.phone = normalise_phone(self.phone)
        if self.id_type == self.IdType.RESIDENT_ID:
            try:
                validate_resident_id(self.id_number)
            except ValidationError as exc:
                errors["id_number"] = exc.messages
            else:
                born = id_birth_date(self.id_number)
                if self.date_of_birth and self.date_of_birth != born:
                    errors["date_of_birth"] = [_("The date of birth differs from the one in the ID number.")]
                self.date_of_birth = born
        elif self.id_type == self.IdType.NONE:
            if self.id_number:
                errors["id_number"] = [_("Leave the number empty when there is no document.")]
            if not self.no_id_reason.strip():
                errors["no_id_reason"] = [_("Say why she has no identity document yet.")]
        elif not self.id_number:
            errors["id_number"] = [_("Enter the document number.")]
        if "date_of_birth" not in errors and "id_number" not in errors:
            born_errors = birth_date_errors(self.date_of_birth, on=dt.date.today())  # noqa: DTZ011
            if born_errors:
                errors["date_of_birth"] = born_errors
        if errors:
            raise ValidationError(errors)


class Pregnancy(ConcurrentTransitionMixin, models.Model):
    class Status(models.TextChoices):
        ONGOING = "ongoing", _("Ongoing")
        DELIVERED = "delivered", _("Delivered")
        ENDED = "ended", _("Ended otherwise")
        CLOSED = "closed", _("Postpartum care completed")
        DIED = "died", _("Maternal death")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    woman = models.ForeignKey(Woman, verbose_name=_("woman"), on_delete=models.PROTECT,
                              related_name="pregnancies")
    lmp = models.DateField(_("last menstrual period"))
    edd_ultrasound = models.DateField(_("due date by ultrasound"), null=True, blank=True)
    gravidity = models.PositiveSmallIntegerField(_("gravidity"), default=1)
    parity = models.PositiveSmallIntegerField(_("parity"), default=0)
    booking_date = models.DateField(_("booking date"))
    booking_institution = models.ForeignKey(Institution, verbose_name=_("booked at"), on_delete=models.PROTECT,
                                            related_name="+")
    status = FSMField(_("status"), default=Status.ONGOING, choices=Status.choices, editable=False)
    # The colour of the latest valid assessment (or green after a negative screen): for worklists.
    colour = models.CharField(_("risk colour"), max_length=8, choices=Colour.choices, blank=True, db_index=True)
    purple = models.BooleanField(_("purple"), default=False)
    colour_at = models.DateTimeField(_("graded at"), null=True, blank=True)
    # Set when a near-miss checklist first met a WHO criterion (危重孕产妇).
    near_miss_at = models.DateTimeField(_("near miss since"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-booking_date"]
        verbose_name = _("pregnancy")
        verbose_name_plural = _("pregnancies")
        indexes = [models.Index(fields=["booking_institution", "booking_date"])]

    def __str__(self) -> str:
        return f"{self.woman} · G{self.gravidity}P{self.parity} · {self.edd:%Y-%m-%d}"

    @property
    def edd_naegele(self) -> dt.date:
        """Naegele's rule: LMP + 280 days."""
        return self.lmp + dt.timedelta(days=PREGNANCY_DAYS)

    @property
    def edd(self) -> dt.date:
        return self.edd_ultrasound or self.edd_naegele

    def gestational_age(self, on: dt.date) -> tuple[int, int]:
        """(weeks, days) on a date, counted from the corrected LMP when an ultrasound EDD is set."""
        start = self.edd - dt.timedelta(days=PREGNANCY_DAYS)
        days = (on - start).days
        return divmod(days, 7)

    @transition(field=status, source=Status.ONGOING, target=Status.DELIVERED)
    def deliver(self) -> None:
        pass

    @transition(field=status, source=Status.ONGOING, target=Status.ENDED)
    def end(self) -> None:
        pass

    @transition(field=status, source=Status.DELIVERED, target=Status.CLOSED)
    def close(self) -> None:
        pass

    @transition(field=status, source=[Status.ONGOING, Status.DELIVERED], target=Status.DIED)
    def record_death(self) -> None:
        pass

    def clean(self) -> None:
        from cases.rules import province_settings

        errors: dict[str, list] = {}
        if self.parity is not None and self.gravidity is not None and self.parity >= self.gravidity:
            errors["parity"] = [_("Parity counts earlier births, so it is below gravidity.")]
        province = self.booking_institution.region.province_id if self.booking_institution_id else None
        rules = province_settings(province_code=province, on=self.booking_date)
        errors.update(pregnancy_errors(self, settings=rules, today=dt.date.today()))  # noqa: DTZ011
        if errors:
            raise ValidationError(errors)


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
    # Plausibility of what is typed at registration and booking (cases/plausibility.py).
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


class WomanLink(models.Model):
    """An institution that found this woman by her document number and may see her from then on."""

    woman = models.ForeignKey(Woman, on_delete=models.CASCADE, related_name="links")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["woman", "institution"], name="womanlink_unique")]

    def __str__(self) -> str:
        return f"{self.woman_id} ↔ {self.institution_id}"


class Screening(models.Model):
    """A screening at booking (孕产妇妊娠风险筛查表): every item answered yes/no, or not asked if optional."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pregnancy = models.ForeignKey(Pregnancy, verbose_name=_("pregnancy"), on_delete=models.PROTECT,
                                  related_name="screenings")
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="+")
    screened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("screened by"),
                                    on_delete=models.PROTECT, related_name="+")
    screened_at = models.DateTimeField(_("screened at"))
    answers = models.JSONField(_("answers"), default=dict)
    positive = models.BooleanField(_("positive"), db_index=True)
    positive_items = models.JSONField(_("positive items"), default=list)
    note = reason_field(_("note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-screened_at"]
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")

    def __str__(self) -> str:
        return f"{self.pregnancy} · {self.screened_at:%Y-%m-%d}"


class Assessment(ConcurrentTransitionMixin, models.Model):
    """One grading of a pregnancy (妊娠风险评估). Never overwritten: a wrong one is voided with a reason."""

    class Stage(models.TextChoices):
        FIRST = "first", _("First assessment")
        DYNAMIC = "dynamic", _("Re-assessment at a visit")
        POSTPARTUM = "postpartum", _("Postpartum visit")
        DAY42 = "day42", _("42-day postpartum check")

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        VOIDED = "voided", _("Voided")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pregnancy = models.ForeignKey(Pregnancy, verbose_name=_("pregnancy"), on_delete=models.PROTECT,
                                  related_name="assessments")
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices)
    assessed_at = models.DateTimeField(_("assessed at"), db_index=True)
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assessor"), on_delete=models.PROTECT,
                                 related_name="+")
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="+")
    ruleset = models.ForeignKey(RuleSet, verbose_name=_("rule set"), on_delete=models.PROTECT, related_name="+")
    inputs = models.JSONField(_("measurements and findings"), default=dict)
    matched = models.JSONField(_("matched rows"), default=list)
    computed_colour = models.CharField(_("colour by the table"), max_length=8, choices=Colour.choices)
    computed_purple = models.BooleanField(_("purple by the table"), default=False)
    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices, db_index=True)
    purple = models.BooleanField(_("purple"), default=False)
    override_reason = reason_field(_("why the grade differs from the table"), blank=True)
    advice = reason_field(_("advice given"), blank=True)
    status = FSMField(_("status"), default=Status.VALID, choices=Status.choices, editable=False)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("voided by"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    void_reason = reason_field(_("why voided"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-assessed_at"]
        verbose_name = _("risk assessment")
        verbose_name_plural = _("risk assessments")

    def __str__(self) -> str:
        return f"{self.get_stage_display()} · {self.label} · {self.assessed_at:%Y-%m-%d}"

    @property
    def label(self) -> str:
        if self.purple:
            return "purple" if self.colour == Colour.GREEN else f"purple+{self.colour}"
        return self.colour

    @property
    def overridden(self) -> bool:
        return (self.colour, self.purple) != (self.computed_colour, self.computed_purple)

    @transition(field=status, source=Status.VALID, target=Status.VOIDED)
    def void(self, *, by, reason: str, at) -> None:  # type: ignore[no-untyped-def]
        self.voided_by = by
        self.void_reason = reason
        self.voided_at = at


class AssessmentReferral(ConcurrentTransitionMixin, models.Model):
    """A screen-positive woman at primary care, referred for assessment at a secondary-or-higher facility
    (妊娠风险筛查阳性孕产妇转诊) within the province's deadline."""

    class Status(models.TextChoices):
        OPEN = "open", _("Awaiting assessment")
        ASSESSED = "assessed", _("Assessed")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pregnancy = models.ForeignKey(Pregnancy, verbose_name=_("pregnancy"), on_delete=models.PROTECT,
                                  related_name="assessment_referrals")
    screening = models.OneToOneField(Screening, verbose_name=_("screening"), on_delete=models.PROTECT,
                                     related_name="assessment_referral")
    from_institution = models.ForeignKey(Institution, verbose_name=_("from"), on_delete=models.PROTECT,
                                         related_name="+")
    to_institution = models.ForeignKey(Institution, verbose_name=_("assess at"), on_delete=models.PROTECT,
                                       related_name="+")
    created_at = models.DateTimeField(_("referred at"))
    due_at = models.DateTimeField(_("assess by"), db_index=True)
    status = FSMField(_("status"), default=Status.OPEN, choices=Status.choices, editable=False)
    assessment = models.ForeignKey(Assessment, verbose_name=_("assessment"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    overdue_alerted_at = models.DateTimeField(_("overdue reported at"), null=True, blank=True)
    cancel_reason = reason_field(_("why cancelled"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("referral for assessment")
        verbose_name_plural = _("referrals for assessment")

    def __str__(self) -> str:
        return f"{self.pregnancy.woman} → {self.to_institution}"

    @transition(field=status, source=Status.OPEN, target=Status.ASSESSED)
    def mark_assessed(self, *, assessment: Assessment) -> None:
        self.assessment = assessment

    @transition(field=status, source=Status.OPEN, target=Status.CANCELLED)
    def cancel(self, *, reason: str) -> None:
        self.cancel_reason = reason


class ContinuationEvaluation(ConcurrentTransitionMixin, models.Model):
    """For a red woman: a tertiary hospital evaluates whether the pregnancy can continue."""

    class Status(models.TextChoices):
        OPEN = "open", _("Awaiting evaluation")
        DONE = "done", _("Evaluated")
        CANCELLED = "cancelled", _("Cancelled")

    class Decision(models.TextChoices):
        CONTINUE = "continue", _("The pregnancy may continue")
        TERMINATE = "terminate", _("Termination recommended")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pregnancy = models.ForeignKey(Pregnancy, verbose_name=_("pregnancy"), on_delete=models.PROTECT,
                                  related_name="continuation_evaluations")
    assessment = models.ForeignKey(Assessment, verbose_name=_("red assessment"), on_delete=models.PROTECT,
                                   related_name="+")
    institution = models.ForeignKey(Institution, verbose_name=_("tertiary hospital"), on_delete=models.PROTECT,
                                    related_name="+")
    requested_at = models.DateTimeField(_("requested at"))
    due_at = models.DateTimeField(_("evaluate by"))
    status = FSMField(_("status"), default=Status.OPEN, choices=Status.choices, editable=False)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("evaluated by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    evaluated_at = models.DateTimeField(_("evaluated at"), null=True, blank=True)
    note = narrative_field(_("note"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("continuation evaluation")
        verbose_name_plural = _("continuation evaluations")

    def __str__(self) -> str:
        return f"{self.pregnancy.woman} · {self.institution}"

    @transition(field=status, source=Status.OPEN, target=Status.DONE)
    def record(self, *, decision: str, by, note: str, at) -> None:  # type: ignore[no-untyped-def]
        self.decision, self.evaluated_by, self.note, self.evaluated_at = decision, by, note, at

    @transition(field=status, source=Status.OPEN, target=Status.CANCELLED)
    def cancel(self) -> None:
        pass


class HighRiskCase(ConcurrentTransitionMixin, models.Model):
    """高危孕产妇专案: one case per pregnancy, one responsible doctor, reported to the county MCH institute.

    opened → reported → managing (plans in place) → delivered → postpartum → closed; or closed early
    (the pregnancy ended otherwise), lost to follow-up (and found again), or a maternal death.
    A closed case may be reopened with a reason.
    """

    class State(models.TextChoices):
        OPENED = "opened", _("Opened")
        REPORTED = "reported", _("Reported to the MCH institute")
        MANAGING = "managing", _("Under management")
        DELIVERED = "delivered", _("Delivered")
        POSTPARTUM = "postpartum", _("Postpartum follow-up")
        LOST = "lost", _("Lost to follow-up")
        CLOSED = "closed", _("Closed")
        DIED = "died", _("Maternal death")

    class CloseKind(models.TextChoices):
        RECOVERED = "recovered", _("Recovered at the 42-day check")
        ENDED = "ended", _("The pregnancy ended otherwise")
        RISK_FELL = "risk_fell", _("The risk fell below orange")

    class DeliveryMode(models.TextChoices):
        VAGINAL = "vaginal", _("Vaginal")
        ASSISTED = "assisted", _("Assisted vaginal")
        CAESAREAN = "caesarean", _("Caesarean")

    OPEN_STATES = (State.OPENED, State.REPORTED, State.MANAGING, State.DELIVERED, State.POSTPARTUM, State.LOST)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pregnancy = models.OneToOneField(Pregnancy, verbose_name=_("pregnancy"), on_delete=models.PROTECT,
                                     related_name="highrisk_case")
    institution = models.ForeignKey(Institution, verbose_name=_("managing institution"), on_delete=models.PROTECT,
                                    related_name="+")
    responsible_doctor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("responsible doctor"),
                                           on_delete=models.PROTECT, related_name="highrisk_cases")
    region = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+",
                               help_text=_("The county whose MCH institute manages the register."))
    colour = models.CharField(_("colour"), max_length=8, choices=Colour.choices, db_index=True)
    purple = models.BooleanField(_("purple"), default=False, db_index=True)
    state = FSMField(_("state"), default=State.OPENED, choices=State.choices, editable=False)
    opened_at = models.DateTimeField(_("opened at"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT,
                                  related_name="+")
    report_due_at = models.DateTimeField(_("report due"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    reported_to = models.ForeignKey(Institution, verbose_name=_("reported to"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    closure_proposed = models.BooleanField(
        _("closure proposed"), default=False,
        help_text=_("The latest assessment is below orange and not purple: the doctor may close the case."))
    # Where she is to deliver; checked against the level her colour needs.
    planned_delivery_institution = models.ForeignKey(
        Institution, verbose_name=_("planned delivery place"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+")
    planned_delivery_reason = reason_field(_("why this place although its level is lower"), blank=True)
    # The next follow-up visit that is due (denormalised for the worklists).
    next_visit_at = models.DateField(_("next visit"), null=True, blank=True, db_index=True)
    delivered_at = models.DateField(_("delivery date"), null=True, blank=True)
    delivery_institution = models.ForeignKey(Institution, verbose_name=_("delivery place"), null=True, blank=True,
                                             on_delete=models.PROTECT, related_name="+")
    delivery_mode = models.CharField(_("delivery mode"), max_length=10, choices=DeliveryMode.choices, blank=True)
    delivery_outcome = narrative_field(_("outcome for mother and baby"), blank=True)
    lost_at = models.DateTimeField(_("marked lost at"), null=True, blank=True)
    died_at = models.DateTimeField(_("died at"), null=True, blank=True)
    death_note = narrative_field(_("death: place and circumstances"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_kind = models.CharField(_("closed because"), max_length=12, choices=CloseKind.choices, blank=True)
    close_reason = reason_field(_("closing reason"), blank=True)
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    reopen_reason = reason_field(_("why reopened"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("high-risk case")
        verbose_name_plural = _("high-risk cases")
        indexes = [
            models.Index(fields=["region", "state", "colour"], name="case_register_idx"),
            models.Index(fields=["responsible_doctor", "state"], name="case_doctor_idx"),
            models.Index(fields=["institution", "state"], name="case_institution_idx"),
            # The danger order (see cases.highrisk_views.danger_ordered): a county's register, and a
            # city's or the province's, read their first page from an index instead of sorting every case.
            models.Index(F("region"), danger_rank_expression(), F("next_visit_at"), F("opened_at"),
                         name="case_register_danger_idx"),
            models.Index(danger_rank_expression(), F("next_visit_at"), F("opened_at"), name="case_danger_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.pregnancy.woman} · {self.get_state_display()}"

    @property
    def label(self) -> str:
        if self.purple:
            return "purple" if self.colour == Colour.GREEN else f"purple+{self.colour}"
        return self.colour

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def awaits_report(self) -> bool:
        """The report to the MCH institute is still owed: only an opened case can be reported, so a case
        that died, closed or delivered before it was reported has no report due any more."""
        return self.state == self.State.OPENED and self.reported_at is None

    @property
    def danger_rank(self) -> int:
        """Red first, then orange, then purple only (worklist order)."""
        if self.colour == Colour.RED:
            return 0
        if self.colour == Colour.ORANGE:
            return 1
        return 2 if self.purple else 3

    # Named transitions. Services check permission and conditions, lock the row and keep history.

    @transition(field=state, source=State.OPENED, target=State.REPORTED)
    def report(self, *, to: Institution, at) -> None:  # type: ignore[no-untyped-def]
        self.reported_to = to
        self.reported_at = at

    @transition(field=state, source=State.REPORTED, target=State.MANAGING)
    def start_management(self) -> None:
        pass

    @transition(field=state, source=[State.OPENED, State.REPORTED, State.MANAGING, State.LOST],
                target=State.DELIVERED)
    def record_delivery(self, *, on, institution: Institution, mode: str, outcome: str) -> None:  # type: ignore[no-untyped-def]
        self.delivered_at, self.delivery_institution = on, institution
        self.delivery_mode, self.delivery_outcome = mode, outcome

    @transition(field=state, source=State.DELIVERED, target=State.POSTPARTUM)
    def start_postpartum(self) -> None:
        pass

    @transition(field=state, source=[State.REPORTED, State.MANAGING, State.POSTPARTUM], target=State.LOST)
    def mark_lost(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.lost_at = at

    @transition(field=state, source=State.LOST, target=State.MANAGING)
    def mark_found(self) -> None:
        pass

    @transition(field=state, source=[State.OPENED, State.REPORTED, State.MANAGING, State.DELIVERED,
                                     State.POSTPARTUM, State.LOST], target=State.CLOSED)
    def close(self, *, kind: str, reason: str, at) -> None:  # type: ignore[no-untyped-def]
        self.close_kind, self.close_reason, self.closed_at = kind, reason, at

    @transition(field=state, source=[State.OPENED, State.REPORTED, State.MANAGING, State.DELIVERED,
                                     State.POSTPARTUM, State.LOST], target=State.DIED)
    def record_death(self, *, at, note: str) -> None:  # type: ignore[no-untyped-def]
        self.died_at, self.death_note = at, note

    @transition(field=state, source=State.CLOSED, target=State.MANAGING)
    def reopen(self, *, reason: str, at) -> None:  # type: ignore[no-untyped-def]
        self.reopen_reason, self.reopened_at = reason, at
        self.closed_at, self.close_kind, self.close_reason = None, "", ""


class CasePlan(models.Model):
    """A plan of a high-risk case, written as a document: a new version is a new row."""

    class Kind(models.TextChoices):
        MANAGEMENT = "management", _("Management plan")
        TREATMENT = "treatment", _("Treatment plan")
        EMERGENCY = "emergency", _("Emergency plan")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(HighRiskCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="plans")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    text = narrative_field(_("plan"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
                               related_name="+")
    written_at = models.DateTimeField(_("written at"))
    rescue_centre = models.ForeignKey("organisations.RescueCentre", verbose_name=_("made with rescue centre"),
                                      null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                      help_text=_("For orange and red women the emergency plan is made with the "
                                                  "upper-level rescue centre."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["-written_at"]
        verbose_name = _("case plan")
        verbose_name_plural = _("case plans")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.written_at:%Y-%m-%d}"


class FollowUpVisit(ConcurrentTransitionMixin, models.Model):
    """A scheduled follow-up visit of a high-risk case; each one is a deadline."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        DONE = "done", _("Done")
        MISSED = "missed", _("Missed")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(HighRiskCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="visits")
    due_on = models.DateField(_("due on"), db_index=True)
    status = FSMField(_("status"), default=Status.SCHEDULED, choices=Status.choices, editable=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("seen by"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    findings = narrative_field(_("findings"), blank=True)
    assessment = models.ForeignKey(Assessment, verbose_name=_("re-assessment"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_on"]
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")

    def __str__(self) -> str:
        return f"{self.case} · {self.due_on:%Y-%m-%d}"

    @transition(field=status, source=[Status.SCHEDULED, Status.MISSED], target=Status.DONE)
    def complete(self, *, by, at, institution: Institution, findings: str) -> None:  # type: ignore[no-untyped-def]
        self.done_by, self.done_at, self.institution, self.findings = by, at, institution, findings

    @transition(field=status, source=Status.SCHEDULED, target=Status.MISSED)
    def miss(self) -> None:
        pass

    @transition(field=status, source=[Status.SCHEDULED, Status.MISSED], target=Status.CANCELLED)
    def cancel(self) -> None:
        pass


class Tracing(ConcurrentTransitionMixin, models.Model):
    """Tracing a woman who missed a visit (失访追踪): attempts until found, or marked lost."""

    class Status(models.TextChoices):
        OPEN = "open", _("Tracing")
        FOUND = "found", _("Found")
        LOST = "lost", _("Lost to follow-up")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(HighRiskCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="tracings")
    visit = models.ForeignKey(FollowUpVisit, verbose_name=_("missed visit"), on_delete=models.PROTECT,
                              related_name="+")
    opened_at = models.DateTimeField(_("opened at"))
    due_at = models.DateTimeField(_("find her by"), db_index=True)
    status = FSMField(_("status"), default=Status.OPEN, choices=Status.choices, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome = reason_field(_("outcome"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("tracing")
        verbose_name_plural = _("tracings")

    def __str__(self) -> str:
        return f"{self.case} · {self.get_status_display()}"

    @transition(field=status, source=Status.OPEN, target=Status.FOUND)
    def found(self, *, at, outcome: str) -> None:  # type: ignore[no-untyped-def]
        self.closed_at, self.outcome = at, outcome

    @transition(field=status, source=Status.OPEN, target=Status.LOST)
    def lost(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.closed_at = at


class TracingAttempt(models.Model):
    class Method(models.TextChoices):
        PHONE = "phone", _("Phone call")
        HOME_VISIT = "home_visit", _("Home visit")
        PRIMARY_CARE = "primary_care", _("Through primary care")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tracing = models.ForeignKey(Tracing, verbose_name=_("tracing"), on_delete=models.PROTECT, related_name="attempts")
    method = models.CharField(_("how"), max_length=14, choices=Method.choices)
    at = models.DateTimeField(_("when"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT,
                           related_name="+")
    reached = models.BooleanField(_("reached her"), default=False)
    note = reason_field(_("result"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["at"]
        verbose_name = _("tracing attempt")
        verbose_name_plural = _("tracing attempts")

    def __str__(self) -> str:
        return f"{self.get_method_display()} · {self.at:%Y-%m-%d %H:%M}"


class CaseTransfer(ConcurrentTransitionMixin, models.Model):
    """Moving a case to another institution (the woman moves, or is cared for elsewhere)."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Awaiting the receiving institution")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(HighRiskCase, verbose_name=_("case"), on_delete=models.PROTECT, related_name="transfers")
    from_institution = models.ForeignKey(Institution, verbose_name=_("from"), on_delete=models.PROTECT,
                                         related_name="+")
    to_institution = models.ForeignKey(Institution, verbose_name=_("to"), on_delete=models.PROTECT,
                                       related_name="+")
    reason = reason_field(_("reason"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"),
                                     on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"))
    status = FSMField(_("status"), default=Status.REQUESTED, choices=Status.choices, editable=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    new_responsible_doctor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("new responsible doctor"),
                                               null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reject_reason = reason_field(_("why rejected"), blank=True)
    cancel_reason = reason_field(_("why withdrawn"), blank=True)
    # The viewflow process whose open task says the receiving institution has to answer.
    process = models.OneToOneField("viewflow.Process", null=True, blank=True, editable=False,
                                   on_delete=models.SET_NULL, related_name="case_transfer")
    history = HistoricalRecords(excluded_fields=["process"])

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("case transfer")
        verbose_name_plural = _("case transfers")

    def __str__(self) -> str:
        return f"{self.case} → {self.to_institution}"

    @transition(field=status, source=Status.REQUESTED, target=Status.ACCEPTED)
    def accept(self, *, by, at, doctor) -> None:  # type: ignore[no-untyped-def]
        self.decided_by, self.decided_at, self.new_responsible_doctor = by, at, doctor

    @transition(field=status, source=Status.REQUESTED, target=Status.REJECTED)
    def reject(self, *, by, at, reason: str) -> None:  # type: ignore[no-untyped-def]
        self.decided_by, self.decided_at, self.reject_reason = by, at, reason

    @transition(field=status, source=Status.REQUESTED, target=Status.CANCELLED)
    def cancel(self, *, by, at, reason: str) -> None:  # type: ignore[no-untyped-def]
        self.decided_by, self.decided_at, self.cancel_reason = by, at, reason


# The referral-and-rescue records live in their own module; importing them here registers them.
from cases.referral_models import (  # noqa: E402,F401
    Consultation,
    EmergencyCaesarean,
    NearMiss,
    Referral,
    ReferralAttachment,
    Urgency,
)
