"""Interviews and circulars (约谈通报): a bureau summons institutions or lower bureaus, they rectify, the bureau
verifies; circulars commend or criticise.

Re-exported by ``cases.models`` so Django registers these models with the ``cases`` app. States change only
through the named transitions below, run by ``workflows/interview/services``. Every timestamp is a real
column: the annual evaluation counts interviews held, rectifications passed and circulars from them.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from cases.limits import narrative_field, reason_field
from cases.models.referral import StoredFile, validate_attachment
from organisations.models import Institution, Region


class Interview(ConcurrentTransitionMixin, models.Model):
    """An interview (约谈) convened by a health bureau: proposed (by an officer, or by Anmu from a province's
    trigger rule, with its evidence) → accepted or dismissed → the notice issued (约谈通知书) → held (minutes) →
    closed once every summoned party's rectification is verified (or escalated).

        proposed → notified → held → closed
            └→ dismissed
    """

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        NOTIFIED = "notified", _("Notice issued")
        HELD = "held", _("Held: rectification under way")
        CLOSED = "closed", _("Closed")
        DISMISSED = "dismissed", _("Dismissed")

    class Origin(models.TextChoices):
        OFFICER = "officer", _("Proposed by an officer")
        RULE = "rule", _("Proposed by Anmu from a trigger rule")
        ESCALATION = "escalation", _("Follow-up of a failed rectification")
        CIRCULAR = "circular", _("Answer to a circular of criticism")
        EVALUATION = "evaluation", _("Rectification after a failed evaluation")

    OPEN_STATES = (State.PROPOSED, State.NOTIFIED, State.HELD)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    bureau = models.ForeignKey(Institution, verbose_name=_("convening bureau"), on_delete=models.PROTECT,
                               related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("area"), on_delete=models.PROTECT, related_name="+",
                               help_text=_("The convening bureau's region: who sees the interview."))
    state = FSMField(_("state"), default=State.PROPOSED, choices=State.choices, editable=False, db_index=True)
    origin = models.CharField(_("origin"), max_length=12, choices=Origin.choices, editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    reasons = narrative_field(_("reasons"))
    # The evidence: links to the records that motivate it ([{"kind", "id", "label", "url"}]), frozen when proposed.
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    trigger_key = models.CharField(_("trigger"), max_length=100, blank=True, editable=False, db_index=True)
    # A criticised party's required answer (通报批评 → 整改报告): the same rectification steps, no meeting.
    circular = models.ForeignKey("cases.Circular", verbose_name=_("circular"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="answers", editable=False)
    report_due_on = models.DateField(_("rectification report due"), null=True, blank=True, editable=False)
    escalated_from = models.ForeignKey("self", verbose_name=_("follow-up of"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="follow_ups", editable=False)
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    dismissed_at = models.DateTimeField(_("dismissed at"), null=True, blank=True)
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("dismissed by"), null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="+")
    dismiss_reason = reason_field(_("why dismissed"), blank=True)
    # The notice (约谈通知书).
    number = models.CharField(_("notice number (文号)"), max_length=60, blank=True)
    scheduled_at = models.DateTimeField(_("date and time"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=120, blank=True)
    notified_at = models.DateTimeField(_("notice issued at"), null=True, blank=True, db_index=True)
    notified_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("notice issued by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    # The minutes (约谈记录).
    held_at = models.DateTimeField(_("held at"), null=True, blank=True, db_index=True)
    attendance = narrative_field(_("attendance"), blank=True)
    expert_advice = narrative_field(_("experts' advice"), blank=True)
    requirements = narrative_field(_("the bureau's requirements"), blank=True)
    minutes_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("minutes recorded by"), null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    process = models.OneToOneField("viewflow.Process", null=True, blank=True, editable=False,
                                   on_delete=models.SET_NULL, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-proposed_at"]
        verbose_name = _("interview")
        verbose_name_plural = _("interviews")
        constraints = [models.UniqueConstraint(fields=["bureau", "number"], condition=~models.Q(number=""),
                                               name="interview_number_unique_per_bureau")]

    def __str__(self) -> str:
        return self.number or self.subject

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @transition(field=state, source=State.PROPOSED, target=State.DISMISSED)
    def dismiss(self, *, by: Any, at: Any, reason: str) -> None:
        self.dismissed_at, self.dismissed_by, self.dismiss_reason = at, by, reason

    @transition(field=state, source=State.PROPOSED, target=State.NOTIFIED)
    def notify(self, *, by: Any, at: Any, number: str, scheduled_at: Any, place: str) -> None:
        self.number, self.scheduled_at, self.place = number, scheduled_at, place
        self.notified_at, self.notified_by = at, by

    @transition(field=state, source=State.PROPOSED, target=State.HELD)
    def answer_circular(self, *, by: Any, at: Any, requirements: str) -> None:
        """A circular's required answer: rectification starts at once, without a notice or a meeting."""
        self.held_at, self.minutes_by, self.requirements = at, by, requirements

    @transition(field=state, source=State.NOTIFIED, target=State.HELD)
    def hold(self, *, by: Any, at: Any, attendance: str, expert_advice: str, requirements: str) -> None:
        self.held_at, self.minutes_by = at, by
        self.attendance, self.expert_advice, self.requirements = attendance, expert_advice, requirements

    @transition(field=state, source=State.HELD, target=State.CLOSED)
    def close(self, *, at: Any) -> None:
        self.closed_at = at


