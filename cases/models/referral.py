"""Critical-case referral and rescue (危急重症转诊救治): referrals to rescue centres, consultations (会诊),
the near-miss register (危重孕产妇) and emergency-caesarean decision-to-delivery intervals (DDI).

Re-exported by ``cases.models`` so Django registers these models with the ``cases`` app.
States change only through the named transitions below, run by ``workflows/referral/services.py``.
"""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from simple_history.models import HistoricalRecords

from cases.limits import narrative_field, reason_field
from cases.models.colour import Colour
from cases.models.highrisk import HighRiskCase
from cases.models.people import Pregnancy
from organisations.models import Institution, RescueCentre


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    URGENT = "urgent", _("Urgent")
    PLANNED = "planned", _("Planned")


URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.PLANNED: 2}


class Referral(ConcurrentTransitionMixin, models.Model):
    """A woman in danger sent to a rescue centre (危重孕产妇转诊).

    requested → accepted → departed → arrived → in treatment → outcome → closed (feedback given);
    requested → declined (the sender redirects) or redirected (a new referral to another centre);
    cancelled with a reason only before she arrives (requested, accepted, declined, en route): once she
    is at the centre the referral ends with its outcome and feedback, never a cancellation.
    """

    class State(models.TextChoices):
        REQUESTED = "requested", _("Awaiting the centre's answer")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        REDIRECTED = "redirected", _("Redirected")
        DEPARTED = "departed", _("En route")
        ARRIVED = "arrived", _("Arrived")
        IN_TREATMENT = "in_treatment", _("In treatment")
        OUTCOME = "outcome", _("Outcome recorded")
        CLOSED = "closed", _("Feedback given")
        CANCELLED = "cancelled", _("Cancelled")

    class Transport(models.TextChoices):
        AMBULANCE = "ambulance", _("120 ambulance")
        CENTRE_TEAM = "centre_team", _("The centre's own team")
        SELF = "self", _("Own transport")

    class Outcome(models.TextChoices):
        DISCHARGED = "discharged", _("Recovered and discharged")
        TRANSFERRED = "transferred", _("Transferred on")
        DIED = "died", _("Died")

    class Consciousness(models.TextChoices):
        ALERT = "alert", pgettext_lazy("AVPU consciousness level", "Alert")  # 清醒, not 提醒 (an alert message)
        VOICE = "voice", _("Responds to voice")
        PAIN = "pain", _("Responds to pain")
        UNRESPONSIVE = "unresponsive", _("Unresponsive")

    OPEN_STATES = (State.REQUESTED, State.ACCEPTED, State.DECLINED, State.DEPARTED, State.ARRIVED,
                   State.IN_TREATMENT, State.OUTCOME)
    # Where the woman is still on her way to or inside the centre: the command board's rows.
    BOARD_STATES = (State.REQUESTED, State.ACCEPTED, State.DEPARTED, State.ARRIVED, State.IN_TREATMENT)
    # Before arrival: the only states a referral may be cancelled from.
    CANCELLABLE_STATES = (State.REQUESTED, State.ACCEPTED, State.DECLINED, State.DEPARTED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pregnancy = models.ForeignKey(Pregnancy, verbose_name=_("pregnancy"), on_delete=models.PROTECT,
                                  related_name="referrals")
    case = models.ForeignKey(HighRiskCase, verbose_name=_("high-risk case"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="referrals")
    from_institution = models.ForeignKey(Institution, verbose_name=_("sending institution"), on_delete=models.PROTECT,
                                         related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("sending doctor"),
                                     on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"), db_index=True)
    to_centre = models.ForeignKey(RescueCentre, verbose_name=_("rescue centre"), on_delete=models.PROTECT,
                                  related_name="referrals")
    off_suggestion_reason = reason_field(
        _("why not the suggested centre"), blank=True,
        help_text=_("Required when the chosen centre is not the first one suggested for the sending institution."))
    redirected_from = models.OneToOneField("self", verbose_name=_("redirected from"), null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="redirected_to")
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    reason = reason_field(_("reason for referral"))
    diagnosis = reason_field(_("diagnosis"))
    colour = models.CharField(_("risk colour"), max_length=8, choices=Colour.choices, blank=True)
    purple = models.BooleanField(_("purple"), default=False)
    # Vital signs at request.
    systolic_bp = models.PositiveSmallIntegerField(_("systolic BP (mmHg)"), null=True, blank=True,
                                                   validators=[MinValueValidator(30), MaxValueValidator(300)])
    diastolic_bp = models.PositiveSmallIntegerField(_("diastolic BP (mmHg)"), null=True, blank=True,
                                                    validators=[MinValueValidator(10), MaxValueValidator(200)])
    pulse = models.PositiveSmallIntegerField(_("pulse (/min)"), null=True, blank=True,
                                             validators=[MinValueValidator(10), MaxValueValidator(250)])
    respiratory_rate = models.PositiveSmallIntegerField(_("respiratory rate (/min)"), null=True, blank=True,
                                                        validators=[MinValueValidator(2), MaxValueValidator(80)])
    spo2 = models.PositiveSmallIntegerField(_("SpO₂ (%)"), null=True, blank=True,
                                            validators=[MinValueValidator(30), MaxValueValidator(100)])
    temperature = models.DecimalField(_("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True,
                                      validators=[MinValueValidator(30), MaxValueValidator(45)])
    consciousness = models.CharField(_("consciousness"), max_length=12, choices=Consciousness.choices, blank=True)
    state = FSMField(_("state"), default=State.REQUESTED, choices=State.choices, editable=False)
    response_due_at = models.DateTimeField(_("answer due"))
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_to = models.ForeignKey(RescueCentre, verbose_name=_("escalated to"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="escalated_referrals",
                                     help_text=_("The next-level centre told when this centre did not answer in time."))
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("answered by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    receiving_team = models.CharField(_("receiving team"), max_length=200, blank=True)
    expected_arrival_at = models.DateTimeField(_("expected arrival"), null=True, blank=True)
    decline_reason = reason_field(_("why declined"), blank=True)
    redirect_reason = reason_field(_("why redirected"), blank=True)
    transport = models.CharField(_("transport"), max_length=12, choices=Transport.choices, blank=True)
    escort = models.CharField(_("escort"), max_length=200, blank=True)
    departed_at = models.DateTimeField(_("departed at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    treatment_started_at = models.DateTimeField(_("treatment started at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_at = models.DateTimeField(_("outcome at"), null=True, blank=True)
    outcome_note = narrative_field(_("outcome note"), blank=True)
    transferred_to = models.ForeignKey(Institution, verbose_name=_("transferred on to"), null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")
    feedback_due_at = models.DateTimeField(_("feedback due"), null=True, blank=True)
    feedback_summary = narrative_field(_("feedback summary"), blank=True)
    feedback_advice = narrative_field(_("advice to the sending institution"), blank=True)
    feedback_at = models.DateTimeField(_("feedback given at"), null=True, blank=True)
    cancel_reason = reason_field(_("why cancelled"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)
    process = models.OneToOneField("viewflow.Process", null=True, blank=True, editable=False,
                                   on_delete=models.SET_NULL, related_name="referral")
    history = HistoricalRecords(excluded_fields=["process"])

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [models.Index(fields=["to_centre", "state"]), models.Index(fields=["from_institution", "state"])]

    def __str__(self) -> str:
        return f"{self.pregnancy.woman} → {self.to_centre.institution.name}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    def clean(self) -> None:
        if self.systolic_bp is not None and self.diastolic_bp is not None and self.diastolic_bp >= self.systolic_bp:
            raise ValidationError({"diastolic_bp": _("The diastolic pressure must be below the systolic pressure: "
                                                     "check both readings.")})

    @property
    def shows_diagnosis_on_shared_screens(self) -> bool:
        """Purple (infectious disease) shows as a colour only on boards and lists."""
        return not (self.purple or self.colour == Colour.PURPLE)

    @transition(field=state, source=State.REQUESTED, target=State.ACCEPTED)
    def accept(self, *, by, at, team: str, expected_arrival_at, centre: RescueCentre) -> None:  # type: ignore[no-untyped-def]
        self.answered_by, self.answered_at = by, at
        self.receiving_team, self.expected_arrival_at, self.to_centre = team, expected_arrival_at, centre

    @transition(field=state, source=State.REQUESTED, target=State.DECLINED)
    def decline(self, *, by, at, reason: str) -> None:  # type: ignore[no-untyped-def]
        self.answered_by, self.answered_at, self.decline_reason = by, at, reason

    @transition(field=state, source=[State.REQUESTED, State.DECLINED], target=State.REDIRECTED)
    def redirect(self, *, by, at, reason: str) -> None:  # type: ignore[no-untyped-def]
        self.redirect_reason, self.closed_at = reason, at
        if self.answered_by_id is None:
            self.answered_by, self.answered_at = by, at

    @transition(field=state, source=State.ACCEPTED, target=State.DEPARTED)
    def depart(self, *, at, transport: str, escort: str) -> None:  # type: ignore[no-untyped-def]
        self.departed_at, self.transport, self.escort = at, transport, escort

    @transition(field=state, source=[State.ACCEPTED, State.DEPARTED], target=State.ARRIVED)
    def arrive(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.arrived_at = at

    @transition(field=state, source=State.ARRIVED, target=State.IN_TREATMENT)
    def start_treatment(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.treatment_started_at = at

    @transition(field=state, source=State.IN_TREATMENT, target=State.OUTCOME)
    def record_outcome(self, *, at, outcome: str, note: str, transferred_to, feedback_due_at) -> None:  # type: ignore[no-untyped-def]
        self.outcome, self.outcome_at, self.outcome_note = outcome, at, note
        self.transferred_to, self.feedback_due_at = transferred_to, feedback_due_at

    @transition(field=state, source=State.OUTCOME, target=State.CLOSED)
    def give_feedback(self, *, at, summary: str, advice: str) -> None:  # type: ignore[no-untyped-def]
        self.feedback_at, self.feedback_summary, self.feedback_advice, self.closed_at = at, summary, advice, at

    def has_not_arrived(self) -> bool:
        """The condition of ``cancel``: no arrival recorded (an arrival cannot be undone by cancelling)."""
        return self.arrived_at is None

    @transition(field=state, source=list(CANCELLABLE_STATES), target=State.CANCELLED,
                conditions=[has_not_arrived])  # type: ignore[list-item]
    def cancel(self, *, at, reason: str) -> None:  # type: ignore[no-untyped-def]
        self.cancel_reason, self.closed_at = reason, at


ATTACHMENT_TYPES = {
    ".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
    ".webp": "image/webp", ".txt": "text/plain",
}
# File signatures: the first bytes must match the declared extension.
ATTACHMENT_MAGIC = {
    ".pdf": (b"%PDF",), ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",), ".png": (b"\x89PNG\r\n\x1a\n",),
    ".webp": (b"RIFF",), ".txt": (),
}


def validate_attachment(upload) -> None:  # type: ignore[no-untyped-def]
    """Notes and images only (PDF, JPEG, PNG, WebP, plain text), within the size limit."""
    suffix = PurePosixPath(upload.name or "").suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        raise ValidationError(_("Attach a PDF, JPEG, PNG, WebP or text file."), code="type")
    limit = settings.REFERRAL_ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(_("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024)}, code="size")
    head = upload.read(16)
    upload.seek(0)
    magic = ATTACHMENT_MAGIC[suffix]
    if magic and not any(head.startswith(m) for m in magic):
        raise ValidationError(_("The file's content does not match its type."), code="content")
    if suffix == ".txt":
        try:
            upload.read(limit).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(_("A text note must be UTF-8 text."), code="content") from exc
        finally:
            upload.seek(0)


def _attachment_path(instance: ReferralAttachment, filename: str) -> str:
    # Never the uploaded name on disk: it may carry the woman's name.
    return f"referrals/{instance.referral_id}/{uuid.uuid4().hex}{PurePosixPath(filename).suffix.lower()}"


class StoredFile(models.Model):
    """What every uploaded document of a process keeps (its subclass adds its record, ``file`` with its own
    ``upload_to`` and ``history``): served only through a scoped view, never as a public file."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=60)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        abstract = True
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def content_type_of(cls, filename: str) -> str:
        return ATTACHMENT_TYPES[PurePosixPath(filename).suffix.lower()]


class ReferralAttachment(StoredFile):
    """A note or image sent with a referral."""

    referral = models.ForeignKey(Referral, verbose_name=_("referral"), on_delete=models.PROTECT,
                                 related_name="attachments")
    file = models.FileField(_("file"), upload_to=_attachment_path, validators=[validate_attachment])
    history = HistoricalRecords()

    class Meta(StoredFile.Meta):
        verbose_name = _("referral attachment")
        verbose_name_plural = _("referral attachments")


class Consultation(ConcurrentTransitionMixin, models.Model):
    """A consultation request (会诊): remote or on-site, to a rescue centre or a named expert, answered
    under a response deadline with the same alerts and escalation as a referral."""

    class Mode(models.TextChoices):
        REMOTE = "remote", _("Remote")
        ONSITE = "onsite", _("On site")

    class State(models.TextChoices):
        REQUESTED = "requested", _("Awaiting an answer")
        ANSWERED = "answered", _("Answered")
        CANCELLED = "cancelled", _("Cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pregnancy = models.ForeignKey(Pregnancy, verbose_name=_("pregnancy"), on_delete=models.PROTECT,
                                  related_name="consultations")
    case = models.ForeignKey(HighRiskCase, verbose_name=_("high-risk case"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="consultations")
    referral = models.ForeignKey(Referral, verbose_name=_("referral"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="consultations")
    from_institution = models.ForeignKey(Institution, verbose_name=_("requesting institution"),
                                         on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"),
                                     on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"))
    to_centre = models.ForeignKey(RescueCentre, verbose_name=_("rescue centre"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="consultations")
    to_expert = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("named expert"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="consultations_asked")
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    question = narrative_field(_("question"))
    state = FSMField(_("state"), default=State.REQUESTED, choices=State.choices, editable=False)
    response_due_at = models.DateTimeField(_("answer due"))
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("answered by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer = narrative_field(_("answer"), blank=True)
    onsite_eta = models.DateTimeField(_("expected on site"), null=True, blank=True)
    cancel_reason = reason_field(_("why cancelled"), blank=True)
    process = models.OneToOneField("viewflow.Process", null=True, blank=True, editable=False,
                                   on_delete=models.SET_NULL, related_name="consultation")
    history = HistoricalRecords(excluded_fields=["process"])

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        constraints = [models.CheckConstraint(
            condition=models.Q(to_centre__isnull=False) | models.Q(to_expert__isnull=False),
            name="consultation_has_addressee")]

    def __str__(self) -> str:
        return f"{self.pregnancy.woman} · {self.get_mode_display()}"

    @transition(field=state, source=State.REQUESTED, target=State.ANSWERED)
    def record_answer(self, *, by, at, answer: str, onsite_eta) -> None:  # type: ignore[no-untyped-def]
        self.answered_by, self.answered_at, self.answer, self.onsite_eta = by, at, answer, onsite_eta

    @transition(field=state, source=State.REQUESTED, target=State.CANCELLED)
    def cancel(self, *, reason: str) -> None:
        self.cancel_reason = reason


class NearMiss(models.Model):
    """The WHO maternal near-miss checklist filled for a woman (on a referral or a case). Any criterion
    met marks her pregnancy as a near miss (危重孕产妇); the record is never edited, a correction is a
    new record."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pregnancy = models.ForeignKey(Pregnancy, verbose_name=_("pregnancy"), on_delete=models.PROTECT,
                                  related_name="near_miss_checks")
    referral = models.ForeignKey(Referral, verbose_name=_("referral"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="near_miss_checks")
    case = models.ForeignKey(HighRiskCase, verbose_name=_("high-risk case"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="near_miss_checks")
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="+")
    criteria = models.JSONField(_("criteria met"), default=list, blank=True)
    note = reason_field(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("near-miss check")
        verbose_name_plural = _("near-miss checks")

    def __str__(self) -> str:
        return f"{self.pregnancy.woman} · {len(self.criteria)}"

    @property
    def is_near_miss(self) -> bool:
        return bool(self.criteria)


class EmergencyCaesarean(models.Model):
    """An emergency caesarean's decision and delivery times; the decision-to-delivery interval (DDI) is
    computed and flagged when above the province's target (30 minutes by default)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    pregnancy = models.ForeignKey(Pregnancy, verbose_name=_("pregnancy"), on_delete=models.PROTECT,
                                  related_name="emergency_caesareans")
    referral = models.ForeignKey(Referral, verbose_name=_("referral"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="emergency_caesareans")
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="+")
    decision_at = models.DateTimeField(_("decision to operate"))
    delivery_at = models.DateTimeField(_("delivery of the baby"))
    ddi_minutes = models.PositiveIntegerField(_("DDI (minutes)"), editable=False)
    target_minutes = models.PositiveSmallIntegerField(_("DDI target (minutes)"), editable=False)
    over_target = models.BooleanField(_("above target"), editable=False, db_index=True)
    note = reason_field(_("note"), blank=True, help_text=_("What delayed the delivery, when above target."))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT,
                                    related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["-decision_at"]
        verbose_name = _("emergency caesarean")
        verbose_name_plural = _("emergency caesareans")

    def __str__(self) -> str:
        return f"{self.pregnancy.woman} · DDI {self.ddi_minutes} min"
