"""Raising, acknowledging and escalating alerts. Every process raises its alerts through ``alert_raise``.

``alert_raise`` writes the rows inside the caller's transaction (so a rolled-back transition leaves no
alert) and pushes them to the websocket only after commit. Redis being down never turns a committed
transition into an error: the push is best effort and the sweep re-pushes what was not delivered.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from notifications import kinds, push
from notifications.kinds import KINDS, kind_for, kinds_resolved_by, stale_kinds_excluded
from notifications.models import Alert, AlertPolicy
from notifications.recipients import STEP_RESOLVERS, Target, resolve, to_step
from organisations.http import ActionDenied
from organisations.models import Institution, RescueCentre
from workflows.deadlines import deadline_create, deadline_handler

logger = logging.getLogger(__name__)

ESCALATE = "alert.escalate"
# Escalation steps whose people oversee rather than act: what they receive says so and what they can do.
OVERSIGHT_STEPS = frozenset({"mch_officer", "bureau_officer"})
OVERSIGHT_BODY = gettext_noop(
    "For oversight: nobody at %(escalated_from)s acknowledged this alert within %(ack_minutes)s minutes. "
    "You cannot take the step yourself: phone %(escalated_from)s (%(phone)s) and make sure someone deals "
    "with it now. The record shows its progress; this alert closes by itself once it is dealt with.")
DEFAULT_POLICY = AlertPolicy(kind=AlertPolicy.WILDCARD, ack_minutes=5,
                             chain=["on_call", "mch_officer", "bureau_officer"], sms_after_escalation=True)


def policy_for(*, kind: str, institution: Institution | None) -> AlertPolicy:
    """The province's policy for this kind, else its wildcard, else the national ones."""
    province = institution.region.province_id if institution is not None else None
    candidates = AlertPolicy.objects.filter(
        Q(province_id=province) | Q(province__isnull=True), kind__in=[kind, AlertPolicy.WILDCARD]
    )
    best = sorted(candidates, key=lambda p: (p.province_id is None, p.kind == AlertPolicy.WILDCARD))
    return best[0] if best else DEFAULT_POLICY


def alert_raise(
    *,
    kind: str,
    title: str,
    to: Iterable[Target],
    body: str = "",
    params: dict[str, Any] | None = None,
    priority: str = Alert.Priority.ROUTINE,
    subject: models.Model | None = None,
    link: str = "",
    institution: Institution | None = None,
    chain: uuid.UUID | None = None,
    escalation_level: int = 0,
    dedupe_key: str = "",
    now: dt.datetime | None = None,
) -> list[Alert]:
    """Create one alert row per person the targets resolve to, in the current transaction.

    ``title`` and ``body`` are message ids (mark them with ``gettext_noop``); ``params`` fill them in
    the reader's language (a choice value goes in as ``choice_param``, never pre-translated). A critical
    alert gets an escalation deadline from its policy. An open alert with the same ``dedupe_key`` is
    not raised twice.

    Refused with ValueError: a kind not declared in notifications/kinds.py, a priority the kind does not
    allow, an escalation of an informational kind.
    """
    declared = kind_for(kind)
    if priority not in declared.priorities:
        raise ValueError(f"{kind}: priority {priority!r} is not one of {sorted(declared.priorities)}")
    if not declared.actionable and (escalation_level or chain is not None):
        raise ValueError(f"{kind}: an informational alert never escalates")
    now = now or timezone.now()
    targets = list(to)
    institution = institution or next((t.institution for t in targets if t.institution is not None), None)
    with transaction.atomic():
        if dedupe_key:
            existing = list(Alert.objects.filter(dedupe_key=dedupe_key, acknowledged_at__isnull=True))
            if existing:
                return existing
        resolution = resolve(targets, now)
        users = resolution.users
        if not users and institution is not None:
            # Never lose an alert: with nobody to receive it, it goes to the MCH officer, else the bureau.
            users = STEP_RESOLVERS["mch_officer"](institution, now) or STEP_RESOLVERS["bureau_officer"](
                institution, now)
        if not users:
            logger.error("alert %s has no recipient (institution %s)", kind, getattr(institution, "pk", None))
            return []
        group = uuid.uuid4()
        subject_type = ContentType.objects.get_for_model(subject) if subject is not None else None
        alerts = [
            Alert(
                group=group, chain=chain or group, recipient=user, kind=kind, priority=priority, title=title,
                body=body, params=params or {}, link=link, subject_type=subject_type,
                subject_id=str(subject.pk) if subject is not None else "",
                institution=institution, region=institution.region if institution is not None else None,
                role=next((t.role for t in targets if t.role), ""),
                escalation_level=escalation_level, dedupe_key=dedupe_key, created_at=now,
            )
            for user in users
        ]
        for alert in alerts:
            alert._change_reason = kind  # type: ignore[attr-defined]
            alert.save()
        if priority == Alert.Priority.CRITICAL:
            policy = policy_for(kind=kind, institution=institution)
            deadline_create(kind=ESCALATE, subject=alerts[0], due_at=now + dt.timedelta(minutes=policy.ack_minutes),
                            payload={"group": str(group), "chain": str(chain or group)},
                            reason="critical alert must be acknowledged")
        ids = [a.pk for a in alerts]
        transaction.on_commit(lambda: push.push_alerts(ids), robust=True)
        for gap in resolution.roster_gaps:
            roster_gap_raise(institution=gap, now=now)
    return alerts


