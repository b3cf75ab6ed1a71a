"""Interviews and circulars (约谈通报): a bureau summons institutions or lower bureaus, they rectify, the bureau
verifies; circulars commend or criticise.

Re-exported by ``cases.models`` so Django registers these models with the ``cases`` app. States change only
through the named transitions below, run by ``workflows/interview/services``. Every timestamp is a real
column: the annual evaluation counts interviews held, rectifications passed and circulars from them.
"""

from __future__ import annotations

# --- Circulars (通报) -------------------------------------------------------------------------------------
#
#     drafted → awaiting approval (submitted by an officer of the issuing bureau) → published (approved by
#     ANOTHER officer of the same bureau: approving publishes; four eyes) ; awaiting approval → drafted
#     (returned with a reason) ; published → withdrawn (with a reason; kept, never deleted).
import uuid  # noqa: E402
from typing import Any  # noqa: E402

from django.conf import settings  # noqa: E402
from django.db import models  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402
from django.utils.translation import pgettext_lazy  # noqa: E402
from django_fsm import ConcurrentTransitionMixin, FSMField, transition  # noqa: E402
from simple_history.models import HistoricalRecords  # noqa: E402

from cases.limits import narrative_field, reason_field  # noqa: E402
from organisations.models import Institution, Region  # noqa: E402


