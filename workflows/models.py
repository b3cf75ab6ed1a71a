"""Deadlines and the working-day calendar: the one deadline mechanism of every process.

A deadline is a row (subject, kind, due time, state). One idempotent sweep fires due rows by calling
the handler registered for their kind; firing and cancelling are named transitions with history.
"""

from __future__ import annotations

import uuid

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords


class Deadline(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        FIRED = "fired", _("Fired")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=60, db_index=True)
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    subject_id = models.CharField(_("subject"), max_length=64, blank=True)
    due_at = models.DateTimeField(_("due"))
    state = FSMField(_("state"), default=State.PENDING, choices=State.choices, editable=False)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    fired_at = models.DateTimeField(_("fired at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("why cancelled"), max_length=200, blank=True)
    # A handler that failed is retried on a later sweep; the error is kept for the operator.
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    # SQLite has no row locks: a sweep claims a row with a conditional UPDATE of this token.
    claim = models.UUIDField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["claim", "retry_at"])

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        indexes = [
            models.Index(fields=["state", "due_at"], name="deadline_due_idx"),
            models.Index(fields=["subject_type", "subject_id", "kind"], name="deadline_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.due_at:%Y-%m-%d %H:%M}"

    @transition(field=state, source=State.PENDING, target=State.FIRED)
    def fire(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.fired_at = at
        self.last_error = ""

    @transition(field=state, source=State.PENDING, target=State.CANCELLED)
    def cancel(self, *, at, reason: str) -> None:  # type: ignore[no-untyped-def]
        self.cancelled_at = at
        self.cancel_reason = reason[:200]


class CalendarDay(models.Model):
    """An exception to the Monday–Friday week: an official holiday, or a weekend made a working day (调休)."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Official holiday")
        WORKDAY = "workday", _("Make-up working day (调休)")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(pgettext_lazy("name of a place or an organisation", "name"), max_length=60, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("holiday calendar")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}"