def roster_gap_raise(*, institution: Institution, now: dt.datetime) -> list[Alert]:
    """Nobody on duty at ``institution``: a critical alert to its MCH officer, once per open gap."""
    return alert_raise(
        kind="roster.gap",
        title=gettext_noop("Nobody is on duty at %(institution)s"),
        body=gettext_noop("Alerts to the duty doctor went to the deputy or to every duty doctor instead. "
                "Put someone on the duty roster now."),
        params={"institution": institution.name},
        priority=Alert.Priority.CRITICAL,
        to=[to_step("mch_officer", institution)],
        institution=institution,
        subject=institution,
        dedupe_key=f"roster-gap:{institution.pk}",
        now=now,
    )


def roster_gap_resolve(*, institution: Institution, by: Any) -> int:
    """Someone is on duty at ``institution`` now: its "nobody on duty" alert is dealt with, naming ``by``."""
    return alerts_resolve(subject=institution, step=kinds.ROSTER_COVERED, by=by)


def alert_acknowledge(*, alert_id: Any, by: Any) -> Alert:
    """Acknowledge an alert addressed to ``by``; this closes every alert of its escalation chain for
    everyone, names ``by`` on all of them and cancels the pending escalation. Idempotent: if someone
    already acknowledged it, that acknowledgement is returned."""
    from workflows.deadlines import deadline_cancel
    from workflows.models import Deadline

    with transaction.atomic():
        try:
            alert = Alert.objects.select_for_update().get(pk=alert_id)
        except (Alert.DoesNotExist, ValueError, TypeError, ValidationError):
            raise ActionDenied(_("This alert is not addressed to you.")) from None
        if alert.recipient_id != by.pk:
            raise ActionDenied(_("This alert is not addressed to you."))
        rows = list(Alert.objects.select_for_update().filter(chain=alert.chain).order_by("created_at", "pk"))
        closed = next((row for row in rows if row.acknowledged_at is not None), None)
        if closed is not None:
            return Alert.objects.select_related("acknowledged_by").get(pk=alert.pk)
        now = timezone.now()
        for row in rows:
            row.acknowledged_at = now
            row.acknowledged_by = by
            row.closed_reason = Alert.CloseReason.ACKNOWLEDGED
            row._history_user = by  # type: ignore[attr-defined]
            row._change_reason = "acknowledged"  # type: ignore[attr-defined]
            row.save(update_fields=["acknowledged_at", "acknowledged_by", "closed_reason"])
        for deadline in Deadline.objects.filter(kind=ESCALATE, state=Deadline.State.PENDING,
                                                payload__chain=str(alert.chain)):
            deadline_cancel(deadline=deadline, by=by, reason="alert acknowledged")
        ids = [row.pk for row in rows]
        transaction.on_commit(lambda: push.push_closed(ids), robust=True)
    return Alert.objects.select_related("acknowledged_by").get(pk=alert.pk)


