"""Alerts: the table is the truth, the websocket only the fast path.

One raise creates one row per person (a role or "the duty doctor" is resolved to people when the alert
is raised); the rows of one raise share ``group``, and every escalation of it shares ``chain``. The
first person to acknowledge closes the whole chain for everyone and is named.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from organisations.models import Institution, Region, Role


class _SafeParams(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def choice_param(instance: models.Model, field: str) -> dict[str, str]:
    """An alert parameter that is a choice value (an outcome, a mode of transport): stored as the value and
    the field it belongs to, rendered through the field's label in the reader's language."""
    opts = instance._meta
    return {"choice": f"{opts.app_label}.{opts.object_name}.{field}", "value": str(getattr(instance, field))}


def _render_choice(param: dict[str, Any]) -> Any:
    from django.apps import apps

    try:
        app_label, model_name, field_name = str(param["choice"]).split(".")
        field = apps.get_model(app_label, model_name)._meta.get_field(field_name)
    except (LookupError, ValueError, KeyError):
        return param.get("value", "")
    labels = dict(getattr(field, "flatchoices", ()) or ())
    return str(labels.get(param.get("value"), param.get("value", "")))


def _render_param(value: Any) -> Any:
    if isinstance(value, dict) and "choice" in value:
        return _render_choice(value)
    # Parameters that are message ids themselves (a colour, an urgency) are translated too; names and
    # numbers pass through unchanged.
    return gettext(value) if isinstance(value, str) and value else value


def render_message(msgid: str, params: dict[str, Any]) -> str:
    """Translate a stored message id into the current language and fill in its parameters."""
    if not msgid:
        return ""
    text = gettext(msgid)
    translated = {key: _render_param(value) for key, value in params.items()}
    try:
        return text % _SafeParams(translated)
    except (TypeError, ValueError, KeyError):
        return text


class Alert(models.Model):
    class Priority(models.TextChoices):
        ROUTINE = "routine", _("Routine")
        URGENT = "urgent", _("Urgent")
        CRITICAL = "critical", _("Critical")

    class CloseReason(models.TextChoices):
        """Why an alert is no longer open: someone acknowledged it, someone took the step it asked for, or
        the record it is about reached a state where it no longer applies (closed automatically)."""
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        HANDLED = "handled", _("Dealt with")
        REFERRAL_ENDED = "referral_ended", _("The referral ended: closed automatically")
        REFERRAL_CANCELLED = "referral_cancelled", _("The referral was cancelled: closed automatically")
        REFERRAL_REDIRECTED = "referral_redirected", _("The referral went to another centre: closed automatically")
        WITHDRAWN = "withdrawn", _("Withdrawn: closed automatically")
        CASE_CLOSED = "case_closed", _("The case was closed: closed automatically")
        WOMAN_DIED = "woman_died", _("The woman died: closed automatically")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    group = models.UUIDField(_("raise"), db_index=True, editable=False)
    chain = models.UUIDField(_("escalation chain"), db_index=True, editable=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.PROTECT,
                                  related_name="alerts")
    kind = models.CharField(_("kind"), max_length=60)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.ROUTINE)
    # Message ids (English source text) and their parameters, rendered in the reader's language.
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    params = models.JSONField(default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    subject_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    subject_id = models.CharField(max_length=64, blank=True)
    # The institution in whose name the alert went out, and the role addressed, if any.
    institution = models.ForeignKey(Institution, verbose_name=_("institution"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    dedupe_key = models.CharField(max_length=120, blank=True, db_index=True)

    created_at = models.DateTimeField(_("raised at"), default=timezone.now, db_index=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    push_attempts = models.PositiveSmallIntegerField(default=0)
    # When a sweep last took this alert to re-push it (a claim: a second sweep leaves it alone).
    repush_claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"), null=True,
                                        blank=True, on_delete=models.PROTECT, related_name="+")
    closed_reason = models.CharField(_("closed because"), max_length=24, choices=CloseReason.choices, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    sms_sent_at = models.DateTimeField(_("SMS sent at"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["pushed_at", "push_attempts", "repush_claimed_at", "delivered_at",
                                                 "read_at"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        indexes = [
            models.Index(fields=["recipient", "acknowledged_at", "created_at"], name="alert_inbox_idx"),
            models.Index(fields=["delivered_at", "acknowledged_at", "created_at"], name="alert_undelivered_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_priority_display()}: {self.title_text}"

    @property
    def title_text(self) -> str:
        return render_message(self.title, self.params)

    @property
    def body_text(self) -> str:
        return render_message(self.body, self.params)

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def closed_text(self) -> str:
        """How the alert closed, in the reader's language: "Dealt with by X", "Acknowledged by X", or why it
        closed by itself (naming who ended the record, if someone did)."""
        if self.acknowledged_at is None:
            return ""
        name = str(self.acknowledged_by) if self.acknowledged_by_id else ""
        reason = self.closed_reason or self.CloseReason.ACKNOWLEDGED
        if reason == self.CloseReason.HANDLED:
            return gettext("Dealt with by %(name)s") % {"name": name} if name else gettext("Dealt with")
        if reason == self.CloseReason.ACKNOWLEDGED:
            return gettext("Acknowledged by %(name)s") % {"name": name} if name else gettext("Acknowledged")
        text = str(self.get_closed_reason_display())
        return gettext("%(reason)s (%(name)s)") % {"reason": text, "name": name} if name else text

    def as_message(self) -> dict[str, Any]:
        """The JSON the websocket and the API send for this alert (see README, "Alert messages")."""
        return {
            "id": str(self.id),
            "group": str(self.group),
            "kind": self.kind,
            "priority": self.priority,
            "title": self.title_text,
            "body": self.body_text,
            "link": self.link,
            "created_at": self.created_at.isoformat(),
            "escalation_level": self.escalation_level,
            "delivered": self.delivered_at is not None,
            "read": self.read_at is not None,
            "acknowledged_at": self.acknowledged_at.isoformat() if self.acknowledged_at else None,
            "acknowledged_by": str(self.acknowledged_by) if self.acknowledged_by_id else None,
            "closed_reason": self.closed_reason or None,
            "closed": self.closed_text or None,
        }


class AlertPolicy(models.Model):
    """How long a critical alert of a kind may stay unacknowledged, and who is next.

    A province's row overrides the national one (no province); ``kind`` ``*`` covers every kind
    without a row of its own. Steps name recipient resolvers (see notifications/recipients.py).
    """

    WILDCARD = "*"

    province = models.ForeignKey(Region, verbose_name=_("province"), null=True, blank=True, on_delete=models.PROTECT,
                                 limit_choices_to={"level": Region.Level.PROVINCE}, related_name="+",
                                 help_text=_("Empty: the national default."))
    kind = models.CharField(_("alert kind"), max_length=60, default=WILDCARD)
    ack_minutes = models.PositiveIntegerField(_("minutes to acknowledge"), default=5)
    chain = models.JSONField(_("escalation chain"), default=list,
                             help_text=_('Steps in order, e.g. ["on_call", "mch_officer", "bureau_officer"].'))
    sms_after_escalation = models.BooleanField(_("SMS when still unacknowledged after escalation"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("alert escalation policy")
        verbose_name_plural = _("alert escalation policies")
        constraints = [
            models.UniqueConstraint(fields=["province", "kind"], name="alert_policy_unique"),
            models.UniqueConstraint(fields=["kind"], condition=models.Q(province__isnull=True),
                                    name="alert_policy_unique_national"),
        ]

    def __str__(self) -> str:
        return f"{self.province or gettext('national')} · {self.kind} · {self.ack_minutes} min"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from notifications.recipients import STEP_RESOLVERS

        if not isinstance(self.chain, list) or not all(isinstance(step, str) for step in self.chain):
            raise ValidationError({"chain": _("The chain is a list of step names.")})
        from notifications.kinds import KINDS

        declared = KINDS.get(self.kind)
        if self.kind != self.WILDCARD and (declared is None or not declared.actionable):
            raise ValidationError({"kind": _("Only alerts that ask for a step escalate: choose one of those "
                                             "kinds, or * for all.")})
        unknown = [step for step in self.chain if step not in STEP_RESOLVERS]
        if unknown:
            raise ValidationError({"chain": _("Unknown steps: %(steps)s") % {"steps": ", ".join(unknown)}})
