"""Routine records of every pregnancy: antenatal and postpartum visits and the delivery with its babies.

They are what the population indicators count (早孕建册率, 系统管理率, 住院分娩率, MMR's live births), so
every pregnancy has them, not only the high-risk ones; a high-risk case's delivery is this same record.
``external_id`` is the id another system (an MCH platform, an importer's file) gives the record; it is
unique where given, so an import run twice finds the row it made the first time.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from cases.limits import narrative_field
from cases.models.people import Pregnancy
from organisations.models import Institution, Region


def external_id_field() -> models.CharField:
    return models.CharField(_("external id"), max_length=64, blank=True,
                            help_text=_("The id another system gives this record; unique where given."))


class Visit(models.Model):
    """One antenatal or postpartum contact (产前检查, 产后访视, 产后42天检查)."""

    class Kind(models.TextChoices):
        ANTENATAL = "antenatal", _("Antenatal visit")
        POSTPARTUM = "postpartum", _("Postpartum visit")
        POSTPARTUM_42D = "postpartum_42d", _("42-day postpartum check")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    external_id = external_id_field()
    pregnancy = models.ForeignKey(Pregnancy, verbose_name=_("pregnancy"), on_delete=models.PROTECT,
                                  related_name="visits")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    date = models.DateField(_("visit date"))
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="+")
    note = narrative_field(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["pregnancy_id", "date"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.UniqueConstraint(fields=["external_id"], condition=~Q(external_id=""),
                                    name="visit_unique_external_id"),
        ]
        indexes = [models.Index(fields=["pregnancy", "kind", "date"]),
                   models.Index(fields=["institution", "date"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.date:%Y-%m-%d}"


class Delivery(models.Model):
    """The end of a pregnancy by birth (分娩): one per pregnancy; it closes the antenatal part."""

    class Place(models.TextChoices):
        INSTITUTION = "institution", _("At an institution")
        HOME = "home", _("At home")
        EN_ROUTE = "en_route", _("On the way")
        OTHER = "other", _("Elsewhere")

    class Mode(models.TextChoices):
        SPONTANEOUS = "spontaneous", _("Spontaneous vaginal")
        ASSISTED_VAGINAL = "assisted_vaginal", _("Assisted vaginal")
        CAESAREAN = "caesarean", _("Caesarean section")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    external_id = external_id_field()
    pregnancy = models.OneToOneField(Pregnancy, verbose_name=_("pregnancy"), on_delete=models.PROTECT,
                                     related_name="delivery")
    delivered_at = models.DateTimeField(_("delivered at"))
    # The China-time date of delivered_at, kept beside it: every population figure counts by this day.
    delivered_on = models.DateField(_("delivery date"), editable=False)
    place = models.CharField(_("place of delivery"), max_length=12, choices=Place.choices)
    institution = models.ForeignKey(Institution, verbose_name=_("delivery institution"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(_("delivery mode"), max_length=16, choices=Mode.choices)
    caesarean_indication = models.CharField(_("indication for the caesarean"), max_length=200, blank=True)
    gestational_weeks = models.PositiveSmallIntegerField(_("gestational age (weeks)"), null=True, blank=True)
    gestational_days = models.PositiveSmallIntegerField(_("gestational age (days)"), null=True, blank=True)
    # Counts of the babies; kept equal to the Baby rows when those are recorded (an import gives counts only).
    live_births = models.PositiveSmallIntegerField(_("live births"))
    stillbirths = models.PositiveSmallIntegerField(_("stillbirths"), default=0)
    outcome = narrative_field(_("outcome for mother and baby"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    # Derived, never entered: what the population indicators ask of this delivery, computed from the visits,
    # the pregnancy, its assessments and case, and the woman by cases/summaries.py (which keeps them current).
    antenatal_visits_before = models.PositiveSmallIntegerField(_("antenatal visits before the delivery"),
                                                               default=0, editable=False)
    postpartum_visit_within_28d = models.BooleanField(_("postpartum visit within 28 days"), default=False,
                                                      editable=False)
    booked_early = models.BooleanField(_("booked before 13 weeks"), default=False, editable=False)
    high_risk_before = models.BooleanField(_("graded high risk before the delivery"), default=False,
                                           editable=False)
    case_opened_before = models.BooleanField(_("high-risk case opened before the delivery"), default=False,
                                             editable=False)
    residence_region = models.ForeignKey(Region, verbose_name=_("residence"), null=True, blank=True,
                                         editable=False, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords(excluded_fields=["antenatal_visits_before", "postpartum_visit_within_28d",
                                                 "booked_early", "high_risk_before", "case_opened_before",
                                                 "residence_region"])

    class Meta:
        ordering = ["-delivered_at"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["external_id"], condition=~Q(external_id=""),
                                    name="delivery_unique_external_id"),
            models.CheckConstraint(
                condition=(Q(place="institution", institution__isnull=False)
                           | (~Q(place="institution") & Q(institution__isnull=True))),
                name="delivery_institution_matches_place"),
            models.CheckConstraint(condition=Q(live_births__gte=0) & Q(stillbirths__gte=0)
                                   & (Q(live_births__gt=0) | Q(stillbirths__gt=0)),
                                   name="delivery_has_a_baby"),
        ]
        indexes = [models.Index(fields=["delivered_on"]), models.Index(fields=["institution", "delivered_on"]),
                   models.Index(fields=["residence_region", "delivered_on"])]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} · {self.delivered_on:%Y-%m-%d}"


class Baby(models.Model):
    """One baby of a delivery (twins are two rows)."""

    class Outcome(models.TextChoices):
        LIVE = "live", _("Live birth")
        STILLBORN = "stillborn", _("Stillbirth")

    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        UNDETERMINED = "undetermined", _("Undetermined")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    delivery = models.ForeignKey(Delivery, verbose_name=_("delivery"), on_delete=models.CASCADE,
                                 related_name="babies")
    order = models.PositiveSmallIntegerField(_("birth order"), default=1)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    sex = models.CharField(_("sex"), max_length=12, choices=Sex.choices)
    weight_g = models.PositiveSmallIntegerField(_("birth weight (g)"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["delivery_id", "order"]
        verbose_name = _("baby")
        verbose_name_plural = _("babies")
        constraints = [models.UniqueConstraint(fields=["delivery", "order"], name="baby_unique_order")]

    def __str__(self) -> str:
        return f"{self.order} · {self.get_outcome_display()}"