def alerts_close_for(*, subject: models.Model, kinds: Iterable[str], by: Any) -> int:
    """Close the open alerts of ``kinds`` about ``subject`` because ``by`` has dealt with the matter
    (e.g. a referral was answered): every recipient sees who did, escalations stop."""
    return _close(Alert.objects.filter(_about(subject), kind__in=list(kinds)), by=by,
                  reason=Alert.CloseReason.HANDLED, history="dealt with")


def alerts_resolve(*, subject: models.Model, step: str, by: Any) -> int:
    """``by`` has taken ``step`` (see notifications/kinds.py): the open alerts about ``subject`` that this
    step resolves close for everyone, naming ``by``."""
    return alerts_close_for(subject=subject, kinds=kinds_resolved_by(step), by=by)


def alerts_close_stale(*, subjects: Iterable[models.Model], reason: str, by: Any = None) -> int:
    """The records ``subjects`` reached a state where their alerts no longer apply (the referral ended,
    the case closed, the woman died): every open alert about them closes with ``reason`` (an
    ``Alert.CloseReason``), naming ``by`` if a person ended the record. Death alerts outlive their record."""
    if reason not in Alert.CloseReason.values or reason in (Alert.CloseReason.ACKNOWLEDGED,
                                                            Alert.CloseReason.HANDLED):
        raise ValueError(reason)
    about = Q(pk__in=[])
    for subject in subjects:
        about |= _about(subject)
    return _close(Alert.objects.filter(about).exclude(kind__in=stale_kinds_excluded()), by=by, reason=reason,
                  history=f"closed: {reason}")


def _about(subject: models.Model) -> Q:
    return Q(subject_type=ContentType.objects.get_for_model(subject), subject_id=str(subject.pk))


def _close(alerts: models.QuerySet[Alert], *, by: Any, reason: str, history: str) -> int:
    from workflows.deadlines import deadline_cancel
    from workflows.models import Deadline

    rows = list(alerts.select_for_update().filter(acknowledged_at__isnull=True))
    if not rows:
        return 0
    now = timezone.now()
    for row in rows:
        row.acknowledged_at, row.acknowledged_by, row.closed_reason = now, by, reason
        row._history_user = by  # type: ignore[attr-defined]
        row._change_reason = history  # type: ignore[attr-defined]
        row.save(update_fields=["acknowledged_at", "acknowledged_by", "closed_reason"])
    chains = {str(row.chain) for row in rows}
    for deadline in Deadline.objects.filter(kind=ESCALATE, state=Deadline.State.PENDING, payload__chain__in=chains):
        deadline_cancel(deadline=deadline, by=by, reason=history)
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: push.push_closed(ids), robust=True)
    return len(rows)


def alerts_mark(*, user: Any, ids: Iterable[Any], field: str) -> int:
    """Delivery bookkeeping (``delivered_at`` on the browser's receipt, ``read_at`` when opened)."""
    if field not in ("delivered_at", "read_at"):
        raise ValueError(field)
    clean: list[uuid.UUID] = []
    for value in ids:
        try:
            clean.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    if not clean:
        return 0
    return Alert.objects.filter(recipient=user, pk__in=clean, **{f"{field}__isnull": True}).update(
        **{field: timezone.now()}
    )


