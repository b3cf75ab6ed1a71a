"""Women and their pregnancies, and the institutions that found a woman by her document number."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from cases.identity import id_birth_date, normalise_id_number, validate_resident_id
from cases.models.colour import Colour
from cases.models.plausibility import birth_date_errors, pregnancy_errors
from cases.models.rules import province_settings
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
    external_id = models.CharField(_("external id"), max_length=64, blank=True,
                                   help_text=_("The id another system gives this record; unique where given."))
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
    # Set on every save: what the API's sync (``updated_since``, the cursor) reads.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
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
            models.UniqueConstraint(fields=["external_id"], condition=~Q(external_id=""),
                                    name="woman_unique_external_id"),
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
    external_id = models.CharField(_("external id"), max_length=64, blank=True,
                                   help_text=_("The id another system gives this record; unique where given."))
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
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-booking_date"]
        verbose_name = _("pregnancy")
        verbose_name_plural = _("pregnancies")
        indexes = [models.Index(fields=["booking_institution", "booking_date"])]
        constraints = [models.UniqueConstraint(fields=["external_id"], condition=~Q(external_id=""),
                                               name="pregnancy_unique_external_id")]

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

        errors: dict[str, list] = {}
        if self.parity is not None and self.gravidity is not None and self.parity >= self.gravidity:
            errors["parity"] = [_("Parity counts earlier births, so it is below gravidity.")]
        province = self.booking_institution.region.province_id if self.booking_institution_id else None
        rules = province_settings(province_code=province, on=self.booking_date)
        errors.update(pregnancy_errors(self, settings=rules, today=dt.date.today()))  # noqa: DTZ011
        if errors:
            raise ValidationError(errors)



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
