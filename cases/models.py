"""Domain records: women and their pregnancies (the screening, case and referral records follow)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.identity import id_birth_date, normalise_id_number, validate_resident_id
from organisations.models import Institution, Region
from organisations.personal import mask_id_number, mask_phone, normalise_phone, validate_phone

PREGNANCY_DAYS = 280


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
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("woman")
        verbose_name_plural = _("women")
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
        if errors:
            raise ValidationError(errors)


class Pregnancy(models.Model):
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

    def clean(self) -> None:
        if self.parity is not None and self.gravidity is not None and self.parity >= self.gravidity:
            raise ValidationError({"parity": _("Parity counts earlier births, so it is below gravidity.")})
        if self.lmp and self.booking_date and self.lmp > self.booking_date:
            raise ValidationError({"lmp": _("The last menstrual period cannot be after the booking date.")})


class Colour(models.TextChoices):
    GREEN = "green", _("Green (low risk)")
    YELLOW = "yellow", _("Yellow (general risk)")
    ORANGE = "orange", _("Orange (higher risk)")
    RED = "red", _("Red (high risk)")
    PURPLE = "purple", _("Purple (infectious disease)")


SEVERITY = {Colour.GREEN: 0, Colour.YELLOW: 1, Colour.ORANGE: 2, Colour.RED: 3}


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
    name = models.CharField(_("name"), max_length=120)
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
