"""Process 1, risk screening and assessment (妊娠风险筛查与评估): screenings, assessments, the referral of a
screened woman for assessment, and the evaluation of whether a pregnancy should continue."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from cases.limits import narrative_field, reason_field
from cases.models.colour import Colour
from cases.models.people import Pregnancy
from cases.models.rules import RuleSet
from organisations.models import Institution


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
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
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
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
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