class Circular(ConcurrentTransitionMixin, models.Model):
    """A circular (通报) of a health bureau: a commendation, a criticism or information, to a distribution."""

    class Kind(models.TextChoices):
        COMMEND = "commend", _("Commendation (通报表扬)")
        CRITICISE = "criticise", _("Criticism (通报批评)")
        INFORM = "inform", _("Information (情况通报)")

    class State(models.TextChoices):
        DRAFTED = "drafted", _("Draft")
        AWAITING = "awaiting_approval", _("Awaiting approval")
        PUBLISHED = "published", _("Published")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Distribution(models.TextChoices):
        AREA = "area", _("Every institution and lower bureau of the area")
        NAMED = "named", _("Named institutions")
        LOWER_BUREAUS = "lower_bureaus", _("Lower bureaus")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    number = models.CharField(_("number (文号)"), max_length=60,
                              help_text=_("As on the paper, e.g. 闽卫妇幼通〔2026〕3号; unique for the bureau."))
    body = narrative_field(_("text"))
    issuer = models.ForeignKey(Institution, verbose_name=_("issuing bureau"), on_delete=models.PROTECT,
                               related_name="circulars_issued", editable=False)
    region = models.ForeignKey(Region, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+",
                               editable=False)
    period_from = models.DateField(_("period from"), null=True, blank=True)
    period_to = models.DateField(_("period to"), null=True, blank=True)
    distribution = models.CharField(_("distribution"), max_length=14, choices=Distribution.choices,
                                    default=Distribution.AREA)
    named_recipients = models.ManyToManyField(Institution, verbose_name=_("named institutions"), blank=True,
                                              related_name="+")
    state = FSMField(_("state"), default=State.DRAFTED, choices=State.choices, editable=False)
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("drafted by"), on_delete=models.PROTECT,
                                   related_name="+", editable=False)
    drafted_at = models.DateTimeField(_("drafted at"), editable=False)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+", editable=False)
    return_reason = reason_field(_("why returned"), blank=True, editable=False)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+", editable=False)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False, db_index=True)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("withdrawn by"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+", editable=False)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True, editable=False)
    withdraw_reason = reason_field(_("why withdrawn"), blank=True, editable=False)
    history = HistoricalRecords(m2m_fields=[named_recipients])

    class Meta:
        ordering = ["-drafted_at"]
        verbose_name = _("circular")
        verbose_name_plural = _("circulars")
        constraints = [models.UniqueConstraint(fields=["issuer", "number"], name="circular_number_unique_per_bureau")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @transition(field=state, source=State.DRAFTED, target=State.AWAITING)
    def submit(self, *, by: Any, at: Any) -> None:
        self.submitted_by, self.submitted_at, self.return_reason = by, at, ""

    @transition(field=state, source=State.AWAITING, target=State.DRAFTED)
    def return_to_draft(self, *, reason: str) -> None:
        self.return_reason = reason

    @transition(field=state, source=State.AWAITING, target=State.PUBLISHED)
    def approve(self, *, by: Any, at: Any) -> None:
        """Approving publishes: the second officer's approval is the publication."""
        self.approved_by, self.approved_at, self.published_at = by, at, at

    @transition(field=state, source=State.PUBLISHED, target=State.WITHDRAWN)
    def withdraw(self, *, by: Any, at: Any, reason: str) -> None:
        self.withdrawn_by, self.withdrawn_at, self.withdraw_reason = by, at, reason


class CircularSubject(models.Model):
    """Whom a circular is about: an institution or an area, why, and the records that show it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    circular = models.ForeignKey(Circular, verbose_name=_("circular"), on_delete=models.CASCADE,
                                 related_name="subjects")
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    reason = reason_field(_("reason"))
    evidence = reason_field(_("evidence (links to Anmu records, one a line)"), blank=True)
    requires_answer = models.BooleanField(_("a rectification report is required"), default=False)
    answer_due_on = models.DateField(_("rectification report due"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["circular", "pk"]
        verbose_name = _("subject of a circular")
        verbose_name_plural = _("subjects of circulars")
        constraints = [models.CheckConstraint(
            condition=models.Q(institution__isnull=False, region__isnull=True)
            | models.Q(institution__isnull=True, region__isnull=False), name="circular_subject_one_of")]

    def __str__(self) -> str:
        return str(self.institution or self.region)

    @property
    def name(self) -> str:
        return self.institution.name if self.institution_id else self.region.name  # type: ignore[union-attr]

    def evidence_links(self) -> list[str]:
        return [line.strip() for line in (self.evidence or "").splitlines() if line.strip()]


class CircularRecipient(models.Model):
    """One institution a published circular went to, and its read receipt (the first member who opened it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    circular = models.ForeignKey(Circular, verbose_name=_("circular"), on_delete=models.CASCADE,
                                 related_name="recipients")
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="circulars_received")
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    read_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("read by"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["circular", "institution__region_id", "institution__name"]
        verbose_name = _("recipient of a circular")
        verbose_name_plural = _("recipients of circulars")
        constraints = [models.UniqueConstraint(fields=["circular", "institution"], name="circular_recipient_unique")]

    def __str__(self) -> str:
        return f"{self.circular.number} → {self.institution.name}"


class CircularRanking(models.Model):
    """A frozen ranking table (指标晾晒) attached to a circular: computed once, stored, never recomputed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    circular = models.ForeignKey(Circular, verbose_name=_("circular"), on_delete=models.CASCADE,
                                 related_name="rankings")
    figure = models.CharField(_("figure"), max_length=40)
    label = models.CharField(_("figure label"), max_length=120)
    period_from = models.DateField(_("period from"))
    period_to = models.DateField(_("period to"))
    frozen_at = models.DateTimeField(_("frozen at"))
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("frozen by"), on_delete=models.PROTECT,
                                  related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["circular", "frozen_at"]
        verbose_name = _("ranking of a circular")
        verbose_name_plural = _("rankings of circulars")

    def __str__(self) -> str:
        return f"{self.label} {self.period_from:%Y-%m-%d}–{self.period_to:%Y-%m-%d}"


class CircularRankingRow(models.Model):
    """One frozen line of a ranking: the subject's name as it was, and the value as it was."""

    ranking = models.ForeignKey(CircularRanking, verbose_name=_("ranking"), on_delete=models.CASCADE,
                                related_name="rows")
    rank = models.PositiveSmallIntegerField(_("rank"))
    region = models.ForeignKey(Region, verbose_name=_("area"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    name = models.CharField(pgettext_lazy("name of a place or an organisation", "name"), max_length=120)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2)
    history = HistoricalRecords()

    class Meta:
        ordering = ["ranking", "rank", "name"]
        verbose_name = _("ranking row")
        verbose_name_plural = _("ranking rows")

    def __str__(self) -> str:
        return f"{self.rank}. {self.name} {self.value}"
