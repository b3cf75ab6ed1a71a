"""Scoped reads of alerts: a person sees the alerts addressed to them, and nothing else."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from notifications.models import Alert


def visible_alerts(user: Any) -> QuerySet[Alert]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Alert.objects.none()
    return Alert.objects.filter(recipient=user)


def alert_timeline_events(subject: Any) -> list[dict[str, Any]]:
    """One timeline event per raise of an alert about ``subject`` (not one per recipient), for a record's
    page, which is itself scoped: who acknowledged it and its priority."""
    from django.contrib.contenttypes.models import ContentType

    alerts = Alert.objects.filter(subject_type=ContentType.objects.get_for_model(subject), subject_id=str(subject.pk))
    events: list[dict[str, Any]] = []
    seen: set[Any] = set()
    for alert in alerts.select_related("acknowledged_by").order_by("created_at"):
        if alert.group in seen:
            continue
        seen.add(alert.group)
        events.append({"at": alert.created_at, "kind": "alert", "what": alert.title_text,
                       "who": alert.acknowledged_by, "why": alert.get_priority_display()})
    return events
