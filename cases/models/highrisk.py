"""Process 2, high-risk case management (高危孕产妇专案管理): the case, its plan, visits, tracing, transfers."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from cases.limits import narrative_field, reason_field
from cases.models.colour import Colour, danger_rank_expression
from cases.models.people import Pregnancy
from cases.models.screening import Assessment
from organisations.models import Institution, Region


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

    OPEN_STATES = (State.OPENED, State.REPORTED, State.MANAGING, State.DELIVERED, State.POSTPARTUM, State.LOST)
    # The states a recorded delivery moves the case on from (to delivered).
    DELIVERABLE_STATES = (State.OPENED, State.REPORTED, State.MANAGING, State.LOST)

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
    # The delivery itself is the pregnancy's one Delivery record (cases/models/routine.py), not a copy here.
    lost_at = models.DateTimeField(_("marked lost at"), null=True, blank=True)
    died_at = models.DateTimeField(_("died at"), null=True, blank=True)
    death_note = narrative_field(_("death: place and circumstances"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    close_kind = models.CharField(_("closed because"), max_length=12, choices=CloseKind.choices, blank=True)
    close_reason = reason_field(_("closing reason"), blank=True)
    reopened_at = models.DateTimeField(_("reopened at"), null=True, blank=True)
    reopen_reason = reason_field(_("why reopened"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("high-risk case")
        verbose_name_plural = _("high-risk cases")
        indexes = [
            models.Index(fields=["region", "state", "colour"], name="case_register_idx"),
            models.Index(fields=["responsible_doctor", "state"], name="case_doctor_idx"),
            models.Index(fields=["institution", "state"], name="case_institution_idx"),
            # The danger order (see workflows.highrisk.views.danger_ordered): a county's register, and a
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

    @transition(field=state, source=list(DELIVERABLE_STATES), target=State.DELIVERED)
    def record_delivery(self) -> None:
        """The pregnancy's Delivery was recorded (workflows/routine): the case moves on."""

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