class Summoned(models.TextChoices):
    """Who of a summoned party must attend (被约谈人)."""

    HEAD = "head", _("Head (legal representative)")
    DEPUTY = "deputy", _("Deputy head in charge")
    MCH_HEAD = "mch_head", _("Head of maternal and child health")
    OBSTETRICS_HEAD = "obstetrics_head", _("Head of obstetrics")


class InterviewParty(ConcurrentTransitionMixin, models.Model):
    """One summoned party of an interview (an institution or a lower bureau) and its rectification (整改):

        summoned → acknowledged → (interview held) plan due → plan submitted → plan accepted (or returned, due
        again) → report submitted → passed, or failed → escalated

    Each party moves on its own, so a collective interview shows every party's progress side by side.
    """

    class State(models.TextChoices):
        SUMMONED = "summoned", _("Notice sent")
        ACKNOWLEDGED = "acknowledged", _("Notice acknowledged")
        PLAN_DUE = "plan_due", _("Rectification plan due")
        PLAN_SUBMITTED = "plan_submitted", _("Plan submitted: awaiting the bureau")
        PLAN_ACCEPTED = "plan_accepted", _("Plan accepted: rectification report due")
        REPORT_SUBMITTED = "report_submitted", _("Report submitted: awaiting verification")
        PASSED = "passed", _("Rectification verified")
        FAILED = "failed", _("Rectification failed: escalated")

    class Method(models.TextChoices):
        DOCUMENTS = "documents", _("Documents")
        ONSITE = "onsite", _("On-site check")

    DONE_STATES = (State.PASSED, State.FAILED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    interview = models.ForeignKey(Interview, verbose_name=_("interview"), on_delete=models.PROTECT,
                                  related_name="parties")
    institution = models.ForeignKey(Institution, verbose_name=_("summoned party"), on_delete=models.PROTECT,
                                    related_name="interview_parties")
    summoned = models.JSONField(_("who must attend"), default=list)
    reasons = narrative_field(_("reasons for this party"), blank=True)
    state = FSMField(_("state"), default=State.SUMMONED, choices=State.choices, editable=False, db_index=True)
    acknowledge_due_at = models.DateTimeField(_("acknowledgement due"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"), null=True,
                                        blank=True, on_delete=models.PROTECT, related_name="+")
    statement = narrative_field(_("the party's statement"), blank=True)
    plan = narrative_field(_("rectification plan"), blank=True)
    plan_due_at = models.DateTimeField(_("plan due"), null=True, blank=True)
    plan_submitted_at = models.DateTimeField(_("plan submitted at"), null=True, blank=True)
    plan_submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("plan submitted by"), null=True,
                                          blank=True, on_delete=models.PROTECT, related_name="+")
    plan_return_reason = reason_field(_("why the plan was returned"), blank=True)
    plan_accepted_at = models.DateTimeField(_("plan accepted at"), null=True, blank=True)
    plan_accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("plan accepted by"), null=True,
                                         blank=True, on_delete=models.PROTECT, related_name="+")
    report = narrative_field(_("rectification report"), blank=True)
    report_due_at = models.DateTimeField(_("report due"), null=True, blank=True)
    report_submitted_at = models.DateTimeField(_("report submitted at"), null=True, blank=True)
    report_submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("report submitted by"),
                                            null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(_("verification"), max_length=10, choices=Method.choices, blank=True)
    findings = narrative_field(_("verification findings"), blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True, db_index=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("verified by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    escalation = narrative_field(_("escalation"), blank=True,
                                 help_text=_("What follows a failed rectification: a follow-up interview by the "
                                             "next level up, or supervision under a listed deadline (挂牌督办)."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["interview", "institution__name"]
        verbose_name = _("summoned party")
        verbose_name_plural = _("summoned parties")
        constraints = [models.UniqueConstraint(fields=["interview", "institution"],
                                               name="interview_party_once")]

    def __str__(self) -> str:
        return f"{self.interview} · {self.institution}"

    @property
    def is_done(self) -> bool:
        return self.state in self.DONE_STATES

    @property
    def summoned_labels(self) -> list[str]:
        return [str(Summoned(v).label) for v in self.summoned if v in Summoned.values]

    @transition(field=state, source=State.SUMMONED, target=State.ACKNOWLEDGED)
    def acknowledge(self, *, by: Any, at: Any) -> None:
        self.acknowledged_at, self.acknowledged_by = at, by

    @transition(field=state, source=[State.SUMMONED, State.ACKNOWLEDGED], target=State.PLAN_DUE)
    def require_plan(self, *, statement: str, due: Any) -> None:
        self.statement, self.plan_due_at = statement, due

    @transition(field=state, source=State.PLAN_DUE, target=State.PLAN_SUBMITTED)
    def submit_plan(self, *, by: Any, at: Any, plan: str) -> None:
        self.plan, self.plan_submitted_at, self.plan_submitted_by = plan, at, by

    @transition(field=state, source=State.PLAN_SUBMITTED, target=State.PLAN_DUE)
    def return_plan(self, *, reason: str, due: Any) -> None:
        self.plan_return_reason, self.plan_due_at = reason, due

    @transition(field=state, source=State.PLAN_SUBMITTED, target=State.PLAN_ACCEPTED)
    def accept_plan(self, *, by: Any, at: Any, report_due: Any) -> None:
        self.plan_accepted_at, self.plan_accepted_by, self.report_due_at = at, by, report_due

    @transition(field=state, source=State.PLAN_ACCEPTED, target=State.REPORT_SUBMITTED)
    def submit_report(self, *, by: Any, at: Any, report: str) -> None:
        self.report, self.report_submitted_at, self.report_submitted_by = report, at, by

    @transition(field=state, source=State.REPORT_SUBMITTED, target=State.PASSED)
    def pass_verification(self, *, by: Any, at: Any, how: str, findings: str) -> None:
        # ``how``, not ``method``: django-fsm passes the transition itself as ``method``.
        self.method, self.findings, self.verified_at, self.verified_by = how, findings, at, by

    @transition(field=state, source=State.REPORT_SUBMITTED, target=State.FAILED)
    def fail_verification(self, *, by: Any, at: Any, how: str, findings: str, escalation: str) -> None:
        self.method, self.findings, self.verified_at, self.verified_by = how, findings, at, by
        self.escalation = escalation


def _party_attachment_path(instance: InterviewAttachment, filename: str) -> str:
    return f"interviews/{instance.party_id}/{uuid.uuid4().hex}{PurePosixPath(filename).suffix.lower()}"


class InterviewAttachment(StoredFile):
    """Evidence of a party's rectification (整改佐证材料)."""

    party = models.ForeignKey(InterviewParty, verbose_name=_("summoned party"), on_delete=models.PROTECT,
                              related_name="attachments")
    file = models.FileField(_("file"), upload_to=_party_attachment_path, validators=[validate_attachment])
    history = HistoricalRecords()

    class Meta(StoredFile.Meta):
        verbose_name = _("rectification evidence")
        verbose_name_plural = _("rectification evidence")


class InterviewTrigger(models.Model):
    """A province's rule for Anmu to propose an interview (约谈触发规则), held as data: what is counted, the
    threshold, the period, and who is summoned. The sweep evaluates the active rules once a day; a proposal
    is made once per rule, party and period."""

    class Kind(models.TextChoices):
        AVOIDABLE_DEATH = "avoidable_death", _("A maternal death concluded avoidable at any level")
        LATE_DEATH_REPORT = "late_death_report", _("A maternal death report past its legal clock")
        LATE_REFERRAL_ANSWERS = "late_referral_answers", _("Referral answers past their deadline")
        OVERDUE_MEASURES = "overdue_measures", _("Improvement measures overdue")
        INDICATOR_OFF_TARGET = "indicator_off_target", _("An indicator past its province target")

    class Party(models.TextChoices):
        INSTITUTION = "institution", _("The institution concerned")
        COUNTY_BUREAU = "county_bureau", _("The county bureau of the institution concerned")

    class Convener(models.TextChoices):
        COUNTY = "county", _("The county bureau")
        CITY = "city", _("The city bureau")
        PROVINCE = "province", _("The provincial bureau")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    province = models.ForeignKey(Region, verbose_name=_("province"), on_delete=models.PROTECT, related_name="+",
                                 limit_choices_to={"level": Region.Level.PROVINCE})
    kind = models.CharField(_("what is counted"), max_length=24, choices=Kind.choices)
    threshold = models.PositiveSmallIntegerField(_("threshold"), default=1,
                                                 help_text=_("Propose when the count in the period reaches this."))
    period_days = models.PositiveSmallIntegerField(_("period (days)"), default=90)
    party = models.CharField(_("who is summoned"), max_length=16, choices=Party.choices, default=Party.INSTITUTION)
    convener = models.CharField(_("who convenes"), max_length=10, choices=Convener.choices, default=Convener.COUNTY)
    summoned = models.JSONField(_("who must attend"), default=list, blank=True)
    # For an indicator rule: the indicator's code (indicators.Indicator); the threshold is then the smallest
    # denominator (e.g. live births) for which the figure is judged, so a handful of births is no evidence.
    indicator = models.CharField(_("indicator"), max_length=40, blank=True,
                                 help_text=_("For a rule on an indicator: which one. The threshold is then the "
                                             "smallest denominator (e.g. live births) for which it is judged."))
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["province", "kind"]
        verbose_name = _("interview trigger rule")
        verbose_name_plural = _("interview trigger rules")

    def __str__(self) -> str:
        if self.kind == self.Kind.INDICATOR_OFF_TARGET:
            return f"{self.get_kind_display()}: {self.indicator} / {self.period_days}"
        return f"{self.get_kind_display()} ≥ {self.threshold} / {self.period_days}"

    def clean(self) -> None:
        if self.kind == self.Kind.INDICATOR_OFF_TARGET:
            known = {code for hook in TRIGGER_INDICATOR_CHOICES for code, _label in hook()}
            if not self.indicator:
                raise ValidationError({"indicator": _("Choose the indicator this rule watches.")})
            if known and self.indicator not in known:
                raise ValidationError({"indicator": _("No indicator has this code.")})
        elif self.indicator:
            raise ValidationError({"indicator": _("Only a rule on an indicator names one.")})


# The indicators a trigger rule may watch, as (code, name) pairs: the indicators live above ``cases``, so the
# workflows register the lookup here (workflows/apps.py) rather than ``cases`` importing them.
TRIGGER_INDICATOR_CHOICES: list[Any] = []


# --- Circulars (通报) -------------------------------------------------------------------------------------
#
#     drafted → awaiting approval (submitted by an officer of the issuing bureau) → published (approved by
#     ANOTHER officer of the same bureau: approving publishes; four eyes) ; awaiting approval → drafted
#     (returned with a reason) ; published → withdrawn (with a reason; kept, never deleted).




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