@deadline_handler(ESCALATE)
def alert_escalate(deadline: Any) -> None:
    """A critical alert was not acknowledged in time: raise it to the next step of its policy's chain,
    and send SMS to people who already failed to acknowledge an escalated alert."""
    group = deadline.payload.get("group")
    # Lock only the alert rows: FOR UPDATE cannot reach the nullable side of the joined institution.
    rows = list(Alert.objects.select_for_update(of=("self",)).filter(group=group).select_related(
        "institution__region"))
    if not rows or Alert.objects.filter(chain=rows[0].chain, acknowledged_at__isnull=False).exists():
        return
    first = rows[0]
    declared = KINDS.get(first.kind)
    if declared is not None and not declared.actionable:
        return  # informational alerts never escalate (an older critical row of a kind now informational)
    now = timezone.now()
    for row in rows:
        row.escalated_at = now
        row._change_reason = "not acknowledged in time: escalated"  # type: ignore[attr-defined]
        row.save(update_fields=["escalated_at"])
    policy = policy_for(kind=first.kind, institution=first.institution)
    if policy.sms_after_escalation and first.escalation_level >= 1:
        push.sms_for_alerts([row.pk for row in rows])
    already = set(Alert.objects.filter(chain=first.chain).values_list("recipient_id", flat=True))
    if first.institution is None:
        return
    for index in range(first.escalation_level, len(policy.chain)):
        step = policy.chain[index]
        resolver = STEP_RESOLVERS.get(step)
        if resolver is None:
            continue
        users = [u for u in resolver(first.institution, now) if u.pk not in already]
        if users:
            from notifications.recipients import to_user

            body, params = first.body, first.params
            if step in OVERSIGHT_STEPS:
                body = OVERSIGHT_BODY
                params = {**params, "escalated_from": first.institution.name, "ack_minutes": policy.ack_minutes,
                          "phone": _phone_of(first.institution)}
            alert_raise(
                kind=first.kind, title=first.title, body=body, params=params,
                priority=Alert.Priority.CRITICAL, to=[to_user(u) for u in users], link=first.link,
                subject=_subject_of(first), institution=first.institution, chain=first.chain,
                escalation_level=index + 1, now=now,
            )
            return
    # The chain is exhausted and nobody acknowledged: text everyone who was alerted.
    if policy.sms_after_escalation and first.escalation_level == 0:
        push.sms_for_alerts([row.pk for row in rows])


def _phone_of(institution: Institution) -> str:
    """The number to ring about an alert: the rescue centre's duty phone, else the switchboard."""
    centre = RescueCentre.objects.filter(institution=institution).only("duty_phone").first()
    return (centre.duty_phone if centre is not None else "") or institution.phone or "—"


def _subject_of(alert: Alert) -> models.Model | None:
    if alert.subject_type is None:
        return None
    model = alert.subject_type.model_class()
    if model is None:
        return None
    return model._default_manager.filter(pk=alert.subject_id).first()


def _repush_backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(20 * 2 ** min(attempts, 5), 600))


def alerts_repush_undelivered(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Push again what no browser has confirmed, backing off per alert; returns how many were pushed.

    The alerts are claimed first (``repush_claimed_at``, in a transaction that skips rows another sweep
    has locked; SQLite runs one writing transaction at a time), so two sweeps at once re-push each alert
    once. The backoff counts from the last successful push or the last claim, whichever is later."""
    now = now or timezone.now()
    recent = now - _repush_backoff(0)
    candidates = Alert.objects.filter(
        delivered_at__isnull=True, acknowledged_at__isnull=True, created_at__gte=now - dt.timedelta(days=1),
    ).filter(Q(pushed_at__isnull=True) | Q(pushed_at__lte=recent)).filter(
        Q(repush_claimed_at__isnull=True) | Q(repush_claimed_at__lte=recent)).order_by("created_at")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        due = []
        for alert in candidates.only("pk", "pushed_at", "push_attempts", "repush_claimed_at")[:limit]:
            last = max((t for t in (alert.pushed_at, alert.repush_claimed_at) if t is not None), default=None)
            if last is None or last <= now - _repush_backoff(alert.push_attempts):
                due.append(alert.pk)
        if due:
            Alert.objects.filter(pk__in=due).update(repush_claimed_at=now)
    if due:
        push.push_alerts(due, probe=True)  # off the request path: it may wait out a hung Redis
    return len(due)


def roster_gaps_check(*, now: dt.datetime | None = None) -> int:
    """Every active rescue centre has someone on duty now; each one that does not is reported once."""
    from organisations.models import DutyShift

    now = now or timezone.now()
    covered = DutyShift.objects.filter(kind=DutyShift.Kind.DUTY, starts_at__lte=now, ends_at__gt=now).values(
        "institution_id"
    )
    raised = 0
    for centre in RescueCentre.objects.filter(is_active=True, institution__is_active=True).exclude(
        institution_id__in=covered
    ).select_related("institution__region"):
        if roster_gap_raise(institution=centre.institution, now=now):
            raised += 1
    return raised
